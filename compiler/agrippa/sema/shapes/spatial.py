"""Spatial ops whose limits ONNX's inference lets through and onnxruntime enforces when it runs
them (found by the differential fuzzer, tests/fuzz): ConvTranspose's shape rule (its output sizes
as onnxruntime computes them), and the kernel rules of DeformConv's operands, RoiAlign's and
MaxRoiPool's boxes, Pad's non-constant modes, and pooling with SAME padding of a dilated kernel. Kernel rules read only concrete dims and give up
quietly on anything symbolic or unknown."""
from __future__ import annotations

from agrippa.sema.shapes.context import RANK, SHAPE_ERROR, Ctx, rule
from agrippa.sema.shapes.dims import Shape, add, format_dim, format_shape, mul, sub


def _ints(ctx: Ctx, i: int) -> tuple | None:
    t = ctx.tensor(i)
    s = None if t is None else t.shape
    return s if s is not None and all(type(d) is int for d in s) else None


def _list(ctx: Ctx, name: str, n: int, default: int) -> list | None:
    """An ints attribute of `n` values (its default when absent); None when it has another length."""
    v = ctx.attr(name)
    if v is None:
        return [default] * n
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    return v if len(v) == n and all(type(x) is int for x in v) else None


@rule("ConvTranspose")
def _conv_transpose(ctx: Ctx) -> list[Shape]:
    """[N, W[1] × group, sizes...]: a size is output_shape's when given, else onnxruntime's
    (under auto_pad SAME, in × stride at most; ONNX's own inference adds output_padding to it)."""
    x, w = ctx.shape(0), ctx.shape(1)
    if len(x) < 3:
        ctx.error(f"ConvTranspose: the input must be [N, C, D1, ...], got {format_shape(x)}", at=0, code=RANK)
    if len(w) != len(x):
        ctx.error(f"ConvTranspose: the weights {format_shape(w)} must have the input's rank {len(x)} "
                  f"([C, M/group, k1, ...]); the input is {format_shape(x)}", at=1, other=0, code=RANK)
    n, group = len(x) - 2, ctx.attr("group", 1)
    ctx.agree(w[0], x[1], lambda: f"ConvTranspose: the input has {format_dim(x[1])} channels but the weights "
              f"{format_shape(w)} take {format_dim(w[0])} (their first dimension)", at=1, other=0)
    if type(x[1]) is int and x[1] % group:
        ctx.error(f"ConvTranspose: {x[1]} input channels do not split into {group} groups", at="group",
                  code=SHAPE_ERROR)
    m = mul(w[1], group)
    bias = ctx.opt_shape(2)
    if bias is not None:
        if len(bias) != 1:
            ctx.error(f"ConvTranspose: the bias must be [M], got {format_shape(bias)}", at=2, code=RANK)
        ctx.agree(bias[0], m, lambda: f"ConvTranspose: the bias {format_shape(bias)} does not match the "
                  f"{format_dim(m)} output channels of the weights {format_shape(w)}", at=2, other=1)
    kernel = list(w[2:])
    if "kernel_shape" in ctx.node.attributes:
        kernel = _attr_list(ctx, "kernel_shape", n, 0)
        for k, have in zip(kernel, w[2:]):
            ctx.agree(k, have, lambda: f"ConvTranspose: kernel_shape {kernel} differs from the weights' "
                      f"{format_shape(w[2:])}", at="kernel_shape", other=1)
    strides, dilations = _attr_list(ctx, "strides", n, 1), _attr_list(ctx, "dilations", n, 1)
    pads, adj = _attr_list(ctx, "pads", 2 * n, 0), _attr_list(ctx, "output_padding", n, 0)
    out = _attr_list(ctx, "output_shape", n, 0) if "output_shape" in ctx.node.attributes else None
    auto = ctx.attr("auto_pad", "NOTSET")
    if auto != "NOTSET" and "pads" in ctx.node.attributes:
        ctx.error(f"ConvTranspose: pads cannot be given with auto_pad {auto}", at="pads", code=SHAPE_ERROR)
    for name, v in (("pads", pads), ("output_padding", adj)):
        if min(v, default=0) < 0:
            ctx.error(f"ConvTranspose: {name} {v} cannot be negative", at=name, code=SHAPE_ERROR)
    sizes: list = []
    for i in range(n):
        if adj[i] >= strides[i]:
            ctx.error(f"ConvTranspose: output_padding {adj[i]} on axis {i + 2} must be smaller than the stride "
                      f"{strides[i]} there (onnxruntime refuses it)", at="output_padding", code=SHAPE_ERROR)
        d, reach = x[i + 2], add(mul(sub(kernel[i], 1), dilations[i]), 1)
        full = add(add(mul(sub(d, 1), strides[i]), adj[i]), reach)  # (d - 1) × stride + output_padding + reach
        if out is not None:
            most = add(mul(d, strides[i]), sub(reach, 1))
            if type(most) is int and not 1 <= out[i] <= most:
                ctx.error(f"ConvTranspose: output_shape {out} asks for {out[i]} on axis {i + 2}, but an input dim "
                          f"of {d} with stride {strides[i]} and kernel {format_dim(kernel[i])} makes 1 to {most}",
                          at="output_shape", code=SHAPE_ERROR)
            sizes.append(out[i])
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            slack = sub(add(adj[i], reach), strides[i])  # full - d × stride, free of d
            if adj[i] and type(slack) is int and slack > 0:
                ctx.error(f"ConvTranspose: output_padding {adj[i]} with auto_pad {auto} on axis {i + 2}: onnxruntime "
                          f"makes {format_dim(mul(d, strides[i]))} there, ONNX's shape inference more, so onnx.checker "
                          "refuses the model; drop output_padding or give explicit pads", at="output_padding",
                          code=SHAPE_ERROR)
            sizes.append(mul(d, strides[i]) if type(slack) is int and slack >= 0 else full if type(slack) is int
                         else None)
        else:
            size = full if auto == "VALID" else sub(full, pads[i] + pads[i + n])
            if type(size) is int and size <= 0:
                ctx.error(f"ConvTranspose: pads {pads} leave nothing of axis {i + 2} (its size would be {size}; "
                          f"input dim {d}, stride {strides[i]}, kernel {format_dim(kernel[i])})", at="pads",
                          code=SHAPE_ERROR)
            sizes.append(size)
    return [(x[0], m, *sizes)]


def _attr_list(ctx: Ctx, name: str, n: int, default: int) -> list:
    """An ints attribute that must have `n` values (its default when absent); an error otherwise."""
    v = ctx.attr(name)
    if v is None:
        return [default] * n
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    if len(v) != n:
        ctx.error(f"{ctx.op}: {name} {v} has {len(v)} values; the input's {n // 2 if name == 'pads' else n} spatial "
                  f"dimensions need {n}", at=name, code=SHAPE_ERROR)
    return v


def _trunc_div(a: int, b: int) -> int:
    """C++ integer division (toward zero), as onnxruntime computes output sizes."""
    return a // b if a >= 0 else -(-a // b)


def _deform_conv(ctx: Ctx) -> None:
    x, w, off = _ints(ctx, 0), _ints(ctx, 1), _ints(ctx, 2)
    for i, s, what in ((0, x, "the input X"), (1, w, "the weights W"), (2, off, "the offset")):
        if s is not None and len(s) != 4:
            ctx.error(f"DeformConv: onnxruntime computes 2-D DeformConv only: {what} must be 4-D, got "
                      f"{format_shape(s)}", at=i, code=RANK)
    if x is None or w is None:
        return
    group, og = ctx.attr("group", 1), ctx.attr("offset_group", 1)
    kernel = _list(ctx, "kernel_shape", 2, 0) if "kernel_shape" in ctx.node.attributes else list(w[2:])
    strides, dilations, pads = _list(ctx, "strides", 2, 1), _list(ctx, "dilations", 2, 1), _list(ctx, "pads", 4, 0)
    if (kernel is None or strides is None or dilations is None or pads is None or min(kernel) < 1
            or min(strides) < 1 or min(dilations) < 1 or group < 1 or og < 1):
        return
    if x[1] != w[1] * group:
        ctx.error(f"DeformConv: the input has {x[1]} channels but the weights {format_shape(w)} expect {w[1]}"
                  f"{f' × group {group}' if group != 1 else ''}", at=1, other=0, code=SHAPE_ERROR)
    if w[0] % group:
        ctx.error(f"DeformConv: {w[0]} output channels do not split into {group} groups", at="group",
                  code=SHAPE_ERROR)
    if x[1] % og:
        ctx.error(f"DeformConv: the {x[1]} input channels do not split into offset_group {og}", at="offset_group",
                  code=SHAPE_ERROR)
    size = [_trunc_div(x[2 + i] + pads[i] + pads[2 + i] - dilations[i] * (kernel[i] - 1) - 1, strides[i]) + 1
            for i in range(2)]
    if min(size) < 0:
        ctx.error(f"DeformConv: the kernel {kernel} is larger than the padded input {format_shape(x)}",
                  at=1, other=0, code=SHAPE_ERROR)
    kk = kernel[0] * kernel[1]
    for i, name, ch in ((2, "offset", og * 2 * kk), (4, "mask", og * kk)):
        s = _ints(ctx, i)
        if s is None:
            continue
        want = (x[0], ch, size[0], size[1])
        if s != want:
            ctx.error(f"DeformConv: the {name} must be [N, {'2 × ' if i == 2 else ''}offset_group × kH × kW, oH, oW]"
                      f" = {list(want)} here, got {format_shape(s)}", at=i, code=SHAPE_ERROR if len(s) == 4 else RANK)
    b = _ints(ctx, 3)
    if b is not None and b != (w[0],):
        ctx.error(f"DeformConv: the bias must be [{w[0]}] (the output channels), got {format_shape(b)}", at=3,
                  code=SHAPE_ERROR)


def _rois(ctx: Ctx) -> None:
    """RoiAlign's boxes are [num_rois, 4] (x1, y1, x2, y2); MaxRoiPool's [num_rois, 5] (batch, x1, y1, x2, y2)."""
    rois = _ints(ctx, 1)
    n = 4 if ctx.op == "RoiAlign" else 5
    if rois is not None and len(rois) == 2 and rois[1] != n:
        what = "x1, y1, x2, y2" if n == 4 else "batch index, x1, y1, x2, y2"
        ctx.error(f"{ctx.op}: rois must be [num_rois, {n}] ({what}), got {format_shape(rois)}", at=1,
                  code=SHAPE_ERROR)


def _pad(ctx: Ctx) -> None:
    x, pads_shape, axes_shape = ctx.opt_shape(0), _ints(ctx, 1), _ints(ctx, 3)
    attr = "pads" in ctx.node.attributes
    if not attr and x is not None and pads_shape is not None and len(pads_shape) == 1:
        n = axes_shape[0] if axes_shape is not None and len(axes_shape) == 1 else len(x) if axes_shape is None else None
        if n is not None and pads_shape[0] != 2 * n:
            ctx.error(f"Pad: pads has {pads_shape[0]} values; {2 * n} are needed (a begin and an end per padded "
                      "axis)", at=1, code=SHAPE_ERROR)
    if x is None:
        return
    _, pads = ctx.ints("pads", 1)
    given, axes = (False, None) if attr else ctx.ints("axes", 3)
    if pads is None or (given and axes is None) or not all(type(p) is int for p in pads):
        return
    rank = len(x)
    axes = [a + rank if type(a) is int and a < 0 else a for a in (axes if given else range(rank))]
    if len(pads) != 2 * len(axes) or not all(type(a) is int and 0 <= a < rank for a in axes):
        return
    mode, at = ctx.attr("mode", "constant"), ctx.where("pads", 1)
    for k, a in enumerate(axes):
        d, begin, end = x[a], pads[k], pads[k + len(axes)]
        if type(d) is not int or not (begin or end):
            continue
        if d + begin + end < 0:
            ctx.error(f"Pad: pads {pads} crop axis {a} of {format_shape(x)} to {d + begin + end} elements",
                      at=at, code=SHAPE_ERROR)
        if mode == "constant":
            continue
        kept = d + min(begin, 0) + min(end, 0)  # what negative pads leave to pad from
        if kept <= 0:
            ctx.error(f"Pad: {mode} padding copies input values, but pads {pads} leave none of axis {a} "
                      f"(dim {d})", at=at, code=SHAPE_ERROR)
        widest = max(begin, end)
        if mode == "reflect" and widest > kept - 1:
            ctx.error(f"Pad: reflect padding {widest} is wider than the input dim {kept} on axis {a} allows "
                      f"(at most {kept - 1}: a reflection does not repeat the edge)", at=at, code=SHAPE_ERROR)


def _pool_same_dilated(ctx: Ctx) -> None:
    """Pooling with auto_pad SAME and a dilated kernel: onnxruntime pads as if the kernel were not
    dilated, so its output is smaller than the size ONNX's inference (and the checker) states."""
    auto = ctx.attr("auto_pad", "NOTSET")
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        return
    kernel, dilations = ctx.attr("kernel_shape"), ctx.attr("dilations")
    if not isinstance(kernel, (list, tuple)) or not isinstance(dilations, (list, tuple)):
        return
    if any(type(d) is int and d > 1 and type(k) is int and k > 1 for k, d in zip(kernel, dilations)):
        ctx.error(f"{ctx.op}: auto_pad {auto} with dilations {list(dilations)}: onnxruntime pads as if the "
                  "kernel were not dilated, so its output is smaller than ONNX's shape inference says; give "
                  "explicit pads instead of auto_pad", at="auto_pad", code=SHAPE_ERROR)


NN_KERNEL_RULES = {"DeformConv": _deform_conv, "RoiAlign": _rois,
                   "MaxRoiPool": _rois, "Pad": _pad, "MaxPool": _pool_same_dilated,
                   "AveragePool": _pool_same_dilated, "LpPool": _pool_same_dilated}
