"""A corpus of broken models: each one shows the diagnostic a user sees, at the exact range.

In each model, ⟦ and ⟧ mark the range the diagnostic must cover (they are removed
before analysis). Files other than `main.agr` are sourced by it.
"""
from __future__ import annotations

import pytest

from agrippa.analysis import analyze
from agrippa.diagnostics import Severity


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


IO = '<import from="x" dim="[3, 4]" />'

CASES = {
    "malformed-xml": ("xml-syntax", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y"/></node>\n'
                    '</block><⟦model⟧ </model>'}),
    "unknown-op": ("unknown-op", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦Relux⟧"><input src="x"/><output name="y"/></node></block></model>'}),
    "unknown-attribute": ("unknown-attribute", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Softmax" ⟦axs⟧="1"><input src="x"/><output name="y"/></node>'
                    '</block></model>'}),
    "ill-typed-attribute": ("bad-attribute", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Softmax" axis="⟦one⟧"><input src="x"/><output name="y"/>'
                    '</node></block></model>'}),
    "missing-attribute": ("missing-attribute", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦Concat⟧"><input src="x"/><input src="x"/>'
                    '<output name="y"/></node></block></model>'}),
    "wrong-input-count": ("arity", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦MatMul⟧"><input src="x"/><output name="y"/></node>'
                    '</block></model>'}),
    "undefined-tensor": ("undefined-tensor", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="⟦xx⟧"/><output name="y"/></node>'
                    '</block></model>'}),
    "use-before-definition": ("use-before-definition", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="⟦z⟧"/><output name="y"/></node>'
                    '<node op="Relu"><input src="x"/><output name="z"/></node></block></model>'}),
    "duplicate-output": ("duplicate-output", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y"/></node>'
                    '<node op="Relu"><input src="y"/><output name="⟦y⟧"/></node></block></model>'}),
    "dollar-in-name": ("bad-name", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a⟦$⟧b"/></node>'
                    '</block></model>'}),
    "dot-in-name": ("bad-name", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a⟦.⟧b"/></node>'
                    '</block></model>'}),
    "root-import-without-dim": ("root-io-without-dim", Severity.ERROR, {
        "main.agr": '<model><⟦import⟧ from="x" /><block><node op="Relu"><input src="x"/><output name="y"/>'
                    '</node></block></model>'}),
    "expression-error": ("expr-syntax", Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[expr(2 * ⟦(⟧n))]" /></model>'}),
    "unknown-init": ("unknown-init", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]" '
                    'init="⟦xavir⟧"/><output name="y"/></node></block></model>'}),
    "init-args-length": ("init-args", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]" '
                    'init="constant" init_args="⟦[1, 2]⟧"/><output name="y"/></node></block></model>'}),
    "rep-and-stretch": ("rep-and-stretch", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block rep="2" ⟦stretch⟧="2"><import from="x"/><node op="Relu">'
                    '<input src="x"/><output name="y"/></node><export from="y"/></block></model>'}),
    "rep-without-import": ("rep-without-io", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block ⟦rep⟧="2"><node op="Relu"><input src="x"/><output name="y"/></node>'
                    '<export from="y"/></block></model>'}),
    "missing-sourced-file": ("missing-source", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block src="⟦nothere.agr⟧" name="n"/></model>'}),
    "sourced-tag-with-children": ("sourced-with-children", Severity.ERROR, {
        "main.agr": f'<model>{IO}<⟦block⟧ src="a.agr" name="a"><node op="Relu"/></block></model>',
        "a.agr": '<model></model>'}),
    "sourcing-cycle": ("source-cycle", Severity.ERROR, {
        "main.agr": '<model><block src="a.agr" name="a"/></model>',
        "a.agr": '<model><block src="⟦main.agr⟧" name="m"/></model>'}),
    "dims-for-dim": ("dims-for-dim", Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y" ⟦dims⟧="[3, 4]"/>'
                    '</node></block><export from="y" dim="[3, 4]"/></model>'}),
    "unused-output": ("unused-output", Severity.HINT, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="⟦y⟧"/></node>'
                    '</block></model>'}),
    "shared-dims-differ": ("shared-dims-differ", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="W" dim="[4]" shared="yes"/>'
                    '<output name="y"/></node><node op="Add"><input src="y"/><params name="W" dim="⟦[3]⟧" '
                    'shared="yes"/><output name="z"/></node></block></model>'}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_model_gets_its_diagnostic(case: str, tmp_path):
    code, severity, files = CASES[case]
    expected_file, expected_range = None, None
    for name, text in files.items():
        clean, rng = _strip_markers(text)
        (tmp_path / name).write_text(clean)
        if rng is not None:
            expected_file, expected_range = str(tmp_path / name), rng
    an = analyze(str(tmp_path / "main.agr"))
    found = [d for d in an.diagnostics if d.code == code]
    assert found, f"no {code} among {[(d.code, d.message) for d in an.diagnostics]}"
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
