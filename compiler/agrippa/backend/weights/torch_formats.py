"""torch.save's two formats, read without torch: the legacy one (pickles of a magic
number, the protocol, sys info, the object and the storage keys, then raw storage data)
and the zip one (`<dir>/data.pkl` plus one raw record per storage)."""
from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from typing import IO, Any, Protocol

from agrippa.backend.weights.common import WeightsError, checked_dims, short
from agrippa.backend.weights.inert import Kind, Storage

TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_PROTOCOL = 1001


class Formats(Protocol):
    """What these readers ask of the restricted unpickler running them."""

    name: str

    def unpickle(self, file: IO[bytes], persistent: Callable[[Any], Any] | None = None) -> Any: ...

    def charge(self, nbytes: int) -> None: ...


def storage_id(reader: Formats, pid: Any) -> tuple[Kind, str, int, Any]:
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
        raise WeightsError(f"{reader.name} refers to {short(pid)}, which is not tensor data")
    kind, key, numel = pid[1], pid[2], pid[4]
    if not (isinstance(kind, Kind) and kind.storage and isinstance(key, str)
            and type(numel) is int and numel >= 0):
        raise WeightsError(f"malformed torch storage reference: {short(pid)}")
    return kind, key, numel * kind.dtype.itemsize, pid[5] if len(pid) == 6 else None


def torch_legacy(reader: Formats, file: io.BytesIO, data: bytes) -> Any:
    """torch's pre-zip format: pickles of version, sys info, object, keys, then raw data."""
    if reader.unpickle(file) != TORCH_PROTOCOL:
        raise WeightsError("unsupported torch serialization protocol")
    if not isinstance(reader.unpickle(file), dict):
        raise WeightsError("malformed torch sys-info record")
    roots: dict[str, Storage] = {}
    views: dict[str, Storage] = {}

    def persistent(pid: Any) -> Storage:
        kind, key, nbytes, view = storage_id(reader, pid)
        root = roots.setdefault(key, Storage(kind, nbytes))
        if view is None:
            return root
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str)):
            raise WeightsError("malformed torch storage view")
        size = root.kind.dtype.itemsize
        start, length = (checked_dims(view[1:], "torch storage view"))
        if (start + length) * size > root.nbytes:
            raise WeightsError("a torch storage view reaches past its storage")
        return views.setdefault(view[0], Storage(kind, length * size, root=root,
                                                  start=start * size))

    obj = reader.unpickle(file, persistent)
    keys = reader.unpickle(file)
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


def torch_zip(reader: Formats, data: bytes) -> Any:
    """torch's zip format: ``<dir>/data.pkl`` plus raw ``<dir>/data/<key>`` records."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        pickles = [n for n in archive.namelist() if re.fullmatch(r"[^/]+/data\.pkl", n)]
        if len(pickles) != 1:
            raise WeightsError(f"{reader.name}: a torch zip archive needs exactly one data.pkl")
        prefix = pickles[0][: -len("data.pkl")]

        def read(name: str, nbytes: int | None = None) -> bytes:
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise WeightsError(f"torch archive lacks {name}") from None
            if nbytes is not None and info.file_size != nbytes:
                raise WeightsError(f"torch archive record {name} holds {info.file_size} "
                                   f"bytes, not the {nbytes} declared")
            reader.charge(info.file_size)
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
        storages: dict[str, Storage] = {}

        def persistent(pid: Any) -> Storage:
            kind, key, nbytes, _ = storage_id(reader, pid)
            if key not in storages:
                storage = Storage(kind, nbytes, order)
                storage.raw = memoryview(read(f"{prefix}data/{key}", nbytes))
                storages[key] = storage
            return storages[key]

        return reader.unpickle(io.BytesIO(read(pickles[0])), persistent)
