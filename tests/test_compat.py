"""The compatibility policy (sema/compat.py): projects written in the original's style.

Each project here is one the original package compiles (nodes with `name=`, attributes it
ignores, layer outputs read by their mangled names) or one where it would write an invalid
model (an output and a parameter sharing an ONNX name). Each compiles to a model that
`onnx.checker` (full check) and onnxruntime accept, with the original's parameter names.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from agrippa.backend.compile import compile_project
from agrippa.sema.analysis import analyze

X = '<import from="x" dim="[3, 4]"/>'


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def compiled(proj: Path, index: str = "main.agr", feeds: dict | None = None) -> tuple[onnx.ModelProto, list]:
    """Compile, run the full ONNX check and an onnxruntime session; the model and outputs."""
    out = proj / "out.onnx"
    compile_project(str(proj), str(out), index=index)
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert_unique_names(model)
    sess = ort.InferenceSession(str(out))
    feeds = feeds or {i.name: np.random.default_rng(0).standard_normal([d for d in i.shape]).astype(np.float32)
                      for i in sess.get_inputs()}
    return model, sess.run(None, feeds)


def assert_unique_names(model: onnx.ModelProto) -> None:
    g = model.graph
    values = [i.name for i in g.initializer] + [o for n in g.node for o in n.output]
    values += [i.name for i in g.input if i.name not in {t.name for t in g.initializer}]
    assert len(values) == len(set(values)), sorted(v for v in values if values.count(v) > 1)
    nodes = [n.name for n in g.node]
    assert len(nodes) == len(set(nodes))


def codes(proj: Path, **kw) -> dict[str, list]:
    out: dict[str, list] = {}
    for d in analyze(str(proj / "main.agr"), **kw).diagnostics:
        out.setdefault(d.code, []).append(d)
    return out


# -- attributes the original ignores -----------------------------------------------------------

def test_name_on_a_node_is_a_warning_with_a_fix_to_title(tmp_path):
    proj = project(tmp_path, {"main.agr": f'<model>{X}<block>'
                              '<node name="LN1_Placeholder" op="Identity"><input src="x"/><output name="y"/></node>'
                              '<node op="Relu" name="act" title="relu1"><input src="y"/><output name="z"/></node>'
                              '</block><export from="z" dim="[3, 4]"/></model>'})
    found = codes(proj)
    assert not any(d.is_error for ds in found.values() for d in ds)
    untitled, titled = sorted(found["name-for-title"], key=lambda d: d.range.start)
    assert untitled.message == "`name` is ignored on a node; did you mean `title`?"
    assert untitled.fixes[0].edits[0].new_text == "title" and untitled.fixes[0].preferred
    assert not titled.fixes  # the node has a title already: renaming would make two
    model, (z,) = compiled(proj)
    assert [n.name for n in model.graph.node] == ["GenericNode$1", "relu1$1"]  # as the original names them
    assert all(not n.attribute for n in model.graph.node)


def test_an_unknown_attribute_is_ignored_with_a_warning(tmp_path):
    proj = project(tmp_path, {"main.agr": f'<model>{X}<block>'
                              '<node op="Softmax" axs="0" foo="10"><input src="x"/><output name="y"/></node>'
                              '</block><export from="y" dim="[3, 4]"/></model>'})
    found = codes(proj)
    assert [d.severity.label for d in found["unknown-attribute"]] == ["warning", "warning"]
    axs = next(d for d in found["unknown-attribute"] if "'axs'" in d.message)
    assert "did you mean 'axis'?" in axs.message and axs.fixes[0].edits[0].new_text == "axis"
    model, _ = compiled(proj)
    assert not model.graph.node[0].attribute  # the ignored ones are not written (axis keeps its default)


def test_the_did_you_mean_never_suggests_an_attribute_already_written(tmp_path):
    proj = project(tmp_path, {"main.agr": f'<model>{X}<block><node op="Softmax" axis="1" axs="0"><input src="x"/>'
                              '<output name="y"/></node></block></model>'})
    [d] = codes(proj)["unknown-attribute"]
    assert not d.fixes and "(Softmax takes: axis)" in d.message


# -- references to the flat graph's names ------------------------------------------------------

EXPOSED = f"""<model>
  {X}
  <block title="embed">
    <node op="Identity"><input src="x"/><output name="embedded"/></node>
  </block>
  <block title="layers" rep="6">
    <import from="embedded"/>
    <node op="MatMul" title="mix"><input src="embedded"/><params name="W" dim="[4, 4]"/><output name="mixed"/></node>
    <node op="Add" title="residual"><input src="mixed"/><input src="embedded"/><output name="attended_added2"/></node>
    <export from="attended_added2"/>
  </block>
  <block title="taps">
    <node op="Concat" axis="0" title="every layer">
      <input src="attended_added2"/><input src="attended_added2$1"/><input src="attended_added2$2"/>
      <input src="attended_added2$3"/><input src="attended_added2$4"/><input src="attended_added2$5"/>
      <output name="layers"/>
    </node>
    <node op="Identity" title="second mix"><input src="mixed$1"/><output name="mixed_2"/></node>
  </block>
  <export from="layers" dim="[18, 4]"/>
  <export from="mixed_2" dim="[3, 4]"/>
  <export from="attended_added2$4" dim="[3, 4]"/>
</model>"""


def test_layer_outputs_read_by_their_mangled_names(tmp_path):
    """The original's exp-wiki `exposed.agr` style: every layer's output by its flat name."""
    proj = project(tmp_path, {"main.agr": EXPOSED})
    assert not analyze(str(proj / "main.agr")).errors
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    model, (layers, mixed_2, fourth) = compiled(proj, feeds={"x": x})
    assert sorted(i.name for i in model.graph.initializer) == [f"W${k}" for k in range(1, 7)]
    w = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    h, outs, mixes = x, [], []
    for k in range(1, 7):
        mixes.append(h @ w[f"W${k}"])
        h = mixes[-1] + h
        outs.append(h)
    # layer 1 defines attended_added2, layer k + 1 attended_added2$k; after the block the
    # plain name reads the last layer's (LANGUAGE.md §7), a mangled name exactly that copy
    np.testing.assert_allclose(layers, np.concatenate([outs[5], *outs[1:]], 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mixed_2, mixes[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fourth, outs[4], rtol=1e-5, atol=1e-5)
    assert [o.name for o in model.graph.output] == ["layers", "mixed_2", "attended_added2$4"]


def test_a_mangled_name_inside_a_sourced_block_is_prefixed(tmp_path):
    proj = project(tmp_path, {
        "main.agr": f'<model>{X}<block><node op="Identity"><input src="x"/><output name="enc$h"/></node></block>'
                    '<block src="enc.agr" name="enc"/><export from="enc$first" dim="[3, 4]"/></model>',
        "enc.agr": '<block><block rep="3"><import from="h"/><node op="Relu" title="act"><input src="h"/>'
                   '<output name="h"/></node><export from="h"/></block>'
                   '<node op="Identity"><input src="h$1"/><output name="first"/></node></block>'})
    assert not analyze(str(proj / "main.agr")).errors
    model, _ = compiled(proj)
    tap = next(n for n in model.graph.node if n.output[0] == "enc$first")
    assert list(tap.input) == ["enc$h$1"]


def test_a_name_the_flat_graph_does_not_have_is_still_undefined(tmp_path):
    proj = project(tmp_path, {"main.agr": f'<model>{X}<block><node op="Relu"><input src="x"/><output name="y"/>'
                              '</node><node op="Relu"><input src="y$1"/><output name="z"/></node></block></model>'})
    [d] = codes(proj)["undefined-tensor"]
    assert d.is_error and "'y$1'" in d.message


# -- one ONNX name, one value -----------------------------------------------------------------

LN = """<block title="LayerNorm">
  <import from="input"/>
  <node op="ReduceMean" axes="[-1]" title="mean"><input src="input"/><output name="means"/></node>
  <node op="Sub" title="center"><input src="input"/><input src="means"/><output name="centered"/></node>
  <node op="Mul" title="gain"><input src="centered"/><params name="gain" dim="[4]" init="ones"/><output name="gain"/></node>
  <node op="Add" title="bias"><input src="gain"/><params name="bias" dim="[4]" init="zeros"/><output name="out"/></node>
  <export from="out"/>
</block>"""

ENCODER = """<block title="layer" rep="3">
  <import from="ln1$input"/>
  <block src="ln.agr" name="ln1"/>
  <node op="Relu" title="act"><input src="ln1$out"/><output name="ln1$input"/></node>
  <export from="ln1$input"/>
</block>"""

ENCODER_MAIN = f"""<model>
  {X}
  <block title="wire"><node op="Identity"><input src="x"/><output name="encoder$ln1$input"/></node></block>
  <block src="encoder.agr" name="encoder"/>
  <export from="encoder$ln1$input" dim="[3, 4]"/>
</model>"""


def test_a_repeated_sourced_layer_norm_with_an_output_and_a_param_named_gain(tmp_path):
    proj = project(tmp_path, {"main.agr": ENCODER_MAIN, "encoder.agr": ENCODER, "ln.agr": LN})
    an = analyze(str(proj / "main.agr"))
    assert not an.errors
    [d] = [d for d in an.diagnostics if d.code == "renamed-value"]
    assert d.file == str(proj / "ln.agr") and "'encoder$ln1$gain$1'" in d.message
    assert d.related and d.related[0].location.file == str(proj / "ln.agr")
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    model, (y,) = compiled(proj, feeds={"x": x})
    assert sorted(i.name for i in model.graph.initializer) == sorted(
        f"encoder$ln1${p}${k}" for p in ("gain", "bias") for k in (1, 2, 3))  # the original's names
    h = x
    for _ in range(3):  # gain ones, bias zeros: each layer is relu(x - mean(x))
        h = np.maximum(h - h.mean(-1, keepdims=True), 0)
    np.testing.assert_allclose(y, h, rtol=1e-5, atol=1e-6)


def test_a_shared_param_named_like_an_earlier_output_keeps_its_name(tmp_path):
    proj = project(tmp_path, {"main.agr": f'<model>{X}<block>'
                              '<node op="Relu"><input src="x"/><output name="E"/></node>'
                              '<node op="Add"><input src="E"/><params name="E" dim="[4]" shared="yes"/>'
                              '<output name="y"/></node></block><export from="E" dim="[3, 4]"/>'
                              '<export from="y" dim="[3, 4]"/></model>'})
    assert "renamed-value" in codes(proj)
    model, (e, y) = compiled(proj)
    assert [i.name for i in model.graph.initializer] == ["E"]
    assert [o.name for o in model.graph.output] == ["E$value", "y"]
    np.testing.assert_array_equal(e, np.maximum(e, 0))


def test_a_param_named_like_a_graph_input_becomes_its_default(tmp_path):
    proj = project(tmp_path, {"main.agr": '<model><import from="x" dim="[4]"/><block><node op="Add">'
                              '<input src="x"/><params name="x" dim="[4]" shared="yes"/><output name="y"/>'
                              '</node></block><export from="y" dim="[4]"/></model>'})
    [d] = codes(proj)["duplicate-onnx-name"]
    assert not d.is_error  # valid ONNX, as the original writes it
    _, (y,) = compiled(proj, feeds={"x": np.ones(4, np.float32)})
    np.testing.assert_array_equal(y, 2 * np.ones(4))


def test_every_example_has_unique_onnx_names(tmp_path):
    import shutil

    root = Path(__file__).resolve().parents[1] / "examples"
    for ex in sorted(p for p in root.iterdir() if p.is_dir() and p.name in ("mlp", "transformer", "gpt")):
        dst = tmp_path / ex.name
        shutil.copytree(ex, dst)
        compile_project(str(dst), str(dst / "out.onnx"), write_weights=False)
        assert_unique_names(onnx.load(str(dst / "out.onnx")))


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
