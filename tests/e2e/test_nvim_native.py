"""End-to-end, Neovim 0.11+ without setup(): `vim.lsp.enable('agrippa')` through
editors/nvim/lsp/agrippa.lua (the interpreter found in the project's .venv), a diagnostic
arriving, `:checkhealth agrippa` showing OK lines, and lspconfig/agrippa.lua's shape
(tests/e2e/nvim_enable_e2e.lua). `:checkhealth agrippa` after setup() runs in test_editors.py
on 0.7 and 0.11."""
from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.editor


def test_neovim_lsp_enable_and_checkhealth():
    missing = harness.nvim_missing(harness.NVIM_WHEEL)
    if missing:
        pytest.skip(missing)
    problem = harness.server_problem()
    if problem:
        pytest.fail(f"the real language server cannot run: {problem}")
    run = harness.run_nvim(harness.NVIM_WHEEL, train="0", script="nvim_enable_e2e.lua", project_venv=True)
    report = f"\n{run.output}\ntimings: {run.timings}\nartifacts: {run.artifacts}"
    print(report)
    assert run.passed, report
    assert "OK   vim.lsp.enable('agrippa') attached a client" in run.output
    assert "OK   diagnostic on line" in run.output
    assert "OK   :checkhealth agrippa shows OK lines" in run.output
    run.cleanup()
