"""Matrix products, convolutions, pooling and normalisation layers."""
from __future__ import annotations

from agrippa.sema.shapes.context import RANK, SHAPE_ERROR, Ctx, rule
from agrippa.sema.shapes.dims import (
    Dim,
    Shape,
    add,
    ceildiv,
    floordiv,
    format_dim,
    format_shape,
    is_one,
    mul,
    sub,
)
from agrippa.sema.shapes.elementwise import broadcast_pair


@rule("MatMul", "MatMulInteger")
def _matmul(ctx: Ctx) -> list[Shape]:
    a, b = ctx.shape(0), ctx.shape(1)
    if ctx.op == "MatMulInteger":
        ctx.dtypes[0] = "int32"
    if len(a) == 2 and len(b) == 2 and (a[1] is b[0] or (type(a[1]) is int and a[1] == b[0])):
        return [(a[0], b[1])]  # the common case, kept quick
    for i, s in ((0, a), (1, b)):
        if not s:
            ctx.error(f"{ctx.op}: operands need at least one dimension: "
                      f"{format_shape(a)} × {format_shape(b)}", at=i, code=RANK)
    pa = a if len(a) > 1 else (1, *a)
    pb = b if len(b) > 1 else (*b, 1)

    def inner() -> str:
        return f"{ctx.op}: inner dimensions differ: {format_shape(a)} × {format_shape(b)}"

    ctx.agree(pa[-1], pb[-2], inner, at=1, other=0)
    batch: tuple = ()
    if len(pa) > 2 or len(pb) > 2:
        batch = broadcast_pair(ctx, pa[:-2], pb[:-2], 1, 0, lambda: (
            f"{ctx.op}: batch dimensions do not broadcast: {format_shape(a)} × {format_shape(b)}"))
    out = batch + ((pa[-2],) if len(a) > 1 else ()) + ((pb[-1],) if len(b) > 1 else ())
    return [out]


@rule("Gemm")
def _gemm(ctx: Ctx) -> list[Shape]:
    a, b = ctx.shape(0), ctx.shape(1)
    for i, s, name in ((0, a, "A"), (1, b, "B")):
        if len(s) != 2:
            ctx.error(f"Gemm: {name} must be a matrix (rank 2), got {format_shape(s)}", at=i, code=RANK)
    ta, tb = ctx.attr("transA", 0), ctx.attr("transB", 0)
    m, k = (a[1], a[0]) if ta else a
    k2, n = (b[1], b[0]) if tb else b

    def inner() -> str:
        ts = "".join(f" ({t})" for t, on in (("transA", ta), ("transB", tb)) if on)
        return f"Gemm: inner dimensions differ: {format_shape(a)} × {format_shape(b)}{ts}"

    ctx.agree(k, k2, inner, at=1, other=0)
    c = ctx.opt_shape(2)
    if c is not None:
        if len(c) > 2:
            ctx.error(f"Gemm: C {format_shape(c)} does not broadcast to [{format_dim(m)}, {format_dim(n)}]",
                      at=2, code=RANK)
        for have, want in zip(reversed(c), (n, m)):
            if not is_one(have):
                ctx.agree(have, want, lambda: f"Gemm: C {format_shape(c)} does not broadcast to "
                          f"[{format_dim(m)}, {format_dim(n)}]", at=2, other=0)
    return [(m, n)]


def _ints(ctx: Ctx, name: str, n: int, default: int) -> list:
    v = ctx.attr(name)
    if v is None:
        return [default] * n
    if len(v) != n:
        ctx.error(f"{ctx.op}: {name} has {len(v)} values but the input has {n // (2 if name == 'pads' else 1)}"
                  f" spatial dimensions", at=name, code=SHAPE_ERROR)
    return list(v)


CEIL_FIXED_OPSET = 22
"""From this opset on, ONNX's inference drops a ceil_mode window that starts in the padding, as
onnxruntime does at every opset."""


def window(ctx: Ctx, spatial: tuple, kernel: list) -> tuple:
    """Output spatial dims of a sliding window (Conv, pooling), as in the ONNX spec."""
    n = len(spatial)
    strides = _ints(ctx, "strides", n, 1)
    dilations = _ints(ctx, "dilations", n, 1)
    pads = _ints(ctx, "pads", 2 * n, 0)
    auto = ctx.attr("auto_pad", "NOTSET")
    ceil = bool(ctx.attr("ceil_mode", 0))
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        ctx.error(f"{ctx.op}: strides and dilations must be positive", at="strides", code=SHAPE_ERROR)
    out = []
    for i, d in enumerate(spatial):
        s = strides[i]
        ek = add(mul(sub(kernel[i], 1), dilations[i]), 1)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out.append(ceildiv(d, s))
            continue
        padded = d if auto == "VALID" else add(d, pads[i] + pads[i + n])
        room = sub(padded, ek)
        if type(room) is int and room < 0:
            ctx.error(f"{ctx.op}: the kernel ({format_dim(ek)}) is larger than the padded input "
                      f"({format_dim(padded)}) in dimension {i + 2}", at="kernel_shape", code=SHAPE_ERROR)
        o = add(ceildiv(room, s) if ceil else floordiv(room, s), 1)
        if ceil and type(o) is int and type(d) is int and (o - 1) * s >= d + pads[i]:
            o -= 1  # the last window must start inside the input (as onnxruntime computes it)
            if ctx.run.graph.opset < CEIL_FIXED_OPSET:
                ctx.error(f"{ctx.op}: with ceil_mode, the last window along dimension {i + 2} would start in the "
                          f"padding: onnxruntime drops it ({o} outputs) but ONNX's shape inference before opset "
                          f"{CEIL_FIXED_OPSET} counts it ({o + 1}), so the compiled model is refused; set [model] "
                          f"opset to {CEIL_FIXED_OPSET} or more, or change pads or ceil_mode",
                          at="ceil_mode", code=SHAPE_ERROR)
        out.append(o)
    return tuple(out)


def _spatial_input(ctx: Ctx) -> tuple:
    x = ctx.shape(0)
    if len(x) < 3:
        ctx.error(f"{ctx.op}: the input must be [N, C, D1, ...], got {format_shape(x)}", at=0, code=RANK)
    return x


@rule("Conv", "ConvInteger")
def _conv(ctx: Ctx) -> list[Shape]:
    x, w = _spatial_input(ctx), ctx.shape(1)
    if ctx.op == "ConvInteger":
        ctx.dtypes[0] = "int32"
    if len(w) != len(x):
        ctx.error(f"{ctx.op}: the weights {format_shape(w)} must have the input's rank {len(x)} "
                  f"([M, C/group, k1, ...]); the input is {format_shape(x)}", at=1, other=0, code=RANK)
    group = ctx.attr("group", 1)
    ctx.agree(mul(w[1], group), x[1], lambda: (
        f"{ctx.op}: the input has {format_dim(x[1])} channels but the weights expect "
        f"{format_dim(w[1])}{f' × group {group}' if group != 1 else ''}: "
        f"{format_shape(x)} and {format_shape(w)}"), at=1, other=0)
    m = w[0]
    if type(m) is int and group > 0 and m % group:
        ctx.error(f"{ctx.op}: {m} output channels do not split into {group} groups", at="group",
                  code=SHAPE_ERROR)
    bias = ctx.opt_shape(2) if ctx.op == "Conv" else None
    if bias is not None:
        if len(bias) != 1:
            ctx.error(f"Conv: the bias must be [M], got {format_shape(bias)}", at=2, code=RANK)
        ctx.agree(bias[0], m, lambda: f"Conv: the bias {format_shape(bias)} does not match the "
                  f"{format_dim(m)} output channels of the weights {format_shape(w)}", at=2, other=1)
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        kernel = list(w[2:])
    elif len(kernel) != len(x) - 2:
        ctx.error(f"Conv: kernel_shape {kernel} does not fit the input {format_shape(x)}",
                  at="kernel_shape", code=SHAPE_ERROR)
    else:
        for k, have in zip(kernel, w[2:]):
            ctx.agree(k, have, lambda: f"Conv: kernel_shape {kernel} differs from the weights' "
                      f"{format_shape(w[2:])}", at="kernel_shape", other=1)
    return [(x[0], m) + window(ctx, x[2:], kernel)]


@rule("MaxPool", "AveragePool", "LpPool")
def _pool(ctx: Ctx) -> list[Shape]:
    x = _spatial_input(ctx)
    kernel = ctx.attr("kernel_shape")
    if kernel is None or len(kernel) != len(x) - 2:
        ctx.error(f"{ctx.op}: kernel_shape {kernel} does not fit the input {format_shape(x)}",
                  at="kernel_shape", code=SHAPE_ERROR)
    pads = ctx.attr("pads")
    if pads and len(pads) == 2 * len(kernel) and any(
            type(k) is int and p >= k for p, k in zip(pads, list(kernel) * 2)):
        ctx.error(f"{ctx.op}: every pad must be smaller than the kernel ({pads} with kernel_shape {kernel}); "
                  "onnxruntime refuses the node otherwise", at="pads", code=SHAPE_ERROR)
    out = x[:2] + window(ctx, x[2:], kernel)
    ctx.dtypes[1] = "int64"
    return [out, out]


@rule("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
def _global_pool(ctx: Ctx) -> list[Shape]:
    x = _spatial_input(ctx)
    return [x[:2] + (1,) * (len(x) - 2)]


def _fits(ctx: Ctx, i: int, target: tuple, what: str) -> None:
    """Input i must broadcast one way to `target` (LayerNormalization's scale and bias)."""
    s = ctx.opt_shape(i)
    if s is None:
        return
    if len(s) > len(target):
        ctx.error(f"{what} {format_shape(s)} has more dimensions than {format_shape(target)}",
                  at=i, other=0, code=RANK)
    for have, want in zip(reversed(s), reversed(target)):
        if not is_one(have):
            ctx.agree(have, want, lambda: f"{what} {format_shape(s)} does not match "
                      f"{format_shape(target)}", at=i, other=0)


@rule("LayerNormalization")
def _layer_norm(ctx: Ctx) -> list[Shape]:
    x = ctx.shape(0)
    a = ctx.axis(ctx.attr("axis", -1), len(x), shape=x)
    normalized = x[a:]
    _fits(ctx, 1, normalized, "LayerNormalization: Scale")
    _fits(ctx, 2, normalized, "LayerNormalization: B")
    stats = x[:a] + (1,) * (len(x) - a)
    stash = {1: "float32", 11: "float64", 10: "float16", 16: "bfloat16"}.get(ctx.attr("stash_type", 1))
    ctx.dtypes[1] = ctx.dtypes[2] = stash or "float32"
    return [x, stats, stats]


@rule("BatchNormalization")
def _batch_norm(ctx: Ctx) -> list[Shape]:
    x = ctx.shape(0)
    if len(x) < 2:
        ctx.error(f"BatchNormalization: the input must be [N, C, ...], got {format_shape(x)}",
                  at=0, code=RANK)
    c: Dim = x[1]
    for i, name in ((1, "scale"), (2, "B"), (3, "mean"), (4, "var")):
        p = ctx.opt_shape(i)
        if p is None:
            continue
        if len(p) != 1 or p[0] is not c:
            if len(p) != 1:
                ctx.error(f"BatchNormalization: {name} must be [C], got {format_shape(p)}", at=i,
                          other=0, code=RANK)
            ctx.agree(p[0], c, lambda p=p, name=name: f"BatchNormalization: {name} has shape "
                      f"{format_shape(p)} but the input {format_shape(x)} has {format_dim(c)} "
                      f"channels", at=i, other=0)
    return [x] + [(c,)] * (len(ctx.node.outputs) - 1)


@rule("GroupNormalization")
def _group_norm(ctx: Ctx) -> list[Shape]:
    return [ctx.shape(0)]


@rule("STFT")
def _stft(ctx: Ctx) -> list[Shape]:
    """[batch, frames, bins, 2]; with onesided (the default) bins = size // 2 + 1, which
    onnxruntime computes and ONNX's own inference forgets."""
    s = ctx.shape(0)
    if len(s) != 3:
        ctx.error(f"STFT: the signal must be [batch, length, 1 or 2], got {format_shape(s)}", at=0, code=RANK)
    _, step = ctx.ints("frame_step", 1)
    _, length = ctx.ints("frame_length", 3)
    window = ctx.opt_shape(2)
    size = length[0] if length else window[0] if window else None
    frames = bins = None
    if type(size) is int:
        bins = size // 2 + 1 if ctx.attr("onesided", 1) else size
        if step and type(step[0]) is int and step[0] > 0 and type(s[1]) is int:
            frames = (s[1] - size) // step[0] + 1
    return [(s[0], frames, bins, 2)]
