"""The values of a few small tensors of a `.safetensors` weights file, for check.

Check reads a weights file's header only; the one exception is a frozen parameter small
enough to fold for shape inference (a Slice's bounds, a Reshape's shape: sema/shapes/frozen.py),
whose stored value compile would use. Those bytes alone are read, at the offsets the header
gives, as plain numbers: nothing is interpreted beyond the header's JSON. Pickles are never
read here (their values stay unknown to check), nor is anything outside the policy's paths.
"""
from __future__ import annotations

import json
import math
import os
import stat
import struct
from collections.abc import Iterable

import numpy as np

from agrippa.project.weights_header import MAX_HEADER, SAFETENSORS_SUFFIXES

_NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
       "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
"""safetensors dtype -> numpy (little-endian, as the format stores them)."""


def small_values(path: str, names: Iterable[str], max_entries: int) -> dict[str, np.ndarray]:
    """`name -> array` for each of `names` the file stores with at most `max_entries` entries
    in a plain numeric dtype; {} for another format or any malformed file. Never raises."""
    wanted = set(names)
    if not wanted or os.path.splitext(path)[1].lower() not in SAFETENSORS_SUFFIXES:
        return {}
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return {}
        with os.fdopen(fd, "rb", closefd=False) as f:
            return _read(f, wanted, max_entries, st.st_size)
    except (OSError, ValueError, TypeError, KeyError, struct.error):
        return {}
    finally:
        os.close(fd)


def _read(f, wanted: set[str], max_entries: int, size: int) -> dict[str, np.ndarray]:
    (n,) = struct.unpack("<Q", f.read(8))
    if n > MAX_HEADER or 8 + n > size:
        return {}
    head = json.loads(f.read(n))
    out: dict[str, np.ndarray] = {}
    for name in sorted(wanted):
        info = head.get(name) if isinstance(head, dict) else None
        if not isinstance(info, dict):
            continue
        dtype, shape, offsets = _NP.get(info.get("dtype")), info.get("shape"), info.get("data_offsets")
        if dtype is None or not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            continue
        count = math.prod(shape)
        if count > max_entries or not isinstance(offsets, list) or len(offsets) != 2:
            continue
        start, end = offsets
        if type(start) is not int or type(end) is not int or end - start != count * np.dtype(dtype).itemsize:
            continue
        if start < 0 or 8 + n + end > size:
            continue
        f.seek(8 + n + start)
        raw = f.read(end - start)
        out[name] = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return out
