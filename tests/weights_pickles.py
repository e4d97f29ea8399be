"""A tiny pickle assembler for the weights tests: hand-built pickles name any global, craft
torch's storage bytes and declare lies (sizes, strides) that no well-behaved pickler would
produce; and helpers comparing what was loaded."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
from shared_paths import CASES

SAMPLES = sorted(CASES.glob("*/project/weights.pkl"))
TORCH_MAGIC = 0x1950A86A20F9469CFC6C


# ------------------------------------------------------------ a tiny pickle assembler
# Hand-built pickles let the tests name any global, craft torch's storage bytes and
# declare lies (sizes, strides) that no well-behaved pickler would produce.


class Global:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name


class Call:
    """``module.name(*args)`` when loaded by plain pickle."""

    def __init__(self, module: str, name: str, *args: Any) -> None:
        self.func, self.args = Global(module, name), args


class Build:
    """``obj.__setstate__(state)`` (pickle's BUILD)."""

    def __init__(self, obj: Any, state: Any) -> None:
        self.obj, self.state = obj, state


class PersId:
    """A persistent id, as torch writes for storages."""

    def __init__(self, pid: tuple) -> None:
        self.pid = pid


def emit(obj: Any) -> bytes:
    if obj is None:
        return b"N"
    if obj is True or obj is False:
        return b"\x88" if obj else b"\x89"
    if isinstance(obj, int):
        data = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
        return b"\x8a" + bytes([len(data)]) + data
    if isinstance(obj, str):
        data = obj.encode()
        return b"X" + struct.pack("<I", len(data)) + data
    if isinstance(obj, bytes):
        return b"B" + struct.pack("<I", len(obj)) + obj
    if isinstance(obj, tuple):
        return b"(" + b"".join(map(emit, obj)) + b"t"
    if isinstance(obj, list):
        return b"](" + b"".join(map(emit, obj)) + b"e"
    if isinstance(obj, dict):
        return b"}(" + b"".join(emit(k) + emit(v) for k, v in obj.items()) + b"u"
    if isinstance(obj, Global):
        return b"c" + f"{obj.module}\n{obj.name}\n".encode()
    if isinstance(obj, Call):
        return emit(obj.func) + emit(obj.args) + b"R"
    if isinstance(obj, Build):
        return emit(obj.obj) + emit(obj.state) + b"b"
    if isinstance(obj, PersId):
        return emit(obj.pid) + b"Q"
    raise TypeError(obj)


def assemble(obj: Any) -> bytes:
    return b"\x80\x03" + emit(obj) + b"."


def legacy_storage_bytes(values: np.ndarray, storage: str = "FloatStorage",
                         main: Any = None) -> bytes:
    """torch's legacy ``_load_from_bytes`` payload for one storage (or ``main`` instead)."""
    raw = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes()
    pid = PersId(("storage", Global("torch", storage), "key0", "cpu", values.size, None))
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 8}}
    return (assemble(TORCH_MAGIC) + assemble(1001) + assemble(sys_info)
            + assemble(pid if main is None else main) + assemble(["key0"])
            + struct.pack("<q", values.size) + raw)


def tensor(storage_bytes: bytes, size: tuple, stride: tuple, offset: int = 0) -> Call:
    return Call("torch._utils", "_rebuild_tensor_v2",
                Call("torch.storage", "_load_from_bytes", storage_bytes),
                offset, size, stride, False, Call("collections", "OrderedDict"))


def to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, from a trusted reference load
        value = value.detach().resolve_conj().resolve_neg()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def assert_same_weights(ours: dict[str, np.ndarray], reference: dict[str, Any],
                        ordered: bool = True) -> None:
    assert (list(ours) if ordered else sorted(ours)) == (
        list(reference) if ordered else sorted(reference))
    for key, value in reference.items():
        expected = to_numpy(value)
        assert isinstance(ours[key], np.ndarray), key
        assert ours[key].dtype == expected.dtype, key
        assert ours[key].shape == expected.shape, key
        np.testing.assert_array_equal(ours[key], expected, err_msg=key)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
