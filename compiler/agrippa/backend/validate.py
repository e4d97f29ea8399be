"""Compile validates what it writes: `onnx.checker`'s full check (structure, then ONNX's
strict shape inference) runs on the model before it is written. A failure is our bug,
reported as an internal error, and no file is left behind.

The check runs on a *skeleton*: the model with every initializer of 1 KiB or more
replaced by a header pointing at in-memory external data (`#` locations, which the
checker does not look for on disk). What can be wrong is the structure — names, types,
shapes, attributes — not the bytes of the weights; and the skeleton of a 127M-parameter
model is a few hundred KB, so the check costs milliseconds rather than a second copy
of half a gigabyte (and works alike for models over protobuf's 2 GB limit). Small
initializers (constants such as Reshape's shape) keep their data, for shape inference.
"""
from __future__ import annotations

import onnx
from onnx import TensorProto

from agrippa.backend.onnx_export import _raw_size, _split

STUB_MIN_BYTES = 1024
_STUB_LOCATION = "#agrippa-skeleton"
_stubs_work: list[bool] = []  # does this onnx accept `#` locations? (learned once)


def _stub(t: TensorProto) -> TensorProto:
    s = TensorProto()
    s.name, s.data_type = t.name, t.data_type
    s.dims.extend(t.dims)
    if t.HasField("doc_string"):
        s.doc_string = t.doc_string
    s.data_location = TensorProto.EXTERNAL
    entry = s.external_data.add()
    entry.key, entry.value = "location", _STUB_LOCATION
    return s


def skeleton(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` without the data of its large initializers (the model is not modified)."""
    sk = onnx.ModelProto()
    sk.ParseFromString(b"".join(_split(model, "graph")))
    sk.graph.ParseFromString(b"".join(_split(model.graph, "initializer")))
    for t in model.graph.initializer:
        size = _raw_size(t)  # from dims: reading raw_data would copy it
        big = t.data_location != TensorProto.EXTERNAL and (size if size is not None else t.ByteSize()) >= STUB_MIN_BYTES
        sk.graph.initializer.add().CopyFrom(_stub(t) if big else t)
    return sk


def _stubs_accepted() -> bool:
    if not _stubs_work:
        from onnx import helper

        t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2])
        t.raw_data = b"\0" * 8
        g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "g", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [_stub(t)])
        try:
            onnx.checker.check_model(helper.make_model(g), full_check=True)
            _stubs_work.append(True)
        except Exception:
            _stubs_work.append(False)
    return _stubs_work[0]


def check_written_model(model: onnx.ModelProto) -> str | None:
    """Why onnx.checker's full check rejects `model` (None when it passes)."""
    target = skeleton(model) if _stubs_accepted() else model
    if target is model and model.ByteSize() >= 2**31:  # an onnx without `#` locations: too large to check
        return None
    try:
        onnx.checker.check_model(target, full_check=True)
    except Exception as e:  # ValidationError, InferenceError, or the checker's own failure
        return " ".join(str(e).split()) or type(e).__name__
    return None
