"""Reductions, and ops whose output is data about shapes (Shape, Size, Constant, Range, ...)."""
from __future__ import annotations

import math

from agrippa.sema.shapes.context import RANK, SHAPE_ERROR, Ctx, Fail, rule
from agrippa.sema.shapes.dims import Shape, ceildiv, norm, prod, sub

REDUCE = ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")


@rule(*REDUCE)
def _reduce(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    keep = ctx.attr("keepdims", 1) == 1  # as ONNX reads it: any other value drops the axes
    given, axes = ctx.ints("axes", 1)
    if given and axes is None:  # computed axes: which ones is not known
        if keep:
            return [(None,) * len(s)]
        raise Fail()
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0):
            return [s]
        reduced = set(range(len(s)))
    else:
        reduced = set(ctx.axes(axes, len(s), ctx.where("axes", 1), s))
    if keep:
        return [tuple(1 if i in reduced else d for i, d in enumerate(s))]
    return [tuple(d for i, d in enumerate(s) if i not in reduced)]


@rule("ArgMax", "ArgMin")
def _arg(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    ax = ctx.axis(ctx.attr("axis", 0), len(s), shape=s)
    ctx.dtypes[0] = "int64"
    if ctx.attr("keepdims", 1) == 1:  # as ONNX reads it
        return [s[:ax] + (1,) + s[ax + 1:]]
    return [s[:ax] + s[ax + 1:]]


@rule("Shape")
def _shape(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    r = len(s)
    start, end = ctx.attr("start", 0), ctx.attr("end", r)
    start = min(max(start + r if start < 0 else start, 0), r)
    end = min(max(end + r if end < 0 else end, 0), r)
    dims = tuple(s[start:end])
    ctx.dtypes[0] = "int64"
    ctx.values[0] = dims
    return [(len(dims),)]


@rule("Size")
def _size(ctx: Ctx) -> list[Shape]:
    ctx.dtypes[0] = "int64"
    ctx.values[0] = (prod(ctx.shape(0)),)
    return [()]


@rule("CumSum")
def _cumsum(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    axis = ctx.opt_shape(1)
    if axis is not None and (len(axis) > 1 or len(axis) == 1 and type(axis[0]) is int and axis[0] != 1):
        ctx.error(f"CumSum: axis must be a scalar (or one value), got a tensor of shape {list(axis)}",
                  at=1, code=RANK)
    _, ax = ctx.ints("axis", 1)
    if ax:
        ctx.axis(ax[0], len(s), ctx.where("axis", 1), s)
    return [s]


VALUE_ATTRS = ("value", "value_int", "value_ints", "value_float", "value_floats", "value_string", "value_strings",
               "sparse_value")


@rule("Constant")
def _constant(ctx: Ctx) -> list[Shape]:
    given = [a for a in VALUE_ATTRS if a in ctx.node.attributes]
    if len(given) != 1:
        ctx.error("Constant takes exactly one of value_int, value_ints, value_float, value_floats, value_string "
                  f"and value_strings, got {', '.join(given) if given else 'none'}", code=SHAPE_ERROR)
    for name, dtype in (("value_int", "int64"), ("value_ints", "int64"), ("value_float", "float32"),
                        ("value_floats", "float32")):
        v = ctx.attr(name)
        if v is not None:
            ctx.dtypes[0] = dtype
            if isinstance(v, list):
                ctx.values[0] = tuple(v)
                return [(len(v),)]
            ctx.values[0] = (v,)
            return [()]
    raise Fail()


@rule("ConstantOfShape")
def _constant_of_shape(ctx: Ctx) -> list[Shape]:
    ctx.dtypes[0] = "float32"
    v = ctx.value(0)
    if v is not None and not any(type(d) is float for d in v):  # floats: a type error, reported
        return [tuple(norm(d) for d in v)]
    s = ctx.shape(0)
    if len(s) != 1 or type(s[0]) is not int:
        raise Fail()
    return [(None,) * s[0]]


@rule("Range")
def _range(ctx: Ctx) -> list[Shape]:
    vals = [ctx.value(i) for i in range(3)]
    if any(v is None or len(v) != 1 for v in vals):
        return [(None,)]
    raw = [v[0] for v in vals]
    if all(isinstance(x, (int, float)) for x in raw):
        start, limit, delta = raw
        if delta == 0 or not all(math.isfinite(x) for x in raw):
            raise Fail()
        n = max(math.ceil((limit - start) / delta), 0)
        if all(type(x) is int for x in raw) and ctx.dtype(0) == "int64" and n <= 4096:
            ctx.values[0] = tuple(range(start, limit, delta))
        return [(n,)]
    start, limit, delta = (norm(x) for x in raw)
    return [(ceildiv(sub(limit, start), delta) if type(delta) is int and delta > 0 else None,)]
