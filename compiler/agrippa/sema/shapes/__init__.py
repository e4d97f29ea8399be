"""Symbolic shape inference.

`infer_shapes(graph)` gives every tensor of the IR a shape: concrete ints with bindings,
otherwise sympy expressions in the user's own names (`[ntokens, dvalues*nheads]`), `None`
for a dim or a rank that cannot be known. Mismatches come back as diagnostics written in
those names; dim hints that disagree with the inferred shape are `stale-dim` warnings.
Small integer tensors whose contents are known (constants, Shape's output, frozen parameters
with a fixed init: `frozen`) are followed as values, so Reshape, Slice, ... get exact shapes.

Hand-written rules live in `elementwise`, `linalg`, `layout`, `reduce` and `spatial`; every other op
goes through ONNX's own inference (`fallback`).
"""
from __future__ import annotations

from collections.abc import Callable

from agrippa.base.diagnostics import Diagnostic
from agrippa.sema.ir import Graph, Tensor
from agrippa.sema.shapes.context import RULES
from agrippa.sema.shapes.dims import Shape, concrete, format_dim, format_shape, markup_dim
from agrippa.sema.shapes.engine import infer


def infer_shapes(graph: Graph, cancel: Callable[[], None] | None = None, base: Graph | None = None,
                 shift: Callable[[list[Diagnostic]], list[Diagnostic] | None] | None = None) -> list[Diagnostic]:
    """Fill `Tensor.shape` (and `dtype`) for every tensor; returns the diagnostics.
    `cancel` is called every so often and raises to stop (`analysis.Cancelled`). With
    `base`, the previous analysis an incremental expansion reused, only what changed is
    inferred again (`shift` moves the diagnostics kept to the edited text)."""
    return infer(graph, cancel, base, shift)


def shape_of(graph: Graph, tensor: Tensor | str) -> Shape:
    """The inferred shape of a tensor (or of the tensor with that ONNX name)."""
    t = graph.tensors.get(tensor) if isinstance(tensor, str) else tensor
    if t is None:
        return None
    return t.shape if t.shape is not None else t.declared


def hand_written_ops() -> list[str]:
    """Ops with their own rule (precise messages); the rest use ONNX's inference."""
    return sorted(RULES)


__all__ = ["infer_shapes", "shape_of", "format_shape", "format_dim", "concrete", "markup_dim",
           "hand_written_ops", "Shape"]
