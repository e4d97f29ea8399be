"""Ops that move, join, cut or reshape dimensions."""
from __future__ import annotations

from agrippa.sema.shapes.context import BAD_AXIS, RANK, SHAPE_ERROR, Ctx, Fail, rule
from agrippa.sema.shapes.dims import (
    DIFFERENT,
    MAYBE,
    Dim,
    Shape,
    add,
    ceildiv,
    compare,
    div,
    format_dim,
    format_shape,
    mul,
    norm,
    prod,
    sub,
    total,
)
from agrippa.sema.shapes.elementwise import broadcast_pair

BIG = 2**31 - 1  # slice ends at or past this mean "to the end"


def _ints_of(ctx: Ctx, i: int) -> tuple | None:
    t = ctx.tensor(i)
    return None if t is None else t.shape


def vectors(ctx: Ctx, *inputs: tuple[int, str]) -> None:
    """Inputs that must be 1-D (onnxruntime refuses the node otherwise): (index, name)."""
    for i, name in inputs:
        t = ctx.tensor(i)
        if t is not None and t.shape is not None and len(t.shape) != 1:
            ctx.error(f"{ctx.op}: {name} must be a 1-D tensor, got shape {format_shape(t.shape)}",
                      at=ctx.where(name, i), code=RANK)


@rule("Transpose")
def _transpose(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    perm = ctx.attr("perm")
    if perm is None:
        perm = list(range(len(s)))[::-1]
    if sorted(perm) != list(range(len(s))):
        ctx.error(f"Transpose: perm {list(perm)} is not an order of the {len(s)} axes of "
                  f"{format_shape(s)}", at="perm", code=BAD_AXIS)
    return [tuple(s[p] for p in perm)]


@rule("Concat")
def _concat(ctx: Ctx) -> list[Shape]:
    idx = [i for i in range(ctx.n_inputs) if ctx.present(i)]
    shapes = [ctx.shape(i) for i in idx]
    if not shapes or ctx.attr("axis") is None:
        raise Fail()
    first = shapes[0]
    ax = ctx.axis(ctx.attr("axis"), len(first), shape=first)
    for k in range(1, len(shapes)):
        s = shapes[k]
        if len(s) != len(first):
            ctx.error(f"Concat: inputs differ in rank: {format_shape(first)} and {format_shape(s)}",
                      at=idx[k], other=idx[0], code=RANK)
        for d in range(len(s)):
            if d != ax and s[d] is not first[d]:
                ctx.agree(first[d], s[d], lambda d=d, s=s: f"Concat: inputs differ in dimension {d}: "
                          f"{format_shape(first)} and {format_shape(s)}", at=idx[k], other=idx[0])
    out = list(first)
    out[ax] = total(s[ax] for s in shapes)
    repeat = norm(ctx.node.repeat)
    if type(repeat) is not int:  # a stretch of symbolic width: each input stands for `repeat` copies
        out[ax] = mul(out[ax], repeat)
    elif ax == 0 and len(first) == 1:
        vals = [ctx.value(i) for i in idx]
        if all(v is not None for v in vals):
            ctx.values[0] = tuple(x for v in vals for x in v)
    return [tuple(out)]


@rule("Gather")
def _gather(ctx: Ctx) -> list[Shape]:
    data, ind = ctx.shape(0), ctx.shape(1)
    ax = ctx.axis(ctx.attr("axis", 0), len(data), shape=data)
    iv = ctx.value(1)
    n = data[ax]
    if iv is not None and type(n) is int and all(type(i) is int for i in iv):
        for i in iv:
            if not -n <= i < n:
                ctx.error(f"Gather: index {i} is out of range for dimension {ax} of {format_shape(data)}",
                          at=1, other=0, code=SHAPE_ERROR)
        dv = ctx.value(0)
        if dv is not None and len(data) == 1 and len(ind) <= 1:
            ctx.values[0] = tuple(dv[i] for i in iv)
    return [data[:ax] + tuple(ind) + data[ax + 1:]]


@rule("GatherElements")
def _gather_elements(ctx: Ctx) -> list[Shape]:
    data, ind = ctx.shape(0), ctx.shape(1)
    if len(data) != len(ind):
        ctx.error(f"GatherElements: data {format_shape(data)} and indices {format_shape(ind)} differ "
                  "in rank", at=1, other=0, code=RANK)
    ctx.axis(ctx.attr("axis", 0), len(data), shape=data)
    return [ind]


@rule("Reshape")
def _reshape(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    vectors(ctx, (1, "shape"))
    _, target = ctx.ints("shape", 1)
    at = ctx.where("shape", 1)
    if target is None:
        return [_unknown_dims(ctx, 1)]
    shown = format_shape(tuple(target))
    out: list[Dim] = []
    minus: list[int] = []
    zero_copies = not ctx.attr("allowzero", 0)
    for i, v in enumerate(target):
        if type(v) is int and v == -1:
            minus.append(i)
            out.append(None)
        elif type(v) is int and v == 0 and zero_copies:
            if i >= len(s):
                ctx.error(f"Reshape: 0 at position {i} of {shown} copies a dimension {format_shape(s)} "
                          "does not have", at=at, other=0, code=SHAPE_ERROR)
            out.append(s[i])
        elif type(v) is int and v < -1:
            ctx.error(f"Reshape: {shown} has a negative dimension {v}", at=at, code=SHAPE_ERROR)
        else:
            out.append(norm(v))
    if len(minus) > 1:
        ctx.error(f"Reshape: {shown} has more than one -1", at=at, code=SHAPE_ERROR)
    n_in = prod(s)
    known = prod(d for i, d in enumerate(out) if i not in minus)

    def cannot() -> str:
        of = "" if minus else f" ({format_dim(known)} elements)"
        return (f"Reshape: cannot reshape {format_shape(s)} ({format_dim(n_in)} elements) "
                f"into {shown}{of}")

    if minus:
        if n_in is not None and known is not None and not (type(known) is int and known == 0):
            q = div(n_in, known)
            if q is None and type(n_in) is int and type(known) is int:
                ctx.error(cannot(), at=at, other=0, code=SHAPE_ERROR)
            out[minus[0]] = q
    else:
        ctx.agree(known, n_in, cannot, at=at, other=0)
    return [tuple(out)]


def _unknown_dims(ctx: Ctx, i: int, at_least: int = 0) -> Shape:
    """A shape of unknown dims whose rank is the length of 1-D input i, when that is known."""
    sh = ctx.opt_shape(i)
    if sh is None or len(sh) != 1 or type(sh[0]) is not int:
        raise Fail()
    return (None,) * max(sh[0], at_least)


@rule("Flatten")
def _flatten(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    ax = ctx.attr("axis", 1)
    if not -len(s) <= ax <= len(s):
        ctx.error(f"Flatten: axis {ax} is out of range for a tensor of rank {len(s)} "
                  f"{format_shape(s)}", at="axis", code=BAD_AXIS)
    ax = ax + len(s) if ax < 0 else ax
    return [(prod(s[:ax]), prod(s[ax:]))]


@rule("Squeeze")
def _squeeze(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    given, axes = ctx.ints("axes", 1)
    if given and axes is None:
        sh = ctx.opt_shape(1)
        if sh is None or len(sh) != 1 or type(sh[0]) is not int:
            raise Fail()
        ones = sum(1 for d in s if compare(d, 1) is not DIFFERENT)  # dims that can be 1
        if sh[0] > ones:
            ctx.error(f"Squeeze: axes holds {sh[0]} entries, but only {ones} dimension{'s' * (ones != 1)} of "
                      f"{format_shape(s)} can be 1: the axes would repeat an axis or name a dimension that is "
                      "not 1", at=1, code=BAD_AXIS)
        return [(None,) * (len(s) - sh[0])]
    if not axes:
        if any(type(d) is not int for d in s):
            raise Fail()  # which symbolic dims are 1 is not known
        return [tuple(d for d in s if d != 1)]
    at = ctx.where("axes", 1)
    norm_axes = ctx.axes(axes, len(s), at, s)
    for a in norm_axes:
        c = compare(s[a], 1)
        if c is DIFFERENT:
            ctx.error(f"Squeeze: dimension {a} of {format_shape(s)} is {format_dim(s[a])}, not 1",
                      at=at, other=0, code=SHAPE_ERROR)
        if c is MAYBE:
            ctx.warn(f"Squeeze: dimension {a} of {format_shape(s)} is {format_dim(s[a])}, which must "
                     "be 1", at=at, other=0)
    v = ctx.value(0)
    if v is not None:
        ctx.values[0] = v
    return [tuple(d for i, d in enumerate(s) if i not in norm_axes)]


@rule("Unsqueeze")
def _unsqueeze(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    _, axes = ctx.ints("axes", 1)
    if not axes:
        raise Fail()
    rank = len(s) + len(axes)
    out = list(s)
    for a in sorted(ctx.axes(axes, rank, ctx.where("axes", 1))):
        out.insert(a, 1)
    v = ctx.value(0)
    if v is not None:
        ctx.values[0] = v
    return [tuple(out)]


def slice_len(d: Dim, start: int, end: int, step: int) -> Dim:
    """Length of d[start:end:step] (ONNX clamping); symbolic d is taken to be long enough."""
    if type(d) is int:
        return len(range(*slice(start, end, step).indices(d)))
    if d is None:
        return None
    if step < 0:
        return d if start == -1 and end <= -BIG else None
    s0 = start if start >= 0 else add(d, start)
    e0 = d if end >= BIG else end if end >= 0 else 0 if end <= -BIG else add(d, end)
    length = sub(e0, s0)
    if type(length) is int and length < 0:
        return 0
    return length if step == 1 else ceildiv(length, step)


@rule("Slice")
def _slice(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    if "starts" in ctx.node.attributes:  # opset < 10: attributes
        starts, ends = ctx.attr("starts"), ctx.attr("ends")
        given_axes, axes, given_steps, steps = "axes" in ctx.node.attributes, ctx.attr("axes"), False, None
    else:
        vectors(ctx, (1, "starts"), (2, "ends"), (3, "axes"), (4, "steps"))
        _, starts = ctx.ints("starts", 1)
        _, ends = ctx.ints("ends", 2)
        given_axes, axes = ctx.ints("axes", 3)
        given_steps, steps = ctx.ints("steps", 4)
    if starts is None or ends is None or (given_axes and axes is None) or (given_steps and steps is None):
        if axes is None:
            n = ctx.opt_shape(1) if not given_axes and "starts" not in ctx.node.attributes else None
            if n is not None and len(n) == 1 and type(n[0]) is int and n[0] > len(s):
                ctx.error(f"Slice: without axes, starts' {n[0]} entries slice axes 0 to {n[0] - 1}, but the input "
                          f"{format_shape(s)} has {len(s)}", at=1, other=0, code=BAD_AXIS)
            return [(None,) * len(s)]
        cut = set(ctx.axes(axes, len(s), ctx.where("axes", 3), s))
        return [tuple(None if i in cut else d for i, d in enumerate(s))]
    if axes is None:
        axes = list(range(len(starts)))
    if steps is None:
        steps = [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        ctx.error(f"Slice: starts {starts}, ends {ends}, axes {axes} and steps {steps} differ in length",
                  at=ctx.where("starts", 1), code=SHAPE_ERROR)
    if 0 in steps:
        ctx.error("Slice: steps cannot be 0", at=ctx.where("steps", 4), code=SHAPE_ERROR)
    out = list(s)
    for a, st, en, sp in zip(ctx.axes(axes, len(s), ctx.where("axes", 3), s), starts, ends, steps):
        out[a] = slice_len(s[a], st, en, sp)
    v = ctx.value(0)
    if v is not None and len(s) == 1:
        ctx.values[0] = tuple(v[starts[0]:ends[0]:steps[0]])
    return [tuple(out)]


@rule("Split")
def _split(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    ax = ctx.axis(ctx.attr("axis", 0), len(s), shape=s)
    n = len(ctx.node.outputs)
    given, sizes = ctx.ints("split", 1)
    at = ctx.where("split", 1)
    d = s[ax]
    if given and sizes is None:
        return [s[:ax] + (None,) + s[ax + 1:]] * n
    if sizes:
        if len(sizes) != n:
            ctx.error(f"Split: split {sizes} has {len(sizes)} parts but the node has {n} outputs",
                      at=at, code=SHAPE_ERROR)
        ctx.agree(total(sizes), d, lambda: f"Split: the parts {sizes} add up to {sum(sizes)} but "
                  f"dimension {ax} of {format_shape(s)} is {format_dim(d)}", at=at, other=0)
    else:
        parts = ctx.attr("num_outputs") or n
        if parts < 1:
            raise Fail()
        if type(d) is int and ctx.attr("num_outputs") is not None:
            size = -(-d // parts)
            sizes = [size] * (parts - 1) + [d - size * (parts - 1)]
        elif type(d) is int:
            if d % parts:
                ctx.error(f"Split: dimension {ax} of {format_shape(s)} ({d}) does not split into "
                          f"{parts} equal parts", at=0, code=SHAPE_ERROR)
            sizes = [d // parts] * parts
        else:
            sizes = [div(d, parts)] * parts
    return [s[:ax] + (p,) + s[ax + 1:] for p in sizes]


@rule("Expand")
def _expand(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    vectors(ctx, (1, "shape"))
    _, target = ctx.ints("shape", 1)
    if target is None:
        return [_unknown_dims(ctx, 1, len(s))]
    t = tuple(norm(v) for v in target)
    return [broadcast_pair(ctx, s, t, ctx.where("shape", 1), 0,
                           lambda: f"Expand: cannot expand {format_shape(s)} to {format_shape(t)}")]


@rule("Tile")
def _tile(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    vectors(ctx, (1, "repeats"))
    _, reps = ctx.ints("repeats", 1)
    if reps is None:
        r = _ints_of(ctx, 1)
        if r is not None and len(r) == 1 and type(r[0]) is int and r[0] != len(s):
            ctx.error(f"Tile: repeats has {r[0]} values but the input {format_shape(s)} has rank {len(s)}",
                      at=1, other=0, code=RANK)
        return [(None,) * len(s)]
    if len(reps) != len(s):
        ctx.error(f"Tile: repeats {reps} has {len(reps)} values but the input {format_shape(s)} has "
                  f"rank {len(s)}", at=ctx.where("repeats", 1), other=0, code=RANK)
    return [tuple(mul(d, norm(r)) for d, r in zip(s, reps))]
