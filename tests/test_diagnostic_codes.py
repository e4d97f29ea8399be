"""One broken project per diagnostic code: the diagnostic a user sees, at its exact range.

Like lemminx's per-code tests: every code in `agrippa.base.codes` has a case here (a
meta-test checks it), asserting the code's severity, its exact range and, where the
registry promises one, its quick fix. In each file ⟦ and ⟧ mark the range the diagnostic
must cover (they are removed before analysis); `main.agr` is analysed, other files are
sourced by it or are the project's `agrippa.toml`.
"""
from __future__ import annotations

import pytest
from diagnostic_cases import CASES, EXTRA, IO

from agrippa.base import codes
from agrippa.sema.analysis import analyze


def _strip_markers(text: str) -> tuple[str, tuple[int, int, int, int] | None]:
    if "⟦" not in text:
        return text, None
    start = text.index("⟦")
    text = text.replace("⟦", "", 1)
    end = text.index("⟧")
    text = text.replace("⟧", "", 1)

    def pos(i: int) -> tuple[int, int]:
        return text.count("\n", 0, i), i - (text.rfind("\n", 0, i) + 1)

    return text, (*pos(start), *pos(end))




def _case(code: str):
    if code in EXTRA:
        return EXTRA[code]
    [(sev, files)] = [(s, f) for c, s, f in CASES.values() if c == code][:1] or [(None, None)]
    return sev, files, {}


def _write(tmp_path, files: dict, opts: dict):
    expected_file = expected_range = None
    for name, text in files.items():
        if isinstance(text, bytes):
            (tmp_path / name).write_bytes(text)
            continue
        clean, rng = _strip_markers(text)
        (tmp_path / name).write_text(clean)
        if rng is not None:
            expected_file, expected_range = str(tmp_path / name), rng
    if "range" in opts:
        expected_range = opts["range"]
        expected_file = str(tmp_path / opts.get("file", "main.agr"))
    if opts.get("target") == "." and "file" not in opts:
        expected_file = str(tmp_path)
    return expected_file, expected_range


def _diagnostics(tmp_path, opts: dict):
    target = str(tmp_path if opts.get("target") == "." else tmp_path / "main.agr")
    if opts.get("layer") == "schema":  # masked by a semantic rule in a full analysis
        from agrippa.sema.schema.validate import validate_files
        from agrippa.syntax import parse

        return validate_files([parse(target, (tmp_path / "main.agr").read_text())])
    if not opts.get("compile"):
        return analyze(target, bindings=opts.get("bindings")).diagnostics
    import numpy as np

    from agrippa.backend.compile import compile_project
    from agrippa.backend.weights import save_weights
    from agrippa.base.diagnostics import CompileError

    save_weights(str(tmp_path / opts.get("weights_file", "weights.safetensors")),
                 {k: np.zeros(s, opts.get("dtype", np.float32)) for k, s in opts["weights"].items()})
    try:
        return compile_project(str(tmp_path), str(tmp_path / "out.onnx")).analysis.diagnostics
    except CompileError as e:
        return e.diagnostics


@pytest.mark.parametrize("code", sorted(codes.CODES))
def test_each_code_is_reported_at_its_exact_range(code: str, tmp_path):
    severity, files, opts = _case(code)
    assert files is not None, f"no case for {code}: add one to CASES or EXTRA"
    if opts.get("skip"):
        pytest.skip(opts["skip"])
    expected_file, expected_range = _write(tmp_path, files, opts)
    diags = _diagnostics(tmp_path, opts)
    found = [d for d in diags if d.code == code]
    if not found and opts.get("skip_if_code") in {d.code for d in diags}:
        pytest.skip(f"{opts['skip_if_code']} is reported first")
    assert found, f"no {code} among {[(d.code, d.message) for d in diags]}"
    at = [d for d in found if (d.range.start.line, d.range.start.character, d.range.end.line,
                               d.range.end.character) == expected_range]
    d = (at or found)[0]
    assert d.severity == severity, d.message
    if opts.get("anywhere"):
        return
    assert d.file == expected_file
    got = (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
    assert got == expected_range, d.message
    if "fix" in opts:
        assert d.fixes and d.fixes[0].edits[0].new_text == opts["fix"], d.fixes


def test_every_code_has_a_case_and_every_case_a_registered_code():
    covered = {c for c, _, _ in CASES.values()} | set(EXTRA)
    assert covered == set(codes.CODES), (set(codes.CODES) - covered, covered - set(codes.CODES))


def test_the_docs_list_every_code():
    assert codes.DOCS.read_text(encoding="utf-8") == codes.render_markdown(), \
        "regenerate: python -m agrippa.base.codes > docs/diagnostics.md"


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_model_gets_its_diagnostic(case: str, tmp_path):
    code, severity, files = CASES[case]
    expected_file, expected_range = _write(tmp_path, files, {})
    found = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == code]
    assert found
    d = found[0]
    assert d.severity == severity, d.message
    assert d.file == expected_file
    got = (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
    assert got == expected_range, d.message


def test_unbound_var_is_an_error_once_bindings_are_given(tmp_path):
    (tmp_path / "main.agr").write_text('<model><import from="x" dim="[var(n), var(m)]" /></model>')
    assert not analyze(str(tmp_path / "main.agr")).errors  # no bindings: symbolic, fine
    an = analyze(str(tmp_path / "main.agr"), bindings={"n": 3})
    [d] = [d for d in an.diagnostics if d.code == "unbound-var"]
    assert d.is_error and "'m' has no binding" in d.message
    assert (d.range.start.character, d.range.end.character) == (42, 43)


def test_a_broken_node_does_not_hide_the_rest(tmp_path):
    (tmp_path / "main.agr").write_text(
        f'<model>{IO}<block><node op="Relux"><input src="x"/><output name="y"/></node>'
        '<node op="Relu"><input src="nope"/><output name="z"/></node></block></model>')
    codes = {d.code for d in analyze(str(tmp_path / "main.agr")).diagnostics}
    assert {"unknown-op", "undefined-tensor"} <= codes


def test_did_you_mean_fixes_are_attached(tmp_path):
    (tmp_path / "main.agr").write_text(
        f'<model>{IO}<block><node op="Sofmax"><input src="x"/><output name="y"/></node></block></model>')
    [d] = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == "unknown-op"]
    assert "did you mean 'Softmax'?" in d.message
    assert d.fixes[0].edits[0].new_text == "Softmax" and d.fixes[0].preferred
