"""What a shape rule sees: one node's inputs, attributes, and ways to report in the user's terms.

A rule is a function `rule(ctx) -> list[Shape]` (one shape per output), registered with
`@rule("Op", ...)`. It reads inputs with `ctx.shape(i)`, which gives up quietly (`Fail`)
when an input's shape is unknown, so one mistake does not cascade. `ctx.error` records an
error and gives up; `ctx.warn` records a warning and lets the rule go on.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from agrippa.base.diagnostics import Diagnostic, Location, Range, RelatedInfo, Severity
from agrippa.sema.ir import Graph, Node, Tensor, copies_label
from agrippa.sema.shapes.dims import DIFFERENT, MAYBE, Dim, Shape, compare, format_dim, format_shape
from agrippa.syntax.tree import Element

Rule = Callable[["Ctx"], list[Shape]]
RULES: dict[str, Rule] = {}

MISMATCH = "shape-mismatch"  # dims that must agree differ (error)
MAYBE_MISMATCH = "possible-shape-mismatch"  # different names that may still be equal (warning)
BAD_AXIS = "bad-axis"
RANK = "rank-mismatch"
SHAPE_ERROR = "shape-error"
MAX_VALUE = 4096  # elements of a constant read as a value (axes, shapes, ...)


def rule(*ops: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for op in ops:
            RULES[op] = fn
        return fn

    return register


class Fail(Exception):
    """A rule cannot give its outputs' shapes; anything worth saying is already reported."""


class Run:
    """State of one inference over a graph."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.diags: list[Diagnostic] = []
        self.values: dict[str, tuple] = {}  # known contents of small int tensors (Shape, ...)
        self.folded: dict[str, Any] = {}  # frozen parameters' known values, as numpy arrays (frozen.py)
        self.symbolic = not graph.bindings


def _use_range(el: Element) -> Range:
    for name in ("src", "dim", "name", "from"):
        a = el.attrs.get(name)
        if a is not None:
            return a.value_range
    return el.tag_range


class Ctx:
    __slots__ = ("run", "node", "op", "dtypes", "values")

    def __init__(self, run: Run, node: Node):
        self.run = run
        self.node = node
        self.op = node.op
        self.dtypes: dict[int, str] = {}  # output index -> dtype, when not the first input's
        self.values: dict[int, tuple] = {}  # output index -> known contents

    # -- inputs ----------------------------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return len(self.node.inputs)

    def tensor(self, i: int) -> Tensor | None:
        ins = self.node.inputs
        if i >= len(ins) or not ins[i].tensor.name:
            return None
        return ins[i].tensor

    def present(self, i: int) -> bool:
        return self.tensor(i) is not None

    def shape(self, i: int) -> tuple:
        """Input i's shape; gives up quietly when it is missing or unknown."""
        t = self.tensor(i)
        if t is None or t.shape is None:
            raise Fail()
        return t.shape

    def opt_shape(self, i: int) -> tuple | None:
        t = self.tensor(i)
        return None if t is None else t.shape

    def dtype(self, i: int) -> str:
        t = self.tensor(i)
        return t.dtype if t is not None else "float32"

    def value(self, i: int) -> tuple | None:
        """The contents of input i when known (a constant, a folded frozen parameter, or
        computed like Shape's output)."""
        t = self.tensor(i)
        if t is None:
            return None
        c = self.run.graph.constants.get(t.name)
        if c is not None:
            arr = c.value
            if arr.size > MAX_VALUE:
                return None
            if arr.dtype.kind in "iub":
                return tuple(int(x) for x in arr.reshape(-1))
            return tuple(float(x) for x in arr.reshape(-1))
        return self.run.values.get(t.name)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.node.attr(name, default)

    def ints(self, name: str, index: int) -> tuple[bool, list | None]:
        """An int list given as attribute `name` (older opsets) or as constant input `index`.

        Returns (given, values): values is None when given but not known (a computed input).
        """
        a = self.node.attributes.get(name)
        if a is not None:
            v = a.value
            return True, list(v) if isinstance(v, (list, tuple)) else [v]
        if not self.present(index):
            return False, None
        v = self.value(index)
        if v is None or any(type(x) is float for x in v):  # floats where ints belong: a type error, reported
            return True, None
        return True, list(v)

    def where(self, name: str, index: int) -> int | str:
        """Where to point for a value written as attribute `name` or given as input `index`."""
        return name if name in self.node.origin.element.attrs else index

    # -- reporting -------------------------------------------------------------------------------
    def _where(self, at: int | str | None) -> Range:
        el = self.node.origin.element
        if isinstance(at, str) and at in el.attrs:
            return el.attrs[at].value_range
        if isinstance(at, int) and at < len(self.node.inputs):
            use_el = self.node.inputs[at].element
            if use_el is not el:
                return _use_range(use_el)
        op = el.attrs.get("op")
        return op.value_range if op is not None else el.tag_range

    def _related(self, other: int | None, what: str) -> tuple[RelatedInfo, ...]:
        out: list[RelatedInfo] = []
        t = self.tensor(other) if other is not None else None
        if t is not None and t.origin is not None:
            out.append(RelatedInfo(Location(t.origin.file, t.origin.element.tag_range), what))
        for f in self.node.origin.chain:
            if f.kind == "source":
                out.append(RelatedInfo(Location(f.file, f.element.tag_range),
                                       f"sourced here as '{f.element.get('name')}'"))
        return tuple(out)

    def report(self, severity: Severity, code: str, message: str, at: int | str | None = None,
               other: int | None = None, what: str = "the other operand was produced here") -> None:
        d = Diagnostic(self.node.origin.file, self._where(at), severity, code, message, self._related(other, what))
        label = copies_label(self.node.origin.chain)
        if label is not None:  # repeats from the other copies are counted (analysis.py)
            d.data["copies_of"] = label
        self.run.diags.append(d)

    def error(self, message: str, at: int | str | None = None, other: int | None = None,
              code: str = MISMATCH, what: str = "the other operand was produced here") -> NoReturn:
        self.report(Severity.ERROR, code, message, at, other, what)
        raise Fail()

    def warn(self, message: str, at: int | str | None = None, other: int | None = None,
             code: str = MAYBE_MISMATCH, what: str = "the other operand was produced here") -> None:
        self.report(Severity.WARNING, code, message, at, other, what)

    def agree(self, a: Dim, b: Dim, message: Callable[[], str], at: int | str | None = None,
              other: int | None = None) -> Dim:
        """Two dims that must be equal: an error when they provably differ, a warning when
        they are different names; returns the more informative of the two."""
        c = compare(a, b)
        if c is DIFFERENT:
            self.error(message(), at, other)
        if c is MAYBE:
            self.warn(f"{message()} (unless {format_dim(a)} = {format_dim(b)})", at, other)
        if a is None or (type(b) is int and type(a) is not int):
            return b
        return a

    def axis(self, ax: Any, rank: int, attr: int | str = "axis", shape: Shape = None,
             extra: int = 0) -> int:
        """Normalise an axis for a tensor of `rank` (+ `extra` for positions past the end)."""
        r = rank + extra
        if not isinstance(ax, int) or not -r <= ax < r:
            of = f" {format_shape(shape)}" if shape is not None else ""
            self.error(f"{self.op}: axis {ax} is out of range for a tensor of rank {r}{of}",
                       at=attr, code=BAD_AXIS)
        return ax + r if ax < 0 else ax

    def axes(self, axes: list, rank: int, attr: int | str = "axes", shape: Shape = None) -> list[int]:
        out = [self.axis(a, rank, attr, shape) for a in axes]  # ints only: lists from attributes
        if len(set(out)) != len(out):
            self.error(f"{self.op}: axes {list(axes)} repeat an axis", at=attr, code=BAD_AXIS)
        return out
