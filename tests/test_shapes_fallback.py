"""Shapes beyond the hand-written rules: ONNX's own inference, dim hints, robustness
against odd inputs, and inferred types written into the compiled model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from shapes_helpers import (
    line_of,
    node,
    rules_must_not_crash,  # noqa: F401 - an autouse fixture
    run,
    shape,
    shape_diags,
    write,
)

from agrippa.base.diagnostics import Severity
from agrippa.sema.analysis import analyze
from agrippa.sema.shapes import hand_written_ops


# ------------------------------------------------------------------------------ fallback
def test_other_ops_use_onnx_inference(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[1, 8, 4, 6]", "s": "[var(n), 5]", "ids": "[3]:int64", "depth": "[]:int64",
                       "vals": "[2]"},
            [node("DepthToSpace", "x", "d", blocksize="2"), node("Pad", "x", "p", pads="[0, 0, 1, 1, 0, 0, 1, 1]"),
             node("Einsum", "s s", "e", equation="ij,ij->i"), node("TopK", "x", "v i", K="[3]"),
             node("SpaceToDepth", "x", "sd", blocksize="2"), node("OneHot", "ids depth vals", "oh")])
    assert shape(a, "d") == "[1, 2, 8, 12]"
    assert shape(a, "p") == "[1, 8, 6, 8]"
    assert shape(a, "e") == "[n]"  # symbolic dims pass through ONNX's inference
    assert (shape(a, "v"), shape(a, "i"), a.graph.tensors["i"].dtype) == ("[1, 8, 4, 3]", "[1, 8, 4, 3]", "int64")
    assert shape(a, "sd") == "[1, 32, 2, 3]"
    assert shape(a, "oh") == "[3, ?]"  # the depth is data: ONNX cannot know it
    assert not shape_diags(a)
    assert "Einsum" not in hand_written_ops() and "MatMul" in hand_written_ops()


def test_onnx_inference_errors_are_reported(tmp_path: Path) -> None:
    # Det has no hand-written rule: ONNX's own inference judges it, in its words
    a = run(tmp_path, {"x": "[3, 4]"}, [node("Det", "x", "p"), node("Relu", "p", "r")])
    (d,) = shape_diags(a)
    assert d.severity == Severity.ERROR and d.code == "shape-error"
    assert d.message == "Det: The inner-most 2 dimensions must have the same size (mat_w:4 != mat_h:3)."
    assert a.graph.tensors["r"].shape is None


def test_unknown_inputs_do_not_cascade(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[2, 3]"},
            [node("Reshape", "x", "r", shape="[7, -1]"), node("MatMul", "r x", "m"),
             node("Pad", "m", "d", pads="[0, 1]"), node("Add", "d x", "z")])
    assert len(shape_diags(a)) == 1
    assert all(a.graph.tensors[n].shape is None for n in ("r", "m", "d", "z"))


# ------------------------------------------------------------------------------ dim hints
def test_stale_hints(tmp_path: Path) -> None:
    blocks = """<block title="Inner">
      <import from="h" dim="[var(dmodel), var(ntokens)]" />
      <node op="Relu"><input src="h" dims="[var(ntokens), var(dkeys)]" /><output name="r" dim="[var(ntokens), var(dkeys)]" /></node>
      <export from="r" dim="[var(dkeys), var(ntokens)]" />
    </block>
    """
    a = run(tmp_path, {"x": "[var(ntokens), var(dkeys)]"},
            ['<node op="Transpose"><input src="x" dim="[var(ntokens), var(dkeys)]" />'
             '<output name="h" dim="[var(dmodel), var(ntokens)]" /></node>'],
            extra=blocks, exports='<export from="r" dim="[var(ntokens), 3]" />')
    stale = sorted(shape_diags(a), key=lambda d: d.range.start)
    assert [d.message for d in stale] == [
        "dim says [dmodel, ntokens] but the shape is [dkeys, ntokens]",  # <output>
        "dim says [dmodel, ntokens] but the shape is [dkeys, ntokens]",  # block <import>
        "dims says [ntokens, dkeys] but the shape is [dkeys, ntokens]",  # <input dims=>
        "dim says [ntokens, dkeys] but the shape is [dkeys, ntokens]",  # <output>
        "dim says [ntokens, 3] but the shape is [dkeys, ntokens]",  # root <export>
    ]
    assert all(d.code == "stale-dim" and d.severity == Severity.WARNING for d in stale)
    assert line_of(a, stale[0]) == "[var(dmodel), var(ntokens)]"
    fix = stale[0].fixes[0]
    assert fix.title == "Change dim to [var(dkeys), var(ntokens)]"
    assert fix.edits[0].new_text == "[var(dkeys), var(ntokens)]"
    # the block <export> agrees, the root <import> declares: neither is flagged
    with_bindings = analyze(str(tmp_path / "main.agr"), bindings={"ntokens": 3, "dkeys": 3, "dmodel": 3})
    assert not shape_diags(with_bindings)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_no_rule_crashes_on_odd_inputs(tmp_path: Path, opset: int) -> None:
    """Every hand-written rule, fed scalars, vectors, symbolic and half-known shapes."""
    from agrippa.sema import ops

    pool = ["s", "v", "m", "t", "u", "i"]
    nodes = [node("OneHot", "i depth vals", "u")]  # u is [4, ?]: a dim ONNX cannot know
    for op in hand_written_ops():
        schema = ops.get_op(op, opset)
        if schema is None:
            continue
        n_out = max(1, min(schema.max_output, 3))
        for k in range(len(pool)):
            for arity in range(max(schema.min_input, 1), min(schema.max_input, 3) + 1):
                ins = " ".join(pool[(k + j) % len(pool)] for j in range(arity))
                outs = " ".join(f"{op}_{k}_{arity}_{j}" for j in range(n_out))
                nodes.append(node(op, ins, outs))
    a = run(tmp_path, {"s": "[]", "v": "[var(n)]", "m": "[2, var(n)]", "t": "[2, 3, 4, 5]", "i": "[4]:int64",
                       "depth": "[]:int64", "vals": "[2]"}, nodes, opset=opset)
    assert a.graph is not None and len(a.graph.nodes) == len(nodes)


def test_inferred_types_and_shapes_export_and_run(tmp_path: Path) -> None:
    """The compiler writes inferred shapes and dtypes as value_info; onnxruntime accepts them."""
    import onnxruntime as ort

    import agrippa

    write(tmp_path, {"x": "[2, 3]"},
          [node("Cast", "x", "xi", to="7"), node("Equal", "xi xi", "eq"), node("Shape", "x", "s"),
           node("Reshape", "x s", "r"), node("Where", "eq r x", "w"),
           node("TopK", "w", "v ix", K="[2]", axis="1"), node("Cast", "ix", "ixf", to="1"),
           node("Add", "v ixf", "y")], exports='<export from="y" dim="[2, 2]" />')
    out = tmp_path / "out.onnx"
    agrippa.export(str(tmp_path), str(out), suppress=True)
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    types = {v.name: v.type.tensor_type.elem_type for v in model.graph.value_info}
    assert types["eq"] == onnx.TensorProto.BOOL and types["ix"] == onnx.TensorProto.INT64
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": np.arange(6, dtype=np.float32).reshape(2, 3)})
    assert y.shape == (2, 2)
