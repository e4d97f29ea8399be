"""Element types: the names markup writes (`type="float32"`) and their ONNX codes.

Type and shape inference read and name types with these; the back end writes them into
the ONNX graph. A name outside `DTYPES` is read as float32 (and is a schema error).
"""
from __future__ import annotations

from onnx import TensorProto, helper

ONNX_TYPES = {
    "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
    "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL,
}
"""Each markup element type → its ONNX code."""
DTYPES = tuple(ONNX_TYPES)
"""The element types markup may write."""
TYPE_NAMES = {code: name for name, code in ONNX_TYPES.items()}
"""ONNX code → markup name, for the types markup can write."""
_RENAME = {"float": "float32", "double": "float64"}
ELEM_TYPE_NAMES = {code: _RENAME.get(name.lower(), name.lower())
                   for name, code in TensorProto.DataType.items() if code != TensorProto.UNDEFINED}
"""ONNX code → name for every element type ONNX has (Cast may produce any of them)."""
ELEM_TYPE_CODES = {name: code for code, name in ELEM_TYPE_NAMES.items()}
"""Name → ONNX code, for every element type ONNX has."""
ORDER = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
         "uint8", "uint16", "uint32", "uint64", "bool")
"""The markup types in the order messages list them."""


NP_TYPES = {name: helper.tensor_dtype_to_np_dtype(code) for name, code in ONNX_TYPES.items()}
"""Markup name → numpy dtype (bfloat16 is ml_dtypes', which onnx depends on)."""


def type_str_name(type_str: str) -> str | None:
    """`tensor(float)` → `float32`; None for a type that is not a tensor (seq, optional, ...)."""
    if not type_str.startswith("tensor(") or not type_str.endswith(")"):
        return None
    name = type_str[7:-1]
    return _RENAME.get(name, name)


def np_dtype_name(dtype: object) -> str | None:
    """A numpy dtype's element type name (None when ONNX has no such type)."""
    try:
        return ELEM_TYPE_NAMES.get(helper.np_dtype_to_tensor_dtype(dtype))
    except (KeyError, TypeError, ValueError):
        return None
