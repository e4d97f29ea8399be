"""Frozen constants folded for shape inference: a researcher crops a sequence with a Slice
whose bounds are frozen parameters, and reshapes with a frozen shape. Check knows their values
(init ones, zeros or constant), so the outputs get concrete shapes, hover shows them, and a
later mistake is reported where it is written. The same parameters trainable stay unknown,
and the compiled model still holds them as initializers (sema/shapes/frozen.py)."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ide.markers import marked, open_project  # noqa: E402

from agrippa.base.diagnostics import Range  # noqa: E402
from agrippa.ide.hover import hover  # noqa: E402
from agrippa.sema.analysis import analyze  # noqa: E402
from agrippa.sema.shapes import format_shape  # noqa: E402

TOML = '[model]\nindex = "main.agr"\nopset = 13\n'


def crop_model(frozen: str = "yes", proj_dim: str = "[24, 10]") -> str:
    """Tokens [16, 32] cropped to their first 24 features by frozen bounds, projected by W;
    a frozen shape [8, 8] folds the 64-entry `tile` into a square."""
    bound = f'type="int64" frozen="{frozen}"'
    return f'''<model>
  <import from="tokens" dim="[16, 32]"/>
  <import from="tile" dim="[4, 16]"/>
  <block title="head">
    <node op="Slice" title="crop">
      <input src="tokens"/>
      <params name="starts" dim="[1]" {bound} init="zeros"/>
      <params name="ends" dim="[1]" {bound} init="constant" init_args="[24]"/>
      <params name="axes" dim="[1]" {bound} init="ones"/>
      <output name="cropped"/>
    </node>
    <node op="MatMul" title="proj">
      <input src="cropped"/>
      <params name="W" dim="{proj_dim}"/>
      <output name="logits"/>
    </node>
    <node op="Reshape" title="square">
      <input src="tile"/>
      <params name="shape" dim="[2]" {bound} init="constant" init_args="[8]"/>
      <output name="squared"/>
    </node>
  </block>
  <export from="logits" dim="[16, 10]"/>
  <export from="squared" dim="[8, 8]"/>
</model>
'''


def derived_model() -> str:
    """Shape → Gather → Mul by a frozen 2 → Concat with a frozen -1: tokens' rows doubled."""
    frozen = 'type="int64" frozen="yes"'
    return f'''<model>
  <import from="tokens" dim="[16, 32]"/>
  <block title="fold">
    <node op="Shape"><input src="tokens"/><output name="dims"/></node>
    <node op="Gather"><input src="dims"/><params name="first" dim="[1]" {frozen} init="zeros"/><output name="rows"/></node>
    <node op="Mul"><input src="rows"/><params name="two" dim="[1]" {frozen} init="constant" init_args="[2]"/><output name="rows2"/></node>
    <node op="Concat" axis="0"><input src="rows2"/><params name="rest" dim="[1]" {frozen} init="constant" init_args="[-1]"/><output name="target"/></node>
    <node op="Reshape"><input src="tokens"/><input src="target"/><output name="folded"/></node>
  </block>
  <export from="folded" dim="[32, 16]"/>
</model>
'''


def write(path: Path, markup: str) -> str:
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.agr").write_text(markup)
    (path / "agrippa.toml").write_text(TOML)
    return str(path)


def _range_of(markup: str, line_text: str, value: str) -> Range:
    """The range of `value` on the (first) line holding `line_text`."""
    lines = markup.splitlines()
    n = next(i for i, text in enumerate(lines) if line_text in text)
    col = lines[n].index(value, lines[n].index(line_text))
    return Range.of(n, col, n, col + len(value))


def shapes(an) -> dict[str, str]:
    return {t.name: format_shape(t.shape) for t in an.graph.tensors.values()}


def test_frozen_bounds_give_the_crop_its_shape(tmp_path):
    an = analyze(write(tmp_path / "p", crop_model()), strict=True)
    assert not an.errors, [d.to_text() for d in an.errors]
    got = shapes(an)
    assert got["cropped"] == "[16, 24]"
    assert got["logits"] == "[16, 10]"
    assert got["squared"] == "[8, 8]"
    assert not [d for d in an.diagnostics if d.code == "stale-dim"]


def test_hover_shows_the_folded_shape(tmp_path):
    p = open_project(tmp_path, {"main.agr": marked(crop_model(), 'name="‸cropped"'), "agrippa.toml": TOML})
    got = hover(p.host, p.file, p.cursor)
    assert got is not None and "`[16, 24]`" in got.text
    p.put_cursor("main.agr", 'name="‸squared"')
    assert "`[8, 8]`" in hover(p.host, p.file, p.cursor).text


def test_a_projection_sized_for_the_uncropped_tokens_is_reported(tmp_path):
    """W was written for all 32 features: only the folded crop ([16, 24]) shows the mistake."""
    markup = crop_model(proj_dim="[32, 10]")
    an = analyze(write(tmp_path / "p", markup), strict=True)
    [d] = an.errors
    assert d.code == "shape-mismatch"
    assert d.message == "MatMul: inner dimensions differ: [16, 24] × [32, 10]"
    assert d.range == _range_of(markup, '<params name="W" dim="[32, 10]"', "[32, 10]")


def test_a_frozen_shape_that_does_not_fit_is_reported(tmp_path):
    markup = crop_model().replace('init_args="[8]"', 'init_args="[9]"')
    an = analyze(write(tmp_path / "p", markup), strict=True)
    [d] = an.errors
    assert d.code == "shape-mismatch"
    assert d.message == "Reshape: cannot reshape [4, 16] (64 elements) into [9, 9] (81 elements)"
    assert d.range == _range_of(markup, '<params name="shape" dim="[2]"', "[2]")


def test_trainable_bounds_stay_unknown_without_false_errors(tmp_path):
    for proj_dim in ("[24, 10]", "[32, 10]"):  # neither W is refused: the crop's width is unknown
        an = analyze(write(tmp_path / proj_dim, crop_model(frozen="no", proj_dim=proj_dim)), strict=True)
        assert not an.errors, [d.to_text() for d in an.errors]
        got = shapes(an)
        assert got["cropped"] == got["squared"] == "[?, ?]"
        assert got["logits"] == "[?, 10]"


def test_float_bounds_get_their_type_errors_and_nothing_more(tmp_path, monkeypatch):
    """Bounds left float32 (no type="int64"): the four type errors, no axis `1.0` or shape `[8.0, 8.0]`."""
    from agrippa.sema.shapes import engine

    monkeypatch.setattr(engine, "DEBUG", True)  # a rule's crash fails the test
    an = analyze(write(tmp_path / "p", crop_model().replace('type="int64" ', "")), strict=True)
    assert [d.code for d in an.errors] == ["type-mismatch"] * 4
    got = shapes(an)
    assert got["cropped"] == got["squared"] == "[?, ?]"


def test_random_inits_and_big_constants_are_not_folded(tmp_path):
    normal = crop_model().replace('init="constant" init_args="[24]"', 'init="normal"')
    assert shapes(analyze(write(tmp_path / "normal", normal)))["cropped"] == "[16, ?]"
    big = crop_model().replace('name="starts" dim="[1]"', 'name="starts" dim="[1025]"')
    assert shapes(analyze(write(tmp_path / "big", big)))["cropped"] == "[16, ?]"


def test_values_derived_from_frozen_parameters_are_followed(tmp_path):
    an = analyze(write(tmp_path / "p", derived_model()), strict=True)
    assert not an.errors, [d.to_text() for d in an.errors]
    got = shapes(an)
    assert got["target"] == "[2]" and got["folded"] == "[32, 16]"


@pytest.mark.parametrize("model", [crop_model, derived_model])
def test_the_compiled_model_runs_with_the_inferred_shapes(tmp_path, model):
    """The fuzzer's oracle: compiles, onnx.checker, onnxruntime's shapes equal the inferred
    ones; the frozen parameters are still initializers of the compiled model."""
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import onnx
    from fuzz.oracle import judge

    warnings.filterwarnings("ignore")
    folder = write(tmp_path / "p", model())
    an = analyze(folder, strict=True)
    assert all(t.shape is not None and None not in t.shape for t in an.graph.tensors.values())  # all compared
    v = judge(folder)
    assert v.category == "green-ok", (v.category, v.detail)
    inits = {i.name for i in onnx.load(os.path.join(folder, "model.onnx")).graph.initializer}
    assert {p.name for p in an.graph.params.values() if p.frozen} <= inits




def test_folding_leaves_the_compiled_model_as_it_was(tmp_path, monkeypatch):
    """Folding is analysis only: the same nodes, inputs, outputs and initializers (the frozen
    parameters among them) as without it; only the now-known shapes join the value_info."""
    pytest.importorskip("onnxruntime")
    import onnx

    from agrippa.backend.compile import compile_project
    from agrippa.sema.shapes import engine

    folder = write(tmp_path / "p", crop_model())
    compile_project(folder, str(tmp_path / "folded.onnx"), seed=0)
    monkeypatch.setattr(engine, "fold", lambda run, p: None)
    plain = compile_project(folder, str(tmp_path / "plain.onnx"), seed=0)
    assert shapes(plain.analysis)["cropped"] == "[?, ?]"  # really not folded
    a, b = (onnx.load(str(tmp_path / f"{n}.onnx")).graph for n in ("folded", "plain"))
    for field in ("node", "input", "output", "initializer"):
        assert list(getattr(a, field)) == list(getattr(b, field)), field
    assert not b.value_info
    [vi] = a.value_info
    assert vi.name == "cropped" and [d.dim_value for d in vi.type.tensor_type.shape.dim] == [16, 24]


def test_the_value_the_weights_file_holds_is_the_one_folded(tmp_path):
    """After a compile the weights file holds the frozen bounds, and compile uses the stored
    values: check folds those (read from the .safetensors file), not the init's; after a
    compile with reinit the init's value is back."""
    from safetensors.numpy import load_file, save_file

    from agrippa.backend.compile import compile_project

    project = write(tmp_path / "p", crop_model(proj_dim="[20, 10]"))
    stored = {"W$1": np.zeros((20, 10), np.float32), "ends$constant$1": np.array([20], np.int64)}
    stored.update({k: np.zeros(1, np.int64) for k in ("starts$constant$1",)})
    stored.update({"axes$constant$1": np.ones(1, np.int64), "shape$constant$1": np.full(2, 8, np.int64)})
    save_file(stored, str(Path(project) / "weights.safetensors"))
    an = analyze(project, strict=True)
    assert not an.errors, [d.to_text() for d in an.errors]
    assert shapes(an)["cropped"] == "[16, 20]"  # the stored end, 20, not the init's 24
    result = compile_project(project, str(tmp_path / "model.onnx"))
    assert load_file(str(Path(project) / "weights.safetensors"))["ends$constant$1"].tolist() == [20]
    assert result is not None
    with pytest.raises(Exception, match="inner dimensions differ"):  # reinit: the init's 24 meets W's 20
        compile_project(project, str(tmp_path / "model.onnx"), reinit=True)
