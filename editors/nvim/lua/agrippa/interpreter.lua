-- Which Python runs the Agrippa language server when nothing says so: shared by
-- lsp/agrippa.lua (vim.lsp.enable), lspconfig/agrippa.lua and :checkhealth agrippa.
--
-- Order: a configured interpreter; the active virtualenv ($VIRTUAL_ENV); a .venv (or venv)
-- in the project (searched upwards from the file to the project root); python3.
-- Works on Neovim 0.7+.

local M = {}

local uv = vim.uv or vim.loop
local is_win = vim.fn.has('win32') == 1

M.root_markers = { 'agrippa.toml', '.git' }

local function bin_python(prefix)
  return prefix .. (is_win and '\\Scripts\\python.exe' or '/bin/python')
end

local function executable(path)
  return path ~= nil and path ~= '' and vim.fn.executable(path) == 1
end

local function parent(dir)
  return vim.fn.fnamemodify(dir, ':h')
end

--- The folder to search from: `start` (a file or folder), else the current buffer's file,
--- else the current directory.
local function start_dir(start)
  start = start or vim.api.nvim_buf_get_name(0)
  if start == nil or start == '' then
    return vim.fn.getcwd()
  end
  start = vim.fn.fnamemodify(start, ':p')
  if vim.fn.isdirectory(start) == 1 then
    return (start:gsub('[/\\]+$', ''))
  end
  return parent(start)
end

--- The project root above `start`: the nearest folder with one of `markers`, else nil.
function M.find_root(start, markers)
  local dir = start_dir(start)
  while dir and dir ~= '' do
    for _, m in ipairs(markers or M.root_markers) do
      if uv.fs_stat(dir .. '/' .. m) then
        return dir
      end
    end
    local up = parent(dir)
    if up == dir then
      break
    end
    dir = up
  end
  return nil
end

--- A .venv or venv interpreter in the folders from `start` up to the project root (or the
--- filesystem root when there is no project marker).
function M.project_venv(start)
  local root = M.find_root(start)
  local dir = start_dir(start)
  while dir and dir ~= '' do
    for _, name in ipairs({ '.venv', 'venv' }) do
      local py = bin_python(dir .. '/' .. name)
      if executable(py) then
        return py
      end
    end
    local up = parent(dir)
    if dir == root or up == dir then
      break
    end
    dir = up
  end
  return nil
end

--- The interpreter and where it came from: 'configured', '$VIRTUAL_ENV', 'project .venv' or
--- 'python3 on PATH'. `opts.python`: the configured interpreter; `opts.start`: a file or folder.
function M.find(opts)
  opts = opts or {}
  if opts.python and opts.python ~= '' then
    return vim.fn.expand(opts.python), 'configured'
  end
  local venv = os.getenv('VIRTUAL_ENV')
  if venv and venv ~= '' and executable(bin_python(venv)) then
    return bin_python(venv), '$VIRTUAL_ENV'
  end
  local local_venv = M.project_venv(opts.start)
  if local_venv then
    return local_venv, 'project .venv'
  end
  return is_win and 'python' or 'python3', 'python3 on PATH'
end

--- The argv that starts the server with the interpreter M.find() picks.
function M.server_cmd(opts)
  local python = M.find(opts)
  return { python, '-m', 'agrippa_lsp' }
end

--- The versions `python` has, by running it: { agrippa = ..., server = ..., pygls = ... }, or
--- nil and the error output.
function M.versions(python)
  local script = table.concat({
    'import agrippa, agrippa_lsp',
    'from importlib.metadata import version',
    'print(agrippa.__version__)',
    'print(version("pygls"))',
  }, '\n')
  local out = vim.fn.system({ python, '-c', script })
  if vim.v.shell_error ~= 0 then
    return nil, vim.trim(out)
  end
  local lines = vim.split(vim.trim(out), '\n')
  return { agrippa = lines[1], server = lines[1], pygls = lines[2] }
end

return M
