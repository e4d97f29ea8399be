"""Read and write Agrippa weight files without running code from them.

Weights map a parameter name (``"W$1"``, ``"enc$W$3"``) to a numpy array.
``weights.pkl`` files are read by a restricted unpickler that only rebuilds
numpy arrays and torch tensors (the latter without importing torch); any other
name a pickle asks for is refused with :class:`WeightsError`.

Limits: files over ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`, 4 GiB) are
refused, and the arrays a pickle yields may total at most four times the file's
size plus 64 MiB, so a small file cannot expand into a huge one through shared,
broadcast or compressed storage. Arrays come back as fresh, writable,
native-byte-order copies; torch bfloat16 tensors become float32.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import re
import secrets
import stat
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from math import prod
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Weights",
    "WeightsError",
    "atomic_write_bytes",
    "atomic_writer",
    "load_pickle_weights",
    "load_safetensors_weights",
    "load_weights",
    "save_weights",
    "write_pickle_weights",
    "write_safetensors_weights",
]

Weights = dict[str, np.ndarray]
StrPath = str | os.PathLike[str]

DEFAULT_MAX_BYTES = 4 * 1024**3
_SLACK = 64 * 1024**2
_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_PROTOCOL = 1001
_PLAIN_DTYPE = re.compile(r"[biufc]\d{1,2}")
_PICKLE_SUFFIXES = (".pkl", ".pickle")
_SAFETENSORS_SUFFIXES = (".safetensors",)


class WeightsError(Exception):
    """A weights file could not be read or written safely."""


# ---------------------------------------------------------------- objects a pickle may build


class _Inert:
    """Base of every object handed to a pickle stream: it refuses BUILD."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise WeightsError(f"unexpected state for {type(self).__name__.strip('_')}")


class _Marker(_Inert):
    """A class named by the file that is only ever compared against."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Kind(_Inert):
    """A torch storage class or torch dtype, as a little-endian numpy element type."""

    __slots__ = ("name", "dtype", "storage", "bfloat16")

    def __init__(self, name: str, dtype: str, storage: bool) -> None:
        self.name, self.storage = name, storage
        self.bfloat16 = "BFloat16" in name or name == "bfloat16"
        self.dtype = np.dtype("<u2" if self.bfloat16 else dtype)


class _Dtype(_Inert):
    """``numpy.dtype(...)`` as rebuilt from a pickle: plain numeric types only."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "|", "="):
            raise WeightsError("malformed numpy dtype state")
        if any(item is not None for item in state[2:5]):
            raise WeightsError("structured or sub-array numpy dtypes are not weights")
        if state[1] in "<>":
            self.dtype = self.dtype.newbyteorder(state[1])


class _Storage(_Inert):
    """Raw bytes of a torch storage (or a view of one), filled in when read."""

    __slots__ = ("kind", "nbytes", "order", "raw", "root", "start")

    def __init__(self, kind: _Kind, nbytes: int, order: str = "<", root: _Storage | None = None,
                 start: int = 0) -> None:
        self.kind, self.nbytes, self.order = kind, nbytes, order
        self.raw: memoryview | None = None
        self.root, self.start = root, start

    def buffer(self) -> memoryview:
        if self.root is not None:
            return self.root.buffer()[self.start : self.start + self.nbytes]
        if self.raw is None:
            raise WeightsError("a torch storage's data is missing from the file")
        return self.raw


class _Array(_Inert):
    """An array in the making: filled by numpy's BUILD state or built lazily from a storage."""

    __slots__ = ("value", "make", "reader")

    def __init__(self, value: np.ndarray | None = None, make: Callable[[], np.ndarray] | None = None,
                 reader: _Reader | None = None) -> None:
        self.value, self.make, self.reader = value, make, reader

    def __setstate__(self, state: Any) -> None:
        if self.reader is None or self.value is not None:
            raise WeightsError("unexpected state for an array")
        self.value = self.reader.ndarray_state(state)

    def resolve(self) -> np.ndarray:
        if self.value is None:
            if self.make is None:
                raise WeightsError("an array was declared but never filled in")
            self.value, self.make = self.make(), None
        return self.value


_NDARRAY = _Marker("numpy.ndarray")
_TENSOR = _Marker("torch.Tensor")

_TORCH_TYPES = {  # torch storage-class stem -> (numpy type, torch dtype names)
    "Float": ("<f4", ("float32", "float")),
    "Double": ("<f8", ("float64", "double")),
    "Half": ("<f2", ("float16", "half")),
    "BFloat16": ("<u2", ("bfloat16",)),
    "Long": ("<i8", ("int64", "long")),
    "Int": ("<i4", ("int32", "int")),
    "Short": ("<i2", ("int16", "short")),
    "Char": ("i1", ("int8",)),
    "Byte": ("u1", ("uint8",)),
    "Bool": ("?", ("bool",)),
    "ComplexFloat": ("<c8", ("complex64", "cfloat")),
    "ComplexDouble": ("<c16", ("complex128", "cdouble")),
}

_OBJECTS: dict[tuple[str, str], object] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("collections", "OrderedDict"): OrderedDict,
    ("torch", "Tensor"): _TENSOR,
    ("torch._tensor", "Tensor"): _TENSOR,
    ("torch.nn.parameter", "Parameter"): _TENSOR,
    ("torch", "UntypedStorage"): _Kind("UntypedStorage", "u1", True),
    ("torch.storage", "UntypedStorage"): _Kind("UntypedStorage", "u1", True),
}
for _stem, (_np_type, _names) in _TORCH_TYPES.items():
    _OBJECTS["torch", f"{_stem}Storage"] = _Kind(f"{_stem}Storage", _np_type, True)
    for _name in _names:
        _OBJECTS["torch", _name] = _Kind(_name, _np_type, False)
for _name, _np_type in (("uint16", "<u2"), ("uint32", "<u4"), ("uint64", "<u8")):
    _OBJECTS["torch", _name] = _Kind(_name, _np_type, False)

_CALLS: dict[tuple[str, str], str] = {  # allowed callables -> _Reader method standing in
    ("numpy.core.multiarray", "_reconstruct"): "np_reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "np_reconstruct",
    ("numpy.core.multiarray", "scalar"): "np_scalar",
    ("numpy._core.multiarray", "scalar"): "np_scalar",
    ("numpy.core.numeric", "_frombuffer"): "np_frombuffer",
    ("numpy._core.numeric", "_frombuffer"): "np_frombuffer",
    ("numpy", "dtype"): "np_dtype",
    ("_codecs", "encode"): "codecs_encode",
    ("builtins", "bytes"): "empty_bytes",
    ("__builtin__", "bytes"): "empty_bytes",
    ("torch._utils", "_rebuild_tensor"): "rebuild_tensor",
    ("torch._utils", "_rebuild_tensor_v2"): "rebuild_tensor_v2",
    ("torch._utils", "_rebuild_tensor_v3"): "rebuild_tensor_v3",
    ("torch._utils", "_rebuild_parameter"): "rebuild_parameter",
    ("torch._utils", "_rebuild_parameter_with_state"): "rebuild_parameter",
    ("torch._tensor", "_rebuild_from_type_v2"): "rebuild_from_type_v2",
    ("torch.storage", "_load_from_bytes"): "load_from_bytes",
}
_TENSOR_BUILDERS = {"rebuild_tensor", "rebuild_tensor_v2", "rebuild_tensor_v3", "rebuild_parameter"}


# ---------------------------------------------------------------- the restricted reader


class _Unpickler(pickle.Unpickler):
    """Unpickler that resolves names only through the reader's allow-list."""

    def __init__(self, file: IO[bytes], reader: _Reader,
                 persistent: Callable[[Any], Any] | None) -> None:
        super().__init__(file, encoding="latin1")
        self._reader, self._persistent = reader, persistent

    def find_class(self, module: str, name: str) -> Any:
        return self._reader.lookup(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise WeightsError(f"{self._reader.name} refers to data outside itself "
                               f"({_short(pid)}); it is not a plain weights file")
        return self._persistent(pid)


def _short(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def _dims(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or len(value) > 64 or not all(
        type(d) is int and d >= 0 for d in value
    ):
        raise WeightsError(f"malformed {what}: {_short(value)}")
    return tuple(value)


def _native(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="K", copy=True)


class _Reader:
    """One load: the file's name for messages, the output budget, and the allowed callables."""

    def __init__(self, name: str, budget: int) -> None:
        self.name, self.budget, self.nested = name, budget, False

    # -- plumbing

    def lookup(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _CALLS:
            return getattr(self, _CALLS[key])
        if key in _OBJECTS:
            return _OBJECTS[key]
        raise WeightsError(f"{self.name} asks to run '{module}.{name}'; "
                           "refusing to load it: it is not a plain weights file")

    def charge(self, nbytes: int) -> None:
        self.budget -= nbytes
        if self.budget < 0:
            raise WeightsError(f"{self.name} expands to far more array data than the file holds; "
                               "refusing to load it")

    def unpickle(self, file: IO[bytes], persistent: Callable[[Any], Any] | None = None) -> Any:
        return _Unpickler(file, self, persistent).load()

    def load(self, data: bytes) -> Any:
        """Load a whole file: a plain pickle, or torch.save's zip or legacy format."""
        if data[:2] == b"PK":
            return self.torch_zip(data)
        file = io.BytesIO(data)
        obj = self.unpickle(file)
        if type(obj) is int and obj == _TORCH_MAGIC:
            return self.torch_legacy(file, data)
        return obj

    # -- numpy

    def np_dtype(self, spec: Any, align: Any = False, copy: Any = False) -> _Dtype:
        if isinstance(spec, str) and _PLAIN_DTYPE.fullmatch(spec):
            with suppress(TypeError):
                return _Dtype(np.dtype(spec))
        raise WeightsError(f"{self.name} holds an array of dtype {_short(spec)}; "
                           "only plain numeric arrays are weights (object arrays are refused)")

    def codecs_encode(self, text: Any, encoding: Any = "utf-8") -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise WeightsError("malformed byte string in pickle")
        return text.encode("latin1")

    def empty_bytes(self) -> bytes:
        return b""

    def from_raw(self, raw: Any, dtype: Any, shape: Any, fortran: bool) -> np.ndarray:
        if not isinstance(dtype, _Dtype):
            raise WeightsError(f"malformed array dtype: {_short(dtype)}")
        if isinstance(raw, str):
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes | bytearray):
            raise WeightsError("array data is not raw bytes; only numeric arrays are weights")
        dims, dt = _dims(shape, "array shape"), dtype.dtype
        count = prod(dims)
        if count * dt.itemsize != len(raw):
            raise WeightsError(f"an array declares {count * dt.itemsize} bytes "
                               f"but its data holds {len(raw)}")
        self.charge(len(raw))
        flat = np.frombuffer(raw, dtype=dt) if count else np.empty(0, dt)
        return _native(flat.reshape(dims, order="F" if fortran else "C"))

    def ndarray_state(self, state: Any) -> np.ndarray:
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise WeightsError("malformed numpy array state")
        shape, dtype, fortran, raw = state
        return self.from_raw(raw, dtype, shape, bool(fortran))

    def np_reconstruct(self, cls: Any, shape: Any = (0,), typecode: Any = b"b") -> _Array:
        if cls is not _NDARRAY:
            raise WeightsError(f"{self.name} holds a numpy array subclass; only plain arrays "
                               "are weights")
        return _Array(reader=self)

    def np_scalar(self, dtype: Any, data: Any = None) -> _Array:
        return _Array(self.from_raw(data, dtype, (), False))

    def np_frombuffer(self, buf: Any, dtype: Any, shape: Any, order: Any = "C") -> _Array:
        raw = bytes(buf) if isinstance(buf, memoryview) else buf
        return _Array(self.from_raw(raw, dtype, shape, order == "F"))

    # -- torch tensors

    def tensor(self, storage: Any, offset: Any, size: Any, stride: Any, kind: _Kind | None,
               metadata: Any) -> _Array:
        if not isinstance(storage, _Storage):
            raise WeightsError(f"a tensor's storage is {_short(storage)}, not torch storage data")
        dims, steps = _dims(size, "tensor size"), _dims(stride, "tensor stride")
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

        return _Array(make=make)

    def rebuild_tensor(self, storage: Any, offset: Any, size: Any, stride: Any) -> _Array:
        return self.tensor(storage, offset, size, stride, None, None)

    def rebuild_tensor_v2(self, storage: Any, offset: Any, size: Any, stride: Any,
                          requires_grad: Any = False, hooks: Any = None,
                          metadata: Any = None) -> _Array:
        return self.tensor(storage, offset, size, stride, None, metadata)

    def rebuild_tensor_v3(self, storage: Any, offset: Any, size: Any, stride: Any,
                          requires_grad: Any, hooks: Any, dtype: Any,
                          metadata: Any = None) -> _Array:
        if not isinstance(dtype, _Kind) or dtype.storage:
            raise WeightsError(f"malformed tensor dtype: {_short(dtype)}")
        return self.tensor(storage, offset, size, stride, dtype, metadata)

    def rebuild_parameter(self, data: Any, requires_grad: Any = True, hooks: Any = None,
                          state: Any = None) -> _Array:
        if not isinstance(data, _Array):
            raise WeightsError("a torch Parameter does not wrap a tensor")
        return data

    def rebuild_from_type_v2(self, func: Any, cls: Any, args: Any, state: Any) -> _Array:
        if (getattr(func, "__self__", None) is not self or func.__name__ not in _TENSOR_BUILDERS
                or cls is not _TENSOR or not isinstance(args, tuple)):
            raise WeightsError(f"{self.name} holds a tensor subclass; only plain tensors "
                               "are weights")
        return func(*args)

    # -- torch serialization formats

    def load_from_bytes(self, data: Any) -> _Storage:
        """Stand-in for ``torch.storage._load_from_bytes``: parse, never run, the bytes."""
        if not isinstance(data, bytes | bytearray):
            raise WeightsError("torch storage bytes are not bytes")
        if self.nested:
            raise WeightsError("torch storage bytes nest further storage bytes; refusing")
        data, self.nested = bytes(data), True
        try:
            if data[:2] == b"PK":
                obj = self.torch_zip(data)
            else:
                file = io.BytesIO(data)
                if self.unpickle(file) != _TORCH_MAGIC:
                    raise WeightsError("embedded torch storage has an unknown format")
                obj = self.torch_legacy(file, data)
        finally:
            self.nested = False
        if not isinstance(obj, _Storage):
            raise WeightsError("embedded torch storage bytes hold something other than a storage")
        return obj

    def storage_id(self, pid: Any) -> tuple[_Kind, str, int, Any]:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise WeightsError(f"{self.name} refers to {_short(pid)}, which is not tensor data")
        kind, key, numel = pid[1], pid[2], pid[4]
        if not (isinstance(kind, _Kind) and kind.storage and isinstance(key, str)
                and type(numel) is int and numel >= 0):
            raise WeightsError(f"malformed torch storage reference: {_short(pid)}")
        return kind, key, numel * kind.dtype.itemsize, pid[5] if len(pid) == 6 else None

    def torch_legacy(self, file: io.BytesIO, data: bytes) -> Any:
        """torch's pre-zip format: pickles of version, sys info, object, keys, then raw data."""
        if self.unpickle(file) != _TORCH_PROTOCOL:
            raise WeightsError("unsupported torch serialization protocol")
        if not isinstance(self.unpickle(file), dict):
            raise WeightsError("malformed torch sys-info record")
        roots: dict[str, _Storage] = {}
        views: dict[str, _Storage] = {}

        def persistent(pid: Any) -> _Storage:
            kind, key, nbytes, view = self.storage_id(pid)
            root = roots.setdefault(key, _Storage(kind, nbytes))
            if view is None:
                return root
            if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str)):
                raise WeightsError("malformed torch storage view")
            size = root.kind.dtype.itemsize
            start, length = (_dims(view[1:], "torch storage view"))
            if (start + length) * size > root.nbytes:
                raise WeightsError("a torch storage view reaches past its storage")
            return views.setdefault(view[0], _Storage(kind, length * size, root=root,
                                                      start=start * size))

        obj = self.unpickle(file, persistent)
        keys = self.unpickle(file)
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise WeightsError("malformed torch storage key list")
        pos = file.tell()
        for key in keys:
            if key not in roots:
                raise WeightsError(f"torch storage {key!r} has data but no reference")
            storage = roots[key]
            if pos + 8 > len(data):
                raise WeightsError("torch storage data is truncated")
            (count,) = struct.unpack_from("<q", data, pos)
            if count * storage.kind.dtype.itemsize != storage.nbytes:
                raise WeightsError(f"torch storage {key!r} declares {storage.nbytes} bytes "
                                   f"but its data header says {count} elements")
            pos += 8
            if pos + storage.nbytes > len(data):
                raise WeightsError("torch storage data is truncated")
            storage.raw = memoryview(data)[pos : pos + storage.nbytes]
            pos += storage.nbytes
        return obj

    def torch_zip(self, data: bytes) -> Any:
        """torch's zip format: ``<dir>/data.pkl`` plus raw ``<dir>/data/<key>`` records."""
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            pickles = [n for n in archive.namelist() if re.fullmatch(r"[^/]+/data\.pkl", n)]
            if len(pickles) != 1:
                raise WeightsError(f"{self.name}: a torch zip archive needs exactly one data.pkl")
            prefix = pickles[0][: -len("data.pkl")]

            def read(name: str, nbytes: int | None = None) -> bytes:
                try:
                    info = archive.getinfo(name)
                except KeyError:
                    raise WeightsError(f"torch archive lacks {name}") from None
                if nbytes is not None and info.file_size != nbytes:
                    raise WeightsError(f"torch archive record {name} holds {info.file_size} "
                                       f"bytes, not the {nbytes} declared")
                self.charge(info.file_size)
                with archive.open(info) as member:
                    raw = member.read(info.file_size + 1)
                if len(raw) != info.file_size:
                    raise WeightsError(f"torch archive record {name} has the wrong size")
                return raw

            order = "<"
            if prefix + "byteorder" in archive.namelist():
                mark = read(prefix + "byteorder")
                if mark not in (b"little", b"big"):
                    raise WeightsError("torch archive has an unknown byte order")
                order = "<" if mark == b"little" else ">"
            storages: dict[str, _Storage] = {}

            def persistent(pid: Any) -> _Storage:
                kind, key, nbytes, _ = self.storage_id(pid)
                if key not in storages:
                    storage = _Storage(kind, nbytes, order)
                    storage.raw = memoryview(read(f"{prefix}data/{key}", nbytes))
                    storages[key] = storage
                return storages[key]

            return self.unpickle(io.BytesIO(read(pickles[0])), persistent)


# ---------------------------------------------------------------- public API: reading


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > max_bytes:
                raise WeightsError(f"{path.name} is {size} bytes, over the {max_bytes}-byte limit")
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise WeightsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise WeightsError(f"{path.name} is over the {max_bytes}-byte limit")
    return data


def _as_weights(obj: Any, name: str) -> Weights:
    if not isinstance(obj, dict):
        raise WeightsError(f"{name} holds a {type(obj).__name__.strip('_')}, "
                           "not a dict of arrays")
    weights: Weights = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsError(f"{name} has a non-string parameter name {_short(key)}")
        if isinstance(value, _Array):
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
        return _as_weights(_Reader(path.name, 4 * len(data) + _SLACK).load(data), path.name)
    except WeightsError:
        raise
    except Exception as exc:  # truncated or malformed data surfaces as many exception types
        raise WeightsError(f"{path.name} is not a readable weights file: {exc}") from exc


def load_safetensors_weights(path: StrPath, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Weights:
    """Read a ``.safetensors`` file into numpy arrays."""
    from safetensors import safe_open

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise WeightsError(f"cannot read {path.name}: {exc.strerror}") from exc
    if size > max_bytes:
        raise WeightsError(f"{path.name} is {size:,} bytes; the limit is {max_bytes:,}")
    try:
        with safe_open(str(path), framework="np") as f:  # memory-mapped: one copy per array
            return {key: np.array(f.get_tensor(key)) for key in f.keys()}  # noqa: SIM118
    except Exception as exc:
        raise WeightsError(f"{path.name} is not a readable safetensors file: {exc}") from exc


def load_weights(path: StrPath, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Weights:
    """Read weights, choosing the format by suffix (.pkl/.pickle or .safetensors)."""
    suffix = Path(path).suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        return load_pickle_weights(path, max_bytes=max_bytes)
    if suffix in _SAFETENSORS_SUFFIXES:
        return load_safetensors_weights(path, max_bytes=max_bytes)
    raise WeightsError(f"{Path(path).name}: unknown weights format {suffix!r} "
                       "(expected .pkl, .pickle or .safetensors)")


# ---------------------------------------------------------------- public API: writing


@contextmanager
def atomic_writer(path: StrPath, mode: str = "wb") -> Iterator[IO[Any]]:
    """Yield a file that replaces ``path`` only once the block ends without error."""
    if mode not in ("wb", "w", "wt"):
        raise ValueError(f"atomic_writer mode must be 'wb', 'w' or 'wt', not {mode!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        file = os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"}))
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        with suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: StrPath, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename, fsync dir)."""
    with atomic_writer(path) as file:
        file.write(data)


def _clean(weights: Mapping[str, Any]) -> Weights:
    clean: Weights = {}
    for key, value in weights.items():
        if not isinstance(key, str):
            raise WeightsError(f"parameter name {_short(key)} is not a string")
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise WeightsError(f"parameter {key!r} has dtype {array.dtype}; "
                               "only numeric arrays are weights")
        clean[key] = np.array(array, dtype=array.dtype.newbyteorder("="), order="C")
    return clean


def write_pickle_weights(path: StrPath, weights: Mapping[str, Any]) -> None:
    """Write a plain-pickle dict of numpy arrays, as the original Agrippa package reads."""
    atomic_write_bytes(path, pickle.dumps(_clean(weights), protocol=4))


_ST_DTYPES = {"f8": "F64", "f4": "F32", "f2": "F16", "i8": "I64", "i4": "I32", "i2": "I16", "i1": "I8",
              "u8": "U64", "u4": "U32", "u2": "U16", "u1": "U8", "b1": "BOOL"}


def write_safetensors_weights(path: StrPath, weights: Mapping[str, Any]) -> None:
    """Write a ``.safetensors`` file atomically, streaming each array (no whole-file copy)."""
    arrays: list[tuple[str, np.ndarray]] = []
    header: dict[str, Any] = {}
    offset = 0
    for key in sorted(weights):
        if not isinstance(key, str):
            raise WeightsError(f"parameter name {_short(key)} is not a string")
        a = np.asarray(weights[key])
        code = _ST_DTYPES.get(f"{a.dtype.kind}{a.dtype.itemsize}")
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
            f.write(memoryview(a.reshape(-1)).cast("B") if a.size else b"")


def save_weights(path: StrPath, weights: Mapping[str, Any]) -> None:
    """Write weights, choosing the format by suffix (.pkl/.pickle or .safetensors)."""
    suffix = Path(path).suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        write_pickle_weights(path, weights)
    elif suffix in _SAFETENSORS_SUFFIXES:
        write_safetensors_weights(path, weights)
    else:
        raise WeightsError(f"{Path(path).name}: unknown weights format {suffix!r} "
                           "(expected .pkl, .pickle or .safetensors)")
