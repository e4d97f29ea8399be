"""Element types: the names markup writes (`type="float32"`) and their ONNX codes.

Shape inference reads and names types with these; the back end writes them into the
ONNX graph. A name outside `DTYPES` is read as float32.
"""
from __future__ import annotations

from onnx import TensorProto

ONNX_TYPES = {
    "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
    "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
    "bool": TensorProto.BOOL,
}
"""Each markup element type → its ONNX code."""
DTYPES = tuple(ONNX_TYPES)
"""The element types markup may write."""
TYPE_NAMES = {code: name for name, code in ONNX_TYPES.items()}
"""ONNX code → markup name, for the types markup can write."""
ELEM_TYPE_NAMES = {**TYPE_NAMES, TensorProto.UINT32: "uint32", TensorProto.UINT64: "uint64"}
"""ONNX code → name for every type an op (Cast) may produce that shapes keep track of."""
