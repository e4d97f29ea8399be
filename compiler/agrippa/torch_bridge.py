"""Run Agrippa's ONNX models in PyTorch: conversion, batching and saving weights.

``onnx_to_torch`` wraps upstream onnx2torch and repairs what it does to initializers:
upstream stores them as unnamed buffers (``onnx_initializer_N``), makes a fresh copy for
every use (so a tied weight becomes several tensors) and bakes some into modules (Conv,
LayerNormalization, Gemm, ...). Here every initializer lives once in the submodule
``initializers`` under its ONNX name: a trainable ``nn.Parameter`` unless it is an
integer tensor or its name contains ``$constant`` (those are buffers). Upstream also
lacks LpNormalization, which is registered here.

``batched`` runs a per-example model on a batch with ``torch.func.vmap``, falling back to
a per-example loop when vmap raises. The converters of the ops Agrippa emits (Add, Sub,
Mul, Div, MatMul, Relu, LeakyRelu, Sqrt, Identity, Softmax, Transpose, Concat,
ReduceMean, ReduceSum with constant axes, LpNormalization, Conv) and Gather, Reshape and
LayerNormalization all vmap. Upstream's ReduceSum with run-time axes calls ``.tolist()``
on them, which vmap rejects when the axes themselves are batched: that case (and any
other op that raises under vmap) takes the loop.
"""
from __future__ import annotations

import importlib.machinery
import keyword
import operator
import os
import re
import sys
import types
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import fx, nn

__all__ = [
    "BatchedModule",
    "batched",
    "onnx_to_torch",
    "save_torch_model",
    "torch_weights",
]

_CONV_OPS = ("Conv", "ConvTranspose")
_INITS = "initializers"
_PRESERVED = "_user_preserved_attributes"  # torch.fx.graph_module's key


# --- onnx2torch import -----------------------------------------------------------------


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


def _onnx2torch() -> types.ModuleType:
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


# --- conversion ------------------------------------------------------------------------


def _load(model: str | os.PathLike | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        return copy
    return onnx.load(os.fspath(model))


def _is_trainable(name: str, tensor: torch.Tensor) -> bool:
    return "$constant" not in name and (tensor.is_floating_point() or tensor.is_complex())


def _identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for an input name, unique among ``taken``."""
    base = re.sub(r"\W", "_", name) or "input"
    if base[0].isdigit() or keyword.iskeyword(base) or base == "self":
        base = f"x_{base}"
    ident, k = base, 1
    while ident in taken:
        k += 1
        ident = f"{base}_{k}"
    taken.add(ident)
    return ident


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
    o2t = _onnx2torch()
    from onnx2torch.onnx_graph import OnnxGraph

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
    # use nor bakes them into modules; Conv's converter insists on initializers, so those
    # stay and their Conv modules are made functional below.
    conv_fed = {v for n in graph.node if n.op_type in _CONV_OPS for v in list(n.input)[1:]}
    moved = [i for i in graph.initializer if _is_trainable(i.name, tensors[i.name]) and i.name not in conv_fed]
    moved_names = [i.name for i in moved]
    kept = [i for i in graph.initializer if i.name not in set(moved_names)]
    graph.input.extend(onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in moved)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    kept_names = {i.name for i in kept}

    gm = o2t.convert(proto, attach_onnx_mapping=True)
    fgraph = gm.graph
    onnx_nodes = OnnxGraph(graph).nodes

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
    first_op = next(n for n in fgraph.nodes if n.op != "placeholder")
    readers: dict[str, fx.Node] = {}

    def reader(name: str) -> fx.Node:
        if name not in readers:
            with fgraph.inserting_before(first_op):
                readers[name] = fgraph.get_attr(f"{_INITS}.{name}")
        return readers[name]

    # Moved initializers: their placeholders now read the parameter.
    for node, name in zip(placeholders[len(real_inputs):], moved_names):
        node.replace_all_uses_with(reader(name))
        fgraph.erase_node(node)
    taken: set[str] = set()
    for node, info in zip(placeholders, real_inputs):
        node.target = _identifier(info.name, taken)

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
        onnx_node = onnx_nodes.get(node.target)
        if onnx_node is not None and onnx_node.operation_type in _CONV_OPS:
            gm.add_submodule(node.target, FunctionalConv(module))
            ins = list(onnx_node.input_values)
            node.args = (node.args[0], *(reader(v) for v in ins[1:] if v))
            node.kwargs = {}

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


# --- batching --------------------------------------------------------------------------


def _stack(results: list[Any]) -> Any:
    first = results[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(results)
    if isinstance(first, (tuple, list)):
        return type(first)(_stack([r[k] for r in results]) for k in range(len(first)))
    raise TypeError(f"cannot stack outputs of type {type(first).__name__}")


class BatchedModule(nn.Module):
    """Runs a per-example module on a batch (see :func:`batched`)."""

    def __init__(self, module: nn.Module, batch_inputs: Iterable[str] | None = None) -> None:
        super().__init__()
        self.module = module
        self.input_names: tuple[str, ...] = tuple(getattr(module, "agrippa_input_names", ()))
        self.input_ranks: dict[str, int | None] = dict(getattr(module, "agrippa_input_ranks", {}))
        self.batch_inputs = None if batch_inputs is None else frozenset(batch_inputs)
        unknown = (self.batch_inputs or frozenset()) - set(self.input_names)
        if unknown and self.input_names:
            raise ValueError(f"unknown inputs in batch_inputs: {sorted(unknown)}")
        self.use_vmap = True

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        values = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        if not kwargs:
            return values
        if not self.input_names:
            raise TypeError("keyword inputs need a module from onnx_to_torch")
        taken: set[str] = set()
        idents = [_identifier(n, taken) for n in self.input_names]
        for key, value in kwargs.items():
            pos = self.input_names.index(key) if key in self.input_names else idents.index(key) if key in idents else None
            if pos is None:
                raise TypeError(f"unknown input {key!r}")
            values.extend([None] * (pos + 1 - len(values)))
            if values[pos] is not None:
                raise TypeError(f"input {key!r} given twice")
            values[pos] = torch.as_tensor(value) if isinstance(value, np.ndarray) else value
        if any(v is None for v in values):
            raise TypeError("missing inputs")
        return values

    def in_dims(self, values: Sequence[Any]) -> tuple[int | None, ...]:
        """0 for each batched input, None for shared ones."""
        dims: list[int | None] = []
        for k, value in enumerate(values):
            name = self.input_names[k] if k < len(self.input_names) else f"#{k}"
            if not isinstance(value, torch.Tensor):
                dims.append(None)
            elif self.batch_inputs is not None:
                dims.append(0 if name in self.batch_inputs else None)
            else:
                rank = self.input_ranks.get(name)
                if rank is None:
                    raise ValueError(f"rank of input {name!r} unknown: pass batch_inputs")
                if value.dim() not in (rank, rank + 1):
                    raise ValueError(f"input {name!r} has rank {value.dim()}, expected {rank} or {rank + 1}")
                dims.append(0 if value.dim() == rank + 1 else None)
        return tuple(dims)

    def loop(self, values: Sequence[Any], dims: Sequence[int | None]) -> Any:
        """Run example by example and stack the results."""
        sizes = {v.shape[0] for v, d in zip(values, dims) if d == 0}
        if len(sizes) != 1:
            raise ValueError(f"batched inputs disagree on the batch size: {sorted(sizes)}")
        n = sizes.pop()
        return _stack([self.module(*(v[i] if d == 0 else v for v, d in zip(values, dims))) for i in range(n)])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        values = self._bind(args, kwargs)
        dims = self.in_dims(values)
        if all(d is None for d in dims):
            return self.module(*values)
        if not self.use_vmap:
            return self.loop(values, dims)
        try:
            return torch.func.vmap(self.module, in_dims=dims, randomness="different")(*values)
        except Exception as exc:
            result = self.loop(values, dims)
            self.use_vmap = False
            warnings.warn(f"vmap failed ({type(exc).__name__}: {exc}); looping over the batch", stacklevel=2)
            return result


def batched(module: nn.Module, batch_inputs: Iterable[str] | None = None) -> BatchedModule:
    """Run a per-example model on batches: inputs with a leading batch axis are mapped.

    ``batch_inputs`` names the batched inputs; when None, an input is batched if its rank
    is one more than the ONNX model declares. Uses ``torch.func.vmap``; when vmap raises,
    it falls back (for good) to a per-example loop. Gradients flow either way.
    """
    return BatchedModule(module, batch_inputs)


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
    from agrippa.weights import save_weights

    path = Path(proj_dir) / weights_fname
    save_weights(path, torch_weights(model))
    return path

