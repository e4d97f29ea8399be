-- :checkhealth agrippa — which interpreter runs the language server, whether it can import
-- agrippa_lsp, the versions, and the state of the client.
--
-- Reports with vim.health.start/ok/warn/error/info (0.10+), vim.health.report_* (0.8-0.9) or
-- health#report_* (0.7).

local M = {}

local NAME = 'agrippa'

local function reporter(name)
  local h = vim.health
  if h and h[name] then
    return h[name]
  end
  if h and h['report_' .. name] then
    return h['report_' .. name]
  end
  return function(msg, advice)
    if advice ~= nil and (name == 'warn' or name == 'error') then
      vim.fn['health#report_' .. name](msg, advice)
    else
      vim.fn['health#report_' .. name](msg)
    end
  end
end

local start, ok, warn, report_error, info =
  reporter('start'), reporter('ok'), reporter('warn'), reporter('error'), reporter('info')

local function has(v)
  return vim.fn.has('nvim-' .. v) == 1
end

local function clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = NAME })
  end
  local out = {}
  for _, c in pairs(vim.lsp.get_active_clients()) do
    if c.name == NAME then
      table.insert(out, c)
    end
  end
  return out
end

--- The command that starts the server and where it comes from: require('agrippa').setup(),
--- vim.lsp.config('agrippa') (0.11+: lsp/agrippa.lua and the user's overrides), or the
--- default search (lua/agrippa/interpreter.lua).
function M.server_command()
  local interpreter = require('agrippa.interpreter')
  local loaded, plugin = pcall(require, 'agrippa')
  if loaded and vim.fn.exists(':AgrippaCompile') == 2 then -- setup() ran
    local cfg = plugin.config or {}
    local source = cfg.cmd and "setup({ cmd = ... })" or (cfg.python and "setup({ python = ... })" or 'setup() default')
    return plugin.server_cmd(), source
  end
  if has('0.11') and vim.lsp.config then
    local got, cfg = pcall(function()
      return vim.lsp.config[NAME]
    end)
    if got and type(cfg) == 'table' and type(cfg.cmd) == 'table' then
      return cfg.cmd, "vim.lsp.config('agrippa') (lsp/agrippa.lua)"
    end
  end
  local python, how = interpreter.find()
  return { python, '-m', 'agrippa_lsp' }, 'default search (' .. how .. ')'
end

local function check_version()
  start('Neovim')
  local v = vim.version()
  local text = string.format('Neovim %d.%d.%d', v.major, v.minor, v.patch)
  if has('0.11') then
    ok(text .. ": vim.lsp.enable('agrippa') and setup() both work")
  elseif has('0.7') then
    ok(text .. ': use require("agrippa").setup()')
  else
    report_error(text .. ': Agrippa needs Neovim 0.7 or later')
  end
end

local function check_server()
  start('Language server')
  local cmd, source = M.server_command()
  ok('command: ' .. table.concat(cmd, ' ') .. ' (from ' .. source .. ')')
  local exe = vim.fn.expand(cmd[1])
  if vim.fn.executable(exe) ~= 1 then
    report_error(exe .. ' is not executable', {
      'Set the interpreter that has agrippa installed: require("agrippa").setup({ python = "/path/to/python" })',
      "or, on 0.11+: vim.lsp.config('agrippa', { cmd = { '/path/to/python', '-m', 'agrippa_lsp' } })",
    })
    return
  end
  ok('executable: ' .. vim.fn.exepath(exe))
  if not (cmd[2] == '-m' and cmd[3] == 'agrippa_lsp') then
    info('a custom command: its Python is not checked here')
    return
  end
  local versions, err = require('agrippa.interpreter').versions(exe)
  if not versions then
    report_error('`' .. exe .. ' -c "import agrippa_lsp"` failed: ' .. (err or ''):gsub('\n', ' | '), {
      'Install the server into that interpreter: ' .. exe .. ' -m pip install agrippa',
      'or point the plugin at the interpreter that has it (setup({ python = ... }))',
    })
    return
  end
  ok('import agrippa_lsp works')
  ok('agrippa ' .. versions.agrippa .. ', language server agrippa-lsp ' .. versions.server .. ', pygls ' .. (versions.pygls or '?'))
end

local function check_clients()
  start('Clients')
  if vim.fn.exists('#agrippa_filetype') == 1 or vim.fn.exists('#filetypedetect#BufRead#*.agr') == 1 then
    ok('*.agr files open with the agrippa filetype')
  else
    warn('no filetype detection for *.agr', { 'put editors/nvim on the runtimepath (ftdetect/agrippa.vim), or call setup()' })
  end
  local list = clients()
  if #list == 0 then
    info('no agrippa client is running (open a .agr file)')
    return
  end
  for _, c in ipairs(list) do
    local si = c.server_info or {}
    local stopped
    if has('0.11') then
      stopped = c:is_stopped()
    else
      stopped = c.is_stopped()
    end
    local server = si.name and (si.name .. ' ' .. (si.version or '')) or 'running'
    local text = string.format('client %d: %s, root %s', c.id, server, tostring(c.config.root_dir))
    if stopped then
      warn(text .. ' (stopped)', { ':AgrippaRestart, or see :lua vim.cmd.edit(vim.lsp.get_log_path())' })
    else
      ok(text)
    end
  end
end

function M.check()
  check_version()
  check_server()
  check_clients()
end

return M
