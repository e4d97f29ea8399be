"""Shape-tracked ops for the generator: each emitter picks operands from the pool of tensors in
scope (shape and element type known), writes one `<node>` and adds its outputs to the pool.
Emitters return False when nothing in the pool fits; they aim at valid nodes."""
from __future__ import annotations

import math
import random

from .builder import FLOATS, Builder, T, bcast, broadcastable_to, floaty  # noqa: F401

# -- the emitters ------------------------------------------------------------------------------------
UNARY = ["Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Softplus", "Erf", "Sqrt", "Ceil", "Floor",
         "Sin", "Cos", "Softsign", "Identity", "Selu", "Reciprocal", "Round", "Sign"]
UNARY_ATTR = {"LeakyRelu": {"alpha": "0.2"}, "Elu": {"alpha": "0.7"}, "HardSigmoid": {"alpha": "0.3"},
              "ThresholdedRelu": {"alpha": "0.4"}, "Celu": {"alpha": "0.9"}}


def e_unary(b: Builder) -> bool:
    x = b.pick(floaty)
    if x is None:
        return False
    op = b.rng.choice(UNARY + list(UNARY_ATTR))
    if op == "Celu" and x.dtype != "float32":
        op = "Relu"
    b.node(op, [x], [b.out(x.shape, x.dtype)], **UNARY_ATTR.get(op, {}))
    return True


def e_axis_op(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1)
    if x is None:
        return False
    op = b.rng.choice(["Softmax", "LogSoftmax", "Hardmax", "Softmax"])
    r = len(x.shape)
    axis = b.rng.randint(-r, r - 1)
    b.node(op, [x], [b.out(x.shape, x.dtype)], axis=b.num(axis) if axis >= 0 else axis)
    return True


def e_clip(b: Builder) -> bool:
    x = b.pick(floaty)
    if x is None:
        return False
    attrs = {"min": "-0.5"} if b.rng.random() < 0.5 else {"min": "-1", "max": "0.75"}
    b.node("Clip", [x], [b.out(x.shape, x.dtype)], **attrs)
    return True


def e_binary(b: Builder) -> bool:
    x = b.pick(lambda t: t.dtype != "bool")
    if x is None:
        return False
    op = b.rng.choice(["Add", "Sub", "Mul", "Div", "Add", "Mul", "Max", "Min", "Pow", "PRelu", "Sum", "Mean"])
    if op in ("Pow", "PRelu", "Mean", "Div") and not floaty(x):
        op = "Add"
    other = b.pick(lambda t: t is not x and t.dtype == x.dtype and bcast(t.shape, x.shape) is not None)
    if op == "PRelu":  # the slope broadcasts to x one way only
        slope = b.param(broadcastable_to(b.rng, x.shape), x.dtype)
        b.node(op, [x, slope], [b.out(x.shape, x.dtype)])
        return True
    if other is not None and b.rng.random() < 0.5:
        ins = [x, other] if b.rng.random() < 0.5 else [other, x]
        b.node(op, ins, [b.out(bcast(x.shape, other.shape), x.dtype)])
        return True
    p = b.param(broadcastable_to(b.rng, x.shape), x.dtype, "ones" if op in ("Div", "Pow") else None)
    ins = [x, p] if b.rng.random() < 0.7 or op == "Pow" else [p, x]
    b.node(op, ins, [b.out(x.shape, x.dtype)])
    return True


def e_matmul(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1)
    if x is None:
        return False
    k = b.rng.choice([2, 3, 4])
    n = x.shape[-1]
    if len(x.shape) >= 2 and b.rng.random() < 0.2:  # a batched weight, broadcast over x's batch
        w = (x.shape[-3] if len(x.shape) >= 3 else 1, n, k)
        shape = bcast(x.shape[:-2], w[:-2]) + (x.shape[-2], k)
    else:
        w = (n, k)
        shape = x.shape[:-1] + (k,)
    b.node("MatMul", [x, b.param(w, x.dtype)], [b.out(shape, x.dtype)])
    return True


def e_gemm(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) == 2)
    if x is None:
        return False
    m, n = x.shape
    k = b.rng.choice([2, 3])
    tb = b.rng.random() < 0.5
    c = b.rng.choice([(k,), (m, k), (1,), (1, k)])
    b.node("Gemm", [x, b.param((k, n) if tb else (n, k), x.dtype), b.param(c, x.dtype)],
           [b.out((m, k), x.dtype)], transB=1 if tb else None, alpha=b.rng.choice([None, "0.5"]))
    return True


def e_transpose(b: Builder) -> bool:
    x = b.pick(lambda t: len(t.shape) >= 2)
    if x is None:
        return False
    r = len(x.shape)
    perm = list(range(r))
    if b.rng.random() < 0.3:
        perm.reverse()
        b.node("Transpose", [x], [b.out(tuple(x.shape[p] for p in perm), x.dtype, x.small)])
        return True
    b.rng.shuffle(perm)
    b.node("Transpose", [x], [b.out(tuple(x.shape[p] for p in perm), x.dtype, x.small)],
           perm="[" + ", ".join(b.num(p) for p in perm) + "]")
    return True


def _factor(rng: random.Random, n: int, parts: int) -> list[int]:
    out = []
    for _ in range(parts - 1):
        divs = [d for d in range(1, n + 1) if n % d == 0 and d <= 6]
        d = rng.choice(divs)
        out.append(d)
        n //= d
    return out + [n]


def e_reshape(b: Builder) -> bool:
    x = b.pick(lambda t: math.prod(t.shape) <= 96)
    if x is None:
        return False
    n = math.prod(x.shape)
    shape = _factor(b.rng, n, b.rng.randint(1, 4))
    written = list(shape)
    if b.rng.random() < 0.4:
        written[b.rng.randrange(len(written))] = -1
    elif b.rng.random() < 0.3 and len(x.shape) == len(shape) and x.shape[0] == shape[0]:
        written[0] = 0
    b.node("Reshape", [x], [b.out(tuple(shape), x.dtype, x.small)],
           shape="[" + ", ".join(str(d) if d < 0 else b.num(d) for d in written) + "]")
    return True


def e_flatten(b: Builder) -> bool:
    x = b.pick(lambda t: len(t.shape) >= 1)
    if x is None:
        return False
    r = len(x.shape)
    axis = b.rng.randint(0, r)
    b.node("Flatten", [x], [b.out((math.prod(x.shape[:axis]), math.prod(x.shape[axis:])), x.dtype, x.small)],
           axis=axis)
    return True


def e_unsqueeze(b: Builder) -> bool:
    x = b.pick(lambda t: len(t.shape) <= 3)
    if x is None:
        return False
    r = len(x.shape)
    axis = b.rng.randint(0, r)
    shape = x.shape[:axis] + (1,) + x.shape[axis:]
    ones = [i for i, d in enumerate(shape) if d == 1 and i != axis]
    if ones and b.rng.random() < 0.3:  # and squeeze one back out
        mid = b.node("Unsqueeze", [x], [b.out(shape, x.dtype, x.small)], axes=f"[{axis}]")[0]
        s = ones[0]
        b.node("Squeeze", [mid], [b.out(shape[:s] + shape[s + 1:], x.dtype, x.small)], axes=f"[{s}]")
        return True
    b.node("Unsqueeze", [x], [b.out(shape, x.dtype, x.small)], axes=f"[{axis - r - 1 if b.rng.random() < 0.3 else axis}]")
    return True


def e_concat(b: Builder) -> bool:
    x = b.pick(lambda t: len(t.shape) >= 1)
    if x is None:
        return False
    r = len(x.shape)
    axis = b.rng.randrange(r)
    others = [t for t in b.pool if t.dtype == x.dtype and len(t.shape) == r
              and all(t.shape[i] == x.shape[i] for i in range(r) if i != axis)]
    y = b.rng.choice(others)
    shape = list(x.shape)
    shape[axis] += y.shape[axis]
    b.node("Concat", [x, y], [b.out(tuple(shape), x.dtype, x.small and y.small)],
           axis=axis if b.rng.random() < 0.7 else axis - r)
    return True


REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare", "ReduceProd",
          "ReduceLogSumExp", "ReduceL1"]


def e_reduce(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1)
    if x is None:
        return False
    r = len(x.shape)
    axes = sorted(b.rng.sample(range(r), b.rng.randint(1, r)))
    keep = b.rng.random() < 0.5
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keep else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes)
    b.node(b.rng.choice(REDUCE), [x], [b.out(shape, x.dtype)], axes=str(axes), keepdims=None if keep else 0)
    return True


def e_gather(b: Builder) -> bool:
    idx = b.pick(lambda t: t.small and t.dtype in ("int64", "int32"))
    x = b.pick(lambda t: any(d >= 2 for d in t.shape))
    if idx is None or x is None:
        return False
    axis = b.rng.choice([i for i, d in enumerate(x.shape) if d >= 2])
    shape = x.shape[:axis] + idx.shape + x.shape[axis + 1:]
    b.node("Gather", [x, idx], [b.out(shape, x.dtype, x.small)], axis=axis if axis else None)
    return True


def e_cast(b: Builder) -> bool:
    x = b.pick()
    if x is None:
        return False
    to = b.rng.choice([1, 11, 7, 6, 9, 1, 11])
    name = {1: "float32", 11: "float64", 7: "int64", 6: "int32", 9: "bool"}[to]
    small = name in ("int64", "int32") and (x.small or x.dtype == "bool")
    b.node("Cast", [x], [b.out(x.shape, name, small)], to=to)
    return True


def e_compare(b: Builder) -> bool:
    x = b.pick(floaty)
    if x is None:
        return False
    op = b.rng.choice(["Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual"])
    p = b.param(broadcastable_to(b.rng, x.shape), x.dtype, "zeros")
    cond = b.node(op, [x, p], [b.out(x.shape, "bool")])[0]
    r = b.rng.random()
    if r < 0.6:
        y = b.pick(lambda t: t.dtype == x.dtype and bcast(t.shape, x.shape) is not None)
        b.node("Where", [cond, x, y], [b.out(bcast(x.shape, y.shape), x.dtype)])
    elif r < 0.8:
        b.node(b.rng.choice(["Not", "Identity"]), [cond], [b.out(cond.shape, "bool")])
    else:
        b.node(b.rng.choice(["And", "Or", "Xor"]), [cond, cond], [b.out(cond.shape, "bool")])
    return True


def e_argmax(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1)
    if x is None:
        return False
    r = len(x.shape)
    axis = b.rng.randrange(r)
    keep = b.rng.random() < 0.5
    shape = tuple(1 if i == axis else d for i, d in enumerate(x.shape)) if keep else x.shape[:axis] + x.shape[axis + 1:]
    b.node(b.rng.choice(["ArgMax", "ArgMin"]), [x], [b.out(shape, "int64")], axis=axis,
           keepdims=None if keep else 0)
    return True


def e_slice(b: Builder) -> bool:
    x = b.pick(lambda t: len(t.shape) >= 1 and max(t.shape) >= 2)
    if x is None:
        return False
    axis = b.rng.choice([i for i, d in enumerate(x.shape) if d >= 2])
    n = x.shape[axis]
    start = b.rng.randrange(n)
    end = b.rng.randint(start + 1, n)
    shape = list(x.shape)
    shape[axis] = end - start
    b.node("Slice", [x], [b.out(tuple(shape), x.dtype, x.small)], starts=f"[{start}]",
           ends=f"[{end if b.rng.random() < 0.8 else 1000}]" if end == n else f"[{end}]", axes=f"[{axis}]")
    return True


def e_expand_tile(b: Builder) -> bool:
    x = b.pick(lambda t: len(t.shape) >= 1 and math.prod(t.shape) <= 24)
    if x is None:
        return False
    if b.rng.random() < 0.5:
        target = tuple(b.rng.choice([2, 3]) if d == 1 else d for d in x.shape)
        if b.rng.random() < 0.3:
            target = (2,) + target
        b.node("Expand", [x], [b.out(target, x.dtype, x.small)], shape=str(list(target)))
    else:
        reps = [b.rng.choice([1, 2]) for _ in x.shape]
        b.node("Tile", [x], [b.out(tuple(d * k for d, k in zip(x.shape, reps)), x.dtype, x.small)],
               repeats=str(reps))
    return True


def e_pad(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1)
    if x is None:
        return False
    r = len(x.shape)
    pads = [b.rng.choice([0, 0, 1, 2]) for _ in range(2 * r)]
    shape = tuple(d + pads[i] + pads[i + r] for i, d in enumerate(x.shape))
    mode = b.rng.choice([None, None, "reflect", "edge"])
    if mode == "reflect" and any(p >= d for p, d in zip(pads, x.shape + x.shape)):
        mode = None
    b.node("Pad", [x], [b.out(shape, x.dtype)], pads=str(pads), mode=mode)
    return True


def e_topk_split(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1 and t.shape[-1] >= 2)
    if x is None:
        return False
    n = x.shape[-1]
    if b.rng.random() < 0.5:
        k = b.rng.randint(1, n)
        shape = x.shape[:-1] + (k,)
        b.node("TopK", [x], [b.out(shape, x.dtype), b.out(shape, "int64")], K=f"[{k}]")
    else:
        first = b.rng.randint(1, n - 1)
        b.node("Split", [x], [b.out(x.shape[:-1] + (first,), x.dtype), b.out(x.shape[:-1] + (n - first,), x.dtype)],
               axis=-1, split=f"[{first}, {n - first}]")
    return True


def e_norm(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 2)
    if x is None:
        return False
    r = b.rng.random()
    if b.opset >= 17 and r < 0.5:
        d = x.shape[-1]
        ins = [x, b.param((d,), x.dtype, "ones")] + ([b.param((d,), x.dtype, "zeros")] if b.rng.random() < 0.6 else [])
        b.node("LayerNormalization", ins, [b.out(x.shape, x.dtype)], axis=b.rng.choice([None, -1]))
    elif r < 0.75:
        b.node("LpNormalization", [x], [b.out(x.shape, x.dtype)], axis=b.rng.choice([-1, 0]), p=b.rng.choice([1, 2]))
    else:
        c = x.shape[1]
        b.node("InstanceNormalization" if len(x.shape) >= 3 else "BatchNormalization",
               [x] + [b.param((c,), x.dtype, "ones") for _ in range(4 if len(x.shape) < 3 else 2)],
               [b.out(x.shape, x.dtype)])
    return True


def e_conv_pool(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) == 4 and min(t.shape[2:]) >= 2)
    if x is None:
        return False
    n, c, h, w = x.shape
    k = b.rng.choice([1, 2])
    p = b.rng.choice([0, 1])
    s = b.rng.choice([1, 2])
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    if b.rng.random() < 0.6:
        m = b.rng.choice([1, 2, 3])
        ins = [x, b.param((m, c, k, k), x.dtype)] + ([b.param((m,), x.dtype)] if b.rng.random() < 0.5 else [])
        b.node("Conv", ins, [b.out((n, m, oh, ow), x.dtype)], kernel_shape=f"[{k}, {k}]",
               pads=f"[{p}, {p}, {p}, {p}]", strides=f"[{s}, {s}]")
    elif b.rng.random() < 0.5:
        op = b.rng.choice(["MaxPool", "AveragePool"])
        if op == "MaxPool" and p > k // 2:  # pads must be smaller than the kernel
            p = 0
            oh, ow = (h - k) // s + 1, (w - k) // s + 1
        b.node(op, [x], [b.out((n, c, oh, ow), x.dtype)], kernel_shape=f"[{k}, {k}]", pads=f"[{p}, {p}, {p}, {p}]",
               strides=f"[{s}, {s}]")
    else:
        b.node(b.rng.choice(["GlobalAveragePool", "GlobalMaxPool"]), [x], [b.out((n, c, 1, 1), x.dtype)])
    return True


def e_cumsum(b: Builder) -> bool:
    x = b.pick(lambda t: floaty(t) and len(t.shape) >= 1)
    if x is None:
        return False
    axis = b.rng.randrange(len(x.shape))
    b.node("CumSum", [x], [b.out(x.shape, x.dtype)], axis=str(axis),
           exclusive=b.rng.choice([None, 1]), reverse=b.rng.choice([None, 1]))
    return True


EMITTERS = [(e_unary, 10), (e_axis_op, 3), (e_clip, 2), (e_binary, 12), (e_matmul, 8), (e_gemm, 2),
            (e_transpose, 4), (e_reshape, 5), (e_flatten, 2), (e_unsqueeze, 3), (e_concat, 3), (e_reduce, 4),
            (e_gather, 4), (e_cast, 3), (e_compare, 3), (e_argmax, 2), (e_slice, 3), (e_expand_tile, 3),
            (e_pad, 2), (e_topk_split, 2), (e_norm, 3), (e_conv_pool, 4), (e_cumsum, 1)]
# ops that keep the shape and the float type: the bodies of rep blocks
PRESERVING = [(e_unary, 6), (e_axis_op, 2), (e_clip, 1), (e_binary, 6), (e_norm, 2), (e_cumsum, 1)]


def step(b: Builder, table=EMITTERS) -> bool:
    fns, weights = zip(*table)
    return any(b.rng.choices(fns, weights)[0](b) for _ in range(6))
