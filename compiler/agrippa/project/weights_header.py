"""What a weights file holds — each parameter's shape and element type — read from its
header, never its data, and without running code.

- ``.safetensors``: the JSON header (shapes and dtypes) after its 8-byte length.
- ``.pkl``/``.pickle``: the pickle interpreted by `pickle_shapes.py`, its byte payloads
  skipped; torch.save's zip format reads only `data.pkl` (storages stay in the archive),
  its legacy format only the pickles before the raw data.

`agrippa check` and the editor call `read_header` on every analysis, so results are kept
per file (path, size, mtime). The backend's full reader shares `weights_path` and the
budget scan (`pickle_budget.py`).
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from agrippa.project.pickle_budget import DEFAULT_MAX_BYTES, SLACK
from agrippa.project.pickle_shapes import (
    TORCH_STEMS,
    Shape,
    ShapesRefused,
    ShapesUnknown,
    Storage,
    itemsize,
    pickle_shapes,
)

WEIGHTS_PKL = "weights.pkl"
WEIGHTS_SAFETENSORS = "weights.safetensors"
PICKLE_SUFFIXES = (".pkl", ".pickle")
SAFETENSORS_SUFFIXES = (".safetensors",)
MAX_HEADER = 100 * 1024**2  # safetensors' own limit on its JSON header
MAX_PICKLE_RECORD = 64 * 1024**2  # a torch archive's data.pkl larger than this is not read for shapes
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_ST_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
              "I32": "int32", "I16": "int16", "I8": "int8", "U64": "uint64", "U32": "uint32", "U16": "uint16",
              "U8": "uint8", "BOOL": "bool", "F8_E4M3": "float8e4m3fn", "F8_E5M2": "float8e5m2",
              "C64": "complex64"}


@dataclass
class Header:
    """A weights file's parameters: name -> (shape, dtype name or None). `error` says why the
    loader would refuse the file; `unknown` why its shapes could not be read cheaply."""

    entries: dict[str, tuple[tuple[int, ...], str | None]] = field(default_factory=dict)
    error: str | None = None
    unknown: str | None = None


def weights_path(project_dir: str, configured: str | None = None) -> str:
    """The project's weights file: configured, else an existing weights.pkl, else safetensors."""
    if configured:
        return os.path.join(project_dir, configured)
    pkl = os.path.join(project_dir, WEIGHTS_PKL)
    if os.path.exists(pkl):
        return pkl
    return os.path.join(project_dir, WEIGHTS_SAFETENSORS)


_CACHE: dict[tuple, Header] = {}


def read_header(path: str) -> Header:
    """The shapes in the weights file at `path` (a regular file; FIFOs and devices are never
    opened). Never raises; kept per file version."""
    name = os.path.basename(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        return Header(error=f"cannot read {name}: {e.strerror}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Header(error=f"{name} is not a regular file; it is not read")
        key = (os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns)
        if key in _CACHE:
            return _CACHE[key]
        with os.fdopen(fd, "rb", closefd=False) as f:
            header = _read(f, name, st.st_size)
    finally:
        os.close(fd)
    if len(_CACHE) >= 16:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = header
    return header


def _read(f: IO[bytes], name: str, size: int) -> Header:
    suffix = os.path.splitext(name)[1].lower()
    if size > DEFAULT_MAX_BYTES:
        return Header(error=f"{name} is over the {DEFAULT_MAX_BYTES}-byte limit")
    try:
        if suffix in SAFETENSORS_SUFFIXES:
            return Header(safetensors_shapes(f, name, size))
        if suffix in PICKLE_SUFFIXES:
            return Header(_pickle_file_shapes(f, name, size))
        return Header(error=f"{name}: unknown weights format {suffix!r} (expected .pkl, .pickle or .safetensors)")
    except ShapesUnknown as e:
        return Header(unknown=f"the shapes in {name} are not checked: {e}")
    except ShapesRefused as e:
        why = str(e)
        return Header(error=why if why.startswith(name) else f"{name} is not a plain weights file: {why}")
    except Exception as e:  # truncated or malformed: many exception types
        return Header(error=f"{name} is not a readable weights file: {type(e).__name__}: {str(e)[:120]}")


def safetensors_shapes(f: IO[bytes], name: str, size: int) -> dict[str, tuple[tuple[int, ...], str | None]]:
    raw = f.read(8)
    if len(raw) != 8:
        raise ShapesRefused("too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw)
    if n > MAX_HEADER or 8 + n > size:
        raise ShapesRefused(f"its header claims {n:,} bytes")
    head = json.loads(f.read(n))
    if not isinstance(head, dict):
        raise ShapesRefused("its header is not a JSON object")
    out = {}
    for key, info in head.items():
        if key == "__metadata__":
            continue
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list):
            raise ShapesRefused(f"malformed header entry for {str(key)[:40]!r}")
        dims = info["shape"]
        if len(dims) > 64 or not all(type(d) is int and d >= 0 for d in dims):
            raise ShapesRefused(f"malformed shape for {str(key)[:40]!r}")
        offsets = info.get("data_offsets")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] or 8 + n + offsets[1] > size):
            raise ShapesRefused(f"the data of {str(key)[:40]!r} lies outside the file (truncated?)")
        out[key] = (tuple(dims), _ST_DTYPES.get(str(info.get("dtype"))))
    return out


def _pickle_file_shapes(f: IO[bytes], name: str, size: int) -> dict[str, tuple[tuple[int, ...], str | None]]:
    entries = _entries(_torch_file(f, name, True))
    total = sum(math.prod(dims) * itemsize(dtype) for dims, dtype in entries.values())
    if total > 4 * size + SLACK:  # the loader's budget
        raise ShapesRefused(f"{name} expands to far more array data than the file holds")
    return entries


def _torch_file(f: IO[bytes], name: str, outer: bool) -> Any:
    """A plain pickle, or torch.save's zip or legacy format (its object record only)."""
    nested = (lambda data: _nested(data, name)) if outer else None
    magic = f.read(2)
    f.seek(0)
    if magic == b"PK":
        return _torch_zip(f, name, nested)
    obj = pickle_shapes(f, name, None, nested)
    if type(obj) is int and obj == TORCH_MAGIC:
        pickle_shapes(f, name)  # protocol
        pickle_shapes(f, name)  # sys info
        obj = pickle_shapes(f, name, _storage, nested)
    return obj


def _nested(data: bytes, name: str) -> Storage:
    """torch storage bytes inside a pickle: a whole torch file holding one storage."""
    obj = _torch_file(io.BytesIO(data), name, False)
    if not isinstance(obj, Storage):
        raise ShapesRefused("embedded torch storage bytes hold something other than a storage")
    return obj


def _storage(pid: Any) -> Storage:
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
        raise ShapesRefused("it refers to something other than tensor data")
    kind, numel = pid[1], pid[4]
    view = pid[5] if len(pid) == 6 else None
    if isinstance(view, tuple) and len(view) == 3 and type(view[2]) is int:
        numel = view[2]
    return Storage(kind.dtype if isinstance(kind, Storage) else None, numel if type(numel) is int else None)


def _torch_zip(f: IO[bytes], name: str, nested: Any) -> Any:
    with zipfile.ZipFile(f) as archive:
        pickles = [n for n in archive.namelist() if re.fullmatch(r"[^/]+/data\.pkl", n)]
        if len(pickles) != 1:
            raise ShapesRefused("a torch zip archive needs exactly one data.pkl")
        info = archive.getinfo(pickles[0])
        if info.file_size > MAX_PICKLE_RECORD:
            raise ShapesUnknown(f"its data.pkl is over {MAX_PICKLE_RECORD >> 20} MB")
        with archive.open(info) as member:
            record = member.read(info.file_size + 1)
        if len(record) != info.file_size:
            raise ShapesRefused("its data.pkl has the wrong size")
    return pickle_shapes(io.BytesIO(record), name, _storage, nested)


def _entries(obj: Any) -> dict[str, tuple[tuple[int, ...], str | None]]:
    if not isinstance(obj, dict):
        raise ShapesRefused("it does not hold a dict of arrays")
    out = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise ShapesRefused("it has a non-string parameter name")
        if isinstance(value, Shape):
            if value.dims is None:
                raise ShapesRefused(f"the array {key[:40]!r} is declared but never filled in")
            out[key] = (value.dims, value.dtype)
        elif isinstance(value, bool | int | float):
            out[key] = ((), "bool" if isinstance(value, bool) else "int64" if isinstance(value, int) else "float64")
        else:
            raise ShapesRefused(f"parameter {key[:40]!r} is not an array")
    return out


__all__ = ["PICKLE_SUFFIXES", "SAFETENSORS_SUFFIXES", "TORCH_STEMS", "WEIGHTS_PKL", "WEIGHTS_SAFETENSORS",
           "Header", "read_header", "safetensors_shapes", "weights_path"]
