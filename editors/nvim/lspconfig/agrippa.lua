-- The Agrippa language server in nvim-lspconfig's format (the file nvim-lspconfig keeps as
-- lua/lspconfig/configs/agrippa.lua). Until it is there, register it from this folder:
--
--   local configs = require('lspconfig.configs')
--   if not configs.agrippa then
--     configs.agrippa = dofile(vim.fn.expand('~/src/agrippa/editors/nvim/lspconfig/agrippa.lua'))
--   end
--   require('lspconfig').agrippa.setup({})   -- or .setup({ cmd = { '/path/python', '-m', 'agrippa_lsp' } })
--
-- With editors/nvim on the runtimepath too, *.agr files get the `agrippa` filetype and the
-- default command finds the interpreter as lsp/agrippa.lua does.

local util = require('lspconfig.util')

local ok, interpreter = pcall(require, 'agrippa.interpreter')
local cmd = ok and interpreter.server_cmd() or { 'python3', '-m', 'agrippa_lsp' }

return {
  default_config = {
    cmd = cmd,
    filetypes = { 'agrippa' },
    root_dir = util.root_pattern('agrippa.toml', '.git'),
    single_file_support = true,
    settings = {
      agrippa = {
        bindings = {},
        inlayHints = { enabled = true },
      },
    },
  },
  docs = {
    description = [[
Language server for Agrippa, the XML markup for neural networks (`*.agr`, `.xml` files with
a `<model>` root): diagnostics, hover with tensor shapes, inlay hints, completion, go to
definition, rename, code actions, compile and train commands.

It ships with the `agrippa` Python package:
```sh
python3 -m pip install agrippa
```
`cmd` runs `python -m agrippa_lsp` with `$VIRTUAL_ENV`'s python, else a `.venv` of the
project, else `python3`; set it to the interpreter that has agrippa installed. Settings are
read under the `agrippa` section: `bindings` (values for `var(...)`), `profile`,
`inlayHints.enabled`.
]],
    default_config = {
      root_dir = [[root_pattern("agrippa.toml", ".git")]],
    },
  },
}
