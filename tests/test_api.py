"""The original package's API, call for call: export, weights written back, log, safety."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from shared_paths import CASES, CONFORMANCE, missing_reason, needs

import agrippa
from agrippa.backend.weights import WeightsError, load_weights

LINREG = (Path(__file__).resolve().parents[1] / "examples" / "linreg" / "linreg.agr").read_text()


@pytest.fixture
def linreg(tmp_path: Path) -> Path:
    proj = tmp_path / "linreg"
    proj.mkdir()
    (proj / "main.agr").write_text(LINREG)
    (proj / "meta.json").write_text(json.dumps({"producer": "Tester", "graph_name": "LinReg"}))
    return proj


def test_export_writes_the_model_and_new_weights(linreg: Path):
    out = linreg.parent / "linreg.onnx"
    agrippa.export(str(linreg), str(out), bindings={"n": 5}, suppress=True)
    m = onnx.load(str(out))
    assert sorted(i.name for i in m.graph.initializer) == ["W$1", "b$1", "wx$axes$constant"]
    assert m.producer_name == "Tester" and m.graph.name == "LinReg"
    assert m.opset_import[0].version == 13
    weights = load_weights(str(linreg / "weights.safetensors"))
    assert set(weights) == {"W$1", "b$1"}
    x = np.arange(5, dtype=np.float32)
    (y,) = ort.InferenceSession(str(out)).run(None, {"x": x})
    np.testing.assert_allclose(y, [np.sum(weights["W$1"] * x) + weights["b$1"][0]], rtol=1e-5)


def test_existing_weights_are_kept_and_reinit_replaces_them(linreg: Path):
    out = str(linreg) + ".onnx"
    with open(linreg / "weights.pkl", "wb") as f:
        pickle.dump({"W$1": np.ones(5, np.float32), "b$1": np.zeros(1, np.float32)}, f)
    agrippa.export(str(linreg), bindings={"n": 5}, suppress=True)
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(out).graph.initializer}
    np.testing.assert_array_equal(inits["W$1"], np.ones(5))
    agrippa.export(str(linreg), bindings={"n": 5}, suppress=True, reinit=True)
    assert not np.array_equal(load_weights(str(linreg / "weights.pkl"))["W$1"], np.ones(5))


def test_log_lists_nodes_inputs_outputs_initializers(linreg: Path):
    agrippa.export(str(linreg), bindings={"n": 5}, suppress=True, log=True)
    log = json.loads((linreg / "log.json").read_text())
    assert [n["op"] for n in log["nodes"]] == ["Mul", "ReduceSum", "Add"]
    assert log["inputs"] == ["x"] and log["outputs"] == ["y"]
    assert agrippa.utils.search_log("wx", str(linreg / "log.json"))[0]["name"] == "Apply Betas$1"


def test_errors_raise_with_positions(linreg: Path):
    (linreg / "main.agr").write_text(LINREG.replace('op="Add"', 'op="Ad"'))
    with pytest.raises(agrippa.CompileError) as e:
        agrippa.export(str(linreg), bindings={"n": 5}, suppress=True)
    line = LINREG[:LINREG.index('op="Add"')].count("\n") + 1
    assert f"main.agr:{line}:" in str(e.value) and "did you mean 'Add'?" in str(e.value)


def test_a_hostile_weights_pickle_is_refused_and_nothing_runs(linreg: Path, tmp_path: Path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(linreg / "weights.pkl", "wb") as f:
        pickle.dump({"W$1": Evil()}, f)
    with pytest.raises(WeightsError, match="refusing"):
        agrippa.export(str(linreg), bindings={"n": 5}, suppress=True)
    assert not marker.exists()


def test_find_params_reads_without_running_code(linreg: Path):
    agrippa.export(str(linreg), bindings={"n": 5}, suppress=True)
    os.rename(linreg / "weights.safetensors", linreg / "w.safetensors")
    assert set(agrippa.utils.find_params("W", str(linreg), "w.safetensors")) == {"W$1"}


def test_importing_agrippa_does_not_load_heavy_libraries():
    code = "import agrippa, agrippa.sema.analysis, sys; print(sorted(m for m in ('torch','onnxruntime','onnx2torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@needs(CONFORMANCE / "check.py")
def test_conformance_with_the_original_package():
    r = subprocess.run([sys.executable, str(CONFORMANCE / "check.py")], capture_output=True, text=True, timeout=600)
    print(r.stdout)
    assert r.stdout.strip().splitlines()[-1] == "16 passed, 0 failed", r.stdout + r.stderr


def test_opset_17_and_attributes_that_became_inputs(tmp_path: Path):
    (tmp_path / "agrippa.toml").write_text("[model]\nopset = 17\n")
    (tmp_path / "m.agr").write_text(
        '<model><import from="x" dim="[2, 3]"/><block>'
        '<node op="Unsqueeze" axes="[0]"><input src="x"/><output name="u"/></node>'
        '<node op="LayerNormalization" axis="-1"><input src="u"/><params name="g" dim="[3]" init="ones"/>'
        '<output name="y"/></node></block><export from="y" dim="[1, 2, 3]"/></model>')
    out = tmp_path / "m.onnx"
    agrippa.export(str(tmp_path), str(out), suppress=True)
    m = onnx.load(str(out))
    assert m.opset_import[0].version == 17
    assert "x$axes$constant" in {i.name for i in m.graph.initializer}
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    (y,) = ort.InferenceSession(str(out)).run(None, {"x": x})
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y[0], ref, atol=1e-4)


def test_export_copies_shared_project_untouched(tmp_path: Path):
    if not (CASES / "anthropic").exists():
        pytest.skip(missing_reason(CASES / "anthropic"))
    proj = tmp_path / "p"
    shutil.copytree(CASES / "anthropic" / "project", proj)
    agrippa.export(str(proj), str(tmp_path / "a.onnx"), bindings={"features": "5"}, suppress=True)
    assert "W" in {i.name for i in onnx.load(str(tmp_path / "a.onnx")).graph.initializer}


def test_pad_takes_its_pads_and_constant_value_as_attributes(tmp_path: Path):
    (tmp_path / "m.agr").write_text(
        '<model><import from="x" dim="[2, 2]"/><block>'
        '<node op="Pad" pads="[0, 1, 0, 1]" constant_value="0.5"><input src="x"/><output name="y"/></node>'
        '</block><export from="y" dim="[2, 4]"/></model>')
    out = tmp_path / "m.onnx"
    agrippa.export(str(tmp_path), str(out), suppress=True)
    x = np.ones((2, 2), np.float32)
    (y,) = ort.InferenceSession(str(out)).run(None, {"x": x})
    np.testing.assert_array_equal(y, [[0.5, 1, 1, 0.5], [0.5, 1, 1, 0.5]])


def test_a_stale_export_dim_warns_and_the_model_stays_valid(tmp_path: Path):
    (tmp_path / "m.agr").write_text(
        '<model><import from="x" dim="[2, 3]"/><block stretch="2"><import from="x"/>'
        '<node op="Relu"><input src="x"/><output name="y"/></node><export from="y"/></block>'
        '<export from="y" dim="[2, 3]"/></model>')
    out = tmp_path / "m.onnx"
    result = agrippa.export(str(tmp_path), str(out), suppress=True)
    assert any(d.code == "stale-dim" for d in result.warnings)
    m = onnx.load(str(out))
    onnx.checker.check_model(m, full_check=True)
    assert [d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim] == [2, 6]
