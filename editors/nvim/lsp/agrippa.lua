-- The Agrippa language server for Neovim 0.11+'s built-in configs:
--
--   vim.lsp.enable('agrippa')
--
-- with editors/nvim on the runtimepath (it also gives the `agrippa` filetype for *.agr).
-- Override any field with vim.lsp.config, e.g. the interpreter:
--
--   vim.lsp.config('agrippa', { cmd = { '~/.venvs/agrippa/bin/python', '-m', 'agrippa_lsp' } })
--
-- The default command runs `python -m agrippa_lsp` with $VIRTUAL_ENV's python, else a .venv in
-- the project of the file being opened, else python3 (lua/agrippa/interpreter.lua).
-- require('agrippa').setup() is the alternative (commands, progress, 0.7-0.10); with it, the
-- plugin configures and enables this same client name itself.

local ok, interpreter = pcall(require, 'agrippa.interpreter')
local cmd = ok and interpreter.server_cmd() or { 'python3', '-m', 'agrippa_lsp' }

return {
  cmd = cmd,
  filetypes = { 'agrippa' },
  root_markers = { 'agrippa.toml', '.git' },
  settings = {
    agrippa = {
      bindings = {},
      inlayHints = { enabled = true },
    },
  },
}
