"""End-to-end: the shipped editor clients against the real language server.

    scripts/setup_editors.sh                      # once: code-server, Chromium, Neovim 0.7 + 0.11
    .venv/bin/python -m pytest -m editor tests/e2e -v

Each test copies examples/mlp, opens mlp.agr in the editor and checks, as a user would see it:
a diagnostic on a line it breaks, the shape in the hover of an <output>, that "Compile to
ONNX" writes the .onnx file, the code lens with the parameter count on <model>; in VS Code also
semantic colours (on vs TextMate only), the expanded model (agrippa-expanded:) and Format
Document keeping attribute line breaks; and (when torch is installed) that training shows its progress and
can be cancelled. Screenshots and logs: artifacts/e2e/. Skips (with the reason) when an editor is
not installed; fails when the language server or the example is missing.
"""
from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.editor


@pytest.fixture(scope="module")
def real_server():
    problem = harness.server_problem()
    if problem:
        pytest.fail(f"the real language server cannot run: {problem}")


def _check_onnx(run: harness.Run) -> None:
    onnx_files = sorted(run.workspace.glob("*.onnx"))
    assert onnx_files, f"no .onnx file in {run.workspace}"
    onnx = pytest.importorskip("onnx")
    onnx.checker.check_model(onnx.load(str(onnx_files[0])))


@pytest.fixture
def cleanup():
    """Runs to clean up after the test: passed ones lose their temporary folder."""
    runs: list[harness.Run] = []
    yield runs
    for run in runs:
        if run.passed:
            run.cleanup()


def _report(run: harness.Run) -> str:
    return f"\n{run.output}\ntimings: {run.timings}\nartifacts: {run.artifacts}"


@pytest.fixture(scope="module")
def can_train():
    return harness.training_available()


# Neovim 0.7 also cancels its training run (:AgrippaTrainCancel); 0.11 trains to the end.
@pytest.mark.parametrize(("nvim", "train"), [(harness.NVIM_DEBIAN, "cancel"), (harness.NVIM_WHEEL, "1")],
                         ids=["nvim-debian", "nvim-wheel"])
def test_neovim(nvim, train, real_server, can_train, cleanup):
    missing = harness.nvim_missing(nvim)
    if missing:
        pytest.skip(missing)
    run = harness.run_nvim(nvim, train=train if can_train else "0")
    cleanup.append(run)
    print(_report(run))
    assert run.passed, _report(run)
    assert "OK   diagnostic on the broken line" in run.output
    assert "shows a shape" in run.output
    assert "OK   vim.lsp.codelens.get() has a lens on the <model> line" in run.output
    if can_train:
        assert ("stopped the run" if train == "cancel" else "finished with a final loss") in run.output
    _check_onnx(run)


def test_vscode(real_server, can_train, cleanup):
    """Also: the training notification shows the loss and Cancel stops the run; and an
    interpreter without the server gets the "not installed" prompt with Install."""
    missing = harness.vscode_missing()
    if missing:
        pytest.skip(missing)
    run = harness.run_vscode(train="cancel" if can_train else "0")
    cleanup.append(run)
    print(_report(run))
    assert run.passed, _report(run)
    for shot in ("01-open.png", "01a-codelens.png", "01b-semantic.png", "01c-semantic-off.png",
                 "01d-inspect-op-token.png", "02-hover.png", "03-compiled.png", "03a-expanded.png",
                 "06-diagnostic.png", "07b-formatted.png"):
        assert (run.artifacts / shot).exists(), shot
    for line in ("OK   code lens on <model> with the parameter count", "OK   semantic token colours parameter",
                 "is a plain string again", "OK   token inspector on", "OK   expanded view (agrippa-expanded:",
                 "OK   Format Document kept the attribute line breaks", "... and fixed the indentation"):
        assert line in run.output, line
    if can_train:
        assert "OK   training progress shows the loss" in run.output
    _check_onnx(run)
