"""Elementwise ops: numpy broadcasting across operands, and ops that keep their input's shape."""
from __future__ import annotations

from collections.abc import Callable

from agrippa.sema.dtypes import ELEM_TYPE_NAMES
from agrippa.sema.shapes.context import RANK, Ctx, Fail, rule
from agrippa.sema.shapes.dims import (
    DIFFERENT,
    MAYBE,
    UNKNOWN,
    Shape,
    add,
    compare,
    format_dim,
    format_shape,
    is_one,
    mul,
    sub,
)

BROADCAST = ("Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd",
             "BitwiseOr", "BitwiseXor", "Max", "Min", "Sum", "Mean")
COMPARISONS = ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor")
UNARY = ("Relu", "Sqrt", "Exp", "Log", "Tanh", "Sigmoid", "Erf", "Neg", "Abs", "LeakyRelu", "Gelu",
         "Identity", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Softplus", "Softsign",
         "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
         "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Mish", "Shrink", "ThresholdedRelu",
         "BitwiseNot", "Bernoulli", "Swish")
UNARY_BOOL = ("Not", "IsNaN", "IsInf")
WITH_AXIS = ("Softmax", "LogSoftmax", "Hardmax", "LpNormalization")


def broadcast(ctx: Ctx, indices: list[int]) -> tuple:
    """The numpy broadcast of the inputs at `indices` (all must be known)."""
    shapes = [ctx.shape(i) for i in indices]
    out = shapes[0]
    for k in range(1, len(shapes)):
        out = broadcast_pair(ctx, out, shapes[k], indices[k], indices[k - 1])
    return out


def broadcast_pair(ctx: Ctx, a: tuple, b: tuple, at: int | None, other: int | None,
                   message: Callable[[], str] | None = None) -> tuple:
    """Broadcast two shapes; `message` says what failed (default: cannot broadcast a with b)."""
    if a == b:
        return a
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    maybe: list[str] = []
    for x, y in zip(pa, pb):
        if x is y or is_one(y):
            out.append(x)
            continue
        if is_one(x):
            out.append(y)
            continue
        c = compare(x, y)
        if c is DIFFERENT:
            ctx.error(message() if message else _cannot(ctx, a, b), at, other)
        if c is MAYBE:
            maybe.append(f"{format_dim(x)} = {format_dim(y)}")
        if c is UNKNOWN:
            known = x if x is not None else y
            out.append(None if is_one(known) else known)
        else:
            out.append(x if type(x) is int or type(y) is not int else y)
    if maybe:
        text = message() if message else _cannot(ctx, a, b)
        ctx.warn(f"{text} (unless {', '.join(maybe)})", at, other)
    return tuple(out)


def _cannot(ctx: Ctx, a: tuple, b: tuple) -> str:
    return f"{ctx.op}: cannot broadcast {format_shape(a)} with {format_shape(b)}"


@rule(*BROADCAST)
def _broadcast(ctx: Ctx) -> list[Shape]:
    ins = ctx.node.inputs
    if len(ins) == 2:  # the common case, kept quick
        a, b = ins[0].tensor.shape, ins[1].tensor.shape
        if a is None or b is None:
            raise Fail()
        out = a if a == b else broadcast_pair(ctx, a, b, 1, 0)
        if len(out) <= 1 and ctx.op in ARITH:  # shape arithmetic (Shape, a frozen parameter, ...)
            _arith_values(ctx)
        return [out]
    return [broadcast(ctx, [i for i in range(len(ins)) if ctx.present(i)])]


ARITH = {"Add": add, "Sub": sub, "Mul": mul}
_INT_BOUND = 1 << 62  # past it int64 arithmetic may wrap at run time: not followed


def _arith_values(ctx: Ctx) -> None:
    """The contents of Add, Sub or Mul of two small integer vectors (or scalars) when both are known."""
    if ctx.dtype(0) not in ("int64", "int32") or ctx.dtype(1) != ctx.dtype(0):
        return
    x, y = ctx.value(0), ctx.value(1)
    if x is None or y is None or not x or not y or (len(x) != len(y) and 1 not in (len(x), len(y))):
        return
    n = max(len(x), len(y))
    fn = ARITH[ctx.op]
    out = tuple(fn(x[i if len(x) > 1 else 0], y[i if len(y) > 1 else 0]) for i in range(n))
    if all(type(v) is not int or -_INT_BOUND < v < _INT_BOUND for v in out):
        ctx.values[0] = out


@rule("Mod")
def _mod(ctx: Ctx) -> list[Shape]:
    if ctx.run.graph.opset < 28 and ctx.dtype(0).startswith(("float", "bfloat")) and ctx.attr("fmod", 0) != 1:
        ctx.error("Mod: floating-point operands need fmod=\"1\" before opset 28 (onnxruntime refuses "
                  "the node otherwise)", at="fmod" if "fmod" in ctx.node.attributes else None, code="type-mismatch")
    return _broadcast(ctx)


@rule("PRelu")
def _prelu(ctx: Ctx) -> list[Shape]:
    """The slope broadcasts to X one way: the output is X's shape."""
    x, slope = ctx.shape(0), ctx.shape(1)
    message = lambda: f"PRelu: the slope {format_shape(slope)} does not broadcast to X {format_shape(x)}"  # noqa: E731
    if len(slope) > len(x):
        ctx.error(message(), 1, 0)
    out = broadcast_pair(ctx, x, slope, 1, 0, message)
    if any(type(d) is int and type(o) is int and d != o for d, o in zip(x, out)):
        ctx.error(message(), 1, 0)
    return [x]


@rule("MeanVarianceNormalization")
def _mvn(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    ctx.axes(list(ctx.attr("axes", [0, 2, 3])), len(s), "axes" if "axes" in ctx.node.attributes else 0, s)
    return [s]


@rule("Clip")
def _clip(ctx: Ctx) -> list[Shape]:
    for i, name in ((1, "min"), (2, "max")):
        t = ctx.tensor(i)
        if t is not None and t.shape is not None and len(t.shape) != 0 and t.shape != (1,):
            ctx.error(f"Clip: {name} must be a scalar, got shape {format_shape(t.shape)}",
                      at=name if name in ctx.node.origin.element.attrs else i, code=RANK)
    return [ctx.shape(0)]


@rule(*COMPARISONS)
def _compare(ctx: Ctx) -> list[Shape]:
    ctx.dtypes[0] = "bool"
    return [broadcast(ctx, list(range(ctx.n_inputs)))]


@rule("Where")
def _where(ctx: Ctx) -> list[Shape]:
    ctx.dtypes[0] = ctx.dtype(1)
    return [broadcast(ctx, [0, 1, 2])]


@rule(*UNARY)
def _unary(ctx: Ctx) -> list[Shape]:
    return [ctx.shape(0)]


@rule("Trilu")
def _trilu(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    if len(s) < 2:
        ctx.error(f"Trilu: the input must be a matrix or a batch of matrices (rank 2 or more), got {format_shape(s)}",
                  at=0, code=RANK)
    return [s]


@rule(*UNARY_BOOL)
def _unary_bool(ctx: Ctx) -> list[Shape]:
    ctx.dtypes[0] = "bool"
    return [ctx.shape(0)]


@rule("Dropout")
def _dropout(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    ctx.dtypes[1] = "bool"
    return [s, s]


@rule("Cast")
def _cast(ctx: Ctx) -> list[Shape]:
    to = ctx.attr("to")
    if to in ELEM_TYPE_NAMES:
        ctx.dtypes[0] = ELEM_TYPE_NAMES[to]
    v = ctx.value(0)
    if v is not None and to in (6, 7):
        ctx.values[0] = v
    return [ctx.shape(0)]


@rule("CastLike")
def _cast_like(ctx: Ctx) -> list[Shape]:
    ctx.dtypes[0] = ctx.dtype(1)
    return [ctx.shape(0)]


@rule(*WITH_AXIS)
def _with_axis(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    default = 1 if ctx.op != "LpNormalization" and ctx.run.graph.opset < 13 else -1
    ctx.axis(ctx.attr("axis", default), len(s), shape=s)
    return [s]


@rule("InstanceNormalization")
def _instance_norm(ctx: Ctx) -> list[Shape]:
    s = ctx.shape(0)
    if len(s) < 3:
        ctx.error(f"InstanceNormalization: the input must be [N, C, ...], got {format_shape(s)}",
                  at=0, code=RANK)
    for i, name in ((1, "scale"), (2, "B")):
        p = ctx.opt_shape(i)
        if p is not None:
            if len(p) != 1:
                ctx.error(f"InstanceNormalization: {name} must be [C], got {format_shape(p)}", at=i,
                          other=0, code=RANK)
            ctx.agree(p[0], s[1], lambda p=p, name=name: f"InstanceNormalization: {name} has shape "
                      f"{format_shape(p)} but the input has {format_dim(s[1])} channels", at=i, other=0)
    return [s]
