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

-- Markup buffers, and agrippa.toml (hover and completion of its keys), which keeps the `toml`
-- filetype: a root is given to no other .toml buffer, so the client never attaches to those.
local function root_dir(bufnr, on_dir)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if vim.bo[bufnr].filetype == 'toml' and vim.fs.basename(name) ~= 'agrippa.toml' then
    return
  end
  on_dir(vim.fs.root(bufnr, { 'agrippa.toml', '.git' }) or vim.fs.dirname(name))
end

return {
  cmd = cmd,
  filetypes = { 'agrippa', 'toml' },
  root_dir = root_dir,
  settings = {
    agrippa = {
      bindings = {},
      inlayHints = { enabled = true },
    },
  },
}
