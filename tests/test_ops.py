"""Tests for the ONNX op catalog (agrippa.sema.ops)."""

from __future__ import annotations

import time

import numpy as np
import onnx
import pytest

from agrippa.sema import ops
from agrippa.sema.ops import AttrError, ParsedAttr, catalog, docs


def op(name: str, opset: int = 13) -> ops.OpSchema:
    schema = ops.get_op(name, opset)
    assert schema is not None, f"{name} missing at opset {opset}"
    return schema


def parsed(name: str, attr: str, text: str, opset: int = 13) -> ParsedAttr:
    result = ops.parse_attribute(op(name, opset), attr, text)
    assert isinstance(result, ParsedAttr), result
    return result


def error(name: str, attr: str, text: str, opset: int = 13) -> AttrError:
    result = ops.parse_attribute(op(name, opset), attr, text)
    assert isinstance(result, AttrError), result
    return result


# ----------------------------------------------------------------------------- catalog


def test_catalog_size_and_order() -> None:
    catalog = ops.all_ops(13)
    names = [s.name for s in catalog]
    assert len(catalog) > 150
    assert names == sorted(names)
    assert {"MatMul", "Softmax", "Conv", "Gemm", "Relu"} <= set(names)
    assert all(s.domain == "" for s in catalog)


def test_version_in_force_at_opset() -> None:
    assert op("Softmax", 13).since_version == 13
    assert op("Softmax", 11).since_version == 11
    assert op("ReduceMean", 17).since_version == 13
    assert op("ReduceMean", 18).since_version == 18


def test_unavailable_and_deprecated_ops() -> None:
    assert ops.get_op("Trilu", 13) is None  # introduced at 14
    assert ops.get_op("Trilu", 14) is not None
    assert ops.get_op("Upsample", 13) is None  # deprecated at 10
    assert ops.get_op("Upsample", 9) is not None
    assert ops.get_op("NoSuchOp", 13) is None
    assert ops.get_op("softmax", 13) is None  # names are case-sensitive


def test_softmax_axis_default() -> None:
    axis = op("Softmax").attributes["axis"]
    assert axis.kind == "int"
    assert axis.default == -1
    assert not axis.required
    assert op("Softmax", 11).attributes["axis"].default == 1


def test_attribute_kinds_and_defaults() -> None:
    alpha = op("LeakyRelu").attributes["alpha"]
    assert alpha.kind == "float"
    assert alpha.default == pytest.approx(0.01)
    assert op("Transpose").attributes["perm"].kind == "ints"
    assert op("Pad").attributes["mode"].default == "constant"
    assert op("LSTM").attributes["activations"].kind == "strings"
    assert op("Cast").attributes["to"].required
    assert op("Constant").attributes["value"].kind == "tensor"


def test_inputs_optional_and_variadic() -> None:
    clip = op("Clip")
    assert [(i.name, i.optional) for i in clip.inputs] == [
        ("input", False),
        ("min", True),
        ("max", True),
    ]
    concat = op("Concat")
    assert concat.inputs[0].variadic
    assert concat.max_input > 1000
    assert "tensor(float)" in op("MatMul").inputs[0].allowed_types


def test_catalog_build_time_and_cache() -> None:
    catalog._catalog.cache_clear()
    start = time.perf_counter()
    ops.all_ops(15)
    elapsed = time.perf_counter() - start
    print(f"building the opset-15 catalog took {elapsed * 1000:.1f} ms")
    before = catalog._catalog.cache_info().hits
    first = ops.get_op("MatMul", 15)
    assert ops.get_op("MatMul", 15) is first
    assert catalog._catalog.cache_info().hits >= before + 2


# ----------------------------------------------------------------------------- did you mean


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("Softmx", "Softmax"), ("matmul", "MatMul"), ("relu", "Relu"), ("Conv2D", "Conv")],
)
def test_suggest_op(typed: str, expected: str) -> None:
    assert ops.suggest_op(typed, 13)[0] == expected


def test_suggest_op_case_insensitive_first_and_nothing_for_garbage() -> None:
    assert ops.suggest_op("MATMUL", 13) == ["MatMul", *ops.suggest_op("MATMUL", 13)[1:]]
    assert ops.suggest_op("zzzzqqq", 13) == []


# ----------------------------------------------------------------------------- attribute text


def test_parse_int() -> None:
    assert parsed("Softmax", "axis", "-1").value == -1
    assert parsed("Softmax", "axis", " 2 ").value == 2
    assert parsed("Softmax", "axis", "2.0").value == 2  # integral floats are accepted


@pytest.mark.parametrize("text", ["x", "1.5", "", "1, 2", "inf"])
def test_parse_int_rejects(text: str) -> None:
    err = error("Softmax", "axis", text)
    assert err.message == f"Softmax: attribute 'axis' must be an integer, got \"{text}\""


def test_parse_int_error_offset() -> None:
    err = error("Softmax", "axis", "  x")
    assert (err.offset, err.length) == (2, 1)


def test_parse_float() -> None:
    assert parsed("LeakyRelu", "alpha", "0.1").value == pytest.approx(0.1)
    assert parsed("BatchNormalization", "epsilon", "1e-5").value == pytest.approx(1e-5)
    assert parsed("LeakyRelu", "alpha", "3").value == 3.0
    err = error("LeakyRelu", "alpha", "abc")
    assert err.message == "LeakyRelu: attribute 'alpha' must be a number, got \"abc\""


def test_parse_string() -> None:
    assert parsed("Pad", "mode", "constant").value == "constant"
    assert parsed("Pad", "mode", "reflect").kind == "string"


def test_parse_ints() -> None:
    perm = parsed("Transpose", "perm", "[0, 1, 3, 2]")
    assert perm.value == [0, 1, 3, 2] and perm.kind == "ints"
    assert parsed("Transpose", "perm", "0,1").value == [0, 1]  # brackets optional
    assert parsed("Transpose", "perm", "[]").value == []
    kernel = parsed("Conv", "kernel_shape", "3")  # a scalar means a one-element list
    assert kernel.value == [3] and kernel.scalar
    proto = parsed("Transpose", "perm", "[0, 2, 1]").to_proto()
    assert proto.type == onnx.AttributeProto.INTS and list(proto.ints) == [0, 2, 1]


def test_parse_ints_errors_point_at_the_problem() -> None:
    err = error("Transpose", "perm", "[0, x, 2]")
    assert err.message == (
        "Transpose: attribute 'perm' must be a list of integers, but \"x\" is not an integer"
    )
    assert (err.offset, err.length) == (4, 1)

    err = error("Transpose", "perm", "[0, 1")
    assert "missing ']'" in err.message and err.offset == 5

    err = error("Transpose", "perm", "[0, , 1]")
    assert "missing value" in err.message and err.offset == 4

    err = error("Transpose", "perm", "[0 1]")
    assert "expected ','" in err.message and err.offset == 3


def test_parse_floats_and_strings() -> None:
    assert parsed("Resize", "scales", "[1, 1, 2.0, 2]").value == [1.0, 1.0, 2.0, 2.0]
    acts = parsed("LSTM", "activations", "['Sigmoid', \"Tanh\", Tanh]")
    assert acts.value == ["Sigmoid", "Tanh", "Tanh"]
    assert acts.to_proto().strings == [b"Sigmoid", b"Tanh", b"Tanh"]


def test_unknown_attribute_did_you_mean() -> None:
    err = error("Softmax", "axs", "1")
    assert err.message == "Softmax: unknown attribute 'axs'; did you mean 'axis'?"
    assert "takes no attributes" in error("Relu", "alpha", "1").message


def test_tensor_attribute_not_supported() -> None:
    err = error("Constant", "value", "[1, 2]")
    assert "not supported in markup" in err.message
    assert "'value'" in err.message


def test_parse_node_attributes_reports_missing_required() -> None:
    good, bad = ops.parse_node_attributes(op("Cast"), {"title": "c"})
    assert good == {}
    assert bad["to"].message == "Cast: missing required attribute 'to'"
    good, bad = ops.parse_node_attributes(op("Softmax"), {"op": "Softmax", "axis": "1"})
    assert bad == {} and good["axis"].value == 1


# ----------------------------------------------------------------------------- attribute inputs


def test_attribute_inputs_reduce() -> None:
    assert ops.attribute_inputs(op("ReduceSum", 13)) == {"axes": 1}
    mean13 = op("ReduceMean", 13)
    assert ops.attribute_inputs(mean13) == {}
    assert mean13.attributes["axes"].kind == "ints"
    assert ops.attribute_inputs(op("ReduceMean", 18)) == {"axes": 1}


def test_attribute_inputs_shape_ops() -> None:
    assert ops.attribute_inputs(op("Unsqueeze", 13)) == {"axes": 1}
    assert ops.attribute_inputs(op("Unsqueeze", 11)) == {}  # still an attribute at 11
    assert ops.attribute_inputs(op("Slice", 13)) == {"starts": 1, "ends": 2, "axes": 3, "steps": 4}
    assert ops.attribute_inputs(op("Reshape", 13)) == {"shape": 1}
    assert ops.attribute_inputs(op("Resize", 13)) == {"scales": 2, "sizes": 3}
    assert ops.attribute_inputs(op("TopK", 13)) == {"K": 1}
    assert ops.attribute_inputs(op("Upsample", 9)) == {"scales": 1}
    assert ops.attribute_inputs(op("MatMul", 13)) == {}
    assert ops.attribute_inputs(op("Conv", 13)) == {}


def test_attribute_input_element_types() -> None:
    clip = ops.attribute_input_specs(op("Clip", 13))
    assert set(clip) == {"min", "max"}
    assert clip["min"].elem_type == onnx.TensorProto.FLOAT and clip["min"].follows_data
    assert ops.attribute_input_specs(op("ReduceSum"))["axes"].elem_type == onnx.TensorProto.INT64
    resize = ops.attribute_input_specs(op("Resize"))
    assert resize["scales"].elem_type == onnx.TensorProto.FLOAT
    assert resize["sizes"].elem_type == onnx.TensorProto.INT64


def test_attribute_input_values_become_tensors() -> None:
    axes = parsed("ReduceSum", "axes", "-1")
    assert axes.input_index == 1 and axes.kind == "ints"
    arr = axes.to_array()
    assert arr.dtype == np.int64 and arr.shape == (1,)

    low = parsed("Clip", "min", "0")
    assert low.input_index == 1 and low.to_array().dtype == np.float32
    assert low.to_array().shape == ()  # Clip min/max must be scalars

    k = parsed("TopK", "K", "5")
    assert k.to_array().shape == (1,)  # "a 1-D tensor containing a single value"

    assert parsed("Reshape", "shape", "[0, -1]").to_array().tolist() == [0, -1]
    assert parsed("Gather", "indices", "2").to_array().shape == ()  # rank as written
    assert parsed("Gather", "indices", "[2]").to_array().shape == (1,)

    err = error("Clip", "min", "[0, 1]")
    assert err.message == "Clip: attribute 'min' must be a single number, got \"[0, 1]\""
    err = error("ReduceSum", "axes", "[1, x]")
    assert err.message.startswith("ReduceSum: attribute 'axes' must be a list of integers")


# ----------------------------------------------------------------------------- arity


def test_check_node_arity() -> None:
    assert ops.check_node_arity(op("MatMul"), 2, 1) is None
    assert ops.check_node_arity(op("MatMul"), 3, 1) == "MatMul takes 2 inputs, got 3"
    assert ops.check_node_arity(op("Concat"), 0, 1) == "Concat takes at least 1 input, got 0"
    assert ops.check_node_arity(op("Concat"), 7, 1) is None
    assert ops.check_node_arity(op("Clip"), 1, 1) is None
    assert ops.check_node_arity(op("Clip"), 4, 1) == "Clip takes 1 to 3 inputs, got 4"
    assert ops.check_node_arity(op("Relu"), 1, 2) == "Relu takes 1 output, got 2"
    assert ops.check_node_arity(op("Dropout"), 1, 2) is None  # optional mask output


# ----------------------------------------------------------------------------- hover


def test_op_markdown() -> None:
    md = ops.op_markdown(op("Clip"))
    assert "Clip(input, [min], [max]) -> output" in md
    assert "optional" in md and "may be given as an attribute" in md
    md = ops.op_markdown(op("Softmax"))
    assert "`axis`: int, default -1" in md
    assert "normalized exponential" in md
    assert "`to`: int, required" in ops.op_markdown(op("Cast"))
    assert "Concat(inputs...)" in ops.op_markdown(op("Concat"))


def test_op_markdown_trims_long_docs() -> None:
    for schema in ops.all_ops(17):
        md = ops.op_markdown(schema)
        doc_part = md.split("\n---\n", 1)[-1]
        link = f"\n\n[ONNX documentation of {schema.name}]({docs.ONNX_OPERATOR_URL.format(schema.name)})"
        if schema.domain in ("", "ai.onnx"):
            assert doc_part.endswith(link), schema.name
            doc_part = doc_part[: -len(link)]
        assert len(doc_part) < docs.DOC_LIMIT + 20, schema.name


def test_attribute_inputs_run_in_onnxruntime() -> None:
    ort = pytest.importorskip("onnxruntime")
    from onnx import helper

    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 4])
    nodes, inits, outs = [], [], []
    for op_name, attr, text, shape in [
        ("ReduceSum", "axes", "[-1]", [2, 1]),
        ("Clip", "min", "0.5", [2, 4]),
        ("TopK", "K", "2", [2, 2]),
        ("Unsqueeze", "axes", "0", [1, 2, 4]),
    ]:
        p = parsed(op_name, attr, text)
        inputs = ["x"] + [""] * (p.input_index - 1) + [f"{op_name}_{attr}"]
        inits.append(onnx.numpy_helper.from_array(p.to_array(), inputs[-1]))
        out = [f"{op_name}_out"] + (["topk_idx"] if op_name == "TopK" else [])
        nodes.append(helper.make_node(op_name, inputs, out))
        outs.append(helper.make_tensor_value_info(out[0], onnx.TensorProto.FLOAT, shape))
    graph = helper.make_graph(nodes, "g", [x], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    data = np.arange(8, dtype=np.float32).reshape(2, 4) / 4
    reduced, clipped, top, unsqueezed = session.run(None, {"x": data})
    np.testing.assert_allclose(reduced, data.sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(clipped, np.maximum(data, 0.5))
    assert top.shape == (2, 2) and unsqueezed.shape == (1, 2, 4)
