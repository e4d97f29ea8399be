"""Element types through the whole graph: inferred from the ONNX schemas' type constraints,
checked at the input that breaks one, written into the compiled model, and equal to the
types onnxruntime computes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from agrippa.backend.compile import compile_project
from agrippa.sema.analysis import Analysis, analyze
from agrippa.sema.types.signatures import signature

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def project(tmp_path: Path, text: str) -> tuple[Path, tuple[int, int, int, int] | None]:
    """Write main.agr; the range marked ⟦ ⟧ (0-based line, col, end line, end col)."""
    at = None
    if "⟦" in text:
        start = text.index("⟦")
        text = text.replace("⟦", "", 1)
        end = text.index("⟧")
        text = text.replace("⟧", "", 1)

        def pos(i: int) -> tuple[int, int]:
            return text.count("\n", 0, i), i - (text.rfind("\n", 0, i) + 1)

        at = (*pos(start), *pos(end))
    (tmp_path / "main.agr").write_text(text)
    return tmp_path / "main.agr", at


def type_errors(a: Analysis) -> list:
    return [d for d in a.diagnostics if d.code == "type-mismatch"]


def rng_of(d) -> tuple[int, int, int, int]:
    r = d.range
    return r.start.line, r.start.character, r.end.line, r.end.character


def model(imports: str, nodes: str, exports: str = "") -> str:
    return (f'<model script-version="0.0.1">\n{imports}\n<block title="B">\n{nodes}\n</block>\n'
            f"{exports}\n</model>\n")


# -- the two reported failures: errors at the exact input ------------------------------------------
def test_gather_with_float_indices_is_an_error_at_the_input(tmp_path: Path) -> None:
    path, at = project(tmp_path, model(
        '<import from="x" dim="[4]" />',
        '<node op="Gather"><params name="E" dim="[10, 8]" /><input src="⟦x⟧" /><output name="y" /></node>',
        '<export from="y" dim="[4, 8]" />'))
    [d] = type_errors(analyze(str(path)))
    assert d.is_error and rng_of(d) == at
    assert d.message == "Gather: indices must be int32 or int64, but `x` is float32 (imported at main.agr:2)"
    [rel] = d.related
    assert rel.location.file == str(path) and rel.location.range.start.line == 1


def test_slice_with_float_ends_is_an_error_at_the_input(tmp_path: Path) -> None:
    path, at = project(tmp_path, model(
        '<import from="x" dim="[4, 8]" />\n<import from="s" dim="[1]" type="int64" />\n'
        '<import from="e" dim="[1]" type="float32" />',
        '<node op="Slice"><input src="x" /><input src="s" /><input src="⟦e⟧" /><output name="y" /></node>',
        '<export from="y" dim="[4, 8]" />'))
    [d] = type_errors(analyze(str(path)))
    assert rng_of(d) == at
    assert d.message == "Slice: ends must be int32 or int64, but `e` is float32 (imported at main.agr:4)"
    # the related location is the `type` value that gave `e` its type
    assert d.related[0].location.range.start.line == 3


def test_mixed_types_bound_to_one_variable_are_an_error_at_the_second(tmp_path: Path) -> None:
    path, at = project(tmp_path, model(
        '<import from="a" dim="[3]" />\n<import from="b" dim="[3]" type="int64" />',
        '<node op="Relu"><input src="a" /><output name="r" /></node>\n'
        '<node op="Add"><input src="r" /><input src="⟦b⟧" /><output name="y" /></node>'))
    [d] = type_errors(analyze(str(path)))
    assert rng_of(d) == at
    assert d.message == ("Add: `b` is int64 (imported at main.agr:3), but `r` is float32 (from `a`, imported "
                         "at main.agr:2); A and B must have the same element type (T)")
    assert [r.location.range.start.line for r in d.related] == [2, 1]


def test_a_param_of_the_wrong_type_is_reported_at_its_params(tmp_path: Path) -> None:
    path, at = project(tmp_path, model(
        '<import from="x" dim="[3]" />',
        '<node op="Mul"><input src="x" /><params name="w" dim="[3]" type="⟦int32⟧" /><output name="y" /></node>'))
    [d] = type_errors(analyze(str(path)))
    assert rng_of(d) == at and "declared at main.agr:4" in d.message


def test_types_made_by_ops_are_explained_and_errors_do_not_cascade(tmp_path: Path) -> None:
    path, at = project(tmp_path, model(
        '<import from="x" dim="[2, 3]" />',
        '<node op="Shape"><input src="x" /><output name="s" /></node>\n'
        '<node op="Relu"><input src="⟦s⟧" /><output name="r" /></node>\n'
        '<node op="Greater"><input src="x" /><input src="x" /><output name="g" /></node>\n'
        '<node op="Sigmoid"><input src="g" /><output name="h" /></node>\n'
        '<node op="Neg"><input src="h" /><output name="n" /></node>'))
    a = analyze(str(path))
    relu, sigmoid = type_errors(a)  # none at Neg: `h`'s type is unknown after the error
    assert rng_of(relu) == at  # the project's opset (13): Relu takes float types only
    assert relu.message == ("Relu: X must be one of float16, bfloat16, float32, float64, but `s` is int64 "
                            "(made by Shape at main.agr:4)")
    assert sigmoid.message.endswith("but `g` is bool (made by Greater at main.agr:6)")
    assert {"r", "h", "n"} <= a.graph.untyped


def test_export_type_must_match(tmp_path: Path) -> None:
    path, at = project(tmp_path, model(
        '<import from="x" dim="[3]" />',
        '<node op="Relu"><input src="x" /><output name="y" /></node>',
        '<export from="y" dim="[3]" type="⟦int64⟧" />'))
    [d] = type_errors(analyze(str(path)))
    assert rng_of(d) == at and d.message.startswith("`y` is exported as int64, but it is float32")


def test_attribute_decided_types(tmp_path: Path) -> None:
    path, _ = project(tmp_path, model(
        '<import from="x" dim="[2, 3]" />',
        '<node op="Cast" to="7"><input src="x" /><output name="c" /></node>\n'
        '<node op="Constant" value_int="3"><output name="k" /></node>\n'
        '<node op="RandomNormal" dtype="11" shape="[2, 3]"><output name="rn" /></node>\n'
        '<node op="EyeLike" dtype="6"><input src="x" /><output name="eye" /></node>\n'
        '<node op="ConstantOfShape"><input src="s" /><output name="z" /></node>\n'
        '<node op="Shape"><input src="x" /><output name="s" /></node>\n'
        '<node op="ArgMin"><input src="x" /><output name="am" /></node>\n'
        '<node op="LayerNormalization"><input src="x" /><params name="g" dim="[3]" />'
        '<output name="ln" /><output name="mean" /></node>'))
    a = analyze(str(path))
    got = {n: a.graph.tensors[n].dtype for n in ("c", "k", "rn", "eye", "s", "am", "ln", "mean")}
    assert got == {"c": "int64", "k": "int64", "rn": "float64", "eye": "int32", "s": "int64",
                   "am": "int64", "ln": "float32", "mean": "float32"}


def test_signatures_are_read_once_per_op_and_opset() -> None:
    assert signature("Gather", 17) is signature("Gather", 17)
    g = signature("Gather", 17)
    assert g.inputs[1].allowed == {"int32", "int64"} and g.outputs[0].var == g.inputs[0].var
    assert signature("NoSuchOp", 17) is None


# -- the compiled model: onnxruntime agrees on every tensor's type ----------------------------------
MIXED = model(
    '<import from="ids" dim="[2, 5]" type="int64" />\n<import from="x" dim="[2, 5, 8]" />',
    """<node op="Gather"><params name="E" dim="[100, 8]" /><input src="ids" /><output name="emb" /></node>
<node op="Shape"><input src="emb" /><output name="shp" /></node>
<node op="Cast" to="1"><input src="ids" /><output name="idsf" /></node>
<node op="Greater"><input src="emb" /><input src="x" /><output name="gt" /></node>
<node op="Equal"><input src="ids" /><input src="ids" /><output name="eq" /></node>
<node op="Not"><input src="eq" /><output name="neq" /></node>
<node op="Where"><input src="gt" /><input src="emb" /><input src="x" /><output name="sel" /></node>
<node op="ArgMax" axis="-1" keepdims="0"><input src="sel" /><output name="am" /></node>
<node op="Cast" to="6"><input src="gt" /><output name="gti" /></node>
<node op="Cast" to="11"><input src="sel" /><output name="sel64" /></node>
<node op="Add"><input src="sel64" /><params name="b" dim="[8]" type="float64" /><output name="out64" /></node>
<node op="Unsqueeze" axes="[2]"><input src="idsf" /><output name="idsf3" /></node>
<node op="Mul"><input src="sel" /><input src="idsf3" /><output name="scaled" /></node>
<node op="ReduceSum" axes="[0]" keepdims="0"><input src="shp" /><output name="total" /></node>""",
    '<export from="sel" dim="[2, 5, 8]" />\n<export from="shp" dim="[3]" />\n<export from="neq" dim="[2, 5]" />\n'
    '<export from="am" dim="[2, 5]" />\n<export from="gti" dim="[2, 5, 8]" />\n'
    '<export from="out64" dim="[2, 5, 8]" />\n<export from="scaled" dim="[2, 5, 8]" />\n'
    '<export from="total" dim="[]" />')

NP_NAMES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64", np.dtype(np.float16): "float16",
            np.dtype(np.int64): "int64", np.dtype(np.int32): "int32", np.dtype(np.bool_): "bool"}


def run_all(path: str, feeds: dict | None = None, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Run the model with every node output exposed as a graph output."""
    m = onnx.load(path)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    if feeds is None:
        from test_examples import feeds_for  # plausible inputs for the examples

        feeds = feeds_for(s, rng or np.random.default_rng(0))
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, feeds)))


def assert_types_agree(an: Analysis, results: dict[str, np.ndarray]) -> None:
    tensors = an.graph.tensors
    got = {k: tensors[k].dtype for k in results if k in tensors and k not in an.graph.untyped}
    want = {k: NP_NAMES.get(v.dtype, str(v.dtype)) for k, v in results.items() if k in got}
    assert got == want
    assert not an.graph.untyped & set(results)


def test_mixed_model_checks_compiles_runs_and_types_agree(tmp_path: Path) -> None:
    path, _ = project(tmp_path, MIXED)
    an = analyze(str(path))
    assert not an.errors, [str(d) for d in an.errors]
    out = str(tmp_path / "m.onnx")
    res = compile_project(str(tmp_path), out, seed=0, write_weights=False)
    onnx.checker.check_model(onnx.load(out), full_check=True)
    rng = np.random.default_rng(0)
    feeds = {"ids": rng.integers(0, 100, (2, 5)).astype(np.int64), "x": rng.standard_normal((2, 5, 8), np.float32)}
    results = run_all(out, feeds)
    assert len(results) == 14  # every node output: graph outputs and intermediates
    assert_types_agree(res.analysis, results)
    assert res.analysis.graph.tensors["gti"].dtype == "int32"


@pytest.mark.parametrize("name", ["linreg", "mlp", "cnn", "gpt", "transformer"])
def test_example_types_agree_with_onnxruntime(name: str, tmp_path: Path) -> None:
    from test_examples import compile_example

    out, _ = compile_example(name, tmp_path)
    an = analyze(str(EXAMPLES / name), strict=True)
    assert_types_agree(an, run_all(out))


# -- import and param types round-trip -----------------------------------------------------------
ROUND_TRIP = {
    "float16": ("Add", np.float16, TensorProto.FLOAT16),
    "float64": ("Add", np.float64, TensorProto.DOUBLE),
    "int32": ("Add", np.int32, TensorProto.INT32),
    "bool": ("Xor", np.bool_, TensorProto.BOOL),
}


@pytest.mark.parametrize("dtype", sorted(ROUND_TRIP))
def test_import_types_round_trip(dtype: str, tmp_path: Path) -> None:
    op, np_type, code = ROUND_TRIP[dtype]
    path, _ = project(tmp_path, model(
        f'<import from="x" dim="[2, 3]" type="{dtype}" />',
        f'<node op="{op}"><input src="x" /><params name="p" dim="[3]" type="{dtype}" init="ones" />'
        '<output name="y" /></node>\n<node op="Identity"><input src="y" /><output name="z" /></node>',
        '<export from="z" dim="[2, 3]" />'))
    an = analyze(str(path))
    assert not an.errors, [str(d) for d in an.errors]
    assert {an.graph.tensors[n].dtype for n in ("x", "p$1", "y", "z")} == {dtype}
    out = str(tmp_path / "m.onnx")
    compile_project(str(tmp_path), out, seed=0, write_weights=False)
    m = onnx.load(out)
    onnx.checker.check_model(m, full_check=True)
    assert m.graph.input[0].type.tensor_type.elem_type == code
    assert m.graph.output[0].type.tensor_type.elem_type == code
    assert [t.data_type for t in m.graph.initializer] == [code]
    x = (np.arange(6).reshape(2, 3) % 2).astype(np_type)
    results = run_all(out, {"x": x})
    assert results["z"].dtype == np.dtype(np_type)
    expected = np.logical_xor(x, True) if dtype == "bool" else x + np.ones(3, np_type)
    np.testing.assert_array_equal(results["z"], expected)
    assert_types_agree(an, results)


@pytest.mark.parametrize("dtype", ["bfloat16", "int8", "int16", "uint8", "uint16", "uint32", "uint64"])
def test_other_types_compile_with_the_right_elem_type(dtype: str, tmp_path: Path) -> None:
    path, _ = project(tmp_path, model(
        f'<import from="x" dim="[2, 3]" type="{dtype}" />',
        f'<node op="Identity"><input src="x" /><output name="y" /></node>\n'
        f'<node op="Concat" axis="0"><input src="y" /><params name="p" dim="[1, 3]" type="{dtype}" '
        'init="normal" /><output name="z" /></node>',
        '<export from="z" dim="[3, 3]" />'))
    an = analyze(str(path))
    assert not an.errors, [str(d) for d in an.errors]
    assert an.graph.tensors["z"].dtype == dtype
    out = str(tmp_path / "m.onnx")
    compile_project(str(tmp_path), out, seed=0, write_weights=False)
    m = onnx.load(out)
    onnx.checker.check_model(m, full_check=True)
    code = getattr(TensorProto, {"bfloat16": "BFLOAT16"}.get(dtype, dtype.upper()))
    assert m.graph.input[0].type.tensor_type.elem_type == code == m.graph.output[0].type.tensor_type.elem_type
    assert [t.data_type for t in m.graph.initializer] == [code]
    assert onnx.numpy_helper.to_array(m.graph.initializer[0]).shape == (1, 3)


def test_attribute_inputs_take_the_type_of_their_data(tmp_path: Path) -> None:
    """`min="0"` has no type of its own: it becomes a constant of the data's type."""
    path, _ = project(tmp_path, model(
        '<import from="x" dim="[2, 3]" type="float16" />\n<import from="i" dim="[2, 3]" type="int32" />',
        '<node op="Clip" min="0" max="6"><input src="x" /><output name="c" /></node>\n'
        '<node op="Clip" min="1" max="4"><input src="i" /><output name="ci" /></node>\n'
        '<node op="Pad" pads="[0, 1, 0, 1]"><input src="x" /><output name="p" /></node>',
        '<export from="c" dim="[2, 3]" />\n<export from="ci" dim="[2, 3]" />\n<export from="p" dim="[2, 5]" />'))
    an = analyze(str(path))
    assert not an.errors, [str(d) for d in an.errors]
    out = str(tmp_path / "m.onnx")
    compile_project(str(tmp_path), out, seed=0, write_weights=False)
    x, i = np.full((2, 3), 7, np.float16), np.arange(6, dtype=np.int32).reshape(2, 3)
    results = run_all(out, {"x": x, "i": i})
    np.testing.assert_array_equal(results["ci"], np.clip(i, 1, 4))
    assert results["c"].dtype == np.float16 and results["c"].max() == 6
    assert_types_agree(an, results)
