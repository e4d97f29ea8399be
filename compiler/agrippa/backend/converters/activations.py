"""Elementwise activations and math that upstream onnx2torch lacks (from the ONNX specs):
Gelu, Mish, Swish, SwiGLU, ThresholdedRelu, Shrink, Hardmax, the hyperbolic functions,
the bitwise ops and BitShift."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import converter, result


class Gelu(nn.Module):
    """Gelu-20: ``0.5 x (1 + erf(x / sqrt 2))``, or the tanh estimate."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate=self.approximate)


class Swish(nn.Module):
    """Swish-24: ``x * sigmoid(alpha x)``."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.alpha * x)


class SwiGLU(Swish):
    """SwiGLU-28: ``Swish_alpha(A) * B``."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(a) * b


class Mish(nn.Module):
    """Mish-18: ``x * tanh(softplus(x))``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(F.softplus(x))


class ThresholdedRelu(nn.Module):
    """ThresholdedRelu-10: ``x`` where ``x > alpha``, else 0."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x > self.alpha, x, torch.zeros_like(x))


class Shrink(nn.Module):
    """Shrink-9: ``x + bias`` below ``-lambd``, ``x - bias`` above ``lambd``, else 0, in x's type:
    an integer x is compared and shifted as float32 and truncated back, as onnxruntime does."""

    def __init__(self, bias: float = 0.0, lambd: float = 0.5) -> None:
        super().__init__()
        self.bias = bias
        self.lambd = lambd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x if x.is_floating_point() else x.to(torch.float32)
        out = torch.where(v < -self.lambd, v + self.bias, torch.where(v > self.lambd, v - self.bias, torch.zeros_like(v)))
        return out if out.dtype == x.dtype else out.to(x.dtype)  # .to truncates toward zero, like static_cast


class Hardmax(nn.Module):
    """Hardmax-13: 1 at the first maximum along ``axis``, 0 elsewhere."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = torch.argmax(x, dim=self.axis, keepdim=True)
        return torch.zeros_like(x).scatter(self.axis, index, 1.0)


_UNARY = {
    "Acosh": torch.acosh, "Asinh": torch.asinh, "Atanh": torch.atanh,
    "Cosh": torch.cosh, "Sinh": torch.sinh, "BitwiseNot": torch.bitwise_not,
}
_BINARY = {
    "BitwiseAnd": torch.bitwise_and, "BitwiseOr": torch.bitwise_or, "BitwiseXor": torch.bitwise_xor,
}


class Unary(nn.Module):
    """An elementwise function of one tensor, named by its ONNX op."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _UNARY[self.op](x)


class Binary(nn.Module):
    """An elementwise (broadcasting) function of two tensors, named by its ONNX op."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _BINARY[self.op](a, b)


class BitShift(nn.Module):
    """BitShift-11: ``x << y`` or ``x >> y`` (unsigned types)."""

    def __init__(self, direction: str) -> None:
        super().__init__()
        self.left = direction == "LEFT"

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.bitwise_left_shift(x, y) if self.left else torch.bitwise_right_shift(x, y)


@converter("Gelu", 20)
def _gelu(node: Any, graph: Any):
    return result(Gelu(node.attributes.get("approximate", "none")), node)


@converter("Swish", 24)
def _swish(node: Any, graph: Any):
    return result(Swish(node.attributes.get("alpha", 1.0)), node)


@converter("SwiGLU", 28)
def _swiglu(node: Any, graph: Any):
    return result(SwiGLU(node.attributes.get("alpha", 1.0)), node)


@converter("Mish", 18, 22)
def _mish(node: Any, graph: Any):
    return result(Mish(), node)


@converter("ThresholdedRelu", 10, 22)
def _thresholded_relu(node: Any, graph: Any):
    return result(ThresholdedRelu(node.attributes.get("alpha", 1.0)), node)


@converter("Shrink", 9)
def _shrink(node: Any, graph: Any):
    attrs = node.attributes
    return result(Shrink(attrs.get("bias", 0.0), attrs.get("lambd", 0.5)), node)


@converter("Hardmax", 13)
def _hardmax(node: Any, graph: Any):
    return result(Hardmax(node.attributes.get("axis", -1)), node)


for _op in ("Acosh", "Asinh", "Atanh", "Cosh", "Sinh"):
    converter(_op, 9, 22)(lambda node, graph: result(Unary(node.operation_type), node))
converter("BitwiseNot", 18)(lambda node, graph: result(Unary("BitwiseNot"), node))
for _op in _BINARY:
    converter(_op, 18)(lambda node, graph: result(Binary(node.operation_type), node))


@converter("BitShift", 11, 28)
def _bit_shift(node: Any, graph: Any):
    return result(BitShift(node.attributes["direction"]), node)


