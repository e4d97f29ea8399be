"""Importing onnx2torch, and the modules it lacks or that Agrippa's bridge needs.

onnx2torch imports torchvision for two converters only; a broken torchvision install is
replaced by a placeholder so the rest still converts. Upstream has no LpNormalization
converter (one is registered here), and `FunctionalConv` turns a converted Conv into one
that takes its weight and bias as inputs, so they can live once under their ONNX names.
"""
from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def _needs_torchvision(*_: Any, **__: Any) -> Any:
    raise RuntimeError("NonMaxSuppression/RoiAlign need a working torchvision")


def _ensure_torchvision() -> None:
    """Install a placeholder ``torchvision`` when the real one cannot be imported.

    onnx2torch imports torchvision for its NonMaxSuppression and RoiAlign converters
    only; a broken install (e.g. a wheel built for another torch) must not stop the rest.
    """
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        root = types.ModuleType("torchvision", "Placeholder for a broken torchvision.")
        ops = types.ModuleType("torchvision.ops")
        root.__spec__ = importlib.machinery.ModuleSpec("torchvision", None, is_package=True)
        root.__path__ = []
        ops.__spec__ = importlib.machinery.ModuleSpec("torchvision.ops", None)
        ops.nms = ops.roi_align = ops.box_convert = _needs_torchvision
        root.ops = ops
        root.agrippa_placeholder = True
        sys.modules["torchvision"] = root
        sys.modules["torchvision.ops"] = ops


def import_onnx2torch() -> types.ModuleType:
    """Import onnx2torch (with the torchvision workaround) and add missing converters."""
    _ensure_torchvision()
    import onnx2torch
    from onnx2torch.node_converters.registry import add_converter, get_converter

    for version in (1, 22):
        try:
            get_converter(operation_type="LpNormalization", version=version)
        except NotImplementedError:
            add_converter(operation_type="LpNormalization", version=version)(_convert_lp_norm)
    return onnx2torch


class LpNormalization(nn.Module):
    """ONNX LpNormalization: ``x / ||x||_p`` along ``axis``."""

    def __init__(self, axis: int = -1, p: int = 2) -> None:
        super().__init__()
        self.axis = axis
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, p=float(self.p), dim=self.axis)


def _convert_lp_norm(node: Any, graph: Any) -> Any:
    """onnx2torch converter for LpNormalization (upstream has none)."""
    from onnx2torch.utils.common import OnnxMapping, OperationConverterResult

    attrs = node.attributes
    module = LpNormalization(axis=attrs.get("axis", -1), p=attrs.get("p", 2))
    mapping = OnnxMapping(inputs=node.input_values, outputs=node.output_values)
    return OperationConverterResult(torch_module=module, onnx_mapping=mapping)


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
