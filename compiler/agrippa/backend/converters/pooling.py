"""LRN, and pools on the element types torch's CPU kernels lack (found by the fuzzer).

* LRN-13, from the spec: upstream's ``nn.LocalResponseNorm`` centres an even ``size`` one
  channel off (ONNX sums ``floor((size-1)/2)`` channels before, ``ceil((size-1)/2)`` after),
  and its avg_pool3d has no float16/bfloat16 kernel. Here the window is summed directly, in
  float32 at least.
* MaxPool-12 (22 reuses it): upstream gave no Indices output and refused SAME auto_pad;
  torch has no integer max_pool1d, nor an integer -inf for asymmetric pads, so int8/uint8
  (the integer types ONNX allows) run in float32, exactly.
* AveragePool-11 (19 and 22 reuse it): upstream refused asymmetric pads and SAME auto_pad;
  torch has no float16/bfloat16 avg_pool3d, so those run in float32 and are rounded back.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import replace, result

_HALF = (torch.float16, torch.bfloat16)


class LRN(nn.Module):
    """``x / (bias + alpha / size * (sum of x^2 over the channel window)) ** beta``."""

    def __init__(self, size: int, alpha: float, beta: float, bias: float) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = x.float() if x.dtype in _HALF else x
        before = (self.size - 1) // 2
        sq = (xs * xs).movedim(1, -1)  # channels last, where F.pad starts
        window = F.pad(sq, [before, self.size - 1 - before]).unfold(-1, self.size, 1).sum(-1)
        y = xs / (self.bias + self.alpha / self.size * window.movedim(-1, 1)) ** self.beta
        return y.to(x.dtype)


@replace("LRN", 13, why="an even size was centred one channel off; float16/bfloat16 raised")
def _lrn(node: Any, graph: Any, previous: Any) -> Any:
    a = node.attributes
    module = LRN(int(a["size"]), float(a.get("alpha", 1e-4)), float(a.get("beta", 0.75)), float(a.get("bias", 1.0)))
    return result(module, node)


def _windows(x: torch.Tensor, kernel: list[int], strides: list[int], dilations: list[int], pads: list[int] | None,
             auto_pad: str) -> list[tuple[int, int]]:
    """(begin, end) padding of each spatial axis, from ``pads`` or ``auto_pad``."""
    n = len(kernel)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pairs = []
        for i in range(n):
            size, span = x.shape[2 + i], dilations[i] * (kernel[i] - 1) + 1
            total = max(0, (-(-size // strides[i]) - 1) * strides[i] + span - size)
            small = total // 2
            pairs.append((small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small))
        return pairs
    if auto_pad == "VALID" or not pads:
        return [(0, 0)] * n
    return [(pads[i], pads[i + n]) for i in range(n)]


def _trim(y: torch.Tensor, x: torch.Tensor, pairs: list[tuple[int, int]], strides: list[int]) -> torch.Tensor:
    """Drop ceil_mode's last window where it starts in the end padding (onnxruntime and torch
    both do; torch does not know the padding was explicit)."""
    for i, (begin, _) in enumerate(pairs):
        axis, out = 2 + i, y.shape[2 + i]
        while out > 1 and (out - 1) * strides[i] >= x.shape[axis] + begin:
            out -= 1
        y = y.narrow(axis, 0, out)
    return y


def _flat(pairs: list[tuple[int, int]]) -> list[int]:
    return [v for p, q in reversed(pairs) for v in (p, q)]


class MaxPool(nn.Module):
    """MaxPool-12/22: the window maximum (padding never wins), with ONNX's Indices: positions in
    the whole flattened input (row-major, or column-major within a plane for storage_order 1)."""

    def __init__(self, kernel: list[int], strides: list[int] | None, pads: list[int] | None,
                 dilations: list[int] | None, ceil_mode: bool, auto_pad: str, storage_order: int) -> None:
        super().__init__()
        n = len(kernel)
        self.kernel, self.strides, self.dilations = kernel, strides or [1] * n, dilations or [1] * n
        self.pads, self.ceil_mode, self.auto_pad, self.storage_order = pads, ceil_mode, auto_pad, storage_order

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.kernel)
        xf = x if x.is_floating_point() else x.float()  # int8/uint8: exact; torch lacks integer pools
        pairs = _windows(x, self.kernel, self.strides, self.dilations, self.pads, self.auto_pad)
        padded = F.pad(xf, _flat(pairs), value=float("-inf"))
        fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[n - 1]
        y, idx = fn(padded, self.kernel, self.strides, 0, self.dilations, self.ceil_mode, return_indices=True)
        if self.ceil_mode:
            y, idx = _trim(y, x, pairs, self.strides), _trim(idx, x, pairs, self.strides)
        # idx: row-major in a padded plane; to coordinates in x's plane, then ONNX's layout
        spatial, flat = x.shape[2:], torch.zeros_like(idx)
        rest = idx
        coords = []
        for i in reversed(range(n)):
            coords.append(rest % padded.shape[2 + i] - pairs[i][0])
            rest = rest // padded.shape[2 + i]
        coords.reverse()
        order = range(n) if self.storage_order == 0 else reversed(range(n))
        for i in order:
            flat = flat * spatial[i] + coords[i]
        plane = torch.arange(x.shape[0] * x.shape[1], device=x.device).reshape(x.shape[0], x.shape[1], *[1] * n)
        return y.to(x.dtype), flat + plane * math.prod(spatial)


@replace("MaxPool", 12, why="int8/uint8 raised; the Indices output was missing; SAME auto_pad was refused")
def _max_pool(node: Any, graph: Any, previous: Any) -> Any:
    a = node.attributes
    module = MaxPool([int(k) for k in a["kernel_shape"]], a.get("strides"), a.get("pads"), a.get("dilations"),
                     bool(a.get("ceil_mode", 0)), a.get("auto_pad", "NOTSET"), int(a.get("storage_order", 0)))
    return result(_First(module) if len(node.output_values) < 2 else module, node)


class _First(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)[0]


class AveragePool(nn.Module):
    """AveragePool-11 (19, 22 without dilations): the window mean, padding counted or not."""

    def __init__(self, kernel: list[int], strides: list[int] | None, pads: list[int] | None, ceil_mode: bool,
                 auto_pad: str, count_include_pad: bool) -> None:
        super().__init__()
        n = len(kernel)
        self.kernel, self.strides, self.pads = kernel, strides or [1] * n, pads
        self.ceil_mode, self.auto_pad, self.count_include_pad = ceil_mode, auto_pad, count_include_pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.kernel)
        xf = x.float() if x.dtype in _HALF else x  # no float16/bfloat16 avg_pool3d
        pairs = _windows(x, self.kernel, self.strides, [1] * n, self.pads, self.auto_pad)
        fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[n - 1]

        def pool(t: torch.Tensor) -> torch.Tensor:
            y = fn(F.pad(t, _flat(pairs)), self.kernel, self.strides, 0, self.ceil_mode, True)
            return _trim(y, x, pairs, self.strides) if self.ceil_mode else y

        y = pool(xf)
        if not self.count_include_pad and any(p or q for p, q in pairs):
            y = y / pool(torch.ones_like(xf[:1, :1]))  # the share of each window inside x
        return y.to(x.dtype)


@replace("AveragePool", 11, why="asymmetric pads and SAME auto_pad were refused; float16/bfloat16 raised in 3-D")
def _average_pool(node: Any, graph: Any, previous: Any) -> Any:
    a = node.attributes
    module = AveragePool([int(k) for k in a["kernel_shape"]], a.get("strides"), a.get("pads"),
                         bool(a.get("ceil_mode", 0)), a.get("auto_pad", "NOTSET"), bool(a.get("count_include_pad", 0)))
    return result(module, node)
