"""Graph rewrites for the batched path (batching.py): recognisable patterns run as the torch
calls one would write by hand. Each fused op computes the same function as the ops it
replaces (float32 results differ only by summation order, ~1e-7 relative):

- Identity nodes become aliases (so that q/k/v projections of one tensor fuse);
- a written-out layer norm (ReduceMean, Sub, Mul, ReduceMean, Add eps, Sqrt, Div, Mul gain,
  Add bias) becomes `F.layer_norm`;
- a MaxPool of a Relu runs as the Relu of the MaxPool (max commutes with a monotone
  function: the same values, and the gradient reaches the same window element), on a
  quarter of the elements for 2×2 pooling; inductor also vectorises pooling well only
  when the Relu is not inlined into its windows;
- the heads of a multi-head attention (per head: MatMul q/k/v by 2-D weights, Transpose of
  k, MatMul, Div or Mul by a constant, optional Add of a mask, Softmax, MatMul by v; the
  heads concatenated on the last axis) become one projection per side and
  `F.scaled_dot_product_attention`.

A pattern fuses only when its intermediate tensors feed nothing else, its constants are
frozen (buffers or constants, so their values are fixed) and its weights are 2-D/1-D.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import torch
import torch.nn.functional as F

Value = tuple[torch.Tensor, bool]


# Under torch.compile, attention with at most this many scores per head is spelled out:
# inductor fuses the scaling, mask and softmax around two batched products, faster on CPU
# for short sequences than its call of the flash kernel (and than that kernel eagerly).
MATH_ATTENTION_MAX = 128 * 128


def _lift(x: torch.Tensor, rank: int, to: int) -> torch.Tensor:
    return x.reshape(x.shape[0], *([1] * (to - rank)), *x.shape[1:]) if to > rank else x


class _LayerNorm:
    def __init__(self, x: str, gain: str, bias: str, eps: float, out: str) -> None:
        self.op, self.eps = "FusedLayerNorm", eps
        self.inputs, self.outputs = [x, gain, bias], [out]

    def __call__(self, vals: list[Value | None]) -> list[Value]:
        (x, bx), (g, _), (b, _) = vals  # type: ignore[misc]
        if g.dim() != 1 or x.shape[-1] != g.shape[0]:  # broadcasting gain: spelled out
            c = x - x.mean(-1, keepdim=True)
            return [(c / torch.sqrt((c * c).mean(-1, keepdim=True) + self.eps) * g + b, bx)]
        return [(F.layer_norm(x, g.shape, g, b, self.eps), bx)]


class _Attention:
    """All heads of one multi-head attention, concatenated on the last axis."""

    def __init__(self, xq: str, xkv: str, mask: str | None, mask_rank: int, ws: list[str],
                 heads: int, scale: float, out: str) -> None:
        self.op, self.heads, self.scale, self.mask_rank = "FusedAttention", heads, scale, mask_rank
        self.self_attention = xq == xkv
        self.inputs, self.outputs = [xq, xkv, mask or "", *ws], [out]

    def __call__(self, vals: list[Value | None]) -> list[Value]:
        (xq, bq), (xkv, bkv) = vals[0], vals[1]  # type: ignore[misc]
        mv, h = vals[2], self.heads
        w = [v[0] for v in vals[3:]]  # type: ignore[index]
        dk, dv = w[0].shape[1], w[2 * h].shape[1]  # one concatenation per product (one copy)
        if self.self_attention:
            q, k, v = (xq @ torch.cat(w, 1)).split([h * dk, h * dk, h * dv], -1)
        else:
            q = xq @ torch.cat(w[:h], 1)
            k, v = (xkv @ torch.cat(w[h:], 1)).split([h * dk, h * dv], -1)
        mask, bm = (None, False) if mv is None else mv
        batched = bq or bkv or bm
        if batched:
            n = next(t.shape[0] for t, f in ((xq, bq), (xkv, bkv), (mask, bm)) if f)
            q = q if bq else q.expand(n, *q.shape)
            k, v = (k, v) if bkv else (k.expand(n, *k.shape), v.expand(n, *v.shape))
            if mask is not None and bm:
                mask = _lift(mask, self.mask_rank, 2).unsqueeze(1)
        q = q.unflatten(-1, (h, dk)).transpose(-2, -3)
        k = k.unflatten(-1, (h, dk)).transpose(-2, -3)
        v = v.unflatten(-1, (h, dv)).transpose(-2, -3)
        trainable_mask = mask is not None and mask.requires_grad
        if trainable_mask or (q.shape[-2] * k.shape[-2] <= MATH_ATTENTION_MAX and torch.compiler.is_compiling()):
            scores = q @ k.transpose(-1, -2) * self.scale
            att = torch.softmax(scores if mask is None else scores + mask, -1) @ v
        else:
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.scale)
        return [(att.transpose(-2, -3).flatten(-2), batched)]


def alias_identities(ops: list[Any], outputs: list[str]) -> tuple[list[Any], list[str]]:
    """Drop Identity ops; their outputs become names of their inputs."""
    alias: dict[str, str] = {}
    kept = []
    for op in ops:
        op.inputs = [alias.get(n, n) for n in op.inputs]
        if op.op == "Identity" and op.inputs and op.inputs[0] and len(op.outputs) == 1:
            alias[op.outputs[0]] = op.inputs[0]
            continue
        kept.append(op)
    return kept, [alias.get(n, n) for n in outputs]


def pool_before_relu(ops: list[Any], outputs: list[str]) -> list[Any]:
    """Reorder Relu → MaxPool (the Relu's output feeding only the pool, the pool without an
    Indices output) into MaxPool → Relu."""
    uses = Counter(n for op in ops for n in op.inputs if n)
    uses.update(outputs)
    producer = {o: op for op in ops for o in op.outputs if o}
    order = {id(op): k for k, op in enumerate(ops)}
    moved: dict[int, Any] = {}
    for pool in ops:
        if pool.op != "MaxPool" or len([o for o in pool.outputs if o]) != 1 or not pool.inputs:
            continue
        relu = producer.get(pool.inputs[0])
        if relu is None or relu.op != "Relu" or uses[relu.outputs[0]] != 1 or id(relu) in moved:
            continue
        mid, out = relu.outputs[0], pool.outputs[0]
        pool.inputs = [relu.inputs[0], *pool.inputs[1:]]
        pool.outputs = [mid, *pool.outputs[1:]]
        relu.inputs, relu.outputs = [mid], [out]
        moved[id(relu)] = pool
    if not moved:
        return ops
    kept = [op for op in ops if id(op) not in moved]
    for relu_id, pool in moved.items():  # the Relu now runs right after its pool
        relu = ops[order[relu_id]]
        kept.insert(kept.index(pool) + 1, relu)
    return kept


def fuse(ops: list[Any], outputs: list[str], weights: dict[str, tuple[int, ...]],
         frozen: dict[str, float]) -> list[Any]:
    """`ops` with layer norms and attention heads fused. `weights`: trainable parameters'
    shapes; `frozen`: the values of scalar constants."""
    producer = {o: op for op in ops for o in op.outputs if o}
    uses = Counter(n for op in ops for n in op.inputs if n)
    uses.update(outputs)
    replaced: dict[int, Any] = {}
    dropped: set[int] = set()

    def prod(name: str, kind: str) -> Any:
        op = producer.get(name)
        return op if op is not None and op.op == kind and id(op) not in dropped else None

    def single(*names: str) -> bool:
        return all(uses[n] == 1 for n in names)

    def last_axis(op: Any) -> bool:
        axes = op.attrs.get("axes")
        return (axes is not None and len(axes) == 1 and axes[0] in (-1, op.in_ranks[0] - 1)
                and op.attrs.get("keepdims", 1) == 1)

    for op in ops:  # layer norms, found from their last Add
        if op.op != "Add" or id(op) in dropped:
            continue
        for gi in (0, 1):
            g = prod(op.inputs[gi], "Mul")
            bias = op.inputs[1 - gi]
            if g is None or len(weights.get(bias, ())) != 1:
                continue
            for ni in (0, 1):
                nrm, gain = prod(g.inputs[ni], "Div"), g.inputs[1 - ni]
                if nrm is None or weights.get(gain) != weights[bias]:
                    continue
                std = prod(nrm.inputs[1], "Sqrt")
                ve = std and prod(std.inputs[0], "Add")
                eps_name = ve and next((n for n in ve.inputs if n in frozen), None)
                var = ve and eps_name and prod(next(n for n in ve.inputs if n != eps_name), "ReduceMean")
                sq = var and prod(var.inputs[0], "Mul")
                c = nrm.inputs[0]
                sub = prod(c, "Sub")
                mean = sub and prod(sub.inputs[1], "ReduceMean")
                if not (sq and sq.inputs == [c, c] and mean and mean.inputs[0] == sub.inputs[0]
                        and last_axis(var) and last_axis(mean) and uses[c] == 3
                        and single(g.outputs[0], nrm.outputs[0], std.outputs[0], ve.outputs[0],
                                   var.outputs[0], sq.outputs[0], mean.outputs[0])):
                    continue
                group = [mean, sub, sq, var, ve, std, nrm, g]
                dropped.update(id(x) for x in group)
                replaced[id(op)] = _LayerNorm(sub.inputs[0], gain, bias, frozen[eps_name], op.outputs[0])
                break
            if id(op) in replaced:
                break

    for op in ops:  # attention: from the Concat of the heads
        if op.op != "Concat" or op.in_ranks[0] != 2 or op.attrs.get("axis") not in (-1, 1):
            continue
        heads = [_head(n, prod, single, weights, frozen) for n in op.inputs]
        if not heads or any(h is None for h in heads):
            continue
        keys = {h["key"] for h in heads}  # type: ignore[index]
        widths = {(weights[h["wq"]], weights[h["wv"]]) for h in heads}  # type: ignore[index]
        if len(keys) != 1 or len(widths) != 1:
            continue
        xq, xkv, mask, mask_rank, scale = heads[0]["key"]  # type: ignore[index]
        for h in heads:
            dropped.update(id(x) for x in h["ops"])  # type: ignore[index]
        ws = [h[k] for k in ("wq", "wk", "wv") for h in heads]  # type: ignore[index]
        replaced[id(op)] = _Attention(xq, xkv, mask, mask_rank, ws, len(heads), scale, op.outputs[0])
    return [replaced.get(id(op), op) for op in ops if id(op) not in dropped]


def _head(name: str, prod: Any, single: Any, weights: dict[str, tuple[int, ...]],
          frozen: dict[str, float]) -> dict[str, Any] | None:
    """The pattern of one attention head ending in `name`, or None."""
    pv = prod(name, "MatMul")
    p = pv and prod(pv.inputs[0], "Softmax")
    vm = pv and prod(pv.inputs[1], "MatMul")
    if not (p and vm and p.attrs.get("axis", -1) in (-1, 1) and single(name, p.outputs[0], vm.outputs[0])):
        return None
    src = p.inputs[0]
    mask, mask_rank, add = None, 0, prod(src, "Add")
    if add is not None:
        for i in (0, 1):
            if prod(add.inputs[i], "Div") or prod(add.inputs[i], "Mul"):
                src, mask, mask_rank = add.inputs[i], add.inputs[1 - i], add.in_ranks[1 - i]
                break
        else:
            return None
        if not single(add.outputs[0]) or mask_rank > 2:
            return None
    sc = prod(src, "Div") or prod(src, "Mul")
    if sc is None or sc.inputs[1] not in frozen or not single(sc.outputs[0]):
        return None
    c = frozen[sc.inputs[1]]
    if c == 0:
        return None
    scale = 1.0 / c if sc.op == "Div" else c
    s = prod(sc.inputs[0], "MatMul")
    kt = s and prod(s.inputs[1], "Transpose")
    qm = s and prod(s.inputs[0], "MatMul")
    km = kt and prod(kt.inputs[0], "MatMul")
    if not (qm and km and list(kt.attrs.get("perm", [1, 0])) == [1, 0]
            and single(s.outputs[0], kt.outputs[0], qm.outputs[0], km.outputs[0])):
        return None
    if km.inputs[0] != vm.inputs[0] or any(m.in_ranks[0] != 2 for m in (qm, km, vm)):
        return None
    wq, wk, wv = qm.inputs[1], km.inputs[1], vm.inputs[1]
    if not all(len(weights.get(w, ())) == 2 for w in (wq, wk, wv)) or weights[wq] != weights[wk]:
        return None
    ops = [qm, km, vm, kt, s, sc, p, pv] + ([add] if add is not None else [])
    key = (qm.inputs[0], km.inputs[0], mask, mask_rank, scale)
    return {"key": key, "ops": ops, "wq": wq, "wk": wk, "wv": wv}
