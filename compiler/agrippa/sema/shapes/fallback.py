"""Ops without a hand-written rule: ONNX's own shape inference, run on the node alone.

Symbolic dims travel through ONNX as `dim_param` placeholders and come back as the user's
expressions where ONNX passes them through. Results are memoised by everything that can
change them (op, opset, attributes, input types and shapes, constant inputs), so a model
with many copies of one layer asks ONNX once.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
from onnx import TensorProto, defs, helper, numpy_helper, shape_inference

from agrippa.sema.dtypes import ELEM_TYPE_CODES, ELEM_TYPE_NAMES, type_str_name
from agrippa.sema.shapes.context import SHAPE_ERROR, Ctx, Fail
from agrippa.sema.shapes.dims import Shape

_CACHE: dict[tuple, list | str] = {}
_CACHE_MAX = 4096
_PREFIX_RE = re.compile(r"^\[\w+\]\s*(\(op_type:[^)]*\):\s*)?")


def fallback(ctx: Ctx) -> list[Shape]:
    node = ctx.node
    opset = ctx.run.graph.opset
    if node.domain not in ("", "ai.onnx"):
        raise Fail()
    try:
        schema = defs.get_schema(node.op, opset, "")
    except defs.SchemaError:
        raise Fail() from None
    syms: dict[Any, str] = {}
    inputs: list[tuple | None] = []
    data: list[np.ndarray | None] = []
    for i, use in enumerate(node.inputs):
        t = use.tensor
        if not t.name:
            inputs.append(None)
            data.append(None)
            continue
        if t.shape is None:
            raise Fail()
        dims = tuple(d if d is None or type(d) is int else syms.setdefault(d, f"s{len(syms)}")
                     for d in t.shape)
        inputs.append((t.dtype, dims))
        data.append(_data(ctx, i, t.shape))
    key = (node.op, opset, tuple((k, repr(a.value)) for k, a in node.attributes.items()),
           tuple(inputs), tuple(None if a is None else (a.dtype.str, a.shape, a.tobytes()) for a in data),
           len(node.outputs))
    result = _CACHE.get(key)
    if result is None:
        result = _infer(schema, ctx, inputs, data, set(syms.values()))
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = result
    if isinstance(result, str):
        ctx.error(f"{node.op}: {result}", code=SHAPE_ERROR)
    back = {v: k for k, v in syms.items()}
    out: list[Shape] = []
    for k, r in enumerate(result):
        if r is None:
            out.append(None)
            continue
        elem, dims = r
        if elem in ELEM_TYPE_NAMES:
            ctx.dtypes[k] = ELEM_TYPE_NAMES[elem]
        out.append(None if dims is None else tuple(back.get(d) if isinstance(d, str) else d for d in dims))
    return out


def _data(ctx: Ctx, i: int, shape: tuple) -> np.ndarray | None:
    t = ctx.tensor(i)
    c = ctx.run.graph.constants.get(t.name) if t is not None else None
    if c is not None:
        return c.value
    folded = ctx.run.folded
    if folded and t is not None and t.name in folded:  # a frozen parameter's value, of its own type
        return folded[t.name] if _accepts(ctx, i, t.dtype) else None
    v = ctx.value(i)
    if v is None or not all(type(x) is int for x in v) or not all(type(d) is int for d in shape):
        return None
    arr = np.asarray(v, dtype=np.int64)
    return arr.reshape(shape) if arr.size == int(np.prod(shape)) else None


def _accepts(ctx: Ctx, i: int, dtype: str) -> bool:
    """Input i of the node's op takes `dtype` (else the type error is reported, and the value
    is not shown to ONNX, which would say it again)."""
    try:
        ins = defs.get_schema(ctx.op, ctx.run.graph.opset, "").inputs
    except defs.SchemaError:
        return False
    if not ins:
        return False
    formal = ins[min(i, len(ins) - 1)]
    return any(type_str_name(x) == dtype for x in formal.types)


def _infer(schema: defs.OpSchema, ctx: Ctx, inputs: list, data: list, placeholders: set[str]) -> list | str:
    node = ctx.node
    names = ["" if x is None else f"i{k}" for k, x in enumerate(inputs)]
    outs = [f"o{k}" for k in range(len(node.outputs))]
    proto = helper.make_node(node.op, names, outs)
    try:
        proto.attribute.extend(a.to_proto() for a in node.attributes.values())
        types = {n: helper.make_tensor_type_proto(ELEM_TYPE_CODES.get(x[0], TensorProto.FLOAT), list(x[1]))
                 for n, x in zip(names, inputs) if x is not None}
        consts = {n: numpy_helper.from_array(a, n) for n, a in zip(names, data) if a is not None}
        got = shape_inference.infer_node_outputs(
            schema, proto, types, consts, opset_imports=[helper.make_opsetid("", ctx.run.graph.opset)])
    except shape_inference.InferenceError as e:
        text = str(e)
        if "ShapeInferenceError" in text:
            return _PREFIX_RE.sub("", text.strip()).strip()
        return [None] * len(outs)
    except Exception:  # noqa: BLE001 - ONNX raises many kinds; the shapes then stay unknown
        return [None] * len(outs)
    result: list = []
    for name in outs:
        tp = got.get(name)
        if tp is None or not tp.HasField("tensor_type"):
            result.append(None)
            continue
        tt = tp.tensor_type
        dims = None
        if tt.HasField("shape"):
            dims = tuple(d.dim_value if d.HasField("dim_value")
                         else d.dim_param if d.dim_param in placeholders else None for d in tt.shape.dim)
        result.append((tt.elem_type, dims))
    return result
