"""Parameter values: taken from the weights file, or initialized (docs/language.md §6)."""
from __future__ import annotations

import math
import weakref

import numpy as np
from onnx import TensorProto, helper

from agrippa.sema.inits import FIXED_KINDS, INIT_KINDS  # noqa: F401 - INIT_KINDS importable from here too
from agrippa.sema.ir import Param

NP_DTYPES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
    "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "uint16": np.uint16,
    "uint32": np.uint32, "uint64": np.uint64, "bool": np.bool_,
    "bfloat16": helper.tensor_dtype_to_np_dtype(TensorProto.BFLOAT16),  # ml_dtypes' (an onnx dependency)
}


FRAME = 16
"""Spare bytes kept in front of a fresh parameter's data, so the ONNX back end can parse a
protobuf field (key and length, at most 11 bytes) straight from the array's memory
instead of copying it first (`onnx_export.fill_tensor`)."""
_FRAMED: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


class InitError(Exception):
    pass


def framed_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialized C-contiguous array with FRAME spare bytes before its data."""
    dtype = np.dtype(dtype)
    owner = np.empty(FRAME + math.prod(shape) * dtype.itemsize, np.uint8)
    _FRAMED[id(owner)] = owner
    return owner[FRAME:].view(dtype).reshape(shape)


def frame_of(arr: np.ndarray) -> np.ndarray | None:
    """The uint8 buffer holding all of `arr` after FRAME spare bytes, if `framed_empty` made it."""
    owner = arr.base
    if owner is None or _FRAMED.get(id(owner)) is not owner:
        return None
    if (not arr.flags.c_contiguous or not arr.dtype.isnative or arr.nbytes != owner.nbytes - FRAME
            or arr.ctypes.data != owner.ctypes.data + FRAME):
        return None
    return owner


def initial_value(p: Param, rng: np.random.Generator) -> np.ndarray:
    """A fresh value for `p`, drawn as the original package draws it."""
    shape = tuple(int(d) for d in p.dims)
    dtype = NP_DTYPES.get(p.dtype, np.float32)
    args = [float(a) for a in p.init_args]
    kind = p.init
    if kind == "xavier":
        if len(shape) >= 2:
            std = math.sqrt(2.0 / (shape[-1] + shape[-2])) if shape[-1] + shape[-2] else 1.0
        elif len(shape) == 1:
            std = math.sqrt(shape[0])  # sic: the original's rank-1 rule, kept for compatibility
        else:
            std = 1.0
        return _normal(rng, shape, 0.0, std, dtype)
    if kind == "normal":
        mean, std = (args + [0.0, 1.0][len(args):])[:2] if len(args) < 2 else args[:2]
        return _normal(rng, shape, mean, std, dtype)
    if kind == "uni_random":
        a, b = args[:2] if len(args) >= 2 else (-1.0, 1.0)
        return rng.uniform(a, b, size=shape).astype(dtype, copy=False)
    if kind in ("ones", "zeros", "constant"):
        if kind == "constant" and len(args) != 1:
            raise InitError(f"init=\"constant\" takes one value in init_args, got {len(args)}")
        out = framed_empty(shape, dtype)
        out.fill(FIXED_KINDS.get(kind, args[0] if args else 0))  # check folds the same (sema/inits.py)
        return out
    raise InitError(f"unknown init '{kind}'")


def _normal(rng: np.random.Generator, shape: tuple, mean: float, std: float, dtype) -> np.ndarray:
    if np.dtype(dtype) in (np.float32, np.float64):
        out = rng.standard_normal(dtype=dtype, out=framed_empty(shape, dtype))
        if std != 1.0:
            out *= dtype(std)
        if mean:
            out += dtype(mean)
        return out
    return (rng.standard_normal(shape) * std + mean).astype(dtype)


def stored_value(p: Param, stored: np.ndarray) -> np.ndarray:
    """The weights file's value for `p`, reshaped to its dim; raises InitError on mismatch."""
    shape = tuple(int(d) for d in p.dims)
    arr = np.asarray(stored)
    if arr.size != math.prod(shape):
        raise InitError(f"the weights file holds '{p.name}' with shape {list(arr.shape)}, but the markup "
                        f"declares dim {list(shape)}; fix the dim or recompile with reinit")
    dtype = NP_DTYPES.get(p.dtype, np.float32)
    return arr.reshape(shape).astype(dtype, copy=False)
