"""The Reduce* ops, every version the catalog can use, from the ONNX specs.

One module covers them all: ``axes`` from the attribute (before opset 18; ReduceSum from 13)
or from the second input (constant: baked in; otherwise read at run time). Upstream's
converters of the opset-13 versions are replaced (``FIXED``), as the fuzzer found them wrong:

* a repeated axis (``[0, 0]``, or ``[-1, 2]`` on rank 3) made torch raise; onnxruntime
  reduces each axis once;
* ReduceSum with empty axes, ``keepdims=0`` and ``noop_with_empty_axes=0`` raised;
* ReduceSum and ReduceProd of int32 came out int64 (torch promotes integer sums);
* ReduceL1/L2/LogSum/LogSumExp/Mean of integers were refused or came out float (here they
  run in float64 and are cast back, as onnxruntime truncates).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from agrippa.backend.converters._common import (
    constant_ints,
    converter,
    dynamic_inputs,
    replace,
    result,
)

Reduction = Callable[[torch.Tensor, list[int], bool], torch.Tensor]


def _sum(x: torch.Tensor, dims: list[int], keep: bool) -> torch.Tensor:
    return torch.sum(x, dim=dims, keepdim=keep, dtype=x.dtype)


def _prod(x: torch.Tensor, dims: list[int], keep: bool) -> torch.Tensor:
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, dim=d, keepdim=keep, dtype=x.dtype)
    return x


REDUCTIONS: dict[str, Reduction] = {
    "ReduceSum": _sum,
    "ReduceProd": _prod,
    "ReduceSumSquare": lambda x, d, k: _sum(x * x, d, k),
    "ReduceL1": lambda x, d, k: _sum(torch.abs(x), d, k),
    "ReduceL2": lambda x, d, k: torch.sqrt(_sum(x * x, d, k)),
    "ReduceLogSum": lambda x, d, k: torch.log(_sum(x, d, k)),
    "ReduceLogSumExp": lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k),
    "ReduceMax": lambda x, d, k: torch.amax(x, dim=d, keepdim=k),
    "ReduceMin": lambda x, d, k: torch.amin(x, dim=d, keepdim=k),
    "ReduceMean": lambda x, d, k: torch.mean(x, dim=d, keepdim=k),
}
# what a reduction over no axis leaves: its elementwise part
ELEMENTWISE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "ReduceL1": torch.abs, "ReduceL2": torch.abs, "ReduceLogSum": torch.log, "ReduceSumSquare": lambda x: x * x,
}
# computed in float64 for integer inputs, then cast back (truncating, as onnxruntime does)
VIA_FLOAT = frozenset({"ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMean"})


class Reduce(nn.Module):
    """A Reduce* op: ``axes`` baked in (a list) or read from the second input at run time."""

    def __init__(self, op: str, keepdims: bool, noop_with_empty_axes: bool, axes: list[int] | None) -> None:
        super().__init__()
        self.op, self.keepdims, self.noop = op, keepdims, noop_with_empty_axes
        self.axes = axes

    def forward(self, x: torch.Tensor, axes: torch.Tensor | None = None) -> torch.Tensor:
        given = self.axes if self.axes is not None else ([] if axes is None else axes.reshape(-1).tolist())
        if self.op in VIA_FLOAT and not (x.is_floating_point() or x.is_complex()):
            return self._reduce(x.double(), given).to(x.dtype)
        return self._reduce(x, given)

    def _reduce(self, x: torch.Tensor, given: list[int]) -> torch.Tensor:
        if (not given and self.noop) or x.dim() == 0:
            return ELEMENTWISE.get(self.op, _same)(x)
        rank = x.dim()
        dims = sorted({int(d) % rank for d in given}) if given else list(range(rank))
        return REDUCTIONS[self.op](x, dims, self.keepdims)


def _same(x: torch.Tensor) -> torch.Tensor:
    return x


def convert(node: Any, graph: Any, previous: Any = None) -> Any:
    """Reduce-N: ``axes`` from the attribute when the node has one, else from input 1."""
    attrs = node.attributes
    keep = bool(attrs.get("keepdims", 1))
    noop = bool(attrs.get("noop_with_empty_axes", 0))
    if "axes" in attrs or len(node.input_values) < 2 or not node.input_values[1]:
        axes = list(attrs.get("axes", []))
        return result(Reduce(node.operation_type, keep, noop, axes), node, inputs=node.input_values[:1])
    baked = constant_ints(node, graph, 1)
    module = Reduce(node.operation_type, keep, noop, baked)
    return result(module, node, inputs=dynamic_inputs(node, [1]) if baked is not None else None)


_WHY = "repeated axes raised; integer sums came out int64; integer means/norms were refused"
for _op in REDUCTIONS:
    replace(_op, 13, why=_WHY)(convert)
for _op, _versions in {
    "ReduceL1": (18,), "ReduceL2": (18,), "ReduceLogSum": (18, 28), "ReduceLogSumExp": (18, 28),
    "ReduceMax": (18, 20), "ReduceMin": (18, 20), "ReduceMean": (18,), "ReduceProd": (18,),
    "ReduceSumSquare": (18,),
}.items():
    converter(_op, *_versions)(convert)
