"""The expanded model: the flat graph after rep, stretch, sourced blocks and expose, as markup.

Every node, tensor and parameter appears under its ONNX name, in compile order, with
links from each name back to the markup that made it (`Link`): an `<output>` to the
output that defines the tensor, an `<input>` to the use that reads it, a `<params>` to
its first declaration, a node to its `<node>`. The text is read-only: an editor shows it
in a virtual document and goes to the source through the links.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from agrippa.base.diagnostics import Location, Position, Range
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph, Origin, Tensor
from agrippa.sema.shapes.dims import format_shape
from agrippa.syntax import Element

from .host import AnalysisHost
from .index import name_attr, tensor_shape

IND = "    "


@dataclass(frozen=True)
class Link:
    range: Range  # in the expanded text
    target: Location  # in the markup


@dataclass(frozen=True)
class Expanded:
    text: str
    links: tuple[Link, ...]

    def link_at(self, pos: Position) -> Link | None:
        for k in self.links:
            if k.range.start <= pos <= k.range.end:
                return k
        return None


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


class _Writer:
    def __init__(self, graph: Graph, project_dir: str):
        self.graph, self.dir = graph, project_dir
        self.lines: list[str] = []
        self.links: list[Link] = []
        self.files = graph.files
        self.param_of = {id(p.tensor): p for p in graph.params.values() if p.tensor is not None}

    def where(self, origin: Origin) -> str:
        sf = self.files.get(origin.file)
        line = sf.position(origin.element.start).line + 1 if sf is not None else 0
        via = [f"{f.element.get('name')}$" if f.kind == "source" else
               f"{f.kind} {(repr(f.element.get('title')) + ' ') if f.element.get('title') else ''}copy {f.index + 1}"
               for f in origin.chain]
        rel = os.path.relpath(origin.file, self.dir)
        return f"{rel}:{line}" + (f" via {', '.join(via)}" if via else "")

    def target(self, file: str, el: Element, attr: str | None = None) -> Location:
        a = el.attrs.get(attr) if attr else None
        return Location(file, a.value_range if a is not None else el.tag_range)

    def line(self, depth: int, parts: list[tuple[str, Location | None]]) -> None:
        """One line; each part's text linked to its location (None: plain)."""
        n, col, text = len(self.lines), len(IND) * depth, IND * depth
        for s, loc in parts:
            if loc is not None:
                self.links.append(Link(Range(Position(n, col), Position(n, col + len(s))), loc))
            text += s
            col += len(s)
        self.lines.append(text)

    def dims(self, t: Tensor | None) -> list[tuple[str, None]]:
        shape = tensor_shape(t) if t is not None else None
        return [(f' dim="{_xml(format_shape(shape, unknown="?"))}"', None)] if shape is not None else []

    def tensor_loc(self, t: Tensor) -> Location:
        o = t.origin
        return self.target(o.file, o.element, "name" if o.element.tag in ("output", "params") else "from")

    def run(self) -> str:
        g = self.graph
        self.line(0, [(f'<model opset="{g.opset}">', None)])
        for t in g.inputs:
            self.line(1, [('<import from="', None), (_xml(t.name), self.tensor_loc(t)), ('"', None), *self.dims(t),
                          (f' dtype="{t.dtype}" />', None)])
        for node in g.nodes:
            o = node.origin
            self.line(1, [(f"<!-- {_xml(self.where(o))} -->", None)])
            self.line(1, [('<node op="', None), (node.op, self.target(o.file, o.element, "op")),
                          ('" name="', None), (_xml(node.name), self.target(o.file, o.element, "title")),
                          ('">', None)])
            for use in node.inputs:  # an <input>/<params> is a child of its <node>: same file
                t = use.tensor
                if t.kind == "param":
                    p = self.param_of.get(id(t))
                    flags = "".join(f' {f}="yes"' for f, on in (("frozen", p is not None and p.frozen),
                                                                 ("shared", p is not None and p.shared)) if on)
                    self.line(2, [('<params name="', None), (_xml(t.name), self.target(o.file, use.element, "name")),
                                  ('"', None), *self.dims(t), (f"{flags} />", None)])
                elif t.kind == "constant":
                    self.line(2, [(f'<constant name="{_xml(t.name)}" />', None)])
                else:
                    a = name_attr(use.element)
                    loc = Location(o.file, a.value_range) if a is not None else self.tensor_loc(t)
                    self.line(2, [('<input src="', None), (_xml(t.name), loc), ('"', None), *self.dims(t), (" />", None)])
            for t in node.outputs:
                self.line(2, [('<output name="', None), (_xml(t.name), self.tensor_loc(t)), ('"', None), *self.dims(t),
                              (" />", None)])
            self.line(1, [("</node>", None)])
        for t, _ in g.outputs:
            self.line(1, [('<export from="', None), (_xml(t.name), self.tensor_loc(t)), ('"', None), *self.dims(t),
                          (" />", None)])
        self.line(0, [("</model>", None)])
        return "\n".join(self.lines) + "\n"


def _expanded(analysis: Analysis) -> Expanded | None:
    if analysis.graph is None:
        return None
    w = _Writer(analysis.graph, analysis.project_dir)
    text = w.run()
    return Expanded(text, tuple(w.links))


def expanded_model(host: AnalysisHost, path: str) -> Expanded | None:
    """The expanded model of the project markup file `path` belongs to (None: no analysis)."""
    got = host.file_analysis(path)
    if got is None:
        return None
    return host.memo.get(got[0], _expanded)


def expanded_definition(host: AnalysisHost, path: str, pos: Position) -> list[Location]:
    """Go to definition in the expanded model of `path`: the markup behind the name at `pos`."""
    ex = expanded_model(host, path)
    link = ex.link_at(pos) if ex is not None else None
    return [link.target] if link is not None else []


EXPANDING = ("rep", "stretch", "src", "expose")


def expands_at(host: AnalysisHost, path: str, pos: Position) -> bool:
    """`pos` is in the start tag of a block that expands (rep, stretch, sourced, expose)."""
    got = host.file_analysis(path)
    if got is None:
        return False
    sf = got[1]
    offset = sf.offset(pos)
    el = sf.element_at(offset)
    return (el is not None and el.tag == "block" and el.start <= offset <= el.start_tag_end
            and any(a in el.attrs for a in EXPANDING))
