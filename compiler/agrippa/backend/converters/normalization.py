"""Normalizations and poolings upstream onnx2torch lacks (from the ONNX specs):
LpNormalization, RMSNormalization, GroupNormalization, MeanVarianceNormalization, GlobalMaxPool,
GlobalLpPool and LpPool."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import converter, result, stash


class LpNormalization(nn.Module):
    """LpNormalization-1/22: ``x / ||x||_p`` along ``axis``."""

    def __init__(self, axis: int = -1, p: int = 2) -> None:
        super().__init__()
        self.axis = axis
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # a zero norm gives zeros, as in onnxruntime; F.normalize would clamp any norm below 1e-12
        norm = torch.linalg.vector_norm(x, ord=float(self.p), dim=self.axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)


class RMSNormalization(nn.Module):
    """RMSNormalization-23: ``X / sqrt(mean(X^2 over [axis, rank)) + epsilon) * scale``."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-5, stash_type: int = 1) -> None:
        super().__init__()
        self.axis = axis
        self.epsilon = epsilon
        self.stash_type = stash_type

    def forward(self, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        axis = self.axis % x.dim()
        xs = stash(x, self.stash_type)
        dims = tuple(range(axis, x.dim()))
        rms = torch.sqrt(torch.mean(xs * xs, dim=dims, keepdim=True) + self.epsilon)
        return (xs / rms).to(x.dtype) * scale


class GroupNormalization(nn.Module):
    """GroupNormalization-21: normalize each group of channels per instance, then a
    per-channel ``scale`` and ``bias``."""

    def __init__(self, num_groups: int, epsilon: float = 1e-5, stash_type: int = 1) -> None:
        super().__init__()
        self.num_groups = num_groups
        self.epsilon = epsilon
        self.stash_type = stash_type

    def forward(self, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        xs = stash(x, self.stash_type)
        y = F.group_norm(xs, self.num_groups, eps=self.epsilon).to(x.dtype)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return y * scale.reshape(shape) + bias.reshape(shape)


class MeanVarianceNormalization(nn.Module):
    """MeanVarianceNormalization-13: ``(X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)`` over ``axes``."""

    def __init__(self, axes: list[int]) -> None:
        super().__init__()
        self.axes = tuple(axes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.mean(x, dim=self.axes, keepdim=True)
        mean_sq = torch.mean(x * x, dim=self.axes, keepdim=True)
        return (x - mean) / (torch.sqrt(mean_sq - mean * mean) + 1e-9)


class GlobalPool(nn.Module):
    """GlobalMaxPool / GlobalLpPool: a reduction over every axis after N and C, kept."""

    def __init__(self, p: float | None) -> None:
        super().__init__()
        self.p = p  # None: max

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim()))
        if self.p is None:
            return torch.amax(x, dim=dims, keepdim=True)
        s = torch.sum(torch.abs(x) ** self.p, dim=dims, keepdim=True)
        return s ** (1.0 / self.p if self.p else math.inf)  # p = 0: pow(count, inf), as onnxruntime


class LpPool(nn.Module):
    """LpPool-18/22: ``(sum over the window of |x|^p)^(1/p)``, by N-d unfolding."""

    def __init__(self, kernel: list[int], strides: list[int], pads: list[int], dilations: list[int],
                 p: float, ceil_mode: bool) -> None:
        super().__init__()
        self.kernel, self.strides, self.dilations = kernel, strides, dilations
        self.pads, self.p, self.ceil_mode = pads, p, ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.kernel)
        pad: list[int] = []
        for i in reversed(range(n)):  # F.pad wants the last axis first
            pad += [self.pads[i], self.pads[i + n]]
        # padding is left out of the sum (as onnxruntime does), not counted as 0: |0|^p is
        # inf for p < 0; the base is 1 there, so no inf reaches the gradient either
        inside = F.pad(torch.ones_like(x, dtype=torch.bool), pad)
        base = torch.where(inside, torch.abs(F.pad(x, pad)), torch.ones((), dtype=x.dtype))
        y = torch.where(inside, base ** self.p, torch.zeros((), dtype=x.dtype))
        for i in range(n):
            axis = 2 + i
            size = y.shape[axis]
            span = self.dilations[i] * (self.kernel[i] - 1) + 1
            if self.ceil_mode:
                count = -(-(size - span) // self.strides[i]) + 1
                extra = (count - 1) * self.strides[i] + span - size
                if extra > 0:
                    y = F.pad(y, [0, 0] * (y.dim() - 1 - axis) + [0, extra])
            y = y.unfold(axis, span, self.strides[i])[..., :: self.dilations[i]]
            y = torch.sum(y, dim=-1)
        return y ** (1.0 / self.p if self.p else math.inf)  # p = 0: pow(count, inf), as in C


@converter("LpNormalization", 1, 22)
def _lp_norm(node: Any, graph: Any):
    attrs = node.attributes
    return result(LpNormalization(attrs.get("axis", -1), attrs.get("p", 2)), node)


@converter("RMSNormalization", 23)
def _rms_norm(node: Any, graph: Any):
    attrs = node.attributes
    return result(RMSNormalization(attrs.get("axis", -1), attrs.get("epsilon", 1e-5), attrs.get("stash_type", 1)), node)


@converter("GroupNormalization", 21)
def _group_norm(node: Any, graph: Any):
    attrs = node.attributes
    module = GroupNormalization(attrs["num_groups"], attrs.get("epsilon", 1e-5), attrs.get("stash_type", 1))
    return result(module, node)


@converter("MeanVarianceNormalization", 9, 13)
def _mvn(node: Any, graph: Any):
    return result(MeanVarianceNormalization(list(node.attributes.get("axes", [0, 2, 3]))), node)


@converter("GlobalMaxPool", 1, 22)
def _global_max_pool(node: Any, graph: Any):
    return result(GlobalPool(None), node)


@converter("GlobalLpPool", 2, 22)
def _global_lp_pool(node: Any, graph: Any):
    return result(GlobalPool(float(node.attributes.get("p", 2))), node)


@converter("LpPool", 11, 18, 22)
def _lp_pool(node: Any, graph: Any):
    attrs = node.attributes
    kernel = list(attrs["kernel_shape"])
    n = len(kernel)
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise NotImplementedError("LpPool with auto_pad SAME_* is not supported; give pads")
    module = LpPool(kernel, list(attrs.get("strides", [1] * n)), list(attrs.get("pads", [0] * 2 * n)),
                    list(attrs.get("dilations", [1] * n)), float(attrs.get("p", 2)),
                    bool(attrs.get("ceil_mode", 0)))
    return result(module, node)
