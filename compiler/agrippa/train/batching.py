"""A batched execution path: the ONNX graph run op by op on whole batches, without vmap.

An Agrippa model describes one example. `torch.func.vmap` maps it over a batch, at a cost
per op (its batching rules run in Python). Here each op instead gets a batched
implementation from its ONNX attributes and the per-example rank of every tensor (from
ONNX shape inference): a batched tensor carries a leading batch axis, axes attributes
shift by one, broadcasting operands get singleton axes so that the batch axis lines up,
and N×C×H×W ops (Conv, pooling) fold the batch into N. Tensors that do not depend on a
batched input stay unbatched. The initializers are those of the `onnx_to_torch` module,
so parameters, state_dict and optimizers are shared with it.

A graph with an op not covered here gets None (callers use vmap); a call that the rules
cannot handle (say, batched LayerNormalization weights) falls back to vmap for good.
A first call is checked against vmap.
"""
from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper, shape_inference
from torch import nn

from agrippa.train.fast_ops import fast_ops

Value = tuple[torch.Tensor, bool]  # (tensor, has a leading batch axis)


class NotBatchable(Exception):
    """This call needs vmap."""


_BINARY: dict[str, Callable[..., torch.Tensor]] = {
    "Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Pow": torch.pow,
    "Equal": torch.eq, "Less": torch.lt, "Greater": torch.gt, "LessOrEqual": torch.le,
    "GreaterOrEqual": torch.ge, "And": torch.logical_and, "Or": torch.logical_or,
    "Max": torch.maximum, "Min": torch.minimum, "Sum": torch.add, "Where": torch.where,
}
_UNARY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "Relu": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Sqrt": torch.sqrt,
    "Exp": torch.exp, "Log": torch.log, "Neg": torch.neg, "Abs": torch.abs, "Erf": torch.erf,
    "Reciprocal": torch.reciprocal, "Floor": torch.floor, "Ceil": torch.ceil, "Sin": torch.sin,
    "Cos": torch.cos, "Identity": lambda x: x, "Softplus": F.softplus, "Not": torch.logical_not,
    "Sign": torch.sign, "Round": torch.round,
}
_REDUCE = {"ReduceMean": torch.mean, "ReduceSum": torch.sum, "ReduceMax": torch.amax,
           "ReduceMin": torch.amin, "ReduceProd": None}
_NCHW = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
         "BatchNormalization", "InstanceNormalization", "LRN")


def _lift(x: torch.Tensor, rank: int, to: int) -> torch.Tensor:
    """A batched tensor of per-example rank `rank` viewed with `to - rank` singleton axes after the batch."""
    if to <= rank:
        return x
    return x.reshape(x.shape[0], *([1] * (to - rank)), *x.shape[1:])


def _axis(a: int, rank: int) -> int:
    return a + rank if a < 0 else a


class _Op:
    """One ONNX node with its batched implementation."""

    def __init__(self, node: onnx.NodeProto, ranks: dict[str, int], consts: dict[str, Any],
                 submodule: nn.Module | None) -> None:
        self.node, self.op = node, node.op_type
        self.inputs, self.outputs = list(node.input), list(node.output)
        self.attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        self.in_ranks = [ranks.get(n, -1) for n in self.inputs]
        self.out_ranks = [ranks[n] for n in self.outputs if n]
        self.consts, self.sub = consts, submodule

    def const(self, k: int) -> list[int] | None:
        if k >= len(self.inputs) or not self.inputs[k]:
            return None
        name = self.inputs[k]
        if name not in self.consts:
            raise NotBatchable(f"{self.op} reads a computed {name!r}")
        return [int(v) for v in self.consts[name].reshape(-1).tolist()]

    def __call__(self, vals: list[Value | None]) -> list[Value]:
        flags = [v is not None and v[1] for v in vals]
        xs = [None if v is None else v[0] for v in vals]
        if not any(flags):  # nothing batched: plain per-example semantics
            return [(t, False) for t in self.run(xs, [False] * len(xs), batched=False)]
        return [(t, True) for t in self.run(xs, flags, batched=True)]

    def run(self, xs: list[Any], b: list[bool], batched: bool) -> list[torch.Tensor]:
        op, a, off = self.op, self.attrs, int(batched)
        r = self.in_ranks
        if op in _UNARY:
            return [_UNARY[op](xs[0])]
        if op in _BINARY or op == "Div":
            out = self.out_ranks[0]
            args = [_lift(x, r[k], out) if b[k] else x for k, x in enumerate(xs)]
            if op == "Div":
                fn = torch.div if args[0].is_floating_point() else (lambda p, q: torch.div(p, q, rounding_mode="trunc"))
                return [fn(*args)]
            if op in ("Sum", "Max", "Min") and len(args) > 2:
                acc = args[0]
                for t in args[1:]:
                    acc = _BINARY[op](acc, t)
                return [acc]
            return [_BINARY[op](*args)]
        if op == "MatMul":
            return [self.matmul(xs[0], xs[1], b[0], b[1])]
        if op in ("Softmax", "LogSoftmax"):
            dim = _axis(a.get("axis", -1), r[0]) - r[0]
            return [(torch.softmax if op == "Softmax" else torch.log_softmax)(xs[0], dim)]
        if op == "LeakyRelu":
            return [F.leaky_relu(xs[0], a.get("alpha", 0.01))]
        if op == "Elu":
            return [F.elu(xs[0], a.get("alpha", 1.0))]
        if op == "Gelu":
            return [F.gelu(xs[0], approximate="tanh" if a.get("approximate", b"none") in (b"tanh", "tanh") else "none")]
        if op == "Transpose":
            perm = list(a.get("perm", range(r[0] - 1, -1, -1)))
            return [xs[0].permute(*([0] * off + [p + off for p in perm]))]
        if op == "Concat":
            n = max(x.shape[0] for x, f in zip(xs, b) if f) if batched else 0
            parts = [x if f or not batched else x.expand(n, *x.shape) for x, f in zip(xs, b)]
            return [torch.cat(parts, _axis(a["axis"], r[0]) + off)]
        if op in _REDUCE and op != "ReduceProd":
            axes = a.get("axes")
            if axes is None and len(self.inputs) > 1:
                axes = self.const(1)
            if not axes:
                if a.get("noop_with_empty_axes", 0):
                    return [xs[0]]
                axes = list(range(r[0]))
            dims = [_axis(x, r[0]) + off for x in axes]
            return [_REDUCE[op](xs[0], dim=dims, keepdim=bool(a.get("keepdims", 1)))]
        if op == "LayerNormalization":
            if any(b[1:]):
                raise NotBatchable("batched LayerNormalization scale")
            ax = _axis(a.get("axis", -1), r[0])
            shape = xs[0].shape[ax + off:]
            return [F.layer_norm(xs[0], shape, xs[1], xs[2] if len(xs) > 2 else None, a.get("epsilon", 1e-5))]
        if op == "Gemm":
            x, y = xs[0], xs[1]
            if a.get("transA", 0):
                x = x.transpose(-1, -2)
            if a.get("transB", 0):
                y = y.transpose(-1, -2)
            out = self.matmul(x, y, b[0], b[1]) * a.get("alpha", 1.0)
            if len(xs) > 2 and xs[2] is not None:
                c = _lift(xs[2], r[2], 2) if b[2] else xs[2]
                out = out + a.get("beta", 1.0) * c
            return [out]
        if op == "Reshape":
            shape = self.const(1)
            x = xs[0]
            inner = x.shape[off:]
            shape = [inner[k] if s == 0 and not a.get("allowzero", 0) else s for k, s in enumerate(shape)]
            return [x.reshape(*([x.shape[0]] * off), *shape)]
        if op == "Flatten":
            ax = _axis(a.get("axis", 1), r[0])
            x = xs[0]
            lead = math.prod(x.shape[off:off + ax])
            return [x.reshape(*([x.shape[0]] * off), lead, -1)]
        if op in ("Unsqueeze", "Squeeze"):
            axes = a.get("axes") or self.const(1)
            x = xs[0]
            if op == "Unsqueeze":
                for ax in sorted(_axis(v, self.out_ranks[0]) for v in axes):
                    x = x.unsqueeze(ax + off)
                return [x]
            axes = axes if axes is not None else [k for k, s in enumerate(x.shape[off:]) if s == 1]
            return [x.squeeze(tuple(_axis(v, r[0]) + off for v in axes))]
        if op == "Gather":
            return [self.gather(xs[0], xs[1], b[0], b[1])]
        if op == "Cast":
            dtype = torch.from_numpy(numpy_helper.to_array(helper.make_tensor("t", a["to"], [0], []))).dtype
            return [xs[0].to(dtype)]
        if op == "Dropout":
            return [xs[0], torch.ones_like(xs[0], dtype=torch.bool)][:len(self.outputs)]
        if op == "Clip":
            lo = xs[1] if len(xs) > 1 else None
            hi = xs[2] if len(xs) > 2 else None
            return [torch.clamp(xs[0], lo, hi)]
        if op in _NCHW and self.sub is not None:
            if any(b[1:]):
                raise NotBatchable(f"batched {op} weights")
            x = xs[0]
            if not batched:
                return [self.sub(*xs)]
            n = x.shape[0]
            y = self.sub(x.reshape(-1, *x.shape[2:]), *xs[1:])
            return [y.reshape(n, -1, *y.shape[1:])]
        raise NotBatchable(f"no batched rule for {op}")

    def matmul(self, x: torch.Tensor, y: torch.Tensor, bx: bool, by: bool) -> torch.Tensor:
        rx, ry = self.in_ranks[0], self.in_ranks[1]
        if not (bx or by):
            return torch.matmul(x, y)
        vx, vy = rx == 1, ry == 1
        if vx:
            x = x.unsqueeze(-2)
            rx = 2
        if vy:
            y = y.unsqueeze(-1)
            ry = 2
        top = max(rx, ry)
        if bx:
            x = _lift(x, rx, top)
        if by:
            y = _lift(y, ry, top)
        out = torch.matmul(x, y)
        if vx:
            out = out.squeeze(-2)
        if vy:
            out = out.squeeze(-1)
        return out

    def gather(self, data: torch.Tensor, idx: torch.Tensor, bd: bool, bi: bool) -> torch.Tensor:
        rd = self.in_ranks[0]
        ax = _axis(self.attrs.get("axis", 0), rd)
        idx = torch.where(idx < 0, idx + data.shape[ax + int(bd)], idx).long()
        if bd and bi:
            raise NotBatchable("Gather with batched data and indices")
        if bi:
            out = data.index_select(ax, idx.reshape(-1)).reshape(*data.shape[:ax], *idx.shape, *data.shape[ax + 1:])
            return out.movedim(ax, 0)
        out = data.index_select(ax + 1, idx.reshape(-1))
        return out.reshape(data.shape[0], *data.shape[1:ax + 1], *idx.shape, *data.shape[ax + 2:])


class _FusedMatMul:
    """Parallel MatMuls of one input by 2-D weights (attention heads' projections): one
    product with the weights side by side, split back into the members' outputs."""

    def __init__(self, members: list[_Op], widths: list[int]) -> None:
        self.members, self.widths = members, widths
        self.inputs = [members[0].inputs[0], *(m.inputs[1] for m in members)]
        self.outputs = [m.outputs[0] for m in members]

    def __call__(self, vals: list[Value | None]) -> list[Value]:
        x, is_batched = vals[0]  # type: ignore[misc]
        w = torch.cat([v[0] for v in vals[1:]], 1)  # type: ignore[index]
        return [(y, is_batched) for y in torch.matmul(x, w).split(self.widths, -1)]


def _fuse_matmuls(ops: list[Any], weights: dict[str, tuple[int, ...]]) -> list[Any]:
    """Replace groups of MatMuls that share their left input and multiply it by a 2-D weight."""
    groups: dict[str, list[_Op]] = {}
    for op in ops:
        if (isinstance(op, _Op) and op.op == "MatMul" and op.inputs[1] in weights
                and len(weights[op.inputs[1]]) == 2 and op.in_ranks[0] >= 1):
            groups.setdefault(op.inputs[0], []).append(op)
    fused: dict[int, _FusedMatMul] = {}
    dropped: set[int] = set()
    for members in groups.values():
        rows = {weights[m.inputs[1]][0] for m in members}
        if len(members) < 2 or len(rows) != 1:
            continue
        fused[id(members[0])] = _FusedMatMul(members, [weights[m.inputs[1]][1] for m in members])
        dropped.update(id(m) for m in members[1:])
    return [fused.get(id(op), op) for op in ops if id(op) not in dropped]


class NativeBatched(nn.Module):
    """Runs an `onnx_to_torch` module's graph on batches (see the module doc)."""

    def __init__(self, module: nn.Module, ops: list[Any], inputs: list[str], ranks: dict[str, int],
                 outputs: list[str], consts: dict[str, torch.Tensor]) -> None:
        super().__init__()
        from agrippa.backend.torch_bridge import BatchedModule

        self.module = module
        self.ops = ops
        self.input_names, self.ranks, self.output_names = inputs, ranks, outputs
        self.fallback = BatchedModule(module)
        for k, value in enumerate(consts.values()):
            self.register_buffer(f"_const{k}", value, persistent=False)
        self.const_names = list(consts)
        self.use_vmap = False
        self.checked = False

    def _values(self) -> dict[str, Value]:
        env: dict[str, Value] = {}
        inits = self.module.initializers
        for name, p in inits.named_parameters(recurse=False):
            env[name] = (p, False)
        for name, buf in inits.named_buffers(recurse=False):
            env[name] = (buf, False)
        for k, name in enumerate(self.const_names):
            env[name] = (getattr(self, f"_const{k}"), False)
        return env

    def run(self, args: Sequence[torch.Tensor]) -> Any:
        env = self._values()
        sizes = set()
        for name, x in zip(self.input_names, args):
            x = torch.as_tensor(x)
            rank = self.ranks[name]
            if x.dim() not in (rank, rank + 1):
                raise ValueError(f"input {name!r} has rank {x.dim()}, expected {rank} or {rank + 1}")
            env[name] = (x, x.dim() == rank + 1)
            if x.dim() == rank + 1:
                sizes.add(x.shape[0])
        if len(sizes) > 1:
            raise ValueError(f"batched inputs disagree on the batch size: {sorted(sizes)}")
        for op in self.ops:
            results = op([env.get(n) if n else None for n in op.inputs])
            for name, value in zip(op.outputs, results):
                if name:
                    env[name] = value
        outs = []
        for name in self.output_names:
            t, is_batched = env[name]
            outs.append(t.expand(next(iter(sizes)), *t.shape) if sizes and not is_batched else t)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def forward(self, *args: Any) -> Any:
        if self.use_vmap:
            return self.fallback(*args)
        try:
            if not self.checked:
                self.checked = True
                if not self._agrees_with_vmap(args):
                    warnings.warn("batched path disagrees with vmap; using vmap", stacklevel=2)
                    self.use_vmap = True
                    return self.fallback(*args)
            return self.run(args)
        except NotBatchable as e:
            warnings.warn(f"batched path unavailable ({e}); using vmap", stacklevel=2)
            self.use_vmap = True
            return self.fallback(*args)

    def _agrees_with_vmap(self, args: Sequence[Any]) -> bool:
        """The first call's check, in full precision (outside any autocast region)."""
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), "cpu")
        with torch.no_grad(), torch.autocast(device, enabled=False):
            out, ref = self.run(args), self.fallback(*args)
        pairs = zip(out, ref) if isinstance(out, tuple) else [(out, ref)]
        return all(o.shape == r.shape and torch.allclose(o, r, rtol=1e-4, atol=1e-5, equal_nan=True)
                   for o, r in pairs)


def native_batched(module: nn.Module, proto: onnx.ModelProto) -> NativeBatched | None:
    """The batched path for `module` (from `onnx_to_torch(proto)`), or None if an op lacks a rule."""
    try:
        inferred = shape_inference.infer_shapes(proto)
    except Exception:
        return None
    graph = inferred.graph
    ranks: dict[str, int] = {}
    for vi in [*graph.input, *graph.value_info, *graph.output]:
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            ranks[vi.name] = len(tt.shape.dim)
    consts: dict[str, torch.Tensor] = {}
    held = set(dict(module.initializers.named_parameters(recurse=False))) | set(
        dict(module.initializers.named_buffers(recurse=False)))
    for init in graph.initializer:
        ranks[init.name] = len(init.dims)
        if init.name not in held:
            consts[init.name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    const_values = {i.name: numpy_helper.to_array(i) for i in graph.initializer
                    if i.data_type == onnx.TensorProto.INT64}
    ops = []
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            return None
        known = (node.op_type in _UNARY or node.op_type in _BINARY or node.op_type in _REDUCE
                 or node.op_type in _NCHW or node.op_type in (
                     "Div", "MatMul", "Softmax", "LogSoftmax", "LeakyRelu", "Elu", "Gelu", "Transpose",
                     "Concat", "LayerNormalization", "Gemm", "Reshape", "Flatten", "Unsqueeze", "Squeeze",
                     "Gather", "Cast", "Dropout", "Clip"))
        if not known or node.op_type == "ReduceProd":
            return None
        if any(o and o not in ranks for o in node.output) or any(i and i not in ranks for i in node.input):
            return None
        sub = None
        if node.op_type in _NCHW:
            try:
                sub = module.get_submodule(node.name)
            except AttributeError:
                return None
        ops.append(_Op(node, ranks, const_values, sub))
    trainable = {k: tuple(v.shape) for k, v in module.initializers.named_parameters(recurse=False)}
    outputs = [o.name for o in graph.output]
    if not os.environ.get("AGRIPPA_NO_FUSION"):
        from agrippa.train.fusion import alias_identities, fuse, pool_before_relu

        ops, outputs = alias_identities(ops, outputs)
        frozen = {k: float(v.reshape(-1)[0]) for k, v in
                  [*module.initializers.named_buffers(recurse=False), *consts.items()]
                  if v.numel() == 1 and v.is_floating_point()}
        ops = pool_before_relu(fuse(ops, outputs, trainable, frozen), outputs)
    ops = fast_ops(_fuse_matmuls(ops, trainable), graph)
    inputs = [i.name for i in proto.graph.input if i.name not in {x.name for x in graph.initializer}]
    return NativeBatched(module, ops, inputs, ranks, outputs, consts)
