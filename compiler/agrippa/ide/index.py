"""Indexes over one analysis: tensor definitions and their uses across files, the tensor
names a file sees in scope, and the `var()` names of a project.

Each is built once per analysis and kept in the host's memo (`tensor_index`,
`names_in_scope`, `var_names`).
"""
from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass, field

from agrippa.base.diagnostics import Location
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph, Param, Tensor
from agrippa.sema.values import ValueError_, parse_value
from agrippa.syntax import Attr, Element

from .host import AnalysisHost

NAME_ATTR = {"output": "name", "input": "src", "import": "from", "export": "from"}
"""The attribute of each element that names a tensor."""
TENSOR_KINDS = ("input", "value", "concat")
"""Tensors a markup name can refer to (not parameters or constants)."""


def tensor_shape(t: Tensor) -> tuple | None:
    """The inferred shape, else the one the markup declares (None: unknown)."""
    return t.shape if t.shape is not None else t.declared


def name_attr(el: Element) -> Attr | None:
    a = NAME_ATTR.get(el.tag)
    return el.attrs.get(a) if a else None


def defines_tensor(graph: Graph, el: Element) -> bool:
    """`el` (an `<import>`) is where its tensor comes from, not a reference to one."""
    return any(t.origin.element is el for t in graph.element_tensors.get(el, ()))


@dataclass
class TensorIndex:
    """Definitions and their references across the files of one analysis."""

    graph: Graph
    file_of: dict[Element, str] = field(default_factory=dict)
    refs: dict[Element, list[Element]] = field(default_factory=dict)  # definition -> uses
    concat_export: dict[Tensor, Element] = field(default_factory=dict)

    @staticmethod
    def build(analysis: Analysis) -> TensorIndex:
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
        return idx

    def is_definition(self, el: Element) -> bool:
        return el.tag == "output" or (el.tag == "import" and defines_tensor(self.graph, el))

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

    def location(self, el: Element) -> Location | None:
        """Where `el` names its tensor (the value of its name attribute)."""
        path = self.file_of.get(el)
        if path is None:
            return None
        a = name_attr(el)
        return Location(path, a.value_range if a is not None else el.tag_range)


def tensor_index(host: AnalysisHost, analysis: Analysis) -> TensorIndex:
    return host.memo.get(analysis, TensorIndex.build)


def first_param(graph: Graph, el: Element) -> Param | None:
    params = graph.element_params.get(el)
    return params[0] if params else None


def param_locations(param: Param) -> list[Location]:
    """Every `<params>` declaring `param`, at its name, without repeats."""
    out: list[Location] = []
    for o in param.declarations:
        a = o.element.attrs.get("name")
        loc = Location(o.file, a.value_range if a is not None else o.element.tag_range)
        if loc not in out:
            out.append(loc)
    return out


# -- names in scope -----------------------------------------------------------------------
@dataclass
class InScope:
    """The tensors a file sees, in compile order, and where the file's own definitions fall."""

    anchors: list[int]
    pos_at: list[int]  # pos_at[i]: first compile index of a definition at or after anchors[i]
    order: list[int]  # compile index at which each name is first defined (sorted)
    names: list[tuple[str, Tensor]]

    def before(self, offset: int) -> list[tuple[str, Tensor]]:
        """The names defined before `offset` of the file, as the file writes them."""
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


def _in_scope(analysis: Analysis, path: str) -> InScope:
    graph = analysis.graph or Graph(index="")
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
    return InScope([a for a, _ in anchored], pos_at, order, names)


def names_in_scope(host: AnalysisHost, analysis: Analysis, path: str) -> InScope:
    """The tensor names file `path` sees (sourced files see theirs without the prefix)."""
    return host.memo.get(analysis, _in_scope, path)


# -- var() names ----------------------------------------------------------------------------
def _var_names(analysis: Analysis) -> list[str]:
    names = dict.fromkeys(analysis.bindings)
    for sf in (analysis.graph.files.values() if analysis.graph else ()):
        for el in sf.elements():
            for attr in el.attrs.values():
                if "var" in attr.value or "expr" in attr.value:
                    with contextlib.suppress(ValueError_):
                        names.update(dict.fromkeys(n.name for n in parse_value(attr.value).names()))
    return list(names)


def var_names(host: AnalysisHost, analysis: Analysis) -> list[str]:
    """Bound names, then names used in var()/expr() anywhere in the project."""
    return host.memo.get(analysis, _var_names)


def var_uses(graph: Graph, name: str) -> list[Location]:
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
                out.extend(Location(path, sf.range(attr.offset_of(n.start), attr.offset_of(n.end)))
                           for n in names if n.name == name)
    return out
