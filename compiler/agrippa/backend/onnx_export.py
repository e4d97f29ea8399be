"""The back end: IR → ONNX ModelProto (docs/language.md §4–§6), and writing it to disk.

Memory: a model's parameters are held once by the caller (`values`) and once by the
ModelProto. `build_model` fills each initializer in place (no intermediate TensorProto
copies), and `save_model` streams the file — the graph is serialized without its large
initializers and each initializer's bytes are written straight after a computed
protobuf length prefix — so saving costs one tensor of extra memory, not the model's size.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import IO

import numpy as np
import onnx
from google.protobuf.message import Message
from onnx import TensorProto, helper, numpy_helper

from agrippa.backend.initializers import FRAME, frame_of, initial_value, stored_value
from agrippa.sema.dtypes import ELEM_TYPE_CODES, ONNX_TYPES
from agrippa.sema.ir import Graph, Tensor
from agrippa.sema.shapes import format_dim

EXTERNAL_DATA_THRESHOLD = 1_800_000_000  # bytes of initializers above which data goes beside the model
EXTERNAL_MIN_BYTES = 1024  # smaller initializers stay inside the model file even with external data
EXTERNAL_ALIGN = 4096  # external tensors start on page boundaries, so runtimes can map them
STREAM_MIN_BYTES = 1 << 16  # smaller initializers are serialized whole rather than streamed
PROTOBUF_LIMIT = 2**31 - 1

# bytes per element of the tensor types whose raw_data is a plain array
_ITEMSIZE = {
    TensorProto.FLOAT: 4, TensorProto.DOUBLE: 8, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2,
    TensorProto.INT64: 8, TensorProto.INT32: 4, TensorProto.INT16: 2, TensorProto.INT8: 1,
    TensorProto.UINT64: 8, TensorProto.UINT32: 4, TensorProto.UINT16: 2, TensorProto.UINT8: 1,
    TensorProto.BOOL: 1, TensorProto.COMPLEX64: 8, TensorProto.COMPLEX128: 16,
}
_MODEL_GRAPH, _GRAPH_INITIALIZER, _TENSOR_RAW_DATA = 7, 5, 9  # field numbers in onnx.proto


EXPLICIT_DEFAULTS = {"STFT": {"onesided": 1}, "MeanVarianceNormalization": {"axes": [0, 2, 3]}}
"""Attributes written out even at their default: ONNX's shape inference reads a missing STFT
`onesided` as 0 (the schema's default is 1, which onnxruntime uses), and the checker would
then refuse the true output shape; MeanVarianceNormalization's function body reads `axes`
by reference, and without the attribute its Constant has no value (the checker refuses)."""


def param_values(graph: Graph, weights: dict[str, np.ndarray], rng: np.random.Generator,
                 progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every parameter's value, and the names of those that were freshly initialized."""
    values: dict[str, np.ndarray] = {}
    fresh: list[str] = []
    total = len(graph.params)
    for k, p in enumerate(graph.params.values()):
        if p.name in weights:
            values[p.name] = stored_value(p, weights[p.name])
        else:
            values[p.name] = initial_value(p, rng)
            fresh.append(p.name)
        if progress is not None:
            progress(k + 1, total)
    return values, fresh


def _value_info(t: Tensor, dims: tuple | None = None) -> onnx.ValueInfoProto:
    """A tensor's type; a symbolic dim (a dynamic dim such as `batch`, or `2*batch`) is a dim_param."""
    shape = dims if dims is not None else t.shape
    if shape is not None:
        shape = [d if isinstance(d, int) or d is None else format_dim(d) for d in shape]
    return helper.make_tensor_value_info(t.name, ELEM_TYPE_CODES.get(t.dtype, TensorProto.FLOAT), shape)


def _known(shape: tuple) -> bool:
    """Every dim known: a number, or an expression in dynamic dims (a dim_param)."""
    return all(isinstance(d, int) or hasattr(d, "free_symbols") for d in shape)


def build_model(graph: Graph, values: dict[str, np.ndarray], producer: str = "Unknown",
                graph_name: str = "Unknown", output_dims: dict[str, tuple] | None = None) -> onnx.ModelProto:
    """Assemble the ONNX model. `values` holds every parameter's array."""
    nodes = []
    for n in graph.nodes:
        attrs = [a.to_proto() for a in n.attributes.values()]
        proto = helper.make_node(n.op, [u.tensor.name for u in n.inputs], [t.name for t in n.outputs],
                                 name=n.name, domain=n.domain or None)
        proto.attribute.extend(attrs)
        for name, value in EXPLICIT_DEFAULTS.get(n.op, {}).items():
            if name not in n.attributes:
                proto.attribute.append(helper.make_attribute(name, value))
        nodes.append(proto)
    inputs = [_value_info(t, t.declared) for t in graph.inputs]
    outputs = []
    seen = set()
    for t, el in graph.outputs:
        if t.name in seen:
            continue
        seen.add(t.name)
        dims = (output_dims or {}).get(t.name)
        vi = _value_info(t, dims)
        typ = el.get("type")
        if typ in ONNX_TYPES:
            vi.type.tensor_type.elem_type = ONNX_TYPES[typ]
        outputs.append(vi)
    io_names = {t.name for t in graph.inputs} | seen
    value_info = [_value_info(t) for t in graph.tensors.values()
                  if t.kind in ("value", "concat") and t.name not in io_names and t.shape is not None
                  and t.name not in graph.untyped
                  and (_known(t.shape) if graph.dynamic else all(isinstance(d, int) for d in t.shape))]
    g = helper.make_graph(nodes, graph_name, inputs, outputs, value_info=value_info)
    model = helper.make_model(g, producer_name=producer, opset_imports=[helper.make_opsetid("", graph.opset)])
    # initializers are filled in place: make_graph/make_model would copy each one
    inits = model.graph.initializer
    for p in graph.params.values():
        fill_tensor(inits.add(), values[p.name], p.name)
    for c in graph.constants.values():
        fill_tensor(inits.add(), c.value, c.name)
    return model


def fill_tensor(t: TensorProto, array: np.ndarray, name: str) -> None:
    """Make `t` hold `array` as raw data, like `numpy_helper.from_array`, copying the data once."""
    arr = np.asarray(array)
    if arr.dtype.kind not in "biufc":
        t.CopyFrom(numpy_helper.from_array(arr, name))
        return
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    t.dims.extend(arr.shape)
    t.data_type = helper.np_dtype_to_tensor_dtype(arr.dtype)
    t.name = name
    frame = frame_of(arr)
    if frame is not None:  # room in front of the data: parse the raw_data field straight from it
        key = _key(_TENSOR_RAW_DATA) + _varint(arr.nbytes)
        frame[FRAME - len(key):FRAME] = np.frombuffer(key, np.uint8)
        t.MergeFromString(memoryview(frame)[FRAME - len(key):])
    else:
        t.raw_data = np.ascontiguousarray(arr).tobytes()


# -- writing ---------------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int) -> bytes:
    """The key of a length-delimited field."""
    return _varint(field << 3 | 2)


def _split(msg: Message, skip: str) -> tuple[bytes, bytes]:
    """`msg` serialized without field `skip`: the fields numbered below it, and those above.

    Protobuf writes fields in number order, so `below + <skip field> + above` is the
    message's own serialization. The skipped field is never read (no copy of its data).
    """
    number = msg.DESCRIPTOR.fields_by_name[skip].number
    below, above = type(msg)(), type(msg)()
    for fd in msg.DESCRIPTOR.fields:
        if fd.number == number:
            continue
        dst = below if fd.number < number else above
        if fd.is_repeated:
            src = getattr(msg, fd.name)
            if len(src):
                getattr(dst, fd.name).extend(src)
        elif not fd.has_presence:  # proto3 scalars (ONNX is proto2: not reached)
            if getattr(msg, fd.name) != fd.default_value:
                setattr(dst, fd.name, getattr(msg, fd.name))
        elif msg.HasField(fd.name):
            if fd.message_type is not None:
                getattr(dst, fd.name).CopyFrom(getattr(msg, fd.name))
            else:
                setattr(dst, fd.name, getattr(msg, fd.name))
    return below.SerializeToString(), above.SerializeToString()


def _raw_size(t: TensorProto) -> int | None:
    """The size of `t.raw_data` as its dims and type imply, without reading it; None if unknown."""
    if not t.HasField("raw_data") or t.data_location == TensorProto.EXTERNAL or t.data_type not in _ITEMSIZE:
        return None
    return math.prod(t.dims) * _ITEMSIZE[t.data_type]


class _SizeMismatch(Exception):
    """A tensor's raw_data is not the size its dims say: the model is written the plain way."""


class _Piece:
    """One initializer as it goes into the file: whole, or head + raw data read at write time."""

    def __init__(self, t: TensorProto) -> None:
        raw = _raw_size(t)
        if raw is None or raw < STREAM_MIN_BYTES:
            self.tensor, self.raw, self.head, self.tail = None, 0, t.SerializeToString(), b""
        else:
            below, self.tail = _split(t, "raw_data")
            self.tensor, self.raw = t, raw
            self.head = below + _key(_TENSOR_RAW_DATA) + _varint(raw)
        self.size = len(self.head) + self.raw + len(self.tail)

    def write(self, f: IO[bytes]) -> None:
        f.write(_key(_GRAPH_INITIALIZER) + _varint(self.size) + self.head)
        if self.tensor is not None:
            data = self.tensor.raw_data  # one tensor's copy, freed after the write
            if len(data) != self.raw:
                raise _SizeMismatch(self.tensor.name)
            f.write(data)
            del data
        f.write(self.tail)


def _write_streamed(model: onnx.ModelProto, f: IO[bytes]) -> None:
    """Write `model`'s serialization (byte for byte) without building it in memory."""
    model_below, model_above = _split(model, "graph")
    graph_below, graph_above = _split(model.graph, "initializer")
    pieces = [_Piece(t) for t in model.graph.initializer]
    inits = sum(len(_key(_GRAPH_INITIALIZER)) + len(_varint(p.size)) + p.size for p in pieces)
    graph_size = len(graph_below) + inits + len(graph_above)
    total = len(model_below) + len(_key(_MODEL_GRAPH)) + len(_varint(graph_size)) + graph_size + len(model_above)
    if total > PROTOBUF_LIMIT:
        raise ValueError(f"the model is {total / 1e9:.2f} GB, over protobuf's 2 GB limit; "
                         "save it with external data")
    f.write(model_below + _key(_MODEL_GRAPH) + _varint(graph_size) + graph_below)
    for p in pieces:
        p.write(f)
    f.write(graph_above + model_above)


def _external_header(t: TensorProto, location: str, offset: int, length: int) -> bytes:
    below, above = _split(t, "raw_data")
    h = TensorProto()
    h.ParseFromString(below + above)
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = h.external_data.add()
        entry.key, entry.value = k, v
    h.data_location = TensorProto.EXTERNAL
    return h.SerializeToString()


def _write_external(model: onnx.ModelProto, path: str, data_name: str) -> None:
    """Write the initializers of EXTERNAL_MIN_BYTES or more to `data_name` beside `path`."""
    from agrippa.backend.weights import atomic_writer

    outside = [(s or 0) >= EXTERNAL_MIN_BYTES for s in map(_raw_size, model.graph.initializer)]
    if not any(outside):
        with atomic_writer(path) as f:
            _write_streamed(model, f)
        return
    headers: list[bytes] = []
    with atomic_writer(os.path.join(os.path.dirname(path), data_name)) as d:
        offset = 0
        for t, out in zip(model.graph.initializer, outside):
            if not out:
                headers.append(t.SerializeToString())
                continue
            pad = -offset % EXTERNAL_ALIGN
            d.write(b"\0" * pad)
            offset += pad
            data = t.raw_data
            d.write(data)
            headers.append(_external_header(t, data_name, offset, len(data)))
            offset += len(data)
            del data
    model_below, model_above = _split(model, "graph")
    graph_below, graph_above = _split(model.graph, "initializer")
    inits = b"".join(_key(_GRAPH_INITIALIZER) + _varint(len(h)) + h for h in headers)
    graph = graph_below + inits + graph_above
    with atomic_writer(path) as f:
        f.write(model_below + _key(_MODEL_GRAPH) + _varint(len(graph)) + graph + model_above)


def save_model(model: onnx.ModelProto, path: str, external_data: bool | None = None) -> None:
    """Write the model atomically; weights over ~1.8 GB go to `<name>.data` beside it.

    The model is not modified. With external data, every initializer of 1 KiB or more is
    stored in the data file (page-aligned) and referenced by location, offset and length.
    """
    from agrippa.backend.weights import atomic_writer

    if external_data is None:
        size = 0
        for t in model.graph.initializer:
            raw = _raw_size(t)
            size += raw if raw is not None else t.ByteSize()
        external_data = size > EXTERNAL_DATA_THRESHOLD
    if external_data:
        _write_external(model, path, os.path.basename(path) + ".data")
        return
    try:
        with atomic_writer(path) as f:
            _write_streamed(model, f)
    except _SizeMismatch:
        with atomic_writer(path) as f:
            f.write(model.SerializeToString())
