-- Headless Neovim 0.11+ check of editors/nvim's runtime files without setup(): lsp/agrippa.lua
-- through vim.lsp.enable('agrippa'), :checkhealth agrippa, and lspconfig/agrippa.lua's shape.
--
--   AGRIPPA_E2E_FILE=/tmp/ws/mlp.agr (a project with a .venv holding agrippa) \
--   nvim --headless --clean -n -i NONE --cmd 'set rtp^=editors/nvim' -S tests/e2e/nvim_enable_e2e.lua
--
-- Prints "OK ..."/"FAIL ..." lines and "RESULT PASS|FAIL"; exits 0 on success, 1 on failure.
local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local timeout = tonumber(os.getenv('AGRIPPA_E2E_TIMEOUT_MS') or '30000')
local file = os.getenv('AGRIPPA_E2E_FILE')
local want_python = os.getenv('AGRIPPA_E2E_VENV_PYTHON') -- the interpreter the default search must find
local ok_all = true

local function check(cond, msg)
  out((cond and 'OK   ' or 'FAIL ') .. msg)
  if not cond then
    ok_all = false
  end
  return cond
end

local function clients(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'agrippa' })
end

local function finish()
  out('RESULT ' .. (ok_all and 'PASS' or 'FAIL'))
  pcall(function()
    for _, c in ipairs(clients(nil)) do
      c:stop()
    end
    vim.wait(3000, function()
      return #clients(nil) == 0
    end, 50)
  end)
  vim.cmd(ok_all and 'qall!' or 'cquit! 1')
end

--- Runs :checkhealth agrippa; returns its lines and goes back to `buf`.
local function checkhealth(buf)
  vim.cmd('checkhealth agrippa')
  local hbuf = vim.api.nvim_get_current_buf()
  local lines = {}
  vim.wait(timeout, function()
    lines = vim.api.nvim_buf_get_lines(hbuf, 0, -1, false)
    return table.concat(lines, '\n'):find('Clients') ~= nil
  end, 50)
  if vim.fn.tabpagenr('$') > 1 then
    vim.cmd('tabclose')
  end
  vim.api.nvim_set_current_buf(buf)
  pcall(vim.api.nvim_buf_delete, hbuf, { force = true })
  return lines
end

local ok, err = pcall(function()
  assert(file, 'set AGRIPPA_E2E_FILE')
  local v = vim.version()
  out(string.format('NVIM %d.%d.%d', v.major, v.minor, v.patch))
  assert(vim.fn.has('nvim-0.11') == 1, 'vim.lsp.enable needs Neovim 0.11+')

  -- 1) what a 0.11 user writes instead of setup()
  vim.lsp.enable('agrippa')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == 'agrippa', 'filetype detected as agrippa without setup() (got "' .. vim.bo[buf].filetype .. '")')
  local attached = vim.wait(timeout, function()
    local c = clients(buf)[1]
    return c ~= nil and c.initialized and c.server_capabilities ~= nil
  end, 50)
  local c = clients(buf)[1]
  check(attached, "vim.lsp.enable('agrippa') attached a client: " .. (c and table.concat(c.config.cmd, ' ') or 'none'))
  if not attached then
    return
  end
  if want_python then
    check(c.config.cmd[1] == want_python, 'the default command uses the project .venv (' .. c.config.cmd[1] .. ')')
  end
  check(c.config.root_dir == vim.fn.fnamemodify(file, ':p:h'), 'root_dir from root_markers: ' .. tostring(c.config.root_dir))
  check(type(c.config.settings.agrippa) == 'table', 'settings.agrippa sent')

  -- 2) a diagnostic arrives for a broken reference
  local rline, col, ref
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local s, _, r = line:find('src="([^"]+)"')
    if s then
      rline, col, ref = i - 1, s - 1 + #'src="' + #r, r
      break
    end
  end
  check(rline ~= nil, 'found a src="..." reference')
  if rline then
    vim.api.nvim_buf_set_text(buf, rline, col, rline, col, { '_missing' })
    local diag
    vim.wait(timeout, function()
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        if d.lnum == rline and d.message:find(ref .. '_missing', 1, true) then
          diag = d
          return true
        end
      end
      return false
    end, 50)
    check(diag ~= nil, 'diagnostic on line ' .. (rline + 1) .. ': ' .. (diag and diag.message or 'none'))
  end

  -- 3) :checkhealth agrippa: the interpreter, the import, the versions, the running client
  local lines = checkhealth(buf)
  for _, l in ipairs(lines) do
    out('HEALTH ' .. l)
  end
  local text = table.concat(lines, '\n')
  local n_ok = select(2, text:gsub('OK', ''))
  check(n_ok >= 4, ':checkhealth agrippa shows OK lines (' .. n_ok .. ')')
  check(not text:find('ERROR'), ':checkhealth agrippa shows no ERROR')
  check(text:find('import agrippa_lsp works', 1, true) ~= nil, ':checkhealth agrippa: import agrippa_lsp works')
  check(text:find('agrippa%-lsp %d') ~= nil, ':checkhealth agrippa: the server version')
  check(text:find("vim.lsp.config('agrippa')", 1, true) ~= nil, ':checkhealth agrippa: the command comes from lsp/agrippa.lua')
  check(text:find('client %d+: agrippa%-lsp') ~= nil, ':checkhealth agrippa: the running client and its server')

  -- 3b) agrippa.toml gets the client (hover on its keys); any other .toml does not
  local dir = vim.fn.fnamemodify(file, ':p:h')
  local toml = dir .. '/agrippa.toml'
  if vim.fn.filereadable(toml) == 0 then
    vim.fn.writefile({ '[model]', 'opset = 17' }, toml)
  end
  vim.fn.writefile({ '[tool]', 'x = 1' }, dir .. '/other.toml')
  vim.cmd('edit ' .. vim.fn.fnameescape(toml))
  local tbuf = vim.api.nvim_get_current_buf()
  check(vim.wait(timeout, function()
    return clients(tbuf)[1] ~= nil
  end, 50), 'the client attaches to agrippa.toml (filetype ' .. vim.bo[tbuf].filetype .. ')')
  vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/other.toml'))
  local obuf = vim.api.nvim_get_current_buf()
  vim.wait(300, function()
    return clients(obuf)[1] ~= nil
  end, 50)
  check(clients(obuf)[1] == nil, 'no client on other.toml')
  vim.api.nvim_set_current_buf(buf)

  -- 4) lspconfig/agrippa.lua has nvim-lspconfig's shape (with a stand-in lspconfig.util)
  local patterns
  package.preload['lspconfig.util'] = function()
    return {
      root_pattern = function(...)
        patterns = { ... }
        return function()
          return nil
        end
      end,
    }
  end
  local path = vim.api.nvim_get_runtime_file('lspconfig/agrippa.lua', false)[1]
  local def = dofile(path)
  local dc = def.default_config
  check(type(dc.cmd) == 'table' and dc.cmd[2] == '-m' and dc.cmd[3] == 'agrippa_lsp', 'lspconfig: cmd ' .. vim.inspect(dc.cmd))
  check(vim.deep_equal(dc.filetypes, { 'agrippa' }) and type(dc.root_dir) == 'function', 'lspconfig: filetypes, root_dir')
  check(vim.deep_equal(patterns, { 'agrippa.toml', '.git' }), 'lspconfig: root_pattern(agrippa.toml, .git)')
  check(type(dc.settings.agrippa) == 'table' and type(def.docs.description) == 'string', 'lspconfig: settings and docs')
end)
if not ok then
  out('ERROR ' .. tostring(err))
  ok_all = false
end
finish()
