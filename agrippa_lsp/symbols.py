"""Document symbols (model → blocks → nodes), workspace symbols, folding ranges, and the
tensor and var() names a file sees (for completion)."""
from __future__ import annotations

import asyncio
import bisect
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from agrippa.analysis import Analysis
from agrippa.ir import Graph, Tensor
from agrippa.syntax import Element, SourceFile
from agrippa.values import ValueError_, parse_value

from .convert import path_to_uri, to_lsp_location, to_lsp_range, uri_to_path
from .navigation import file_analysis

if TYPE_CHECKING:
    from .server import AgrippaServer

MAX_WORKSPACE_SYMBOLS = 500
TENSOR_KINDS = ("input", "value", "concat")
_KINDS = {"model": lsp.SymbolKind.Module, "block": lsp.SymbolKind.Namespace, "node": lsp.SymbolKind.Function,
          "import": lsp.SymbolKind.Variable, "export": lsp.SymbolKind.Variable, "output": lsp.SymbolKind.Variable}


def format_shape(shape: tuple | None) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d).replace("**", "^").replace(" ", "") for d in shape) + "]"


def tensor_shape(graph: Graph, el: Element) -> str | None:
    tensors = graph.element_tensors.get(el)
    if not tensors:
        return None
    t = tensors[-1]
    shape: Any = t.shape if t.shape is not None else t.declared
    return format_shape(shape) if shape is not None else None


def symbol_name(el: Element) -> str:
    """What an element is called in outlines."""
    if el.tag == "block":
        if el.get("src"):
            return f"{el.get('name') or '?'} ← {el.get('src')}"
        return el.get("title") or "block"
    if el.tag == "node":
        return el.get("title") or el.get("op") or "node"
    if el.tag in ("import", "export"):
        return f"{el.tag} {el.get('from') or '?'}"
    if el.tag == "output":
        return el.get("name") or "?"
    return el.tag


def symbol_detail(graph: Graph | None, el: Element) -> str:
    parts: list[str] = []
    if el.tag == "block":
        for k in ("rep", "stretch"):
            if el.get(k):
                parts.append(f"{k}={el.get(k)}")
    elif el.tag == "node":
        op = el.get("op") or "?"
        outs = [c for c in el.children if c.tag == "output"]
        shapes = [f"{c.get('name')}: {tensor_shape(graph, c) or '?'}" for c in outs] if graph else []
        parts.append(op + (" → " + ", ".join(shapes) if shapes else ""))
    elif el.tag in ("import", "export", "output") and graph is not None:
        s = tensor_shape(graph, el)
        if s:
            parts.append(s)
    return " ".join(parts)


def _selection(el: Element) -> Any:
    for k in ("title", "name", "from"):
        if k in el.attrs:
            return el.attrs[k].value_range
    return el.tag_range


def _contained(outer: lsp.Range, inner: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)
    return key(outer.start) <= key(inner.start) and key(inner.end) <= key(outer.end)


def document_symbols(graph: Graph | None, sf: SourceFile) -> list[lsp.DocumentSymbol]:
    def build(el: Element) -> lsp.DocumentSymbol | None:
        kind = _KINDS.get(el.tag)
        if kind is None:
            return None
        if el.tag in ("import", "export") and (el.parent is None or el.parent.parent is not None):
            return None  # only the model's own inputs and outputs
        if el.tag == "output":
            return None
        rng = to_lsp_range(sf.range(el.start, el.end if el.end >= 0 else len(sf.text)))
        sel = to_lsp_range(_selection(el))
        if not _contained(rng, sel):
            sel = to_lsp_range(el.tag_range)
        children = [c for c in (build(ch) for ch in el.children) if c is not None]
        return lsp.DocumentSymbol(name=symbol_name(el), kind=kind, range=rng, selection_range=sel,
                                  detail=symbol_detail(graph, el) or None, children=children or None)

    if sf.root is None:
        return []
    top = build(sf.root)
    return [top] if top is not None else []


def flat_symbols(graph: Graph | None, sf: SourceFile) -> list[lsp.SymbolInformation]:
    out: list[lsp.SymbolInformation] = []

    def walk(items: list[lsp.DocumentSymbol], container: str | None) -> None:
        for s in items:
            out.append(lsp.SymbolInformation(name=s.name, kind=s.kind, container_name=container,
                                             location=lsp.Location(uri=path_to_uri(sf.path), range=s.range)))
            walk(s.children or [], s.name)
    walk(document_symbols(graph, sf), None)
    return out


def matches(query: str, name: str) -> bool:
    """Case-insensitive subsequence match (what editors expect from a symbol search)."""
    it = iter(name.lower())
    return all(c in it for c in query.lower())


def workspace_symbols(analyses: list[Analysis], query: str) -> list[lsp.WorkspaceSymbol]:
    out: list[lsp.WorkspaceSymbol] = []
    seen: set[str] = set()
    for a in analyses:
        graph = a.graph
        if graph is None:
            continue
        for path, sf in graph.files.items():
            if path in seen:
                continue
            seen.add(path)
            for el in sf.elements():
                kind = _KINDS.get(el.tag)
                if kind is None or el.tag == "model":
                    continue
                if el.tag == "export" or (el.tag == "import" and not _defines(graph, el)):
                    continue  # a reference, not a definition
                name = el.get("name") if el.tag == "output" else el.get("from") if el.tag == "import" \
                    else symbol_name(el)
                if not name or not matches(query, name):
                    continue
                container = el.parent.get("title") if el.parent is not None else None
                out.append(lsp.WorkspaceSymbol(
                    name=name, kind=kind, container_name=container or None,
                    location=to_lsp_location(path, _selection(el))))
                if len(out) >= MAX_WORKSPACE_SYMBOLS:
                    return out
    return out


def _defines(graph: Graph, el: Element) -> bool:
    return any(t.origin.element is el for t in graph.element_tensors.get(el, ()))


def folding_ranges(sf: SourceFile) -> list[lsp.FoldingRange]:
    out: list[lsp.FoldingRange] = []
    for el in sf.elements():
        if el.end < 0:
            continue
        start = sf.position(el.start).line
        end = sf.position(el.end).line
        last_lt = sf.text.rfind("<", el.start_tag_end, el.end)
        if not el.self_closing and last_lt >= 0 and sf.text.startswith("</", last_lt):
            end = sf.position(last_lt).line - 1  # keep the end tag visible
        if end > start:
            out.append(lsp.FoldingRange(start_line=start, end_line=end))
    for c0, c1 in sf.comments:
        start, end = sf.position(c0).line, sf.position(c1).line
        if end > start:
            out.append(lsp.FoldingRange(start_line=start, end_line=end, kind=lsp.FoldingRangeKind.Comment))
    return out


# -- names in scope (for completion) ------------------------------------------------------------
@dataclass
class Visible:
    """The tensors a file sees, in compile order, and where the file's own definitions fall."""

    anchors: list[int]
    pos_at: list[int]  # pos_at[i]: first compile index of a definition at or after anchors[i]
    order: list[int]  # compile index at which each name is first defined (sorted)
    names: list[tuple[str, Tensor]]

    def before(self, offset: int) -> list[tuple[str, Tensor]]:
        pos = self.pos_at[bisect.bisect_left(self.anchors, offset)]
        return self.names[:bisect.bisect_left(self.order, pos)]


def _anchor(t: Tensor, path: str) -> tuple[tuple, int] | None:
    o = t.origin
    if o.file == path:
        return tuple(f.element for f in o.chain if f.kind == "source"), o.element.start
    for i, f in enumerate(o.chain):
        if f.kind == "source" and f.file == path:
            return tuple(g.element for g in o.chain[:i] if g.kind == "source"), f.element.start
    return None


def visible(graph: Graph, path: str) -> Visible:
    tensors = list(graph.tensors.values())
    instance, anchored = None, []
    for i, t in enumerate(tensors):
        a = _anchor(t, path)
        if a is not None and (instance is None or a[0] == instance):
            instance = a[0]
            anchored.append((a[1], i))
    if instance is not None:
        prefix = "".join(f"{e.get('name')}$" for e in instance)
    else:
        prefix = next((f"{el.get('name')}$" for el, p in graph.sourced.items() if p == path), "")
    anchored.sort()
    end = max(i for _, i in anchored) + 1 if anchored else len(tensors)
    pos_at = [end] * (len(anchored) + 1)
    for k in range(len(anchored) - 1, -1, -1):
        pos_at[k] = min(anchored[k][1], pos_at[k + 1])
    seen: dict[str, None] = {}
    order, names = [], []
    for i, t in enumerate(tensors):
        if t.kind in TENSOR_KINDS and t.logical.startswith(prefix) and t.logical not in seen:
            seen[t.logical] = None
            order.append(i)
            names.append((t.logical[len(prefix):], t))
    return Visible([a for a, _ in anchored], pos_at, order, names)


_vis_cache: dict[tuple[int, str], tuple[Analysis, Visible]] = {}
_var_cache: dict[int, tuple[Analysis, list[str]]] = {}


def cached_visible(a: Analysis, path: str) -> Visible:
    hit = _vis_cache.get((id(a), path))
    if hit is None or hit[0] is not a:
        if len(_vis_cache) > 16:
            _vis_cache.clear()
        hit = _vis_cache[(id(a), path)] = (a, visible(a.graph, path))
    return hit[1]


def var_names(a: Analysis) -> list[str]:
    """Bound names, then names used in var()/expr() anywhere in the project."""
    hit = _var_cache.get(id(a))
    if hit is None or hit[0] is not a:
        names = dict.fromkeys(a.bindings)
        for sf in (a.graph.files.values() if a.graph else ()):
            for el in sf.elements():
                for attr in el.attrs.values():
                    if "var" in attr.value or "expr" in attr.value:
                        with contextlib.suppress(ValueError_):
                            names.update(dict.fromkeys(n.name for n in parse_value(attr.value).names()))
        if len(_var_cache) > 8:
            _var_cache.clear()
        hit = _var_cache[id(a)] = (a, list(names))
    return hit[1]



def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def doc_symbols(ls: AgrippaServer, params: lsp.DocumentSymbolParams) -> list | None:
        got = await file_analysis(ls, params.text_document.uri)
        if got is None:
            return None
        a, sf = got
        caps = ls.client_capabilities.text_document
        hierarchical = bool(caps and caps.document_symbol and caps.document_symbol.hierarchical_document_symbol_support)
        return document_symbols(a.graph, sf) if hierarchical else flat_symbols(a.graph, sf)

    @server.feature(lsp.WORKSPACE_SYMBOL)
    async def ws_symbols(ls: AgrippaServer, params: lsp.WorkspaceSymbolParams) -> list[lsp.WorkspaceSymbol]:
        analyses, indexes = [], set()
        for uri in list(ls.workspace.text_documents):
            path = uri_to_path(uri)
            if not path.endswith((".agr", ".xml")):
                continue
            a = ls.model.cached(path) or await asyncio.to_thread(ls.model.analysis_for, path)
            if a.index not in indexes:
                indexes.add(a.index)
                analyses.append(a)
        return workspace_symbols(analyses, params.query)

    @server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding(ls: AgrippaServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange] | None:
        got = await file_analysis(ls, params.text_document.uri)
        return folding_ranges(got[1]) if got is not None else None
