"""`agrippa check` and `agrippa compile` as a user runs them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BROKEN = '<model>\n  <import from="x" dim="[3]"/>\n  <block>\n    <node op="Relu"><input src="xx"/><output name="y"/></node>\n  </block>\n  <export from="y" dim="[3]"/>\n</model>\n'


def agrippa(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agrippa.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_check_prints_file_line_col_and_fails(tmp_path: Path):
    (tmp_path / "m.agr").write_text(BROKEN)
    r = agrippa("check", "m.agr", cwd=tmp_path)
    assert r.returncode == 1
    assert "m.agr:4:33: error: 'xx' is not defined; did you mean 'x'? [undefined-tensor]" in r.stderr


def test_check_json(tmp_path: Path):
    (tmp_path / "m.agr").write_text(BROKEN)
    r = agrippa("check", str(tmp_path), "--format", "json", cwd=tmp_path)
    [d] = [d for d in json.loads(r.stdout) if d["severity"] == "error"]
    assert d["code"] == "undefined-tensor"
    assert d["range"] == {"start": {"line": 3, "character": 32}, "end": {"line": 3, "character": 34}}


def test_compile_with_bindings_from_toml_and_cli(tmp_path: Path):
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = 2\n")
    (tmp_path / "m.agr").write_text(
        '<model><import from="x" dim="[var(n)]"/><block><node op="Relu"><input src="x"/><output name="y"/>'
        '</node></block><export from="y" dim="[var(n)]"/></model>')
    r = agrippa("compile", ".", "--bind", "n=7", "-o", "out.onnx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import onnx

    m = onnx.load(str(tmp_path / "out.onnx"))
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 7


def test_compile_errors_print_positions_and_fail(tmp_path: Path):
    (tmp_path / "m.agr").write_text(BROKEN)
    r = agrippa("compile", ".", cwd=tmp_path)
    assert r.returncode == 1 and "m.agr:4:33: error:" in r.stderr


def test_a_broken_toml_is_reported_at_its_line(tmp_path: Path):
    (tmp_path / "m.agr").write_text("<model/>")
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = = 3\n")
    r = agrippa("check", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "agrippa.toml:2:5: error: agrippa.toml: Invalid value [config-syntax]" in r.stderr
