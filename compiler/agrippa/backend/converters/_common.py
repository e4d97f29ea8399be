"""What every converter family shares: registration in onnx2torch's own registry, the
mapping of a node's values, and reading constant inputs.

A converter is registered with ``@converter("Op", 14, 22)``: one onnx2torch registry entry
per ``since_version`` of the op's schema. An entry upstream already has is left to
upstream (so a newer onnx2torch wins), and every entry made here is recorded in ``OURS``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from agrippa.backend.converters._torchvision import ensure_torchvision

ensure_torchvision()  # before onnx2torch imports torchvision
from onnx2torch.node_converters.registry import (  # noqa: E402
    _CONVERTER_REGISTRY,
    OperationDescription,
    add_converter,
)
from onnx2torch.node_converters.registry import get_converter as get_converter  # noqa: E402
from onnx2torch.utils.common import OnnxMapping, OperationConverterResult  # noqa: E402
from torch import nn  # noqa: E402

OURS: dict[tuple[str, int], str] = {}
"""(op, since_version) -> the module that registered it here."""
FIXED: dict[tuple[str, int], str] = {}
"""(op, since_version) -> why upstream's converter was replaced (see ``replace``)."""

Converter = Callable[[Any, Any], OperationConverterResult]


def registered(op: str, version: int) -> bool:
    """Whether onnx2torch's registry has an entry for exactly (op, since_version)."""
    return OperationDescription(domain="", operation_type=op, version=version) in _CONVERTER_REGISTRY


def converter(op: str, *versions: int) -> Callable[[Converter], Converter]:
    """Register the decorated function for ``op`` at each schema ``since_version`` given."""

    def deco(fn: Converter) -> Converter:
        for v in versions:
            if not registered(op, v):
                add_converter(operation_type=op, version=v)(fn)
                OURS[(op, v)] = fn.__module__.rsplit(".", 1)[-1]
        return fn

    return deco


def replace(op: str, *versions: int, why: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Put the decorated ``fn(node, graph, previous)`` in the registry for each version,
    over whatever is there (``previous``: that entry, or None); ``why`` goes to ``FIXED``."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        for v in versions:
            key = OperationDescription(domain="", operation_type=op, version=v)
            previous = _CONVERTER_REGISTRY.get(key)
            _CONVERTER_REGISTRY[key] = (lambda f, prev: lambda node, graph: f(node, graph, prev))(fn, previous)
            FIXED[(op, v)] = why
        return fn

    return deco


def result(module: nn.Module, node: Any, inputs: Sequence[str] | None = None,
           outputs: Sequence[str] | None = None) -> OperationConverterResult:
    """A conversion result: ``module`` reads ``inputs`` (default: the node's) in order."""
    mapping = OnnxMapping(
        inputs=tuple(node.input_values if inputs is None else inputs),
        outputs=tuple(node.output_values if outputs is None else outputs),
    )
    return OperationConverterResult(torch_module=module, onnx_mapping=mapping)


def input_name(node: Any, k: int) -> str:
    """The name of the node's ``k``-th input, or "" when it is absent."""
    values = node.input_values
    return values[k] if k < len(values) else ""


def constant(node: Any, graph: Any, k: int) -> torch.Tensor | None:
    """The ``k``-th input's value when it is an initializer or a Constant's output, else None."""
    name = input_name(node, k)
    if not name:
        return None
    if name in graph.initializers:
        return graph.initializers[name].to_torch()
    try:
        producer, _ = graph.value_as_node_output(name)
    except KeyError:
        return None
    if producer.operation_type != "Constant":
        return None
    attrs = producer.attributes
    if "value" in attrs:
        return attrs["value"].to_torch()
    for key, dtype in (("value_float", torch.float32), ("value_int", torch.int64),
                       ("value_floats", torch.float32), ("value_ints", torch.int64)):
        if key in attrs:
            return torch.tensor(attrs[key], dtype=dtype)
    return None


def constant_ints(node: Any, graph: Any, k: int) -> list[int] | None:
    """The ``k``-th input as a list of ints when it is constant, else None."""
    value = constant(node, graph, k)
    return None if value is None else [int(v) for v in value.reshape(-1).tolist()]


def dynamic_inputs(node: Any, skip: Sequence[int]) -> tuple[str, ...]:
    """The node's inputs with the positions in ``skip`` blanked (baked into the module);
    onnx2torch passes the inputs after a blank by keyword, so ``forward`` keeps every
    parameter in the op's order."""
    kept = ["" if k in skip else v for k, v in enumerate(node.input_values)]
    while kept and not kept[-1]:
        kept.pop()
    return tuple(kept)


def stash(x: torch.Tensor, stash_type: int) -> torch.Tensor:
    """``x`` in the precision an op's ``stash_type`` asks for (1: float32 at least)."""
    if stash_type == 1 and x.is_floating_point() and x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def index_pad(x: torch.Tensor, widths: list[list[int]], mode: str) -> torch.Tensor:
    """``x`` padded by ``widths`` ([begin, end] per axis, from the first; negative crops) in
    ONNX's ``reflect``, ``edge`` or ``wrap`` mode, for any rank (torch's F.pad takes these
    modes only on the last 1–3 axes of a 2–5-D input). Gathers along each axis, so it is
    differentiable."""
    for axis, (begin, end) in enumerate(widths):
        if begin == 0 and end == 0:
            continue
        n = x.shape[axis]
        idx = torch.arange(-begin, n + end, device=x.device)
        if mode == "reflect":
            period = max(2 * (n - 1), 1)
            idx = torch.remainder(idx, period)
            idx = torch.where(idx >= n, period - idx, idx)
        elif mode == "edge":
            idx = idx.clamp(0, n - 1)
        else:  # wrap
            idx = torch.remainder(idx, n)
        x = torch.index_select(x, axis, idx)
    return x
