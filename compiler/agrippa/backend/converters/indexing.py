"""Masks, indexing and rearranging ops upstream onnx2torch lacks (from the ONNX specs):
Trilu, OneHot, CumProd, ScatterElements, ScatterND (with every reduction), Compress,
ReverseSequence, SpaceToDepth, Det, Size, CastLike and Unique."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from agrippa.backend.converters._common import constant_ints, converter, dynamic_inputs, result


def _int(value: torch.Tensor | int) -> int:
    return value if isinstance(value, int) else int(value.reshape(-1)[0])


class Trilu(nn.Module):
    """Trilu-14: the upper (or lower) triangle of the last two axes, from diagonal ``k``."""

    def __init__(self, upper: bool, k: int | None) -> None:
        super().__init__()
        self.upper = upper
        self.k = k  # None: read from the second input at run time

    def forward(self, x: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
        diagonal = self.k if self.k is not None else (0 if k is None else _int(k))
        return torch.triu(x, diagonal) if self.upper else torch.tril(x, diagonal)


class OneHot(nn.Module):
    """OneHot-11: ``on`` where the index (negative ones counted from ``depth``) is the
    position along the new axis ``axis``, ``off`` elsewhere; indices outside give all ``off``."""

    def __init__(self, axis: int, depth: int | None) -> None:
        super().__init__()
        self.axis = axis
        self.depth = depth

    def forward(self, indices: torch.Tensor, depth: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        n = self.depth if self.depth is not None else _int(depth)
        ind = indices.to(torch.int64) if not indices.is_floating_point() else indices.floor().to(torch.int64)
        ind = torch.where(ind < 0, ind + n, ind)
        hit = ind.unsqueeze(-1) == torch.arange(n, device=indices.device)
        out = torch.where(hit, values[1], values[0])
        axis = self.axis if self.axis >= 0 else self.axis + out.dim()
        return out.movedim(-1, axis)


class CumProd(nn.Module):
    """CumProd-26: the running product along ``axis``, optionally exclusive or reversed."""

    def __init__(self, axis: int | None, exclusive: bool, reverse: bool) -> None:
        super().__init__()
        self.axis, self.exclusive, self.reverse = axis, exclusive, reverse

    def forward(self, x: torch.Tensor, axis: torch.Tensor | None = None) -> torch.Tensor:
        dim = self.axis if self.axis is not None else _int(axis)
        dim = dim % x.dim()
        y = x.flip(dim) if self.reverse else x
        if self.exclusive:
            ones = torch.ones_like(y.narrow(dim, 0, 1))
            y = torch.cat([ones, y.narrow(dim, 0, y.shape[dim] - 1)], dim)
        y = torch.cumprod(y, dim)
        return y.flip(dim) if self.reverse else y


_REDUCE = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


class ScatterElements(nn.Module):
    """ScatterElements-18: ``updates`` written (or reduced) into ``data`` at ``indices`` along ``axis``."""

    def __init__(self, axis: int, reduction: str) -> None:
        super().__init__()
        self.axis, self.reduction = axis, reduction

    def forward(self, data: torch.Tensor, indices: torch.Tensor, updates: torch.Tensor) -> torch.Tensor:
        axis = self.axis % data.dim()
        index = indices.to(torch.int64)
        index = torch.where(index < 0, index + data.shape[axis], index)
        if self.reduction == "none":
            return torch.scatter(data, axis, index, updates)
        return torch.scatter_reduce(data, axis, index, updates, _REDUCE[self.reduction], include_self=True)


class ScatterND(nn.Module):
    """ScatterND-18: ``updates`` written (or reduced) into ``data`` at the k-tuples of ``indices``."""

    def __init__(self, reduction: str) -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, data: torch.Tensor, indices: torch.Tensor, updates: torch.Tensor) -> torch.Tensor:
        k = indices.shape[-1]
        lead = data.shape[:k]
        index = indices.to(torch.int64).reshape(-1, k)
        sizes = torch.tensor(lead, dtype=torch.int64, device=data.device)
        index = torch.where(index < 0, index + sizes, index)
        strides = torch.ones(k, dtype=torch.int64, device=data.device)
        for i in range(k - 2, -1, -1):
            strides[i] = strides[i + 1] * lead[i + 1]
        flat_index = (index * strides).sum(-1)
        flat = data.reshape(-1, *data.shape[k:])
        upd = updates.reshape(-1, *data.shape[k:]).to(data.dtype)
        if self.reduction == "none":
            out = torch.index_copy(flat, 0, flat_index, upd)
        elif self.reduction == "add":
            out = torch.index_add(flat, 0, flat_index, upd)
        else:
            out = torch.index_reduce(flat, 0, flat_index, upd, _REDUCE[self.reduction], include_self=True)
        return out.reshape(data.shape)


class Compress(nn.Module):
    """Compress-11: the slices along ``axis`` (or of the flattened input) where ``condition`` holds."""

    def __init__(self, axis: int | None) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        if self.axis is None:
            x, axis = x.reshape(-1), 0
        else:
            axis = self.axis % x.dim()
        cond = condition.to(torch.bool).reshape(-1)[: x.shape[axis]]
        return torch.index_select(x, axis, torch.nonzero(cond).reshape(-1))


class ReverseSequence(nn.Module):
    """ReverseSequence-10: each batch entry's first ``sequence_lens[b]`` steps reversed along ``time_axis``."""

    def __init__(self, batch_axis: int, time_axis: int) -> None:
        super().__init__()
        self.batch_axis, self.time_axis = batch_axis, time_axis

    def forward(self, x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        t_len = x.shape[self.time_axis]
        t = torch.arange(t_len, device=x.device).unsqueeze(1)  # (T, 1)
        n = lens.to(torch.int64).unsqueeze(0)  # (1, B)
        index = torch.where(t < n, n - 1 - t, t)  # (T, B)
        if self.batch_axis < self.time_axis:
            index = index.t()
        shape = [1] * x.dim()
        shape[self.time_axis], shape[self.batch_axis] = t_len, x.shape[self.batch_axis]
        index = index.reshape(shape).expand(x.shape)
        return torch.gather(x, self.time_axis, index)


class SpaceToDepth(nn.Module):
    """SpaceToDepth-13: ``b x b`` blocks of H and W moved into channels (block-major order)."""

    def __init__(self, blocksize: int) -> None:
        super().__init__()
        self.b = blocksize

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        b = self.b
        y = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
        return y.reshape(n, c * b * b, h // b, w // b)


class Det(nn.Module):
    """Det-11: the determinant of the last two (square) axes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.det(x)


class Size(nn.Module):
    """Size-13: the element count, an int64 scalar."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor(x.numel(), dtype=torch.int64, device=x.device)


class CastLike(nn.Module):
    """CastLike-15: ``x`` in the element type of ``target``."""

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return x.to(target.dtype)


@converter("Trilu", 14)
def _trilu(node: Any, graph: Any):
    k = constant_ints(node, graph, 1)
    upper = bool(node.attributes.get("upper", 1))
    if k is not None or len(node.input_values) < 2 or not node.input_values[1]:
        return result(Trilu(upper, k[0] if k else 0), node, inputs=node.input_values[:1])
    return result(Trilu(upper, None), node)


@converter("OneHot", 11, 28)
def _one_hot(node: Any, graph: Any):
    depth = constant_ints(node, graph, 1)
    return result(OneHot(node.attributes.get("axis", -1), depth[0] if depth else None), node)


@converter("CumProd", 26)
def _cumprod(node: Any, graph: Any):
    attrs = node.attributes
    axis = constant_ints(node, graph, 1)
    module = CumProd(axis[0] if axis else None, bool(attrs.get("exclusive", 0)), bool(attrs.get("reverse", 0)))
    return result(module, node, inputs=dynamic_inputs(node, [1]) if axis else None)


@converter("ScatterElements", 11, 13, 16, 18)
def _scatter_elements(node: Any, graph: Any):
    attrs = node.attributes
    return result(ScatterElements(attrs.get("axis", 0), attrs.get("reduction", "none")), node)


@converter("ScatterND", 18)
def _scatter_nd(node: Any, graph: Any):
    return result(ScatterND(node.attributes.get("reduction", "none")), node)


@converter("Compress", 11, 28)
def _compress(node: Any, graph: Any):
    return result(Compress(node.attributes.get("axis")), node)


@converter("ReverseSequence", 10, 28)
def _reverse_sequence(node: Any, graph: Any):
    attrs = node.attributes
    return result(ReverseSequence(attrs.get("batch_axis", 1), attrs.get("time_axis", 0)), node)


@converter("SpaceToDepth", 13, 28)
def _space_to_depth(node: Any, graph: Any):
    return result(SpaceToDepth(node.attributes["blocksize"]), node)


@converter("Det", 11, 22)
def _det(node: Any, graph: Any):
    return result(Det(), node)


@converter("Size", 13, 19, 21, 23, 24, 25)
def _size(node: Any, graph: Any):
    return result(Size(), node)


@converter("CastLike", 15, 19, 21, 23, 24, 25)
def _cast_like(node: Any, graph: Any):
    return result(CastLike(), node)


class Unique(nn.Module):
    """Unique-11/28: the distinct values (or slices along ``axis``), sorted or in order of
    first occurrence, with first-occurrence indices, inverse indices and counts."""

    def __init__(self, axis: int | None, sort: bool, outputs: tuple[bool, ...]) -> None:
        super().__init__()
        self.axis, self.sort, self.outputs = axis, sort, outputs

    def forward(self, x: torch.Tensor) -> Any:
        if self.axis is None:
            x, dim = x.reshape(-1), 0
        else:
            dim = self.axis % x.dim()
        _, inverse, counts = torch.unique(x.detach(), sorted=True, return_inverse=True, return_counts=True, dim=dim)
        positions = torch.arange(inverse.numel(), device=x.device)
        first = torch.full((counts.numel(),), inverse.numel(), dtype=torch.int64, device=x.device)
        first = first.scatter_reduce(0, inverse, positions, "amin")
        if not self.sort:  # in order of first occurrence
            order = torch.argsort(first)
            rank = torch.empty_like(order).scatter_(0, order, torch.arange(order.numel(), device=x.device))
            first, counts, inverse = first[order], counts[order], rank[inverse]
        values = x.index_select(dim, first)  # differentiable: each value is its first occurrence
        found = (values, first, inverse, counts)
        picked = tuple(v for v, wanted in zip(found, self.outputs) if wanted)
        return picked[0] if len(picked) == 1 else picked


@converter("Unique", 11, 28)
def _unique(node: Any, graph: Any):
    names = list(node.output_values)
    module = Unique(node.attributes.get("axis"), bool(node.attributes.get("sorted", 1)), tuple(bool(n) for n in names))
    return result(module, node, outputs=[n for n in names if n])
