"""Importing onnx2torch, and the modules Agrippa's bridge needs.

``import_onnx2torch`` imports onnx2torch (a broken torchvision install replaced by a
placeholder, see ``agrippa.backend.converters._torchvision``) with the converters upstream
lacks registered (``agrippa.backend.converters``, LpNormalization among them).
`FunctionalConv` turns a converted Conv into one that takes its weight and bias as inputs,
so they can live once under their ONNX names.
"""
from __future__ import annotations

import types

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters.normalization import LpNormalization

__all__ = ["FunctionalConv", "LpNormalization", "import_onnx2torch"]


def import_onnx2torch() -> types.ModuleType:
    """Import onnx2torch (with the torchvision workaround) and add the missing converters."""
    from agrippa.backend.converters import load

    return load()


class FunctionalConv(nn.Module):
    """A converted Conv/ConvTranspose that takes its weight and bias as inputs."""

    def __init__(self, converted: nn.Module) -> None:
        super().__init__()
        pad: nn.Module | None = None
        if isinstance(converted, nn.Sequential):
            pad, converted = converted[0], converted[-1]
        if not isinstance(converted, nn.modules.conv._ConvNd):
            raise TypeError(f"unexpected Conv conversion {type(converted).__name__}")
        self.pad = pad
        self.transposed = converted.transposed
        self.rank = len(converted.kernel_size)
        self.stride = converted.stride
        self.padding = converted.padding
        self.dilation = converted.dilation
        self.groups = converted.groups
        self.output_padding = converted.output_padding

    def forward(
        self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.pad is not None:
            x = self.pad(x)
        if self.transposed:
            fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.rank - 1]
            return fn(
                x, weight, bias, self.stride, self.padding, self.output_padding,
                self.groups, self.dilation,
            )
        fn = (F.conv1d, F.conv2d, F.conv3d)[self.rank - 1]
        return fn(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)
