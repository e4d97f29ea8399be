"""The shapes a weights pickle holds, read without its data and without running its code.

A small interpreter of pickle's opcodes: byte payloads (the arrays' data) are skipped
with a seek, never read; the only names a pickle may ask for are the ones the weights
reader allows (numpy arrays and dtypes, torch tensors and storages), and each is a
stand-in that records a shape and an element type. numpy arrays carry their shape in the
`__setstate__` tuple before the raw bytes; torch tensors carry it as `_rebuild_tensor*`'s
size. The pickle is first scanned against the loading budget (`pickle_budget.py`), so a
DAG bomb is refused before anything is built.

`pickle_shapes(file, name)` gives `{parameter name: (shape, dtype)}` or raises
`ShapesRefused` (the file would be refused by the loader too) or `ShapesUnknown` (the
file may be fine, but its shapes cannot be known cheaply).
"""
from __future__ import annotations

import math
import pickletools
import struct
from collections.abc import Callable
from typing import IO, Any

from agrippa.project.pickle_budget import PickleRefused, check_budget

MAX_OPCODES = 1 << 20  # a weights pickle has ~20 a parameter: 50,000 parameters
MAX_TEXT = 1 << 20  # longer strings are skipped like byte payloads (protocol-2 numpy data)
MAX_INLINE = 64 << 20  # protocol 0's data lines: skipped by reading, so only this far
_OPS = {op.code.encode("latin1"): op for op in pickletools.opcodes}
_LENGTH = {-2: ("<B", 1), -3: ("<i", 4), -4: ("<I", 4), -5: ("<Q", 8)}
_BYTES = {"BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "BINSTRING", "SHORT_BINSTRING"}
_TEXT = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}

TORCH_STEMS = {"Float": "float32", "Double": "float64", "Half": "float16", "BFloat16": "bfloat16",
               "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8",
               "Bool": "bool", "ComplexFloat": "complex64", "ComplexDouble": "complex128", "Untyped": "uint8"}
TORCH_DTYPES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
                "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64",
                "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
                "int8": "int8", "uint8": "uint8", "bool": "bool", "complex64": "complex64",
                "cfloat": "complex64", "complex128": "complex128", "cdouble": "complex128",
                "uint16": "uint16", "uint32": "uint32", "uint64": "uint64"}
_EMPTY: dict[str, Callable[[], Any]] = {"EMPTY_TUPLE": tuple, "EMPTY_LIST": list, "EMPTY_DICT": dict,
                                        "EMPTY_SET": set}
_NP_KINDS = {"b": "bool", "i": "int", "u": "uint", "f": "float", "c": "complex"}


class ShapesRefused(Exception):
    """The pickle is not a plain weights file (the loader refuses it too)."""


class ShapesUnknown(Exception):
    """The shapes cannot be read cheaply (the loader may still read the file)."""


class Payload:
    """Skipped bytes: the data of an array. `exact`: `size` is the bytes' count (not text's)."""

    __slots__ = ("size", "start", "exact")

    def __init__(self, size: int, start: int = -1, exact: bool = False) -> None:
        self.size, self.start, self.exact = size, start, exact


class Global:
    """A name the pickle asked for, allowed by the weights reader's list."""

    __slots__ = ("module", "name", "role")

    def __init__(self, module: str, name: str, role: str) -> None:
        self.module, self.name, self.role = module, name, role


class Shape:
    """An array or tensor: its dims and element type (None until numpy's state fills it)."""

    __slots__ = ("dims", "dtype")

    def __init__(self, dims: tuple[int, ...] | None = None, dtype: str | None = None) -> None:
        self.dims, self.dtype = dims, dtype


class Dtype:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Storage:
    __slots__ = ("dtype", "numel")

    def __init__(self, dtype: str | None, numel: int | None = None) -> None:
        self.dtype, self.numel = dtype, numel


_CALLS = {
    "reconstruct": [("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")],
    "scalar": [("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")],
    "frombuffer": [("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")],
    "dtype": [("numpy", "dtype")],
    "encode": [("_codecs", "encode")],
    "bytes": [("builtins", "bytes"), ("__builtin__", "bytes")],
    "dict": [("collections", "OrderedDict")],
    "marker": [("numpy", "ndarray"), ("torch", "Tensor"), ("torch._tensor", "Tensor"),
               ("torch.nn.parameter", "Parameter")],
    "tensor": [("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"),
               ("torch._utils", "_rebuild_tensor_v3")],
    "parameter": [("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state")],
    "from_type": [("torch._tensor", "_rebuild_from_type_v2")],
    "from_bytes": [("torch.storage", "_load_from_bytes")],
}
ROLES = {key: role for role, keys in _CALLS.items() for key in keys}


def role_of(module: str, name: str) -> str | None:
    """What a pickle's name stands for here (None: refused)."""
    if (module, name) in ROLES:
        return ROLES[module, name]
    if module in ("torch", "torch.storage") and name.endswith("Storage") and name[:-7] in TORCH_STEMS:
        return "storage"
    if module == "torch" and name in TORCH_DTYPES:
        return "torch_dtype"
    return None


def _dims(value: Any) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or len(value) > 64 or not all(type(d) is int and d >= 0 for d in value):
        raise ShapesRefused("malformed array shape")
    return tuple(value)


def _np_dtype(spec: Any) -> str:
    if isinstance(spec, str) and len(spec) >= 2 and spec[0] in _NP_KINDS and spec[1:].isdigit():
        bits = int(spec[1:]) * 8
        return "bool" if spec[0] == "b" else f"{_NP_KINDS[spec[0]]}{bits}"
    raise ShapesRefused(f"an array of dtype {str(spec)[:40]!r}: only plain numeric arrays are weights")


def _tensor(args: tuple) -> Shape:
    storage, offset, dims, steps = args[0], args[1], _dims(args[2]), _dims(args[3])
    if type(offset) is not int or offset < 0 or len(dims) != len(steps):
        raise ShapesRefused("malformed tensor layout")
    numel = storage.numel if isinstance(storage, Storage) else None
    if numel is not None and all(dims) and offset + sum((n - 1) * s for n, s in zip(dims, steps)) >= numel:
        raise ShapesRefused(f"a tensor of size {dims} reaches past the end of its storage ({numel} elements)")
    dtype = args[6] if len(args) >= 7 and isinstance(args[6], Dtype) else None
    return Shape(dims, dtype.name if dtype else storage.dtype if isinstance(storage, Storage) else None)


def _call(func: Any, args: Any, nested: Callable[[Payload], Storage] | None) -> Any:
    if not isinstance(func, Global) or not isinstance(args, tuple):
        raise ShapesRefused("it calls something other than the weights reader's allowed names")
    role = func.role
    if role == "reconstruct":
        return Shape()
    if role == "scalar":
        return Shape((), args[0].name if args and isinstance(args[0], Dtype) else None)
    if role == "frombuffer" and len(args) >= 3:
        return Shape(_dims(args[2]), args[1].name if isinstance(args[1], Dtype) else None)
    if role == "dtype" and args:
        return Dtype(_np_dtype(args[0]))
    if role == "encode":
        return args[0] if args and isinstance(args[0], Payload) else Payload(0)
    if role == "bytes":
        return b""
    if role == "dict":
        return {}
    if role == "tensor" and len(args) >= 4:
        return _tensor(args)
    if role == "parameter" and args and isinstance(args[0], Shape):
        return args[0]
    if role == "from_type" and len(args) >= 3 and isinstance(args[0], Global) and isinstance(args[2], tuple):
        return _call(args[0], args[2], nested)
    if role == "from_bytes" and args and isinstance(args[0], Payload):
        if nested is None:
            raise ShapesRefused("torch storage bytes nest further storage bytes")
        return nested(args[0])  # a whole torch file inside the pickle
    raise ShapesRefused(f"malformed call of {func.module}.{func.name}")


def _build(obj: Any, state: Any) -> None:
    if isinstance(obj, Shape) and obj.dims is None:
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4 or not isinstance(state[1], Dtype):
            raise ShapesRefused("malformed numpy array state")
        obj.dims, obj.dtype = _dims(state[0]), state[1].name
        raw, want = state[3], math.prod(obj.dims) * itemsize(obj.dtype)
        if isinstance(raw, Payload) and raw.exact and raw.size != want or isinstance(raw, bytes) and len(raw) != want:
            raise ShapesRefused(f"an array declares {want} bytes but its data holds "
                                f"{raw.size if isinstance(raw, Payload) else len(raw)}")
    elif not isinstance(obj, Dtype | dict | Shape):  # a dtype's byte order, a state_dict's _metadata
        raise ShapesRefused("unexpected object state")


def _arg(op: pickletools.OpcodeInfo, file: IO[bytes]) -> Any:
    a = op.arg
    if a is None:
        return None
    if a.n in _LENGTH:
        fmt, size = _LENGTH[a.n]
        raw = file.read(size)
        if len(raw) != size:
            raise EOFError
        n = struct.unpack(fmt, raw)[0]
        if n < 0:
            raise ShapesRefused("a negative length")
        if op.name in ("LONG1", "LONG4") and n > MAX_TEXT:
            raise ShapesRefused("an integer of more than a million bytes")
        if op.name in _BYTES or n > MAX_TEXT:
            start = file.tell()
            file.seek(n, 1)
            return Payload(n, start, op.name in _BYTES)
        data = file.read(n)
        if len(data) != n:
            raise EOFError
        if op.name in _TEXT:
            return data.decode("utf-8", "surrogatepass")
        return pickletools.decode_long(data)
    if a.n == pickletools.UP_TO_NEWLINE:
        start = file.tell()
        line = file.readline(MAX_TEXT)
        if not line.endswith(b"\n") and line:
            if op.name not in ("UNICODE", "STRING"):
                raise ShapesRefused(f"a {op.name} operation over a million bytes long")
            return _skip_line(file, len(line))  # protocol 0 writes an array's data as one line
        file.seek(start)
    return a.reader(file)


def _skip_line(file: IO[bytes], read: int) -> Payload:
    """Skip the rest of a long text line (read, never kept), up to MAX_INLINE bytes."""
    while read <= MAX_INLINE:
        chunk = file.readline(MAX_TEXT)
        if not chunk:
            raise EOFError
        read += len(chunk)
        if chunk.endswith(b"\n"):
            return Payload(read)
    raise ShapesUnknown(f"a protocol-0 pickle with over {MAX_INLINE >> 20} MB of inline data")


def itemsize(dtype: str | None) -> int:
    """Bytes an element of a dtype name (`float32`, `bool`) takes; 1 when unknown."""
    digits = "".join(c for c in dtype or "" if c.isdigit())
    return max(1, int(digits) // 8) if digits and not (dtype or "").startswith("float8") else 1


def pickle_shapes(file: IO[bytes], name: str, persistent: Callable[[Any], Any] | None = None,
                  nested: Callable[[bytes], Storage] | None = None) -> Any:
    """Interpret the pickle at `file`'s position; return its top object, with arrays as `Shape`.
    `nested` reads torch storage bytes embedded in the pickle (None: refused)."""
    try:
        check_budget(file, name)
    except PickleRefused as e:
        raise ShapesRefused(str(e)) from None

    def inner(p: Payload) -> Storage:
        if nested is None or not p.exact or p.start < 0:
            raise ShapesRefused("torch storage bytes nest further storage bytes")
        if p.size > MAX_INLINE:
            return Storage(None)  # not read: its element type stays unknown
        at = file.tell()
        file.seek(p.start)
        data = file.read(p.size)
        file.seek(at)
        return nested(data)

    stack: list[Any] = []
    marks: list[list[Any]] = []
    memo: dict[Any, Any] = {}
    for _count in range(MAX_OPCODES):
        op = _OPS.get(file.read(1))
        if op is None:
            raise ShapesRefused("it is not a pickle (or is truncated)")
        arg, n = _arg(op, file), op.name
        if n in ("PROTO", "FRAME"):
            continue
        if n == "STOP":
            return stack.pop()
        if n == "MARK":
            marks.append(stack)
            stack = []
        elif n in ("TUPLE", "LIST", "DICT", "FROZENSET", "APPENDS", "SETITEMS", "ADDITEMS", "POP_MARK"):
            items, stack = stack, marks.pop()
            if n == "TUPLE":
                stack.append(tuple(items))
            elif n == "LIST":
                stack.append(items)
            elif n == "DICT":
                stack.append(dict(zip(items[::2], items[1::2])))
            elif n == "FROZENSET":
                stack.append(frozenset(items))
            elif n == "APPENDS":
                stack[-1].extend(items)
            elif n == "SETITEMS":
                stack[-1].update(zip(items[::2], items[1::2]))
            elif n == "ADDITEMS":
                stack[-1].update(items)
        elif n in ("TUPLE1", "TUPLE2", "TUPLE3"):
            k = int(n[-1])
            items = stack[-k:]
            del stack[-k:]
            stack.append(tuple(items))
        elif n in _EMPTY:
            stack.append(_EMPTY[n]())
        elif n in ("NONE", "NEWTRUE", "NEWFALSE"):
            stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[n])
        elif n in ("APPEND", "SETITEM"):
            if n == "APPEND":
                v = stack.pop()
                stack[-1].append(v)
            else:
                v, k = stack.pop(), stack.pop()
                stack[-1][k] = v
        elif n in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif n == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif n in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[arg])
        elif n == "POP":
            if stack:
                stack.pop()
            else:
                stack = marks.pop()
        elif n == "DUP":
            stack.append(stack[-1])
        elif n in ("GLOBAL", "STACK_GLOBAL"):
            if n == "GLOBAL":
                module, attr = arg.split(" ", 1)
            else:
                attr, module = stack.pop(), stack.pop()
            role = role_of(str(module), str(attr))
            if role is None:
                raise ShapesRefused(f"it asks to run '{module}.{attr}'")
            if role == "storage":
                stack.append(Storage(TORCH_STEMS[str(attr)[:-7]]))
            elif role == "torch_dtype":
                stack.append(Dtype(TORCH_DTYPES[str(attr)]))
            else:
                stack.append(Global(str(module), str(attr), role))
        elif n == "REDUCE":
            args = stack.pop()
            stack.append(_call(stack.pop(), args, inner))
        elif n == "BUILD":
            state = stack.pop()
            _build(stack[-1], state)
        elif n in ("PERSID", "BINPERSID"):
            pid = arg if n == "PERSID" else stack.pop()
            if persistent is None:
                raise ShapesRefused("it refers to data outside itself")
            stack.append(persistent(pid))
        elif n in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
                   "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
                   "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
            stack.append(arg)
        else:  # NEWOBJ, OBJ, INST, EXT*, ...: nothing a weights file holds
            raise ShapesRefused(f"it uses the pickle operation {n}")
    raise ShapesUnknown(f"it has more than {MAX_OPCODES:,} pickle operations")
