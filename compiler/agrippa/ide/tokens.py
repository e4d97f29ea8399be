"""Semantic tokens: what each name of a file is, for the editor's colours.

Computed from the syntax tree (the attributes' exact ranges) and the IR (what each
reference resolves to, which parameters are frozen or shared), never from the text.
A token is `(range, type, modifiers)`; ranges are one line each, in code points (the
server turns them into the client's units). Types and modifiers are the legend below.

==============  ==========================================================================
``tensor``      a tensor name: `definition` at `<output name>`, `declaration` at a graph
                input (`<import from>` of the index's root), no modifier where it is used
``parameter``   `<params name>`: `declaration`, and `trainable` or `frozen`, and `shared`
``binding``     a name inside `var()` / `expr()`
``op``          `<node op>` naming an ONNX operator (`defaultLibrary`)
``namespace``   a sourced-block prefix: `enc$` in `enc$result`, and the block's `name`
``unresolved``  a reference nothing defines, an op ONNX does not have
==============  ==========================================================================
"""
from __future__ import annotations

from agrippa.base.diagnostics import Range
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph
from agrippa.sema.values import ValueError_, parse_value
from agrippa.syntax import Attr, Element, SourceFile

from . import locate as L
from .host import AnalysisHost

TOKEN_TYPES = ("tensor", "parameter", "binding", "op", "namespace", "unresolved")
TOKEN_MODIFIERS = ("definition", "declaration", "readonly", "defaultLibrary", "trainable", "frozen", "shared")

Token = tuple[Range, str, tuple[str, ...]]


def _ops(graph: Graph) -> set[str]:
    from agrippa.sema.ops import all_ops

    return {s.name for s in all_ops(graph.opset)}


class _Collector:
    def __init__(self, graph: Graph, sf: SourceFile):
        self.graph, self.sf = graph, sf
        self.lines = sf.lines
        self.out: list[tuple[int, int, str, tuple[str, ...]]] = []  # (start, end, type, modifiers)
        self._ops: set[str] | None = None

    def add(self, start: int, end: int, kind: str, mods: tuple[str, ...] = ()) -> None:
        if end > start:
            self.out.append((start, end, kind, mods))

    def known_op(self, op: str) -> bool:
        if self._ops is None:
            self._ops = _ops(self.graph)
        return op in self._ops

    def name(self, attr: Attr, kind: str, mods: tuple[str, ...]) -> None:
        """A (possibly prefixed) name: `enc$` a namespace, the rest `kind`."""
        v0 = attr.value_start
        if attr.raw != attr.value:  # entities: mark the whole value
            self.add(v0, v0 + len(attr.raw), kind, mods)
            return
        cut = attr.raw.rfind("$") + 1
        if cut and kind != "unresolved":
            self.add(v0, v0 + cut, "namespace")
        self.add(v0 + cut, v0 + len(attr.raw), kind, mods)

    def bindings(self, attr: Attr) -> None:
        v = attr.value
        if "var" not in v and "expr" not in v:
            return
        try:
            names = parse_value(v).names()
        except ValueError_:
            return
        for n in names:
            self.add(attr.offset_of(n.start), attr.offset_of(n.end), "binding")

    def element(self, el: Element) -> None:
        graph, tag = self.graph, el.tag
        for attr in el.attrs.values():
            self.bindings(attr)
        if tag in ("output", "input", "import", "export"):
            a = el.attrs.get("name" if tag == "output" else ("src" if tag == "input" else "from"))
            if a is None or not a.value:
                return
            kind = L.value_kind(el, a.name, graph, self.sf)
            if tag == "output":
                self.name(a, "tensor", ("definition",))
            elif kind == L.TENSOR_DEF:
                self.name(a, "tensor", ("declaration",))
            elif el in graph.definitions:
                self.name(a, "tensor", ())
            else:
                self.name(a, "unresolved", ())
        elif tag == "params":
            a = el.attrs.get("name")
            if a is None or not a.value:
                return
            params = graph.element_params.get(el)
            p = params[0] if params else None
            mods = ["declaration"]
            if p is not None:
                mods.append("frozen" if p.frozen else "trainable")
                if p.frozen:
                    mods.append("readonly")
                if p.shared:
                    mods.append("shared")
            self.name(a, "parameter", tuple(mods))
        elif tag == "node":
            a = el.attrs.get("op")
            if a is not None and a.value:
                known = self.known_op(a.value)
                self.add(a.value_start, a.value_start + len(a.raw), "op" if known else "unresolved",
                         ("defaultLibrary",) if known else ())
        elif tag == "block" and "src" in el.attrs:
            a = el.attrs.get("name")
            if a is not None and a.value:
                self.add(a.value_start, a.value_start + len(a.raw), "namespace", ("definition",))

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        pos = self.lines.position
        for start, end, kind, mods in sorted(self.out, key=lambda t: t[0]):
            a, b = pos(start), pos(end)
            if a.line != b.line:  # a value across lines (clients take one line per token)
                continue
            out.append((Range(a, b), kind, mods))
        return out


def _file_tokens(analysis: Analysis, path: str) -> list[Token]:
    graph = analysis.graph
    sf = graph.files.get(path) if graph is not None else None
    if graph is None or sf is None:
        return []
    c = _Collector(graph, sf)
    for el in sf.elements():
        c.element(el)
    return c.tokens()


def semantic_tokens(host: AnalysisHost, path: str, within: Range | None = None) -> list[Token]:
    """The tokens of markup file `path` in document order (only those in `within`, if given)."""
    got = host.file_analysis(path)
    if got is None:
        return []
    analysis, sf = got
    tokens = host.memo.get(analysis, _file_tokens, sf.path)
    if within is None:
        return tokens
    return [t for t in tokens if t[0].end >= within.start and t[0].start <= within.end]
