-- Headless Neovim end-to-end check of editors/nvim (the configuration shipped to users) against
-- the real Agrippa language server. Neovim 0.7 .. 0.11+.
--
--   AGRIPPA_E2E_PYTHON=.venv/bin/python AGRIPPA_E2E_FILE=/tmp/ws/mlp.agr \
--   nvim --headless --clean -n -i NONE --cmd 'set rtp^=editors/nvim' -S tests/e2e/nvim_e2e.lua
--
-- Prints "OK ..."/"FAIL ..." lines and "RESULT PASS|FAIL"; exits 0 on success, 1 on failure.
-- Everything runs inside pcall: an uncaught error would leave headless Neovim hanging.
local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local timeout = tonumber(os.getenv('AGRIPPA_E2E_TIMEOUT_MS') or '30000')
local file = os.getenv('AGRIPPA_E2E_FILE')
local python = os.getenv('AGRIPPA_E2E_PYTHON')
-- AGRIPPA_E2E_TRAIN=1: train to the end; =cancel: :AgrippaTrainCancel after the first report
local train_mode = os.getenv('AGRIPPA_E2E_TRAIN')
local want_train = train_mode == '1' or train_mode == 'cancel'
local ok_all = true
local uv = vim.uv or vim.loop

local function check(cond, msg)
  out((cond and 'OK   ' or 'FAIL ') .. msg)
  if not cond then
    ok_all = false
  end
  return cond
end

local function finish()
  out('RESULT ' .. (ok_all and 'PASS' or 'FAIL'))
  pcall(function()
    local agrippa = require('agrippa')
    local clients = agrippa.clients(nil)
    for _, c in ipairs(clients) do
      if vim.fn.has('nvim-0.11') == 1 then
        c:stop()
      else
        c.stop()
      end
    end
    vim.wait(3000, function()
      return #agrippa.clients(nil) == 0
    end, 50)
  end)
  vim.cmd(ok_all and 'qall!' or 'cquit! 1')
end

-- capture what the user is told: vim.notify (the plugin) and window/showMessage (the server)
local notes = {}
vim.notify = function(msg, level)
  table.insert(notes, { msg = tostring(msg), level = level })
  out('NOTIFY ' .. tostring(msg))
end
local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, result, ctx, config)
  if type(result) == 'table' and result.message then
    table.insert(notes, { msg = result.message, level = result.type })
    out('SHOWMESSAGE ' .. result.message)
  end
  return show_message(err, result, ctx, config)
end
-- waits for a notification matching one of `patterns`; returns its text and the pattern's index
local function wait_note(patterns, ms)
  if type(patterns) == 'string' then
    patterns = { patterns }
  end
  local found, which
  vim.wait(ms or timeout, function()
    for _, n in ipairs(notes) do
      for i, p in ipairs(patterns) do
        if n.msg:find(p) then
          found, which = n.msg, i
          return true
        end
      end
    end
    return false
  end, 50)
  return found, which
end

local function find_in_buf(buf, lua_pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local s, e, cap = line:find(lua_pattern)
    if s then
      return i - 1, s - 1, e, cap, line
    end
  end
end

local ok, err = pcall(function()
  assert(file and python, 'set AGRIPPA_E2E_FILE and AGRIPPA_E2E_PYTHON')
  local v = vim.version()
  out(string.format('NVIM %d.%d.%d', v.major, v.minor, v.patch))

  -- the setup a user pastes into init.lua (editors/nvim/README.md)
  local agrippa = require('agrippa')
  agrippa.setup({ python = python })

  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  check(vim.bo[buf].filetype == 'agrippa', 'filetype detected as agrippa (got "' .. vim.bo[buf].filetype .. '")')

  -- 1) the server starts and attaches
  local attached = vim.wait(timeout, function()
    local c = agrippa.clients(buf)[1]
    return c ~= nil and c.initialized ~= false and c.server_capabilities ~= nil
  end, 50)
  check(attached, 'language server attached (' .. table.concat(agrippa.server_cmd(), ' ') .. ')')
  if not attached then
    return
  end
  local client = agrippa.clients(buf)[1]
  check(client.config.root_dir ~= nil, 'root_dir ' .. tostring(client.config.root_dir))
  vim.wait(500)
  check(#agrippa.clients(nil) == 1, 'exactly one Agrippa client (' .. #agrippa.clients(nil) .. ')')

  -- 1a) code lenses (setup() refreshes them on attach, BufEnter, InsertLeave, BufWritePost):
  -- a lens on the <model> line with the parameter count
  if vim.lsp.codelens and vim.lsp.codelens.get and client.server_capabilities.codeLensProvider then
    local mline = find_in_buf(buf, '^%s*<model[%s>]')
    local titles = {}
    local got = vim.wait(timeout, function()
      titles = {}
      for _, lens in ipairs(vim.lsp.codelens.get(buf) or {}) do
        if lens.range.start.line == mline and lens.command and lens.command.title then
          table.insert(titles, lens.command.title)
        end
      end
      for _, t in ipairs(titles) do
        if t:find('%d+ parameters') then
          return true
        end
      end
      return false
    end, 50)
    check(mline ~= nil and got, 'vim.lsp.codelens.get() has a lens on the <model> line ' .. tostring(mline and mline + 1)
      .. ' with the parameter count: ' .. table.concat(titles, ' | '))
  end

  -- 1b) :checkhealth agrippa (lua/agrippa/health.lua): the interpreter, the import, the versions
  vim.cmd('checkhealth agrippa')
  local hbuf = vim.api.nvim_get_current_buf()
  local health = ''
  vim.wait(timeout, function()
    health = table.concat(vim.api.nvim_buf_get_lines(hbuf, 0, -1, false), '\n')
    return health:find('Clients') ~= nil
  end, 50)
  for l in health:gmatch('[^\n]+') do
    out('HEALTH ' .. l)
  end
  check(select(2, health:gsub('OK', '')) >= 4 and not health:find('ERROR'), ':checkhealth agrippa shows OK lines, no ERROR')
  check(health:find('import agrippa_lsp works', 1, true) and health:find('agrippa%-lsp %d'), ':checkhealth agrippa: import and versions')
  if vim.fn.tabpagenr('$') > 1 then
    vim.cmd('tabclose')
  end
  vim.api.nvim_set_current_buf(buf)
  pcall(vim.api.nvim_buf_delete, hbuf, { force = true })

  -- 2) hover over an output's name shows its shape
  local line, s, _, name = find_in_buf(buf, '<output[^>]-%sname="([^"]+)"')
  check(line ~= nil, 'found an <output name="..."> in the example')
  if line then
    local text = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
    local name_col = text:find('name="' .. name .. '"', s + 1, true) + #'name="' - 1
    local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = name_col + 1 } }
    local hover_text
    vim.wait(timeout, function()
      local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 5000)
      for _, r in pairs(res or {}) do
        local c = r.result and r.result.contents
        if type(c) == 'table' and c.value then
          hover_text = c.value
        elseif type(c) == 'string' then
          hover_text = c
        elseif type(c) == 'table' and c[1] then
          hover_text = type(c[1]) == 'table' and c[1].value or c[1]
        end
      end
      return hover_text ~= nil
    end, 200)
    out('HOVER ' .. vim.inspect(hover_text))
    check(hover_text ~= nil and hover_text:find('%[%s*%d+%s*[,%]]') ~= nil,
      'hover on output "' .. name .. '" (line ' .. (line + 1) .. ') shows a shape like [4, 16]')
  end

  -- 3) :AgrippaCompile writes the .onnx file and says so
  vim.cmd('AgrippaCompile')
  vim.wait(timeout * 2, function()
    return agrippa.state.last['agrippa.compile'] ~= nil
  end, 50)
  local last = agrippa.state.last['agrippa.compile']
  check(last ~= nil and last.err == nil, ':AgrippaCompile answered: ' .. vim.inspect(last and (last.err or last.result)))
  local note = wait_note({ '%.onnx', 'Compiled', 'compiled' }, 2000)
  check(note ~= nil, 'the user is told about the compiled file: ' .. tostring(note))
  local onnx = last and last.result and last.result.path
  out('ONNX ' .. tostring(onnx))
  check(type(onnx) == 'string' and onnx:match('%.onnx$') and uv.fs_stat(onnx) ~= nil, 'the .onnx file exists: ' .. tostring(onnx))

  -- 4) optional: :AgrippaTrain shows progress and finishes
  if want_train then
    local reports = 0
    agrippa.on_progress = function(_, value)
      if value.kind == 'report' then
        reports = reports + 1
      end
    end
    local asked = 0 -- the first run in an untrusted project asks (it runs the project's data.py)
    vim.ui.select = function(items, _, on_choice)
      asked = asked + 1
      on_choice(items[1], 1)
    end
    vim.cmd('AgrippaTrain')
    check(asked == 1, ':AgrippaTrain asked before running the project code the first time')
    if train_mode == 'cancel' then
      vim.wait(timeout * 4, function()
        return reports > 0
      end, 50)
      vim.cmd('AgrippaTrainCancel')
    end
    vim.wait(timeout * 10, function()
      return agrippa.state.last['agrippa.train'] ~= nil
    end, 100)
    local res = agrippa.state.last['agrippa.train']
    res = res and (res.err or res.result)
    if train_mode == 'cancel' then
      check(type(res) == 'table' and res.cancelled == true, ':AgrippaTrainCancel stopped the run: ' .. vim.inspect(res))
    else
      check(type(res) == 'table' and res.final_loss ~= nil and res.final_loss ~= vim.NIL and res.error == nil,
        ':AgrippaTrain finished with a final loss: ' .. vim.inspect(res))
    end
    check(reports > 0, 'training progress reported (' .. reports .. ' reports)')
  end

  -- 5) break a reference: the server reports it on that line
  local rline, rs, re, ref = find_in_buf(buf, 'src="([^"]+)"')
  check(rline ~= nil, 'found a src="..." reference')
  if rline then
    local col = ({ vim.api.nvim_buf_get_lines(buf, rline, rline + 1, false)[1]:find('src="' .. ref .. '"', rs + 1, true) })[1]
      + #'src="' - 1 + #ref
    vim.api.nvim_buf_set_text(buf, rline, col, rline, col, { '_missing' })
    local diag
    vim.wait(timeout, function()
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        if d.lnum == rline then
          diag = d
          return true
        end
      end
      return false
    end, 50)
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      out(string.format('DIAG line=%d col=%d sev=%s code=%s msg=%s', d.lnum + 1, d.col, tostring(d.severity), tostring(d.code), d.message))
    end
    check(diag ~= nil and diag.message:find(ref .. '_missing', 1, true) ~= nil,
      'diagnostic on the broken line ' .. (rline + 1) .. ' names "' .. ref .. '_missing"')
  end
end)
if not ok then
  out('ERROR ' .. tostring(err))
  ok_all = false
end
finish()
