"""Operands that must be vectors or scalars (axes, shapes, sizes, counts, bounds): onnxruntime
refuses a node whose such input has another rank, and ONNX's inference rarely says so. Checked
for every node before its shape rule (found by the differential fuzzer, tests/fuzz)."""
from __future__ import annotations

from agrippa.sema.shapes.context import RANK, Ctx
from agrippa.sema.shapes.dims import format_shape

_REDUCE = ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
VECTORS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(_REDUCE, (1,)), "Squeeze": (1,), "Unsqueeze": (1,), "Pad": (1, 3), "Split": (1,),
    "CenterCropPad": (1,), "Resize": (2, 3), "ConstantOfShape": (0,), "Slice": (1, 2, 3, 4), "Tile": (1,),
    "Reshape": (1,), "Expand": (1,),
}
"""op -> inputs that must be 1-D."""
SCALARS: dict[str, tuple[int, ...]] = {
    "Trilu": (1,), "HannWindow": (0,), "HammingWindow": (0,), "BlackmanWindow": (0,),
    "MelWeightMatrix": (0, 1, 2, 3, 4), "Range": (0, 1, 2), "STFT": (1, 3), "DFT": (1, 2),
    "NonMaxSuppression": (2, 3, 4), "OneHot": (1,), "CumSum": (1,), "Clip": (1, 2), "Dropout": (1, 2),
}
"""op -> inputs that must hold one value (0-D, or 1-D of one element)."""
ONE_ELEMENT_VECTORS: dict[str, tuple[int, ...]] = {"TopK": (1,)}
"""op -> inputs that must be 1-D of exactly one element."""


def check_operands(ctx: Ctx) -> None:
    op = ctx.op
    for i in VECTORS.get(op, ()):
        s = _shape(ctx, i)
        if s is not None and len(s) != 1:
            _error(ctx, i, "a 1-D tensor", s)
    for i in SCALARS.get(op, ()):
        s = _shape(ctx, i)
        if s is not None and (len(s) > 1 or len(s) == 1 and type(s[0]) is int and s[0] != 1):
            _error(ctx, i, "a single value (a scalar)", s)
    for i in ONE_ELEMENT_VECTORS.get(op, ()):
        s = _shape(ctx, i)
        if s is not None and (len(s) != 1 or type(s[0]) is int and s[0] != 1):
            _error(ctx, i, "a 1-D tensor of one element", s)


def _shape(ctx: Ctx, i: int) -> tuple | None:
    t = ctx.tensor(i)
    return None if t is None else t.shape


def _error(ctx: Ctx, i: int, what: str, s: tuple) -> None:
    from agrippa.sema.ops import get_op

    schema = get_op(ctx.op, ctx.run.graph.opset)
    name = schema.inputs[i].name if schema is not None and i < len(schema.inputs) else f"input {i + 1}"
    at = name if name in ctx.node.origin.element.attrs else i
    ctx.error(f"{ctx.op}: {name} must be {what}, got shape {format_shape(s)}", at=at, code=RANK)
