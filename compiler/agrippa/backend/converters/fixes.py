"""Corrections of upstream onnx2torch converters that are wrong on valid models (found by
the differential fuzzer, tests/fuzz; each has a test in tests/test_fuzz_regressions.py).

These replace upstream's registry entries for the versions in force from opset 13 on (so
``coverage`` and docs/ops.md credit them to agrippa); ``_common.FIXED`` lists what and why:

* CumSum: upstream reads a missing ``reverse`` as 1 (the spec's default is 0);
* Flatten: upstream fails for ``axis`` = 0 or = rank on low ranks (torch.flatten's start_dim);
* PRelu: upstream only takes a per-channel slope; ONNX broadcasts any slope to X;
* BatchNormalization (inference): upstream hands trainable mean/var initializers to
  torch.batch_norm, which refuses gradients there;
* Pad 13: upstream's reflect/edge go through F.pad, which takes them only on the
  last 1-3 axes of a 2-5-D input;
* Dropout: upstream refuses any node with ``seed``, though inference ignores it;
* Pow: upstream returns float for an integer base with a float exponent (ONNX: the base's type);
* NonZero: upstream returns the indices transposed ([count, rank]);
* Selu: upstream refuses alpha/gamma other than the defaults;
* InstanceNormalization: torch's instance_norm refuses one spatial element;
* LayerNormalization: upstream bakes constant scale/bias into nn.LayerNorm, whose made-up
  float32 bias breaks float64 models (here they stay operands, and broadcast as ONNX says);
* Shape: an empty slice (start past the rank) came out float32, not int64;
* Reshape: upstream refuses allowzero=1;
* ScatterND-16: upstream refuses the reduction mul (ours for 18 takes every reduction);
* DepthToSpace: upstream refuses mode DCR, the default.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import (
    constant,
    constant_ints,
    dynamic_inputs,
    index_pad,
    replace,
    result,
)


class CumSum(nn.Module):
    def __init__(self, exclusive: bool, reverse: bool) -> None:
        super().__init__()
        self.exclusive, self.reverse = exclusive, reverse

    def forward(self, x: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
        a = int(axis.reshape(-1)[0])
        if self.reverse:
            x = x.flip(a)
        y = torch.cumsum(x, a)
        if self.exclusive:
            n = x.shape[a]
            y = torch.cat([torch.zeros_like(y.narrow(a, 0, min(n, 1))), y.narrow(a, 0, max(n - 1, 0))], a)
        return y.flip(a) if self.reverse else y


@replace("CumSum", 11, 14, why="a missing reverse meant reverse=1")
def _cumsum(node: Any, graph: Any, prev: Any) -> Any:
    a = node.attributes
    return result(CumSum(bool(a.get("exclusive", 0)), bool(a.get("reverse", 0))), node)


class Flatten(nn.Module):
    def __init__(self, axis: int) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axis = self.axis % x.dim() if self.axis < 0 else self.axis
        return x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))


@replace("Flatten", 13, why="axis 0 or = rank failed")
def _flatten(node: Any, graph: Any, prev: Any) -> Any:
    return result(Flatten(int(node.attributes.get("axis", 1))), node)


class EyeLike(nn.Module):
    """Ones on the diagonal offset by `k`, in `dtype` (ONNX code; None: the input's); a
    diagonal wholly outside the matrix gives zeros, as onnxruntime computes it."""

    def __init__(self, k: int, dtype: int | None) -> None:
        super().__init__()
        self.k, self.dtype = k, dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from onnx2torch.utils.dtype import onnx_dtype_to_torch_dtype

        dtype = x.dtype if self.dtype is None else onnx_dtype_to_torch_dtype(self.dtype)
        rows = torch.arange(x.shape[0], device=x.device).unsqueeze(1)
        cols = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
        return (cols - rows == self.k).to(dtype)


@replace("EyeLike", 9, 22, why="k beyond the matrix raised instead of giving zeros")
def _eye_like(node: Any, graph: Any, prev: Any) -> Any:
    a = node.attributes
    return result(EyeLike(int(a.get("k", 0)), a.get("dtype")), node)


class PRelu(nn.Module):
    def forward(self, x: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
        return torch.where(x < 0, x * slope, x)


@replace("PRelu", 9, 16, why="only a per-channel slope was taken")
def _prelu(node: Any, graph: Any, prev: Any) -> Any:
    return result(PRelu(), node)


class BatchNorm(nn.Module):
    """Inference: ``(x - mean) / sqrt(var + eps) * scale + B``, per channel (axis 1)."""

    def __init__(self, epsilon: float) -> None:
        super().__init__()
        self.epsilon = epsilon

    def forward(self, x: torch.Tensor, scale: torch.Tensor, b: torch.Tensor, mean: torch.Tensor,
                var: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        inv = torch.rsqrt(var.reshape(shape) + self.epsilon)
        return (x - mean.reshape(shape)) * inv * scale.reshape(shape) + b.reshape(shape)


@replace("BatchNormalization", 9, 14, 15, why="trainable mean/var refused by torch.batch_norm")
def _batch_norm(node: Any, graph: Any, prev: Any) -> Any:
    if node.attributes.get("training_mode", 0) or len(node.output_values) > 1:
        return prev(node, graph)
    return result(BatchNorm(float(node.attributes.get("epsilon", 1e-5))), node)


class Pad(nn.Module):
    """Pad-2/11/13: ``pads`` (begins then ends, every axis); constant, reflect or edge."""

    def __init__(self, mode: str, pads: list[int] | None) -> None:
        super().__init__()
        self.mode, self.pads = mode, pads

    def forward(self, x: torch.Tensor, pads: torch.Tensor | None = None,
                constant_value: torch.Tensor | None = None) -> torch.Tensor:
        p = self.pads if self.pads is not None else [int(v) for v in pads.reshape(-1).tolist()]
        r = x.dim()
        widths = [[p[i], p[i + r]] for i in range(r)]
        if self.mode == "constant":
            flat = [v for pair in reversed(widths) for v in pair]
            if constant_value is None or constant_value.numel() == 0:
                return F.pad(x, flat, value=0.0)
            value = constant_value.reshape(-1)[0].to(x.dtype)
            return F.pad(x, flat, value=0.0) + F.pad(torch.zeros_like(x), flat, value=1.0) * value
        return index_pad(x, widths, self.mode)


@replace("Pad", 13, why="reflect/edge failed outside the last 1-3 axes of 2-5-D inputs")
def _pad(node: Any, graph: Any, prev: Any) -> Any:
    pads = constant_ints(node, graph, 1)
    mode = node.attributes.get("mode", "constant")
    return result(Pad(mode, pads), node, inputs=dynamic_inputs(node, [1] if pads is not None else []))


class Dropout(nn.Module):
    def __init__(self, ratio: float, masks: bool) -> None:
        super().__init__()
        self.ratio, self.masks = ratio, masks

    def forward(self, x: torch.Tensor, ratio: torch.Tensor | None = None,
                training_mode: torch.Tensor | None = None) -> Any:
        train = bool(training_mode) if training_mode is not None else False
        p = float(ratio) if ratio is not None else self.ratio
        y = F.dropout(x, p, training=train) if train else x
        return (y, torch.ones_like(x, dtype=torch.bool)) if self.masks else y


@replace("Dropout", 13, why="a seed was refused")
def _dropout(node: Any, graph: Any, prev: Any) -> Any:
    if "seed" not in node.attributes:
        return prev(node, graph)
    ratio = constant(node, graph, 1)
    return result(Dropout(float(ratio) if ratio is not None else 0.5, len(node.output_values) > 1), node)


class Pow(nn.Module):
    """``x ** y`` in x's element type (torch promotes an integer base to float)."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.pow(x, y).to(x.dtype)


@replace("Pow", 13, 15, why="an integer base with a float exponent came out float")
def _pow(node: Any, graph: Any, prev: Any) -> Any:
    return result(Pow(), node)


class NonZero(nn.Module):
    """[rank, count] indices, as ONNX lays them out (torch.nonzero gives [count, rank])."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nonzero(x).t()


@replace("NonZero", 13, why="the indices came out transposed ([count, rank])")
def _nonzero(node: Any, graph: Any, prev: Any) -> Any:
    return result(NonZero(), node)


class Selu(nn.Module):
    def __init__(self, alpha: float, gamma: float) -> None:
        super().__init__()
        self.alpha, self.gamma = alpha, gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.where(x > 0, x, self.alpha * torch.expm1(x))


@replace("Selu", 6, 22, why="alpha or gamma other than the defaults were refused")
def _selu(node: Any, graph: Any, prev: Any) -> Any:
    a = node.attributes
    return result(Selu(float(a.get("alpha", 1.67326319217681884765625)),
                       float(a.get("gamma", 1.05070102214813232421875))), node)


class InstanceNorm(nn.Module):
    """Per example and channel over the spatial axes (also when there is one spatial element,
    where torch's instance_norm refuses)."""

    def __init__(self, epsilon: float) -> None:
        super().__init__()
        self.epsilon = epsilon

    def forward(self, x: torch.Tensor, scale: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        axes = tuple(range(2, x.dim()))
        mean = x.mean(axes, keepdim=True)
        var = ((x - mean) ** 2).mean(axes, keepdim=True)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean) * torch.rsqrt(var + self.epsilon) * scale.reshape(shape) + b.reshape(shape)


@replace("InstanceNormalization", 6, 22, why="one spatial element was refused")
def _instance_norm(node: Any, graph: Any, prev: Any) -> Any:
    return result(InstanceNorm(float(node.attributes.get("epsilon", 1e-5))), node)


class LayerNorm(nn.Module):
    def __init__(self, axis: int, epsilon: float) -> None:
        super().__init__()
        self.axis, self.epsilon = axis, epsilon

    def forward(self, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        shape = x.shape[self.axis:]
        if scale.shape == shape and (bias is None or bias.shape == shape):
            return F.layer_norm(x, shape, scale, bias, self.epsilon)
        y = F.layer_norm(x, shape, None, None, self.epsilon) * scale  # scale and bias broadcast (ONNX)
        return y if bias is None else y + bias


@replace("LayerNormalization", 17, why="float64 with constant scale and no bias: a float32 bias was made up")
def _layer_norm(node: Any, graph: Any, prev: Any) -> Any:
    if len(node.output_values) > 1:
        return prev(node, graph)
    a = node.attributes
    return result(LayerNorm(int(a.get("axis", -1)), float(a.get("epsilon", 1e-5))), node)


class Shape(nn.Module):
    def __init__(self, start: int, end: int | None) -> None:
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor(x.shape[self.start:self.end], dtype=torch.int64, device=x.device)


@replace("Shape", 13, 15, 19, 21, 23, 24, 25, why="an empty slice of the shape came out float32")
def _shape(node: Any, graph: Any, prev: Any) -> Any:
    a = node.attributes
    return result(Shape(int(a.get("start", 0)), a.get("end")), node)


class ReshapeAllowZero(nn.Module):
    def forward(self, x: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        return x.reshape([int(v) for v in shape.reshape(-1).tolist()])


@replace("Reshape", 14, 19, 21, 23, 24, 25, why="allowzero=1 was refused")
def _reshape(node: Any, graph: Any, prev: Any) -> Any:
    if not node.attributes.get("allowzero", 0):
        return prev(node, graph)
    return result(ReshapeAllowZero(), node)


@replace("ScatterND", 16, why="the reduction mul was refused")
def _scatter_nd(node: Any, graph: Any, prev: Any) -> Any:
    from agrippa.backend.converters.indexing import ScatterND

    return result(ScatterND(node.attributes.get("reduction", "none")), node)


class DepthToSpaceDCR(nn.Module):
    def __init__(self, b: int) -> None:
        super().__init__()
        self.b = b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        b = self.b
        y = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
        return y.reshape(n, c // (b * b), h * b, w * b)


@replace("DepthToSpace", 13, why="mode DCR (the default) was refused")
def _depth_to_space(node: Any, graph: Any, prev: Any) -> Any:
    if node.attributes.get("mode", "DCR") != "DCR":
        return prev(node, graph)
    return result(DepthToSpaceDCR(int(node.attributes["blocksize"])), node)
