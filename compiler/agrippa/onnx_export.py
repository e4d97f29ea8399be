"""The back end: IR → ONNX ModelProto (LANGUAGE.md §4–§6)."""
from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .initializers import initial_value, stored_value
from .ir import Graph, Tensor

ONNX_TYPES = {
    "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
    "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8, "bool": TensorProto.BOOL,
}
EXTERNAL_DATA_THRESHOLD = 1_800_000_000  # bytes of initializers above which data goes beside the model


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
    shape = dims if dims is not None else t.shape
    if shape is not None:
        shape = [d if isinstance(d, int) else str(d) for d in shape]
    return helper.make_tensor_value_info(t.name, ONNX_TYPES.get(t.dtype, TensorProto.FLOAT), shape)


def build_model(graph: Graph, values: dict[str, np.ndarray], producer: str = "Unknown",
                graph_name: str = "Unknown", output_dims: dict[str, tuple] | None = None) -> onnx.ModelProto:
    """Assemble the ONNX model. `values` holds every parameter's array."""
    nodes = []
    for n in graph.nodes:
        attrs = [a.to_proto() for a in n.attributes.values()]
        proto = helper.make_node(n.op, [u.tensor.name for u in n.inputs], [t.name for t in n.outputs],
                                 name=n.name, domain=n.domain or None)
        proto.attribute.extend(attrs)
        nodes.append(proto)
    inits = [numpy_helper.from_array(values[p.name], p.name) for p in graph.params.values()]
    inits += [numpy_helper.from_array(c.value, c.name) for c in graph.constants.values()]
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
                  and all(isinstance(d, int) for d in t.shape)]
    g = helper.make_graph(nodes, graph_name, inputs, outputs, initializer=inits, value_info=value_info)
    model = helper.make_model(g, producer_name=producer, opset_imports=[helper.make_opsetid("", graph.opset)])
    return model


def save_model(model: onnx.ModelProto, path: str, external_data: bool | None = None) -> None:
    """Write the model atomically; weights over ~1.8 GB go to `<name>.data` beside it."""
    from .weights import atomic_writer

    size = sum(len(t.raw_data) for t in model.graph.initializer)
    if external_data is None:
        external_data = size > EXTERNAL_DATA_THRESHOLD
    if external_data:
        data_name = os.path.basename(path) + ".data"
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=1024)
        return
    with atomic_writer(path) as f:
        f.write(model.SerializeToString())
