"""``.safetensors`` weight files: read memory-mapped into numpy arrays, written atomically
one array at a time (never a whole-file copy in memory)."""
from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from agrippa.backend.weights.atomic import atomic_writer
from agrippa.backend.weights.common import DEFAULT_MAX_BYTES, StrPath, Weights, WeightsError, short


def load_safetensors_weights(path: StrPath, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Weights:
    """Read a ``.safetensors`` file into numpy arrays."""
    from safetensors import safe_open

    from agrippa.project.files import stat_file

    path = Path(path)
    why = stat_file(str(path), max_bytes)  # a FIFO or device is never opened
    if why is not None:
        raise WeightsError(f"cannot read {path.name}: {why}")
    try:
        with safe_open(str(path), framework="np") as f:  # memory-mapped: one copy per array
            return {key: np.array(f.get_tensor(key)) for key in f.keys()}  # noqa: SIM118
    except Exception as exc:
        raise WeightsError(f"{path.name} is not a readable safetensors file: {exc}") from exc


_ST_DTYPES = {"f8": "F64", "f4": "F32", "f2": "F16", "i8": "I64", "i4": "I32", "i2": "I16", "i1": "I8",
              "u8": "U64", "u4": "U32", "u2": "U16", "u1": "U8", "b1": "BOOL", "c8": "C64"}
_ST_NAMED = {"bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2"}  # ml_dtypes' (kind "V")


def write_safetensors_weights(path: StrPath, weights: Mapping[str, Any]) -> None:
    """Write a ``.safetensors`` file atomically, streaming each array (no whole-file copy)."""
    arrays: list[tuple[str, np.ndarray]] = []
    header: dict[str, Any] = {}
    offset = 0
    for key in sorted(weights):
        if not isinstance(key, str):
            raise WeightsError(f"parameter name {short(key)} is not a string")
        a = np.asarray(weights[key])
        code = _ST_DTYPES.get(f"{a.dtype.kind}{a.dtype.itemsize}") or _ST_NAMED.get(a.dtype.name)
        if code is None:
            raise WeightsError(f"cannot store parameter {key!r} of dtype {a.dtype} as safetensors")
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        if not a.flags.c_contiguous:
            a = np.ascontiguousarray(a).reshape(a.shape)
        header[key] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append((key, a))
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with atomic_writer(path) as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for _, a in arrays:
            f.write(memoryview(a.reshape(-1).view(np.uint8)) if a.size else b"")  # ml_dtypes' types lack a buffer format
