"""Run Agrippa's ONNX models in PyTorch: conversion, batching and saving weights.

``onnx_to_torch`` wraps upstream onnx2torch and repairs what it does to initializers:
upstream stores them as unnamed buffers (``onnx_initializer_N``), makes a fresh copy for
every use (so a tied weight becomes several tensors) and bakes some into modules (Conv,
LayerNormalization, Gemm, ...). Here every initializer lives once in the submodule
``initializers`` under its ONNX name: a trainable ``nn.Parameter`` unless it is an
integer tensor or its name contains ``$constant`` (those are buffers). The ops upstream
cannot convert (LpNormalization, Trilu, Gelu, RMSNormalization, Attention, newer versions
of old ops, ...) have converters in ``agrippa.backend.converters``, registered in
onnx2torch's own registry; ``docs/ops.md`` lists every op and who converts it.

``batched`` (in ``torch_batching``) runs a per-example model on a batch with
``torch.func.vmap``, falling back to a per-example loop when vmap raises. The converters of the ops Agrippa emits (Add, Sub,
Mul, Div, MatMul, Relu, LeakyRelu, Sqrt, Identity, Softmax, Transpose, Concat,
ReduceMean, ReduceSum with constant axes, LpNormalization, Conv) and Gather, Reshape and
LayerNormalization all vmap. A reduction with run-time axes calls ``.tolist()``
on them, which vmap rejects when the axes themselves are batched: that case (and any
other op that raises under vmap) takes the loop.
"""
from __future__ import annotations

import operator
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import fx, nn

from agrippa.backend.torch_batching import BatchedModule, batched, input_identifier
from agrippa.backend.torch_modules import LpNormalization, import_onnx2torch

__all__ = [
    "BatchedModule",
    "LpNormalization",
    "batched",
    "onnx_to_torch",
    "save_torch_model",
    "torch_weights",
]

_INITS = "initializers"
_PRESERVED = "_user_preserved_attributes"  # torch.fx.graph_module's key


# --- conversion ------------------------------------------------------------------------


def _load(model: str | os.PathLike | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        return copy
    return onnx.load(os.fspath(model))


def _is_trainable(name: str, tensor: torch.Tensor) -> bool:
    return "$constant" not in name and (tensor.is_floating_point() or tensor.is_complex())


def _input_rank(info: onnx.ValueInfoProto) -> int | None:
    ttype = info.type.tensor_type
    return len(ttype.shape.dim) if ttype.HasField("shape") else None


def _arg_nodes(args: Any) -> list[fx.Node]:
    """The fx nodes among a call's args and kwargs, in argument order."""
    found: list[fx.Node] = []
    fx.node.map_arg(args, lambda n: found.append(n) or n)
    return found


def onnx_to_torch(model: str | os.PathLike | onnx.ModelProto) -> fx.GraphModule:
    """Convert an ONNX model to a torch module whose initializers keep their ONNX names.

    Trainable initializers are ``model.initializers.<name>`` Parameters, one per name
    however many nodes read it; integer and ``$constant`` ones are buffers. Inputs are
    positional in ONNX order (or keywords named like the inputs, with non-identifier
    characters replaced by ``_``); several outputs come back as a tuple in ONNX order.
    ``agrippa_input_names``, ``agrippa_input_ranks`` and ``agrippa_output_names`` describe
    the graph.
    """
    o2t = import_onnx2torch()

    proto = _load(model)
    graph = proto.graph
    tensors = {i.name: torch.from_numpy(np.array(numpy_helper.to_array(i))) for i in graph.initializer}
    for name in tensors:
        if "." in name:
            raise ValueError(f"initializer name {name!r} contains '.', which torch forbids")
    real_inputs = [i for i in graph.input if i.name not in tensors]
    del graph.input[:]
    graph.input.extend(real_inputs)

    # Trainable initializers become graph inputs, so onnx2torch neither copies them per
    # use nor bakes them into modules (Conv's converter, ours, takes its weights as inputs).
    moved = [i for i in graph.initializer if _is_trainable(i.name, tensors[i.name])]
    moved_names = [i.name for i in moved]
    kept = [i for i in graph.initializer if i.name not in set(moved_names)]
    graph.input.extend(onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in moved)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    kept_names = {i.name for i in kept}

    gm = o2t.convert(proto, attach_onnx_mapping=True)
    fgraph = gm.graph

    container = nn.Module()
    for name, value in tensors.items():
        if _is_trainable(name, value):
            container.register_parameter(name, nn.Parameter(value))
        else:
            container.register_buffer(name, value)

    gm.initializers = container  # upstream's get_attr nodes are all replaced below
    placeholders = [n for n in fgraph.nodes if n.op == "placeholder"]
    if len(placeholders) != len(real_inputs) + len(moved):
        raise RuntimeError("onnx2torch produced an unexpected number of inputs")
    readers: dict[str, fx.Node] = {}

    def reader(name: str) -> fx.Node:
        if name not in readers:
            # before the first node that is not an input, looked up now: upstream's get_attr
            # nodes are erased as they are replaced, so a node found earlier may be gone
            first_op = next(n for n in fgraph.nodes if n.op != "placeholder")
            with fgraph.inserting_before(first_op):
                readers[name] = fgraph.get_attr(f"{_INITS}.{name}")
        return readers[name]

    # Moved initializers: their placeholders now read the parameter.
    for node, name in zip(placeholders[len(real_inputs):], moved_names):
        node.replace_all_uses_with(reader(name))
        fgraph.erase_node(node)
    taken: set[str] = set()
    for node, info in zip(placeholders, real_inputs):
        node.target = input_identifier(info.name, taken)

    # Upstream's per-use buffers: map them back to ONNX names through each call's mapping.
    producers: dict[str, tuple[fx.Node, int, int]] = {}
    for node in list(fgraph.nodes):
        if node.op != "call_module":
            continue
        module = gm.get_submodule(node.target)
        mapping = getattr(module, "onnx_mapping", None)
        if mapping is None:
            raise RuntimeError(f"onnx2torch gave no mapping for {node.target!r}")
        del module.onnx_mapping
        for k, out in enumerate(mapping.outputs):
            producers[out] = (node, k, len(mapping.outputs))
        init_inputs = [v for v in mapping.inputs if v in kept_names]
        mine = set(readers.values())
        attrs = [n for n in _arg_nodes((node.args, node.kwargs)) if n.op == "get_attr" and n not in mine]
        if len(attrs) != len(init_inputs):
            raise RuntimeError(f"cannot match initializers of {node.target!r}")
        for attr, name in zip(attrs, init_inputs):
            node.replace_input_with(attr, reader(name))
            if not attr.users:
                fgraph.erase_node(attr)

    # Outputs: one per ONNX graph output, in order (upstream merges outputs of one node).
    outs: list[fx.Node] = []
    out_node = next(n for n in fgraph.nodes if n.op == "output")
    for info in graph.output:
        src, k, count = producers[info.name]
        if count > 1:
            with fgraph.inserting_before(out_node):
                src = fgraph.call_function(operator.getitem, (src, k))
        outs.append(src)
    out_node.args = (outs[0] if len(outs) == 1 else tuple(outs),)

    _freeze_baked(gm)
    fgraph.lint()
    gm.recompile()
    info = {
        "agrippa_input_names": tuple(i.name for i in real_inputs),
        "agrippa_input_ranks": {i.name: _input_rank(i) for i in real_inputs},
        "agrippa_output_names": tuple(o.name for o in graph.output),
    }
    for key, value in info.items():
        setattr(gm, key, value)
    gm.meta.setdefault(_PRESERVED, {}).update(info)  # deepcopy keeps these attributes
    return gm


def _freeze_baked(gm: nn.Module) -> None:
    """Turn constants baked into converted modules into non-persistent buffers."""
    for path, module in gm.named_modules():
        if path == _INITS or path.startswith(_INITS + "."):
            continue
        for name, param in list(module._parameters.items()):
            if param is not None:
                delattr(module, name)
                module.register_buffer(name, param.detach(), persistent=False)
        for name, buf in list(module._buffers.items()):
            if buf is not None:
                module.register_buffer(name, buf, persistent=False)


# --- weights ---------------------------------------------------------------------------


def torch_weights(model: nn.Module) -> dict[str, np.ndarray]:
    """The model's initializers as numpy arrays keyed by ONNX name."""
    if isinstance(model, BatchedModule):
        model = model.module
    prefix = _INITS + "."
    return {
        key[len(prefix):]: value.detach().cpu().numpy().copy()
        for key, value in model.state_dict().items()
        if key.startswith(prefix)
    }


def save_torch_model(
    model: nn.Module, proj_dir: str | os.PathLike, weights_fname: str = "weights.pkl"
) -> Path:
    """Write the model's initializers to ``proj_dir/weights_fname``; returns the path."""
    from agrippa.backend.weights import save_weights

    path = Path(proj_dir) / weights_fname
    save_weights(path, torch_weights(model))
    return path
