"""The only objects a weights pickle may build: inert stand-ins for numpy arrays, torch
tensors, storages and dtypes, and the allow-list naming them.

Every stand-in refuses pickle's BUILD unless it expects a state. An `Array` is filled by
numpy's state, or built lazily from a torch storage once the whole file is read.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from agrippa.backend.weights.common import WeightsError


class StateReader(Protocol):
    """What an `Array` asks of the reader that made it: an array from numpy's state."""

    def ndarray_state(self, state: Any) -> np.ndarray: ...


class Inert:
    """Base of every object handed to a pickle stream: it refuses BUILD."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise WeightsError(f"unexpected state for {type(self).__name__.strip('_')}")


class Marker(Inert):
    """A class named by the file that is only ever compared against."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Kind(Inert):
    """A torch storage class or torch dtype, as a little-endian numpy element type."""

    __slots__ = ("name", "dtype", "storage", "bfloat16")

    def __init__(self, name: str, dtype: str, storage: bool) -> None:
        self.name, self.storage = name, storage
        self.bfloat16 = "BFloat16" in name or name == "bfloat16"
        self.dtype = np.dtype("<u2" if self.bfloat16 else dtype)


class Dtype(Inert):
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


class Storage(Inert):
    """Raw bytes of a torch storage (or a view of one), filled in when read."""

    __slots__ = ("kind", "nbytes", "order", "raw", "root", "start")

    def __init__(self, kind: Kind, nbytes: int, order: str = "<", root: Storage | None = None,
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


class Array(Inert):
    """An array in the making: filled by numpy's BUILD state or built lazily from a storage."""

    __slots__ = ("value", "make", "reader")

    def __init__(self, value: np.ndarray | None = None, make: Callable[[], np.ndarray] | None = None,
                 reader: StateReader | None = None) -> None:
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


NDARRAY = Marker("numpy.ndarray")
TENSOR = Marker("torch.Tensor")

TORCH_TYPES = {  # torch storage-class stem -> (numpy type, torch dtype names)
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

OBJECTS: dict[tuple[str, str], object] = {
    ("numpy", "ndarray"): NDARRAY,
    ("collections", "OrderedDict"): OrderedDict,
    ("torch", "Tensor"): TENSOR,
    ("torch._tensor", "Tensor"): TENSOR,
    ("torch.nn.parameter", "Parameter"): TENSOR,
    ("torch", "UntypedStorage"): Kind("UntypedStorage", "u1", True),
    ("torch.storage", "UntypedStorage"): Kind("UntypedStorage", "u1", True),
}
for _stem, (_np_type, _names) in TORCH_TYPES.items():
    OBJECTS["torch", f"{_stem}Storage"] = Kind(f"{_stem}Storage", _np_type, True)
    for _name in _names:
        OBJECTS["torch", _name] = Kind(_name, _np_type, False)
for _name, _np_type in (("uint16", "<u2"), ("uint32", "<u4"), ("uint64", "<u8")):
    OBJECTS["torch", _name] = Kind(_name, _np_type, False)

CALLS: dict[tuple[str, str], str] = {  # allowed callables -> Reader method standing in
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
TENSOR_BUILDERS = {"rebuild_tensor", "rebuild_tensor_v2", "rebuild_tensor_v3", "rebuild_parameter"}
