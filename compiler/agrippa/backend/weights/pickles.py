"""``weights.pkl``: read by a restricted unpickler that rebuilds numpy arrays and torch
tensors (the latter without importing torch) and refuses any other name a pickle asks
for; written as a plain-pickle dict of numpy arrays, as the original package reads."""
from __future__ import annotations

import io
import pickle
import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from math import prod
from pathlib import Path
from typing import IO, Any

import numpy as np

from agrippa.backend.weights.atomic import atomic_write_bytes
from agrippa.backend.weights.budget import check_budget
from agrippa.backend.weights.common import (
    DEFAULT_MAX_BYTES,
    SLACK,
    StrPath,
    Weights,
    WeightsError,
    checked_dims,
    native_copy,
    short,
)
from agrippa.backend.weights.inert import (
    CALLS,
    NDARRAY,
    OBJECTS,
    TENSOR,
    TENSOR_BUILDERS,
    Array,
    Dtype,
    Kind,
    Storage,
)
from agrippa.backend.weights.torch_formats import TORCH_MAGIC, torch_legacy, torch_zip

_PLAIN_DTYPE = re.compile(r"[biufc]\d{1,2}")


class Unpickler(pickle.Unpickler):
    """Unpickler that resolves names only through the reader's allow-list."""

    def __init__(self, file: IO[bytes], reader: Reader,
                 persistent: Callable[[Any], Any] | None) -> None:
        super().__init__(file, encoding="latin1")
        self._reader, self._persistent = reader, persistent

    def find_class(self, module: str, name: str) -> Any:
        return self._reader.lookup(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise WeightsError(f"{self._reader.name} refers to data outside itself "
                               f"({short(pid)}); it is not a plain weights file")
        return self._persistent(pid)


class Reader:
    """One load: the file's name for messages, the output budget, and the allowed callables."""

    def __init__(self, name: str, budget: int) -> None:
        self.name, self.budget, self.nested = name, budget, False

    # -- plumbing

    def lookup(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in CALLS:
            return getattr(self, CALLS[key])
        if key in OBJECTS:
            return OBJECTS[key]
        raise WeightsError(f"{self.name} asks to run '{module}.{name}'; "
                           "refusing to load it: it is not a plain weights file")

    def charge(self, nbytes: int) -> None:
        self.budget -= nbytes
        if self.budget < 0:
            raise WeightsError(f"{self.name} expands to far more array data than the file holds; "
                               "refusing to load it")

    def unpickle(self, file: IO[bytes], persistent: Callable[[Any], Any] | None = None) -> Any:
        check_budget(file, self.name)  # refuse a pickle whose objects or hashing would never end
        return Unpickler(file, self, persistent).load()

    def load(self, data: bytes) -> Any:
        """Load a whole file: a plain pickle, or torch.save's zip or legacy format."""
        if data[:2] == b"PK":
            return torch_zip(self, data)
        file = io.BytesIO(data)
        obj = self.unpickle(file)
        if type(obj) is int and obj == TORCH_MAGIC:
            return torch_legacy(self, file, data)
        return obj

    # -- numpy

    def np_dtype(self, spec: Any, align: Any = False, copy: Any = False) -> Dtype:
        if isinstance(spec, str) and _PLAIN_DTYPE.fullmatch(spec):
            with suppress(TypeError):
                return Dtype(np.dtype(spec))
        raise WeightsError(f"{self.name} holds an array of dtype {short(spec)}; "
                           "only plain numeric arrays are weights (object arrays are refused)")

    def codecs_encode(self, text: Any, encoding: Any = "utf-8") -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise WeightsError("malformed byte string in pickle")
        return text.encode("latin1")

    def empty_bytes(self) -> bytes:
        return b""

    def from_raw(self, raw: Any, dtype: Any, shape: Any, fortran: bool) -> np.ndarray:
        if not isinstance(dtype, Dtype):
            raise WeightsError(f"malformed array dtype: {short(dtype)}")
        if isinstance(raw, str):
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes | bytearray):
            raise WeightsError("array data is not raw bytes; only numeric arrays are weights")
        dims, dt = checked_dims(shape, "array shape"), dtype.dtype
        count = prod(dims)
        if count * dt.itemsize != len(raw):
            raise WeightsError(f"an array declares {count * dt.itemsize} bytes "
                               f"but its data holds {len(raw)}")
        self.charge(len(raw))
        flat = np.frombuffer(raw, dtype=dt) if count else np.empty(0, dt)
        return native_copy(flat.reshape(dims, order="F" if fortran else "C"))

    def ndarray_state(self, state: Any) -> np.ndarray:
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise WeightsError("malformed numpy array state")
        shape, dtype, fortran, raw = state
        return self.from_raw(raw, dtype, shape, bool(fortran))

    def np_reconstruct(self, cls: Any, shape: Any = (0,), typecode: Any = b"b") -> Array:
        if cls is not NDARRAY:
            raise WeightsError(f"{self.name} holds a numpy array subclass; only plain arrays "
                               "are weights")
        return Array(reader=self)

    def np_scalar(self, dtype: Any, data: Any = None) -> Array:
        return Array(self.from_raw(data, dtype, (), False))

    def np_frombuffer(self, buf: Any, dtype: Any, shape: Any, order: Any = "C") -> Array:
        raw = bytes(buf) if isinstance(buf, memoryview) else buf
        return Array(self.from_raw(raw, dtype, shape, order == "F"))

    # -- torch tensors

    def tensor(self, storage: Any, offset: Any, size: Any, stride: Any, kind: Kind | None,
               metadata: Any) -> Array:
        if not isinstance(storage, Storage):
            raise WeightsError(f"a tensor's storage is {short(storage)}, not torch storage data")
        dims, steps = checked_dims(size, "tensor size"), checked_dims(stride, "tensor stride")
        if type(offset) is not int or offset < 0 or len(dims) != len(steps):
            raise WeightsError("malformed tensor layout")
        kind = kind or storage.kind
        flags = metadata if isinstance(metadata, dict) else {}

        def make() -> np.ndarray:
            dtype = kind.dtype.newbyteorder(storage.order)
            buf = storage.buffer()
            held = len(buf) // dtype.itemsize
            count = prod(dims)
            if count and offset + sum((n - 1) * s for n, s in zip(dims, steps)) >= held:
                raise WeightsError(f"a tensor of size {dims} reaches past the end of its storage "
                                   f"({held} elements)")
            self.charge(count * dtype.itemsize)
            if count:
                view = np.ndarray(dims, dtype, buf, offset * dtype.itemsize,
                                  tuple(s * dtype.itemsize for s in steps))
            else:
                view = np.empty(dims, dtype)
            array = np.array(view, dtype=dtype.newbyteorder("="), order="C", copy=True)
            if kind.bfloat16:
                array = (array.astype(np.uint32) << 16).view(np.float32)
            if flags.get("conj"):
                array = np.conj(array)
            if flags.get("neg"):
                array = np.negative(array)
            return array

        return Array(make=make)

    def rebuild_tensor(self, storage: Any, offset: Any, size: Any, stride: Any) -> Array:
        return self.tensor(storage, offset, size, stride, None, None)

    def rebuild_tensor_v2(self, storage: Any, offset: Any, size: Any, stride: Any,
                          requires_grad: Any = False, hooks: Any = None,
                          metadata: Any = None) -> Array:
        return self.tensor(storage, offset, size, stride, None, metadata)

    def rebuild_tensor_v3(self, storage: Any, offset: Any, size: Any, stride: Any,
                          requires_grad: Any, hooks: Any, dtype: Any,
                          metadata: Any = None) -> Array:
        if not isinstance(dtype, Kind) or dtype.storage:
            raise WeightsError(f"malformed tensor dtype: {short(dtype)}")
        return self.tensor(storage, offset, size, stride, dtype, metadata)

    def rebuild_parameter(self, data: Any, requires_grad: Any = True, hooks: Any = None,
                          state: Any = None) -> Array:
        if not isinstance(data, Array):
            raise WeightsError("a torch Parameter does not wrap a tensor")
        return data

    def rebuild_from_type_v2(self, func: Any, cls: Any, args: Any, state: Any) -> Array:
        if (getattr(func, "__self__", None) is not self or func.__name__ not in TENSOR_BUILDERS
                or cls is not TENSOR or not isinstance(args, tuple)):
            raise WeightsError(f"{self.name} holds a tensor subclass; only plain tensors "
                               "are weights")
        return func(*args)

    # -- torch storage bytes

    def load_from_bytes(self, data: Any) -> Storage:
        """Stand-in for ``torch.storage._load_from_bytes``: parse, never run, the bytes."""
        if not isinstance(data, bytes | bytearray):
            raise WeightsError("torch storage bytes are not bytes")
        if self.nested:
            raise WeightsError("torch storage bytes nest further storage bytes; refusing")
        data, self.nested = bytes(data), True
        try:
            if data[:2] == b"PK":
                obj = torch_zip(self, data)
            else:
                file = io.BytesIO(data)
                if self.unpickle(file) != TORCH_MAGIC:
                    raise WeightsError("embedded torch storage has an unknown format")
                obj = torch_legacy(self, file, data)
        finally:
            self.nested = False
        if not isinstance(obj, Storage):
            raise WeightsError("embedded torch storage bytes hold something other than a storage")
        return obj


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    from agrippa.project.files import read_regular_bytes

    data, why = read_regular_bytes(str(path), max_bytes)  # a FIFO or device is never opened
    if data is None:
        if why is not None and why.code == "file-too-large":
            raise WeightsError(f"{path.name} is over the {max_bytes}-byte limit")
        raise WeightsError(f"cannot read {path.name}: {why}")
    return data


def _as_weights(obj: Any, name: str) -> Weights:
    if not isinstance(obj, dict):
        raise WeightsError(f"{name} holds a {type(obj).__name__.strip('_')}, "
                           "not a dict of arrays")
    weights: Weights = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsError(f"{name} has a non-string parameter name {short(key)}")
        if isinstance(value, Array):
            weights[key] = value.resolve()
        elif isinstance(value, bool | int | float):
            weights[key] = np.asarray(value)
        else:
            raise WeightsError(f"{name}: parameter {key!r} is a "
                               f"{type(value).__name__.strip('_')}, not an array")
    return weights


def load_pickle_weights(path: StrPath, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Weights:
    """Read a ``weights.pkl`` (numpy or torch tensors) without running any code from it."""
    path = Path(path)
    data = _read_bounded(path, max_bytes)
    try:
        return _as_weights(Reader(path.name, 4 * len(data) + SLACK).load(data), path.name)
    except WeightsError:
        raise
    except Exception as exc:  # truncated or malformed data surfaces as many exception types
        raise WeightsError(f"{path.name} is not a readable weights file: {exc}") from exc


def _clean(weights: Mapping[str, Any]) -> Weights:
    clean: Weights = {}
    for key, value in weights.items():
        if not isinstance(key, str):
            raise WeightsError(f"parameter name {short(key)} is not a string")
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            hint = ("; a .pkl holds plain numpy types only: name a .safetensors file in [model] weights"
                    if array.dtype.kind == "V" and array.dtype.names is None else "")
            raise WeightsError(f"parameter {key!r} has dtype {array.dtype}; "
                               f"only numeric arrays are weights{hint}")
        clean[key] = np.array(array, dtype=array.dtype.newbyteorder("="), order="C")
    return clean


def write_pickle_weights(path: StrPath, weights: Mapping[str, Any]) -> None:
    """Write a plain-pickle dict of numpy arrays, as the original Agrippa package reads."""
    atomic_write_bytes(path, pickle.dumps(_clean(weights), protocol=4))
