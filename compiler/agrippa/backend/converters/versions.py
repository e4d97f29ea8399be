"""Newer versions of ops upstream onnx2torch converts at an older version.

* ``ALIASES``: versions that only widen the op's type constraints (bfloat16, float8, int4,
  ...) or reword its documentation. Same inputs, outputs, attributes and semantics (each
  checked against the ONNX changelog), so upstream's converter of the older version is
  registered for them.
* ``DELEGATES``: versions that add an attribute whose default keeps the old semantics.
  Upstream's converter is used when the node leaves it at the default; otherwise the
  conversion stops with a message naming the attribute.
* Pad 18+ (``axes`` input, ``wrap``) and Split 18 (``num_outputs``) have converters of
  their own (the reductions of opset 18, whose axes became an input, are in ``reduce``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import (
    constant_ints,
    converter,
    dynamic_inputs,
    get_converter,
    index_pad,
    result,
)

ALIASES: dict[str, tuple[int, tuple[int, ...]]] = {
    # op: (upstream's version, the newer versions that reuse it)
    "Acos": (7, (22,)), "Asin": (7, (22,)), "Atan": (7, (22,)), "Cos": (7, (22,)), "Sin": (7, (22,)),
    "Tan": (7, (22,)), "Celu": (12, (28,)),
    "Constant": (13, (19, 21, 23, 24, 25)), "ConstantOfShape": (9, (20, 21, 23, 24, 25)),
    "DepthToSpace": (13, (28,)), "Dropout": (13, (22,)), "Einsum": (12, (28,)), "Elu": (6, (22,)),
    "Equal": (13, (19,)), "EyeLike": (9, (22,)), "Flatten": (13, (21, 23, 24, 25)),
    "GlobalAveragePool": (1, (22,)), "GreaterOrEqual": (12, (16,)), "LessOrEqual": (12, (16,)),
    "HardSigmoid": (6, (22,)), "HardSwish": (14, (22,)), "Identity": (16, (19, 21, 23, 24, 25)),
    "InstanceNormalization": (6, (22,)), "IsInf": (10, (20,)), "IsNaN": (13, (20,)),
    "MaxPool": (12, (22,)), "Mod": (13, (28,)), "Reshape": (14, (19, 21, 23, 24, 25)),
    "RoiAlign": (16, (22,)), "Round": (11, (22,)), "Selu": (6, (22,)), "Shape": (15, (19, 21, 23, 24, 25)),
    "Softplus": (1, (22,)), "Softsign": (1, (22,)), "Squeeze": (21, (23, 24, 25)), "TopK": (11, (24,)),
    "Transpose": (13, (21, 23, 24, 25)), "Unsqueeze": (13, (21, 23, 24, 25)),
}
# Mod 28 states fmod=0 for floats as A - floor(A/B)*B, which is what upstream's torch.remainder computes.


def _defaults(**expected: Any) -> Callable[[Any], str | None]:
    def check(node: Any) -> str | None:
        for name, default in expected.items():
            value = node.attributes.get(name, default)
            if isinstance(default, list) and value is not None:
                value = list(value)
            if value != default and not (name == "dilations" and set(value or [1]) == {1}):
                return f"{node.operation_type}'s {name}={value!r} is not supported in training"
        return None
    return check


DELEGATES: dict[str, tuple[int, tuple[int, ...], Callable[[Any], str | None]]] = {
    "AveragePool": (11, (19, 22), _defaults(dilations=None)),
    "Cast": (13, (19, 21, 23, 24, 25, 28), _defaults()),  # saturate, round_mode: float8/float4 only
    "Range": (11, (27,), _defaults()),  # stash_type: float16/bfloat16 accumulation only
    "Resize": (13, (18, 19), _defaults(antialias=0, axes=None, keep_aspect_ratio_policy="stretch")),
}


def _alias(op: str, old: int) -> Callable[[Any, Any], Any]:
    def convert(node: Any, graph: Any) -> Any:
        return get_converter(operation_type=op, version=old)(node, graph)
    return convert


def _delegate(op: str, old: int, check: Callable[[Any], str | None]) -> Callable[[Any, Any], Any]:
    def convert(node: Any, graph: Any) -> Any:
        problem = check(node)
        if problem is None and node.attributes.get("coordinate_transformation_mode") == "half_pixel_symmetric":
            problem = "Resize's coordinate_transformation_mode='half_pixel_symmetric' is not supported in training"
        if problem:
            raise NotImplementedError(problem)
        return get_converter(operation_type=op, version=old)(node, graph)
    return convert


for _op, (_old, _new) in ALIASES.items():
    converter(_op, *_new)(_alias(_op, _old))
for _op, (_old, _new, _check) in DELEGATES.items():
    converter(_op, *_new)(_delegate(_op, _old, _check))


# -- Pad 18+ and Split 18 -------------------------------------------------------------------------

_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


class Pad(nn.Module):
    """Pad-18+: ``pads`` (begins then ends) on ``axes`` (default: all), constant, reflect,
    edge or wrap; negative pads crop."""

    def __init__(self, mode: str, pads: list[int] | None, axes: list[int] | None) -> None:
        super().__init__()
        self.mode, self.pads, self.axes = mode, pads, axes

    def forward(self, x: torch.Tensor, pads: torch.Tensor | None = None, constant_value: torch.Tensor | None = None,
                axes: torch.Tensor | None = None) -> torch.Tensor:
        p = self.pads if self.pads is not None else [int(v) for v in pads.reshape(-1).tolist()]
        ax = self.axes if self.axes is not None else (
            list(range(x.dim())) if axes is None else [int(v) for v in axes.reshape(-1).tolist()])
        n = len(ax)
        full = [[0, 0] for _ in range(x.dim())]
        for i, a in enumerate(ax):
            full[a % x.dim()] = [p[i], p[i + n]]
        while full and full[0] == [0, 0]:
            full.pop(0)  # torch pads the trailing axes
        flat = [v for pair in reversed(full) for v in pair]
        if self.mode == "constant":
            value = 0.0 if constant_value is None or constant_value.numel() == 0 else constant_value.reshape(-1)[0]
            if isinstance(value, torch.Tensor):
                return F.pad(x, flat, value=0.0) + _border(x, flat, value)
            return F.pad(x, flat, value=value)
        if self.mode not in _PAD_MODES:
            raise ValueError(f"Pad: unknown mode {self.mode!r}")
        # F.pad takes reflect/replicate/circular only on the last 1-3 axes of a 2-5-D input
        return index_pad(x, [[0, 0]] * (x.dim() - len(full)) + full, self.mode)


def _border(x: torch.Tensor, flat: list[int], value: torch.Tensor) -> torch.Tensor:
    """``value`` where the padding is, 0 inside (keeps a run-time pad value differentiable)."""
    border = F.pad(torch.zeros_like(x), flat, value=1.0)
    return border * value.to(x.dtype)


@converter("Pad", 18, 19, 21, 23, 24, 25)
def _pad(node: Any, graph: Any) -> Any:
    pads = constant_ints(node, graph, 1)
    axes = constant_ints(node, graph, 3)
    skip = [k for k, v in ((1, pads), (3, axes)) if v is not None]
    return result(Pad(node.attributes.get("mode", "constant"), pads, axes), node, inputs=dynamic_inputs(node, skip))


class Split(nn.Module):
    """Split-18: pieces of ``split`` sizes, or ``num_outputs`` pieces (the last one smaller)."""

    def __init__(self, axis: int, sizes: list[int] | None, num_outputs: int) -> None:
        super().__init__()
        self.axis, self.sizes, self.num_outputs = axis, sizes, num_outputs

    def forward(self, x: torch.Tensor, split: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        if self.sizes is not None:
            sizes: Any = self.sizes
        elif split is not None:
            sizes = [int(v) for v in split.reshape(-1).tolist()]
        else:
            sizes = -(-x.shape[self.axis] // self.num_outputs)  # ceil: the last piece is smaller
        return tuple(torch.split(x, sizes, dim=self.axis))


@converter("Split", 18)
def _split(node: Any, graph: Any) -> Any:
    sizes = constant_ints(node, graph, 1)
    num = node.attributes.get("num_outputs", len(node.output_values))
    module = Split(node.attributes.get("axis", 0), sizes, num)
    return result(module, node, inputs=dynamic_inputs(node, [1]) if sizes is not None else None)


