"""Dynamic dims (`[model] dynamic = ["batch"]`, `--dynamic batch`): symbolic through check,
shapes, diagnostics and hover, even when compiling; reported where the compiled model would
need their value (parameters, op attributes, counts). Running the compiled models is in
test_dynamic_run.py."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agrippa.cli import main as cli_main
from agrippa.project.config import load_config
from agrippa.sema.analysis import analyze
from agrippa.sema.shapes import format_shape

ROOT = Path(__file__).resolve().parents[1]
DYNAMIC = '[model]\ndynamic = ["batch"]\n'


def cnn(path: Path, dynamic: bool = True) -> Path:
    """examples/cnn with its batch dim dynamic (its markup already writes var(batch))."""
    shutil.copytree(ROOT / "examples" / "cnn", path)
    toml = (path / "agrippa.toml").read_text().replace("batch = 2\n", "")
    if dynamic:
        toml = toml.replace('opset = 13\n', 'opset = 13\ndynamic = ["batch"]\n')
    (path / "agrippa.toml").write_text(toml)
    return path


def project(path: Path, markup: str, toml: str = DYNAMIC) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.agr").write_text(markup)
    (path / "agrippa.toml").write_text(toml)
    return path


def shapes(an) -> dict[str, str]:
    return {t.name: format_shape(t.shape) for t in an.graph.tensors.values()}


def test_cnn_checks_and_compiles_with_a_symbolic_batch(tmp_path):
    proj = cnn(tmp_path / "cnn")
    for strict in (False, True):  # the editor, and compiling
        an = analyze(str(proj), strict=strict)
        assert not an.errors, [d.to_text() for d in an.errors]
        got = shapes(an)
        assert got["conv1"] == "[batch, 8, 28, 28]"
        assert got["features"] == "[batch, 784]"
        assert got["logits"] == "[batch, 10]"
        assert an.graph.dynamic == ("batch",)
        assert "batch" not in an.bindings
        assert not [d for d in an.diagnostics if d.code == "unbound-var"]


def test_cli_dynamic_flag(tmp_path, capsys):
    proj = cnn(tmp_path / "cnn", dynamic=False)
    assert cli_main(["check", str(proj)]) == 1  # batch is unbound once other names are bound
    assert "unbound-var" in capsys.readouterr().err
    assert cli_main(["check", str(proj), "--dynamic", "batch"]) == 0
    out = tmp_path / "cnn.onnx"
    assert cli_main(["compile", str(proj), "--dynamic", "batch", "-o", str(out)]) == 0
    import onnx

    dims = onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1, 28, 28]


def test_diagnostics_speak_of_batch(tmp_path):
    proj = cnn(tmp_path / "cnn")
    text = (proj / "cnn.agr").read_text()
    (proj / "cnn.agr").write_text(text.replace('<params name="conv2_w" dim="[var(c2), var(c1), 3, 3]" />',
                                               '<params name="conv2_w" dim="[var(c2), 3, 3, 3]" />'))
    an = analyze(str(proj), strict=True)
    [d] = [d for d in an.errors if d.code == "shape-mismatch"]
    assert "[batch, 8, 14, 14]" in d.message


def test_expr_of_a_dynamic_dim_is_symbolic(tmp_path):
    proj = project(tmp_path / "p", '''<model>
  <import from="x" dim="[expr(batch * 2), 4]"/>
  <import from="z" dim="[var(batch), 4]"/>
  <block>
    <node op="Relu"><input src="x"/><output name="y"/></node>
    <node op="Relu"><input src="z"/><output name="w"/></node>
  </block>
  <export from="y" dim="[expr(2 * batch), 4]"/>
  <export from="w" dim="[var(batch), 4]"/>
</model>''')
    an = analyze(str(proj), strict=True)
    assert not an.errors, [d.to_text() for d in an.errors]
    got = shapes(an)
    assert got["y"] == "[2*batch, 4]" and got["w"] == "[batch, 4]"
    assert not [d for d in an.diagnostics if d.code == "stale-dim"]


def test_a_quoted_name_says_how_to_write_a_dynamic_dim(tmp_path):
    proj = project(tmp_path / "p", '<model><import from="x" dim=\'["N", 4]\'/><block><node op="Relu">'
                                   '<input src="x"/><output name="y"/></node></block>'
                                   '<export from="y" dim="[3, 4]"/></model>', "")
    [d] = [d for d in analyze(str(proj)).diagnostics if d.code == "bad-dim"]
    assert "var(N), with N in [model] dynamic" in d.message


@pytest.mark.parametrize("markup, code, where", [
    # a parameter's shape is fixed
    ('<params name="b" dim="[var(batch), 4]"/>', "dynamic-dim-in-params", "batch"),
    ('<params name="b" dim="[expr(batch * 2), 4]"/>', "dynamic-dim-in-params", "batch"),
    # init_args is read when compiling
    ('<params name="b" dim="[4]" init="constant" init_args="[var(batch)]"/>', "dynamic-dim-in-attribute", "batch"),
])
def test_parameters_cannot_use_dynamic_dims(tmp_path, markup, code, where):
    text = (f'<model><import from="x" dim="[var(batch), 4]"/><block><node op="Add"><input src="x"/>{markup}'
            '<output name="y"/></node></block><export from="y" dim="[var(batch), 4]"/></model>')
    proj = project(tmp_path / "p", text)
    for strict in (False, True):
        found = [d for d in analyze(str(proj), strict=strict).diagnostics if d.code == code]
        assert len(found) == 1, found
        rng = found[0].range
        assert text.split("\n")[rng.start.line][rng.start.character:rng.end.character] == where


def test_attributes_and_counts_that_need_the_value(tmp_path):
    text = '''<model>
  <import from="x" dim="[var(batch), 12]"/>
  <block>
    <node op="Reshape" shape="[expr(batch * 3), 4]"><input src="x"/><output name="y"/></node>
    <node op="Reshape" shape="[0, 3, 4]"><input src="x"/><output name="ok"/></node>
    <node op="Reshape" shape="[-1, 4]"><input src="x"/><output name="ok2"/></node>
  </block>
  <block rep="var(batch)"><import from="ok"/>
    <node op="Relu"><input src="ok"/><output name="r"/></node><export from="r"/></block>
  <export from="y" dim="[expr(batch * 3), 4]"/>
</model>'''
    proj = project(tmp_path / "p", text)
    an = analyze(str(proj), strict=True)
    found = sorted((d.range.start.line, d.range.start.character) for d in an.errors
                   if d.code == "dynamic-dim-in-attribute")
    lines = text.split("\n")
    assert [lines[r][c:c + 5] for r, c in found] == ["batch", "batch"], [d.to_text() for d in an.errors]
    got = shapes(an)
    assert got["ok"] == "[batch, 3, 4]" and got["ok2"] == "[3*batch, 4]"


def test_toml_dynamic_is_validated_at_its_place(tmp_path):
    (tmp_path / "agrippa.toml").write_text('[model]\ndynamic = ["batch", "2x", "batch", 3]\n\n[bindings]\nbatch = 4\n')
    cfg = load_config(str(tmp_path))
    assert cfg.dynamic == ["batch"]
    found = {(d.range.start.line, d.range.start.character, d.range.end.character): d for d in cfg.diagnostics}
    line = 'dynamic = ["batch", "2x", "batch", 3]'
    assert (1, line.index('"2x"'), line.index('"2x"') + 4) in found
    assert (1, line.rindex('"batch"'), line.rindex('"batch"') + 7) in found
    assert (1, line.rindex("3"), line.rindex("3") + 1) in found
    warn = [d for d in cfg.diagnostics if "not used" in d.message]
    assert warn and warn[0].range.start.line == 4
    (tmp_path / "agrippa.toml").write_text('[model]\ndynamic = "batch"\n')
    [d] = load_config(str(tmp_path)).diagnostics
    assert d.code == "config" and (d.range.start.line, d.range.start.character) == (1, 0)


def test_hover_shows_the_symbolic_batch(tmp_path):
    from ide.markers import marked, open_project

    from agrippa.ide.hover import hover

    proj = cnn(tmp_path / "cnn")
    text = (proj / "cnn.agr").read_text()
    toml = (proj / "agrippa.toml").read_text()
    shutil.rmtree(proj)
    p = open_project(tmp_path / "cnn", {"cnn.agr": marked(text, '<output name="‸fc"'), "agrippa.toml": toml})
    got = hover(p.host, p.file, p.cursor)
    assert got is not None and "[batch, 10]" in got.text, got
    p.put_cursor("cnn.agr", 'dim="[var(b‸atch), 1, 28, 28]"')
    got = hover(p.host, p.file, p.cursor)
    assert got is not None and "a dynamic dim" in got.text, got
