"""Conv and ConvTranspose (11, 22), from the ONNX specs, with the weight and bias as inputs.

Upstream bakes the weight and bias into an ``nn.ConvNd`` and so needs them as initializers:
a weight fed as a graph input (or computed) raised ``KeyError``. Here they are operands, so
the bridge keeps every initializer once under its ONNX name, and any producer can feed them.
Also covered, which upstream refused: ``auto_pad`` SAME_UPPER / SAME_LOWER, asymmetric pads
of ConvTranspose, and its ``output_shape``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import replace, result

_CONV = (F.conv1d, F.conv2d, F.conv3d)
_CONV_T = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)


def _split(total: int, auto_pad: str) -> tuple[int, int]:
    """(begin, end) of a total padding: SAME_UPPER puts the odd one at the end."""
    small = total // 2
    return (small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small)


class Conv(nn.Module):
    """Conv-11/22: ``x`` (N, C, D1...) convolved with ``w`` (M, C/group, k1...), plus ``b``."""

    def __init__(self, strides: list[int] | None, pads: list[int] | None, dilations: list[int] | None,
                 group: int, auto_pad: str) -> None:
        super().__init__()
        self.strides, self.pads, self.dilations = strides, pads, dilations
        self.group, self.auto_pad = group, auto_pad

    def forward(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        n = w.dim() - 2
        strides = self.strides or [1] * n
        dil = self.dilations or [1] * n
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pairs = []
            for i in range(n):
                size, span = x.shape[2 + i], dil[i] * (w.shape[2 + i] - 1) + 1
                out = -(-size // strides[i])
                pairs.append(_split(max(0, (out - 1) * strides[i] + span - size), self.auto_pad))
        elif self.auto_pad == "VALID" or not self.pads:
            pairs = [(0, 0)] * n
        else:
            pairs = [(self.pads[i], self.pads[i + n]) for i in range(n)]
        if all(p == q for p, q in pairs):
            padding = [p for p, _ in pairs]
        else:
            x = F.pad(x, [v for p, q in reversed(pairs) for v in (p, q)])
            padding = [0] * n
        return _CONV[n - 1](x, w, b, strides, padding, dil, self.group)


class ConvTranspose(nn.Module):
    """ConvTranspose-11/22: the full transposed convolution, then ``output_padding`` added and
    the pads cropped (from ``pads``, or as ``auto_pad`` / ``output_shape`` require)."""

    def __init__(self, strides: list[int] | None, pads: list[int] | None, dilations: list[int] | None,
                 group: int, auto_pad: str, output_padding: list[int] | None,
                 output_shape: list[int] | None) -> None:
        super().__init__()
        self.strides, self.pads, self.dilations = strides, pads, dilations
        self.group, self.auto_pad = group, auto_pad
        self.output_padding, self.output_shape = output_padding, output_shape

    def forward(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        n = w.dim() - 2
        strides = self.strides or [1] * n
        dil = self.dilations or [1] * n
        adj = self.output_padding or [0] * n
        y = _CONV_T[n - 1](x, w, None, strides, 0, 0, self.group, dil)
        same = self.auto_pad in ("SAME_UPPER", "SAME_LOWER")
        for i in range(n):
            axis = 2 + i
            full = y.shape[axis] + adj[i]
            if self.output_shape is not None or same:
                want = self.output_shape[-n + i] if self.output_shape is not None else x.shape[axis] * strides[i]
                begin, end = _split(max(0, full - want), self.auto_pad)
            elif self.auto_pad == "VALID" or not self.pads:
                begin, end = 0, 0
            else:
                begin, end = self.pads[i], self.pads[i + n]
            if adj[i]:
                y = F.pad(y, [0, 0] * (y.dim() - 1 - axis) + [0, adj[i]])
            y = y.narrow(axis, begin, full - begin - end)
        if b is not None:
            y = y + b.reshape((1, -1) + (1,) * n)
        return y


def _ints(attrs: dict, name: str) -> list[int] | None:
    value = attrs.get(name)
    return None if value is None else [int(v) for v in value]


@replace("Conv", 11, 22, why="a weight or bias not given as an initializer raised; SAME auto_pad was refused")
def _conv(node: Any, graph: Any, previous: Any) -> Any:
    a = node.attributes
    module = Conv(_ints(a, "strides"), _ints(a, "pads"), _ints(a, "dilations"), int(a.get("group", 1)),
                  a.get("auto_pad", "NOTSET"))
    return result(module, node)


@replace("ConvTranspose", 11, 22, why="a weight or bias not given as an initializer raised; asymmetric pads, "
         "SAME auto_pad and output_shape were refused or ignored")
def _conv_transpose(node: Any, graph: Any, previous: Any) -> Any:
    a = node.attributes
    module = ConvTranspose(_ints(a, "strides"), _ints(a, "pads"), _ints(a, "dilations"), int(a.get("group", 1)),
                           a.get("auto_pad", "NOTSET"), _ints(a, "output_padding"), _ints(a, "output_shape"))
    return result(module, node)
