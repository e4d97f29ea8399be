"""One-op projects for every op of the catalog (`all_ops(opset)`), attributes from the schemas.

A known-good case of tests/converter_cases.py is the base when the op has one (inputs become
root imports with their exact values, or XML attributes for the inputs markup may write so);
otherwise inputs of the schema's allowed types and random required attributes. Half the
time one attribute then gets a random value of its kind: many of those are invalid, which
is the point (the oracle asks onnxruntime)."""
from __future__ import annotations

import random

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .project import INDEX, Project

OPSETS = (13, 13, 17, 18, 20)
_INTS = [-2, -1, 0, 1, 2, 3, 5]
_FLOATS = [0.0, 0.5, -1.0, 2.0, 1e-5]
_STRINGS = ["abc", "constant", "reflect", "linear", "nearest", "NOTSET", "DCR", "CRD", "sum", "mean", "none"]


def _text(v) -> str:
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_text(x) for x in np.asarray(v).ravel().tolist()) + "]"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _random_attr(rng: random.Random, kind: str, default):
    if kind == "int":
        return rng.choice(_INTS)
    if kind == "float":
        return rng.choice(_FLOATS)
    if kind == "string":
        return rng.choice(_STRINGS + ([default] if isinstance(default, str) else []))
    if kind == "ints":
        return [rng.choice(_INTS[1:5]) for _ in range(rng.randint(1, 4))]
    if kind == "floats":
        return [rng.choice(_FLOATS) for _ in range(rng.randint(1, 3))]
    if kind == "strings":
        return [rng.choice(_STRINGS)]
    return None


def _schema_inputs(rng: random.Random, schema) -> list:
    from agrippa.sema.dtypes import DTYPES, type_str_name

    out = []
    for formal in schema.inputs:
        if formal.optional and rng.random() < 0.7:
            break
        names = [type_str_name(t) for t in formal.allowed_types]
        names = [n for n in names if n in DTYPES]
        if not names:
            return []
        dtype = "float32" if "float32" in names and rng.random() < 0.8 else rng.choice(names)
        shape = rng.choice([(3, 4), (2, 3, 4), (4,), (1, 2, 3, 3)])
        npdt = np.dtype(np.float32) if dtype == "float32" else np.dtype(dtype) if dtype not in ("bfloat16",) else None
        if npdt is None:
            return []
        if npdt.kind == "b":
            arr = np.random.default_rng(rng.randrange(1 << 30)).random(shape) < 0.5
        elif npdt.kind in "iu":  # values a run cannot refuse: 0 indexes anything, a shape of 1s broadcasts
            arr = (np.ones if "shape" in formal.name else np.zeros)(shape, npdt)
        else:
            arr = np.random.default_rng(rng.randrange(1 << 30)).normal(size=shape).astype(npdt)
        out.append(arr)
        if formal.variadic and rng.random() < 0.5:
            out.append(arr.copy())
    return out


def generate(seed: int, op: str | None = None, opset: int | None = None) -> Project:
    """A one-op project: a random op of the catalog at a random opset, or `op` at `opset`."""
    from converter_cases import CASES, Init

    from agrippa.sema.ops import all_ops, attribute_input_specs, get_op

    rng = random.Random(seed)
    opset = opset or rng.choice(OPSETS)
    ops = [s for s in all_ops(opset) if not s.name.startswith(("Sequence", "Optional"))]
    schema = get_op(op, opset) if op else rng.choice(ops)
    case = None
    if schema.name in CASES and rng.random() < 0.85:
        try:
            cases = CASES[schema.name](schema.since_version)
        except Exception:
            cases = []
        if cases:
            case = rng.choice(cases)
    if case is None:
        inputs = _schema_inputs(rng, schema)
        attrs = {a.name: _random_attr(rng, a.kind, a.default) for a in schema.attributes.values() if a.required}
        n_out = max(1, schema.min_output)
    else:
        inputs, attrs, n_out = case
        inputs = list(inputs)
        attrs = dict(attrs)
    intent = ""
    if schema.attributes and rng.random() < 0.5:
        a = rng.choice(list(schema.attributes.values()))
        value = _random_attr(rng, a.kind, a.default)
        if value is not None:
            attrs[a.name] = value
            intent = f"attr {a.name}={_text(value)}"
    specs = attribute_input_specs(schema)
    by_index = {s.index: s for s in specs.values()}
    while inputs and inputs[-1] is None:
        inputs.pop()
    head, body, feeds, onnx_inputs, inits, graph_inputs = [], [], {}, [], [], []
    for k, value in enumerate(inputs):
        if value is None:  # an absent optional input in the middle: markup cannot say so
            return generate(seed + 7919, op, opset)
        name = f"in{k}"
        onnx_inputs.append(name)
        if isinstance(value, Init):
            spec = by_index.get(k)
            arr = value.value
            if spec is not None and (arr.dtype.kind in "iu") == (spec.elem_type == onnx.TensorProto.INT64):
                attrs[spec.name] = arr.tolist() if arr.ndim else arr.item()
                inits.append(numpy_helper.from_array(arr.astype(np.int64 if arr.dtype.kind in "iu" else arr.dtype), name))
                continue
            if arr.dtype != np.float32:
                return generate(seed + 7919, op, opset)
            body.append(f'<params name="w{k}" dim="{_text(list(arr.shape))}" frozen="yes"/>')
            inits.append(numpy_helper.from_array(arr, name))
            continue
        from agrippa.sema.dtypes import np_dtype_name

        dtype = np_dtype_name(value.dtype)
        head.append(f'    <import from="{name}" dim="{_text(list(value.shape))}" type="{dtype}"/>')
        body.append(f'<input src="{name}"/>')
        feeds[name] = value
        graph_inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype),
                                                          list(value.shape)))
    attrs = {k: v for k, v in attrs.items() if not isinstance(v, np.ndarray)}
    outs = [f"out{k}" for k in range(n_out)]
    types = _infer(schema.name, opset, onnx_inputs, outs, attrs, graph_inputs, inits, specs)
    body += [f'<output name="{o}"/>' for o in outs]
    a = "".join(f' {k}="{_text(v)}"' for k, v in attrs.items())
    tail = []
    for o in outs:
        dims, typ = types.get(o, ([1], "float32"))
        tail.append(f'    <export from="{o}" dim="{_text(dims)}" type="{typ}"/>')
    text = ("<model>\n" + "\n".join(head) + f'\n    <block title="one">\n        <node op="{schema.name}"{a}>'
            + "".join(body) + "</node>\n    </block>\n" + "\n".join(tail) + "\n</model>\n")
    return Project({INDEX: text}, {}, opset, feeds, "catalog", intent, schema.name)


def _infer(op, opset, onnx_inputs, outs, attrs, graph_inputs, inits, specs) -> dict:
    """Output dims and types from ONNX's own inference on the equivalent one-node model (the
    export's dim and type must be written); empty when it cannot say."""
    from agrippa.sema.dtypes import TYPE_NAMES

    if op == "Split" and attrs.get("num_outputs", len(outs)) != len(outs):
        return {}  # onnx's Split-18 inference aborts the process on it (a libstdc++ assertion)
    try:
        onnx_attrs = {k: v for k, v in attrs.items() if k not in specs}
        node = helper.make_node(op, onnx_inputs, outs, **onnx_attrs)
        g = helper.make_graph([node], "g", graph_inputs, [helper.make_empty_tensor_value_info(o) for o in outs],
                              initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    except Exception:
        return {}
    out = {}
    for vi in inferred.graph.output:
        tt = vi.type.tensor_type
        if tt.elem_type not in TYPE_NAMES or not tt.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim]
        out[vi.name] = (dims, TYPE_NAMES[tt.elem_type])
    return out
