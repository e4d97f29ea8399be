"""Spatial and cache ops from the ONNX specs: CenterCropPad, MaxUnpool, Col2Im (2-D),
GridSample, AffineGrid and TensorScatter."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from agrippa.backend.converters._common import constant_ints, converter, dynamic_inputs, result


class CenterCropPad(nn.Module):
    """CenterCropPad-18: crop (start rounded down) or zero-pad (the odd pixel on the right)
    each of ``axes`` to ``shape``."""

    def __init__(self, axes: list[int] | None, shape: list[int] | None) -> None:
        super().__init__()
        self.axes, self.shape = axes, shape

    def forward(self, x: torch.Tensor, shape: torch.Tensor | None = None) -> torch.Tensor:
        target = self.shape if self.shape is not None else [int(v) for v in shape.reshape(-1).tolist()]
        axes = self.axes if self.axes is not None else list(range(x.dim()))
        for axis, size in zip(axes, target):
            axis %= x.dim()
            have = x.shape[axis]
            if have > size:
                x = x.narrow(axis, (have - size) // 2, size)
            elif have < size:
                before = (size - have) // 2
                pad = [0, 0] * (x.dim() - 1 - axis) + [before, size - have - before]
                x = F.pad(x, pad)
        return x


@converter("CenterCropPad", 18)
def _center_crop_pad(node: Any, graph: Any):
    shape = constant_ints(node, graph, 1)
    module = CenterCropPad(node.attributes.get("axes"), shape)
    return result(module, node, inputs=dynamic_inputs(node, [1] if shape is not None else []))


class MaxUnpool(nn.Module):
    """MaxUnpool-11/22: the values of ``X`` placed at their (whole-tensor flattened) indices in
    zeros of the unpooled shape (``output_shape`` or from kernel, strides and pads)."""

    def __init__(self, kernel: list[int], strides: list[int], pads: list[int]) -> None:
        super().__init__()
        self.kernel, self.strides, self.pads = kernel, strides, pads

    def forward(self, x: torch.Tensor, indices: torch.Tensor, output_shape: torch.Tensor | None = None) -> torch.Tensor:
        n = len(self.kernel)
        if output_shape is not None:
            shape = [int(v) for v in output_shape.reshape(-1).tolist()]
        else:
            spatial = [(x.shape[2 + i] - 1) * self.strides[i] + self.kernel[i] - self.pads[i] - self.pads[i + n]
                       for i in range(n)]
            shape = [x.shape[0], x.shape[1], *spatial]
        out = x.new_zeros(int(torch.tensor(shape).prod()))
        out = out.scatter(0, indices.reshape(-1).to(torch.int64), x.reshape(-1))
        return out.reshape(shape)


@converter("MaxUnpool", 11, 22)
def _max_unpool(node: Any, graph: Any):
    attrs = node.attributes
    kernel = list(attrs["kernel_shape"])
    n = len(kernel)
    module = MaxUnpool(kernel, list(attrs.get("strides", [1] * n)), list(attrs.get("pads", [0] * 2 * n)))
    return result(module, node)


class Col2Im(nn.Module):
    """Col2Im-18 for 2-D images: ``F.fold`` of the blocks (overlaps summed)."""

    def __init__(self, image: list[int], block: list[int], dilations: list[int], pads: list[int],
                 strides: list[int]) -> None:
        super().__init__()
        self.image, self.block = image, block
        self.dilations, self.pads, self.strides = dilations, pads, strides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, left, bottom, right = self.pads
        if top != bottom or left != right:
            raise NotImplementedError("Col2Im with asymmetric pads is not supported in training")
        return F.fold(x, self.image, self.block, dilation=self.dilations, padding=(top, left), stride=self.strides)


@converter("Col2Im", 18)
def _col2im(node: Any, graph: Any):
    image, block = constant_ints(node, graph, 1), constant_ints(node, graph, 2)
    if image is None or block is None or len(image) != 2:
        raise NotImplementedError("Col2Im trains only for 2-D images with constant image_shape and block_shape")
    attrs = node.attributes
    module = Col2Im(image, block, list(attrs.get("dilations", [1, 1])), list(attrs.get("pads", [0, 0, 0, 0])),
                    list(attrs.get("strides", [1, 1])))
    return result(module, node, inputs=node.input_values[:1])


_GRID_MODES = {"linear": "bilinear", "bilinear": "bilinear", "nearest": "nearest", "cubic": "bicubic",
               "bicubic": "bicubic"}


class GridSample(nn.Module):
    """GridSample-16/20/22: ``F.grid_sample`` (4-D bilinear/nearest/bicubic, 5-D linear/nearest)."""

    def __init__(self, mode: str, padding_mode: str, align_corners: bool) -> None:
        super().__init__()
        self.mode, self.padding_mode, self.align_corners = _GRID_MODES[mode], padding_mode, align_corners

    def forward(self, x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(x, grid.to(x.dtype), mode=self.mode, padding_mode=self.padding_mode,
                             align_corners=self.align_corners)


@converter("GridSample", 16, 20, 22)
def _grid_sample(node: Any, graph: Any):
    attrs = node.attributes
    module = GridSample(attrs.get("mode", "bilinear"), attrs.get("padding_mode", "zeros"),
                        bool(attrs.get("align_corners", 0)))
    return result(module, node)


class AffineGrid(nn.Module):
    """AffineGrid-20: the sampling grid of ``theta`` for an output of ``size``."""

    def __init__(self, align_corners: bool, size: list[int] | None) -> None:
        super().__init__()
        self.align_corners, self.size = align_corners, size

    def forward(self, theta: torch.Tensor, size: torch.Tensor | None = None) -> torch.Tensor:
        shape = self.size if self.size is not None else [int(v) for v in size.reshape(-1).tolist()]
        return F.affine_grid(theta, shape, align_corners=self.align_corners)


@converter("AffineGrid", 20)
def _affine_grid(node: Any, graph: Any):
    size = constant_ints(node, graph, 1)
    module = AffineGrid(bool(node.attributes.get("align_corners", 0)), size)
    return result(module, node, inputs=dynamic_inputs(node, [1] if size is not None else []))


class TensorScatter(nn.Module):
    """TensorScatter-24: ``update`` written into ``past_cache`` along ``axis`` from each batch
    entry's write index (modulo the cache length in circular mode)."""

    def __init__(self, axis: int, circular: bool) -> None:
        super().__init__()
        self.axis, self.circular = axis, circular

    def forward(self, cache: torch.Tensor, update: torch.Tensor,
                write_indices: torch.Tensor | None = None) -> torch.Tensor:
        axis = self.axis % cache.dim()
        steps, size = update.shape[axis], cache.shape[axis]
        start = (torch.zeros(cache.shape[0], dtype=torch.int64, device=cache.device) if write_indices is None
                 else write_indices.to(torch.int64))
        pos = start.unsqueeze(1) + torch.arange(steps, device=cache.device)  # (batch, steps)
        if self.circular:
            pos = pos % size
        shape = [1] * cache.dim()
        shape[0], shape[axis] = cache.shape[0], steps
        index = pos.reshape(shape).expand(update.shape)
        return torch.scatter(cache, axis, index, update)


@converter("TensorScatter", 24)
def _tensor_scatter(node: Any, graph: Any):
    attrs = node.attributes
    return result(TensorScatter(attrs.get("axis", -2), attrs.get("mode", "linear") == "circular"), node)
