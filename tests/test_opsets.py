"""Every opset the installed onnx knows, ops newer than the project's opset explained (with
a fix in agrippa.toml), and dims that agree only for the bound values (sema/compat.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from agrippa.backend.compile import compile_project
from agrippa.base.diagnostics import Fix, Position
from agrippa.project.config import load_config, max_opset
from agrippa.sema.analysis import analyze
from agrippa.sema.ops import all_ops, get_op

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

X = '<import from="x" dim="[3, 4]"/>'
NEW_OPS = (f'<model>{X}<block>'
           '<node op="LayerNormalization" axis="-1"><input src="x"/><params name="g" dim="[4]" init="ones"/>'
           '<output name="y"/></node><node op="Gelu"><input src="y"/><output name="z"/></node>'
           '<node op="RMSNormalization"><input src="z"/><params name="s" dim="[4]" init="ones"/><output name="w"/>'
           '</node></block><export from="w" dim="[3, 4]"/></model>')


def apply(text: str, fix: Fix) -> str:
    """The toml text after the fix's (single) edit."""
    [edit] = fix.edits
    lines = text.split("\n")

    def offset(p: Position) -> int:
        return sum(len(line) + 1 for line in lines[:p.line]) + p.character

    return text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]


def test_an_op_newer_than_the_projects_opset_says_which_opset_it_needs(tmp_path):
    (tmp_path / "main.agr").write_text(NEW_OPS)
    found = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == "op-needs-opset"]
    assert [d.message for d in found] == [
        "LayerNormalization needs opset ≥ 17; this project uses 13",
        "Gelu needs opset ≥ 20; this project uses 13",
        "RMSNormalization needs opset ≥ 23; this project uses 13"]
    assert all(d.is_error for d in found)
    fix = found[0].fixes[0]
    assert fix.creates == str(tmp_path / "agrippa.toml") and fix.preferred
    assert fix.edits[0].file == str(tmp_path / "agrippa.toml")
    assert tomllib.loads(apply("", fix)) == {"model": {"opset": 17}}


@pytest.mark.parametrize("toml", [
    "[model]\nopset = 13  # the original's\n",
    "[model]\nindex = \"main.agr\"\n\n[bindings]\nd = 4\n",
    "[model]",
    "[bindings]\nd = 4\n",
    "[bindings]\nd = 4",
    "",
])
def test_the_opset_fix_edits_agrippa_toml(tmp_path, toml):
    (tmp_path / "main.agr").write_text(NEW_OPS)
    (tmp_path / "agrippa.toml").write_text(toml)
    found = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == "op-needs-opset"]
    fix = found[-1].fixes[0]
    assert fix.creates is None and fix.title == "Set [model] opset = 23 in agrippa.toml"
    new = apply(toml, fix)
    data = tomllib.loads(new)
    assert data["model"]["opset"] == 23
    assert {k: v for k, v in data.items() if k != "model"} == {
        k: v for k, v in tomllib.loads(toml).items() if k != "model"}
    (tmp_path / "agrippa.toml").write_text(new)
    an = analyze(str(tmp_path / "main.agr"))
    assert not an.errors, [d.to_text() for d in an.errors]
    compile_project(str(tmp_path), str(tmp_path / "out.onnx"))
    model = onnx.load(str(tmp_path / "out.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 23
    (w,) = ort.InferenceSession(str(tmp_path / "out.onnx")).run(None, {"x": np.ones((3, 4), np.float32)})
    assert w.shape == (3, 4)


def test_every_opset_of_the_installed_onnx_can_be_chosen(tmp_path):
    top = onnx.defs.onnx_opset_version()
    assert max_opset() == top
    (tmp_path / "agrippa.toml").write_text(f"[model]\nopset = {top}\n")
    assert load_config(str(tmp_path)).opset == top and not load_config(str(tmp_path)).diagnostics
    (tmp_path / "agrippa.toml").write_text(f"[model]\nopset = {top + 1}\n")
    [d] = load_config(str(tmp_path)).diagnostics
    assert d.code == "config" and f"from 13 to {top}" in d.message
    for k in range(13, top + 1):
        assert get_op("Relu", k) is not None and len(all_ops(k)) >= 160


REDUCE = (f'<model>{X}<block>'
          '<node op="ReduceMean" axes="[-1]"><input src="x"/><output name="m"/></node>'
          '<node op="Sub"><input src="x"/><input src="m"/><output name="c"/></node>'
          '<node op="ReduceSum" axes="[1]" keepdims="0"><input src="c"/><output name="s"/></node>'
          '<node op="Softmax" axis="-1"><input src="c"/><output name="p"/></node>'
          '<node op="LpNormalization" axis="1" p="2"><input src="p"/><output name="n"/></node>'
          '</block><export from="s" dim="[3]"/><export from="n" dim="[3, 4]"/></model>')


def test_the_originals_ops_compile_and_run_at_every_opset(tmp_path):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    results = []
    for k in range(13, onnx.defs.onnx_opset_version() + 1):
        proj = tmp_path / f"o{k}"
        proj.mkdir()
        (proj / "main.agr").write_text(REDUCE)
        (proj / "agrippa.toml").write_text(f"[model]\nopset = {k}\n")
        compile_project(str(proj), str(proj / "out.onnx"), write_weights=False)
        model = onnx.load(str(proj / "out.onnx"))
        onnx.checker.check_model(model, full_check=True)
        results.append(ort.InferenceSession(str(proj / "out.onnx")).run(None, {"x": x}))
    for got in results[1:]:
        for a, b in zip(results[0], got):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_a_removed_op_is_named_as_removed(tmp_path):
    (tmp_path / "main.agr").write_text(f'<model>{X}<block><node op="Upsample"><input src="x"/>'
                                       '<output name="y"/></node></block></model>')
    [d] = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == "unknown-op"]
    assert d.message.startswith("'Upsample' was removed from ONNX in opset 10; this project uses 13")


# -- dims that agree only for the bound values -------------------------------------------------

SHARED = ('<model><import from="x" dim="[3, var(d)]" /><block><node op="MatMul"><input src="x"/>'
          '<params name="E" dim="[var(d), var(n)]" shared="yes"/><output name="y" dim="[3, var(n)]"/></node>'
          '<node op="MatMul"><input src="y" dim="[3, var(d)]"/><params name="E" dim="{second}" shared="yes"/>'
          '<output name="z"/></node></block></model>')


def _found(path: Path, bindings: dict | None, code: str) -> list:
    return [d for d in analyze(str(path), bindings=bindings).diagnostics if d.code == code]


def test_shared_dims_swapped_are_a_warning_even_when_the_bindings_agree(tmp_path):
    main = tmp_path / "main.agr"
    main.write_text(SHARED.format(second="[var(n), var(d)]"))
    bound = _found(main, {"d": 4, "n": 4}, "dims-differ-symbolically")
    shared = next(d for d in bound if "shared parameter" in d.message)
    assert shared.message == ("shared parameter 'E' is [n, d] here but [d, n] where it is first declared "
                              "(they agree only because d = n)")
    assert not shared.is_error and shared.related[0].message == "first declared here"
    hint = next(d for d in bound if "the dim of 'y'" in d.message)
    assert hint.message == "the dim of 'y' is [3, d] here but [3, n] where it is first declared " \
                           "(they agree only because n = d)"
    free = _found(main, None, "dims-differ-symbolically")
    assert any("(they differ unless d = n)" in d.message for d in free)
    assert not _found(main, {"d": 4, "n": 4}, "shared-dims-differ")


def test_shared_dims_that_differ_in_value_stay_an_error(tmp_path):
    main = tmp_path / "main.agr"
    main.write_text(SHARED.format(second="[var(n), var(d)]"))
    [d] = _found(main, {"d": 4, "n": 5}, "shared-dims-differ")
    assert d.is_error


@pytest.mark.parametrize(("second", "warned"), [
    ("[var(d), var(n)]", 0),       # the same names
    ("[4, var(n)]", 0),            # a number: an example value, let be
    ("[expr(d * 1), var(n)]", 0),  # equal as expressions
    ("[expr(n * 1), var(n)]", 1),  # n where d was written
])
def test_dims_that_agree_symbolically_or_as_numbers_are_let_be(tmp_path, second, warned):
    main = tmp_path / "main.agr"
    main.write_text(SHARED.format(second=second))
    found = [d for d in _found(main, {"d": 4, "n": 4}, "dims-differ-symbolically") if "shared" in d.message]
    assert len(found) == warned
