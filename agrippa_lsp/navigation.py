"""Navigation: go to definition, find references, document links (go to block source).

Tensors resolve through the compiler's `Graph.definitions`, so a use jumps across sourced
files and through `name$` prefixes (`src="enc$result"` lands on `result` in enc.agr).
`TensorIndex` (one per analysis) inverts that map for references and rename.
"""
from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.analysis import Analysis
from agrippa.diagnostics import Range
from agrippa.ir import Graph, Param, Tensor
from agrippa.project import CONFIG_FNAME, SOURCE_SUFFIXES
from agrippa.syntax import Attr, Element, SourceFile
from agrippa.values import ValueError_, parse_value

from . import locate as L
from .convert import from_lsp_position, path_to_uri, to_lsp_location, uri_to_path

if TYPE_CHECKING:
    from .server import AgrippaServer

NAME_ATTR = {"output": "name", "input": "src", "import": "from", "export": "from"}
"""The attribute of each element that names a tensor."""


def name_attr(el: Element) -> Attr | None:
    a = NAME_ATTR.get(el.tag)
    return el.attrs.get(a) if a else None


@dataclass
class TensorIndex:
    """Definitions and their references across the files of one analysis."""

    graph: Graph
    file_of: dict[Element, str] = field(default_factory=dict)
    refs: dict[Element, list[Element]] = field(default_factory=dict)  # definition -> uses
    concat_export: dict[Tensor, Element] = field(default_factory=dict)

    def is_definition(self, el: Element) -> bool:
        if el.tag == "output":
            return True
        return el.tag == "import" and any(t.origin.element is el for t in self.graph.element_tensors.get(el, ()))

    def definition(self, el: Element) -> Element | None:
        """The `<output>` or root `<import>` defining the tensor `el` names (or is)."""
        if self.is_definition(el):
            return el
        seen = 0
        while el is not None and seen < 64:
            seen += 1
            tensors = self.graph.element_tensors.get(el)
            d = self.graph.definitions.get(el)
            if d is None:
                return None
            if d.tag != "block":
                return d
            # a stretch export: the concat's origin is the block; follow its <export>
            t = tensors[0] if tensors else None
            el = self.concat_export.get(t) if t is not None else None
        return None

    def occurrences(self, definition: Element) -> list[Element]:
        """The definition, then every use, in (file, offset) order."""
        uses = sorted(self.refs.get(definition, ()), key=lambda e: (self.file_of.get(e, ""), e.start))
        return [definition, *uses]


_index_cache: dict[int, tuple[Analysis, TensorIndex]] = {}


def tensor_index(analysis: Analysis) -> TensorIndex:
    """The (cached) index of `analysis`."""
    hit = _index_cache.get(id(analysis))
    if hit is not None and hit[0] is analysis:
        return hit[1]
    graph = analysis.graph or Graph(index="")
    idx = TensorIndex(graph)
    for path, sf in graph.files.items():
        for el in sf.elements():
            idx.file_of[el] = path
    for el, tensors in graph.element_tensors.items():
        if el.tag == "export":
            for t in tensors:
                if t.kind == "concat":
                    idx.concat_export.setdefault(t, el)
    for ref in graph.definitions:
        d = idx.definition(ref)
        if d is not None and d is not ref:
            idx.refs.setdefault(d, []).append(ref)
    if len(_index_cache) >= 8:
        _index_cache.pop(next(iter(_index_cache)))
    _index_cache[id(analysis)] = (analysis, idx)
    return idx


async def file_analysis(ls: AgrippaServer, uri: str) -> tuple[Analysis, SourceFile] | None:
    """The current analysis covering `uri` and that file's parse, or None."""
    path = uri_to_path(uri)
    if not path.endswith(SOURCE_SUFFIXES):
        return None
    a = ls.model.cached(path) or await asyncio.to_thread(ls.model.analysis_for, path)
    if a.graph is None:
        return None
    sf = a.graph.files.get(path)
    return (a, sf) if sf is not None else None


def target_at(analysis: Analysis, sf: SourceFile, pos: lsp.Position) -> L.Target:
    return L.what_is_at(analysis, sf, sf.offset(from_lsp_position(pos)))


def location_of(idx: TensorIndex, el: Element) -> lsp.Location | None:
    a = name_attr(el)
    path = idx.file_of.get(el)
    if path is None:
        return None
    return to_lsp_location(path, a.value_range if a is not None else el.tag_range)


def sourced_path(graph: Graph, sf: SourceFile, el: Element) -> str | None:
    path = graph.sourced.get(el)
    src = el.get("src")
    if path is None and src:
        path = os.path.abspath(os.path.join(os.path.dirname(sf.path), src))
    return path


def first_param(graph: Graph, el: Element) -> Param | None:
    params = graph.element_params.get(el)
    return params[0] if params else None


def param_locations(param: Param) -> list[lsp.Location]:
    out = []
    for o in param.declarations:
        a = o.element.attrs.get("name")
        loc = to_lsp_location(o.file, a.value_range if a is not None else o.element.tag_range)
        if loc not in out:
            out.append(loc)
    return out


# -- var() names ---------------------------------------------------------------------------
_TABLE_RE = re.compile(r"\s*\[([^\[\]]+)\]\s*(?:#.*)?$")


def toml_binding_ranges(text: str, name: str) -> list[Range]:
    """Where `name = ...` is written in [bindings] or a [profiles.X] table of toml `text`."""
    key = re.compile(r"\s*(\"?)" + re.escape(name) + r"\1\s*=")
    table, out = "", []
    for lineno, line in enumerate(text.splitlines()):
        m = _TABLE_RE.match(line)
        if m:
            table = m.group(1).strip()
            continue
        if (table == "bindings" or table.startswith("profiles.")) and key.match(line):
            col = line.index(name)
            out.append(Range.of(lineno, col, lineno, col + len(name)))
    return out


def read_text(ls: AgrippaServer, path: str) -> str | None:
    text = ls.open_text(path)
    if text is None and os.path.isfile(path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return None
    return text


def binding_locations(ls: AgrippaServer, analysis: Analysis, name: str) -> list[lsp.Location]:
    path = os.path.join(analysis.project_dir, CONFIG_FNAME)
    text = read_text(ls, path)
    return [to_lsp_location(path, r) for r in toml_binding_ranges(text, name)] if text else []


def var_uses(graph: Graph, name: str) -> list[lsp.Location]:
    """Every `var(name)` / `expr(... name ...)` in the analysed files."""
    out = []
    for path, sf in graph.files.items():
        for el in sf.elements():
            for attr in el.attrs.values():
                v = attr.value
                if name not in v or ("var" not in v and "expr" not in v):
                    continue
                try:
                    names = parse_value(v).names()
                except ValueError_:
                    continue
                for n in names:
                    if n.name == name:
                        out.append(to_lsp_location(path, sf.range(attr.offset_of(n.start), attr.offset_of(n.end))))
    return out


# -- features -----------------------------------------------------------------------------------
def definitions(ls: AgrippaServer, analysis: Analysis, sf: SourceFile, t: L.Target) -> list[lsp.Location]:
    graph = analysis.graph
    if graph is None or t.element is None:
        return []
    if t.is_tensor:
        idx = tensor_index(analysis)
        d = idx.definition(t.element)
        loc = location_of(idx, d) if d is not None else None
        return [loc] if loc is not None else []
    if t.kind in (L.SOURCE, L.SOURCED_NAME):
        path = sourced_path(graph, sf, t.element)
        if path and os.path.isfile(path):
            return [lsp.Location(uri=path_to_uri(path), range=lsp.Range(start=lsp.Position(line=0, character=0),
                                                                         end=lsp.Position(line=0, character=0)))]
        return []
    if t.kind == L.VAR and t.name is not None:
        return binding_locations(ls, analysis, t.name.name)
    if t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        return param_locations(p)[:1] if p is not None and p.shared else []
    return []


def references(ls: AgrippaServer, analysis: Analysis, t: L.Target, include_decl: bool) -> list[lsp.Location]:
    graph = analysis.graph
    if graph is None or t.element is None:
        return []
    if t.is_tensor:
        idx = tensor_index(analysis)
        d = idx.definition(t.element)
        if d is None:
            return []
        els = idx.occurrences(d)[(0 if include_decl else 1):]
        return [loc for loc in (location_of(idx, e) for e in els) if loc is not None]
    if t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        if p is None:
            return []
        locs = param_locations(p)
        return locs if include_decl or not p.shared else locs[1:]
    if t.kind == L.VAR and t.name is not None:
        decls = binding_locations(ls, analysis, t.name.name) if include_decl else []
        return decls + var_uses(graph, t.name.name)
    return []


def document_links(analysis: Analysis, sf: SourceFile, tooltips: bool = True) -> list[lsp.DocumentLink]:
    graph = analysis.graph
    out = []
    for el in sf.elements():
        if el.tag != "block" or "src" not in el.attrs or graph is None:
            continue
        path = sourced_path(graph, sf, el)
        if path and os.path.isfile(path):
            out.append(lsp.DocumentLink(range=to_lsp_location(sf.path, el.attrs["src"].value_range).range,
                                        target=path_to_uri(path),
                                        tooltip=f"Open {os.path.basename(path)}" if tooltips else None))
    return out


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: AgrippaServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        got = await file_analysis(ls, params.text_document.uri)
        if got is None:
            return None
        a, sf = got
        return definitions(ls, a, sf, target_at(a, sf, params.position)) or None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def refs(ls: AgrippaServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        got = await file_analysis(ls, params.text_document.uri)
        if got is None:
            return None
        a, sf = got
        return references(ls, a, target_at(a, sf, params.position), params.context.include_declaration) or None

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_LINK, lsp.DocumentLinkOptions())
    async def links(ls: AgrippaServer, params: lsp.DocumentLinkParams) -> list[lsp.DocumentLink] | None:
        got = await file_analysis(ls, params.text_document.uri)
        caps = ls.client_capabilities.text_document
        tips = bool(caps and caps.document_link and caps.document_link.tooltip_support)
        return document_links(*got, tooltips=tips) if got is not None else None
