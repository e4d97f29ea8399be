"""Outlines: document symbols (model → blocks → nodes), workspace symbols, folding ranges.

A symbol's `kind` is the tag it comes from (`model`, `block`, `node`, `import`,
`export`, `output`); the protocol layer maps it to its own symbol kinds.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from agrippa.base.diagnostics import Location, Range
from agrippa.base.suggest import is_subsequence
from agrippa.project.config import SOURCE_SUFFIXES
from agrippa.sema.ir import Graph
from agrippa.sema.shapes.dims import format_shape
from agrippa.syntax import Element, SourceFile

from . import index
from .host import AnalysisHost

MAX_WORKSPACE_SYMBOLS = 500
SYMBOL_TAGS = ("model", "block", "node", "import", "export", "output")


@dataclass
class Symbol:
    name: str
    kind: str
    range: Range
    selection: Range
    detail: str = ""
    children: list[Symbol] = field(default_factory=list)


@dataclass(frozen=True)
class WorkspaceSymbol:
    name: str
    kind: str
    location: Location
    container: str | None = None


@dataclass(frozen=True)
class Fold:
    start_line: int
    end_line: int
    comment: bool = False


def tensor_shape(graph: Graph, el: Element) -> str | None:
    """The shape of the last tensor `el` makes, or None when unknown."""
    tensors = graph.element_tensors.get(el)
    if not tensors:
        return None
    shape = index.tensor_shape(tensors[-1])
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
        parts += [f"{k}={el.get(k)}" for k in ("rep", "stretch") if el.get(k)]
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


def _selection(el: Element) -> Range:
    for k in ("title", "name", "from"):
        if k in el.attrs:
            return el.attrs[k].value_range
    return el.tag_range


def _contains(outer: Range, inner: Range) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def outline(graph: Graph | None, sf: SourceFile) -> list[Symbol]:
    """The file's symbol tree: its root, blocks and nodes, the model's own imports and exports."""
    def build(el: Element) -> Symbol | None:
        if el.tag not in SYMBOL_TAGS or el.tag == "output":
            return None
        if el.tag in ("import", "export") and (el.parent is None or el.parent.parent is not None):
            return None  # only the model's own inputs and outputs
        rng = sf.range(el.start, el.end if el.end >= 0 else len(sf.text))
        sel = _selection(el)
        if not _contains(rng, sel):
            sel = el.tag_range
        children = [c for c in map(build, el.children) if c is not None]
        return Symbol(symbol_name(el), el.tag, rng, sel, symbol_detail(graph, el), children)

    top = build(sf.root) if sf.root is not None else None
    return [top] if top is not None else []


def document_symbols(host: AnalysisHost, path: str) -> list[Symbol]:
    got = host.file_analysis(path)
    return outline(got[0].graph, got[1]) if got is not None else []


def flatten(symbols: list[Symbol], container: str | None = None) -> list[tuple[Symbol, str | None]]:
    """Each symbol of a tree with the name of the one containing it, parents first."""
    out: list[tuple[Symbol, str | None]] = []
    for s in symbols:
        out.append((s, container))
        out.extend(flatten(s.children, s.name))
    return out


def workspace_symbols(host: AnalysisHost, paths: Iterable[str], query: str) -> list[WorkspaceSymbol]:
    """Definitions matching `query` (a subsequence) in the projects of the given files."""
    out: list[WorkspaceSymbol] = []
    indexes: set[str | None] = set()
    seen: set[str] = set()
    for p in paths:
        if not p.endswith(SOURCE_SUFFIXES):
            continue
        a = host.cached(p) or host.analysis_for(p)
        if a.index in indexes or a.graph is None:
            continue
        indexes.add(a.index)
        graph = a.graph
        for path, sf in graph.files.items():
            if path in seen:
                continue
            seen.add(path)
            for el in sf.elements():
                if el.tag not in SYMBOL_TAGS or el.tag in ("model", "export"):
                    continue
                if el.tag == "import" and not index.defines_tensor(graph, el):
                    continue  # a reference, not a definition
                name = el.get("name") if el.tag == "output" else el.get("from") if el.tag == "import" \
                    else symbol_name(el)
                if not name or not is_subsequence(query, name):
                    continue
                container = el.parent.get("title") if el.parent is not None else None
                out.append(WorkspaceSymbol(name, el.tag, Location(path, _selection(el)), container or None))
                if len(out) >= MAX_WORKSPACE_SYMBOLS:
                    return out
    return out


def folding_ranges(host: AnalysisHost, path: str) -> list[Fold]:
    """Multi-line elements (their end tag left visible) and multi-line comments."""
    got = host.file_analysis(path)
    if got is None:
        return []
    sf = got[1]
    out: list[Fold] = []
    for el in sf.elements():
        if el.end < 0:
            continue
        start = sf.position(el.start).line
        end = sf.position(el.end).line
        last_lt = sf.text.rfind("<", el.start_tag_end, el.end)
        if not el.self_closing and last_lt >= 0 and sf.text.startswith("</", last_lt):
            end = sf.position(last_lt).line - 1  # keep the end tag visible
        if end > start:
            out.append(Fold(start, end))
    for c0, c1 in sf.comments:
        start, end = sf.position(c0).line, sf.position(c1).line
        if end > start:
            out.append(Fold(start, end, comment=True))
    return out
