-- :AgrippaGraph — the model's block graph in the system browser. Runs `agrippa view` (with the
-- interpreter that runs the language server) on the current file, writes one self-contained
-- HTML file under stdpath('cache')/agrippa and opens it with vim.ui.open (0.10+), else
-- xdg-open / open / start. The graph shows the file as saved on disk.
--
-- vim.g.agrippa_graph_browser: argv (list) or command (string) to open the file instead (tests
-- set it to a command that only records the path).
local M = { last = nil }

local function notify(msg, level)
  vim.schedule(function()
    vim.notify('Agrippa: ' .. msg, level or vim.log.levels.INFO)
  end)
end

local function python()
  local argv = require('agrippa').server_cmd()
  return argv[1]
end

local function open_browser(path)
  local custom = vim.g.agrippa_graph_browser
  if custom then
    local argv = type(custom) == 'table' and vim.list_extend(vim.deepcopy(custom), { path }) or { custom, path }
    return vim.fn.jobstart(argv, { detach = true }) > 0
  end
  if vim.ui and vim.ui.open then
    local ok = pcall(vim.ui.open, path)
    if ok then
      return true
    end
  end
  local argv
  if vim.fn.has('mac') == 1 then
    argv = { 'open', path }
  elseif vim.fn.has('win32') == 1 then
    argv = { 'cmd.exe', '/c', 'start', '', path }
  else
    argv = { 'xdg-open', path }
  end
  if vim.fn.executable(argv[1]) ~= 1 then
    return false
  end
  return vim.fn.jobstart(argv, { detach = true }) > 0
end

--- Write the graph of the model in `bufnr` and open it; `profile` (optional) picks bindings.
--- `done(result)` (optional) gets { code, html, stderr } when it is over.
function M.open(bufnr, profile, done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == '' then
    notify('save the model to a file first', vim.log.levels.WARN)
    return
  end
  if vim.bo[bufnr].modified then
    notify('the graph shows the saved file; unsaved changes are not in it', vim.log.levels.WARN)
  end
  local dir = vim.fn.stdpath('cache') .. '/agrippa'
  vim.fn.mkdir(dir, 'p')
  local html = dir .. '/' .. vim.fn.fnamemodify(file, ':t:r') .. '.graph.html'
  local argv = { python(), '-m', 'agrippa.cli', 'view', file, '-o', html }
  if profile and profile ~= '' then
    vim.list_extend(argv, { '--profile', profile })
  end
  local stderr = {}
  local job = vim.fn.jobstart(argv, {
    stderr_buffered = true,
    on_stderr = function(_, data)
      stderr = data or {}
    end,
    on_exit = function(_, code)
      local result = { code = code, html = html, stderr = table.concat(stderr, '\n') }
      M.last = result
      if code == 0 then
        if open_browser(html) then
          notify('graph opened in the browser: ' .. html)
        else
          notify('graph written to ' .. html .. ' (no browser opener found)', vim.log.levels.WARN)
        end
      else
        notify('agrippa view failed: ' .. result.stderr, vim.log.levels.ERROR)
      end
      if done then
        vim.schedule(function()
          done(result)
        end)
      end
    end,
  })
  if job <= 0 then
    notify('cannot run ' .. argv[1], vim.log.levels.ERROR)
  end
end

return M
