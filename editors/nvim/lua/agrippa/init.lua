-- Agrippa for Neovim: filetype detection, the language server (`python -m agrippa_lsp`) and
-- the commands :AgrippaCompile, :AgrippaTrain, :AgrippaTrainCancel, :AgrippaProfile,
-- :AgrippaRestart.
--
-- Works on Neovim 0.11+ (vim.lsp.config / vim.lsp.enable), 0.8-0.10 (vim.lsp.start) and
-- 0.7 (vim.lsp.start_client + vim.lsp.buf_attach_client).
--
--   require('agrippa').setup({ python = '~/.venvs/agrippa/bin/python' })

local M = {}

local NAME = 'agrippa'
local uv = vim.uv or vim.loop

local defaults = {
  -- Python that has the `agrippa` package installed. nil: $VIRTUAL_ENV/bin/python when a
  -- virtualenv is active, else `python3`.
  python = nil,
  -- Full command that starts the server; overrides `python`.
  cmd = nil,
  -- Files that mark the project root (searched upwards from the file).
  root_markers = { 'agrippa.toml', '.git' },
  -- Sent to the server through workspace/configuration (section "agrippa").
  settings = {
    agrippa = {
      bindings = {},
      inlayHints = { enabled = true },
    },
  },
  -- Turn on inlay hints (shapes) in Agrippa buffers (Neovim 0.10+).
  inlay_hints = true,
  -- Show the server's code lenses (parameter counts, Train, Compile): refreshed on BufEnter,
  -- InsertLeave and BufWritePost; run one with vim.lsp.codelens.run().
  codelens = true,
  -- Open .xml files whose root element is <model> as Agrippa.
  detect_xml = true,
  -- Show training progress with vim.notify (else with :echo, without history).
  progress = 'echo',
  -- Projects whose training may run without asking (training imports the project's data.py,
  -- i.e. runs its code): a list of folders (a project in or under one is trusted), or true
  -- for all. `vim.g.agrippa_trust = true` does the same as true. Otherwise :AgrippaTrain asks
  -- once per project and session.
  trusted_projects = nil,
  on_attach = nil,
  capabilities = nil,
}

M.config = vim.deepcopy(defaults)

-- state for commands and tests
M.state = {
  train = nil, -- { client_id, token, bufnr } while a training run is in flight
  last = {}, -- last result per command
  progress = {}, -- token -> { title, message, percentage }
  trusted = {}, -- project root -> true once the user agreed to train it (this session)
}

local function has(v)
  return vim.fn.has('nvim-' .. v) == 1
end

local function notify(msg, level)
  vim.notify('Agrippa: ' .. msg, level or vim.log.levels.INFO)
end

-- ---------------------------------------------------------------------------------------------
-- filetype detection

local function is_model_xml(bufnr)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, 50, false)
  local text = table.concat(lines, '\n')
  text = text:gsub('^\239\187\191', '') -- BOM
  local i = 1
  while true do
    local s = text:find('%S', i)
    if not s then
      return false
    end
    if text:sub(s, s + 1) == '<?' then
      local e = text:find('?>', s + 2, true)
      if not e then
        return false
      end
      i = e + 2
    elseif text:sub(s, s + 3) == '<!--' then
      local e = text:find('-->', s + 4, true)
      if not e then
        return false
      end
      i = e + 3
    elseif text:sub(s, s + 8):upper() == '<!DOCTYPE' then
      local e = text:find('>', s, true)
      if not e then
        return false
      end
      i = e + 1
    else
      return text:match('^<model[%s/>]', s) ~= nil or text:sub(s) == '<model'
    end
  end
end

--- Called from ftdetect/agrippa.vim for *.xml buffers.
function M.detect_xml(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if M.config.detect_xml and vim.bo[bufnr].filetype ~= NAME and is_model_xml(bufnr) then
    vim.bo[bufnr].filetype = NAME
  end
end

local function setup_detection()
  local group = vim.api.nvim_create_augroup('agrippa_filetype', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
    group = group,
    pattern = '*.agr',
    callback = function(args)
      if vim.bo[args.buf].filetype ~= NAME then
        vim.bo[args.buf].filetype = NAME
      end
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
    group = group,
    pattern = '*.xml',
    callback = function(args)
      M.detect_xml(args.buf)
    end,
  })
  -- buffers that were opened before setup() ran
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype ~= NAME then
      local name = vim.api.nvim_buf_get_name(buf)
      if name:match('%.agr$') then
        vim.bo[buf].filetype = NAME
      elseif name:match('%.xml$') then
        M.detect_xml(buf)
      end
    end
  end
  if vim.treesitter and vim.treesitter.language and vim.treesitter.language.register then
    pcall(vim.treesitter.language.register, 'xml', NAME) -- 0.9+: xml parser for highlighting
  end
end

-- ---------------------------------------------------------------------------------------------
-- server command, root, clients

local function default_python()
  local venv = os.getenv('VIRTUAL_ENV')
  if venv and venv ~= '' then
    local sep = package.config:sub(1, 1)
    local py = venv .. (sep == '\\' and '\\Scripts\\python.exe' or '/bin/python')
    if vim.fn.executable(py) == 1 then
      return py
    end
  end
  return vim.fn.has('win32') == 1 and 'python' or 'python3'
end

--- The argv that starts the server.
function M.server_cmd(config)
  config = config or M.config
  if config.cmd then
    return config.cmd
  end
  local python = config.python and vim.fn.expand(config.python) or default_python()
  return { python, '-m', 'agrippa_lsp' }
end

local function dirname(path)
  return vim.fn.fnamemodify(path, ':h')
end

--- Project root of `bufnr`: the closest folder upwards with one of `root_markers`, else the
--- file's folder.
function M.find_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = name ~= '' and dirname(vim.fn.fnamemodify(name, ':p')) or vim.fn.getcwd()
  local dir = start
  while dir and dir ~= '' do
    for _, marker in ipairs(M.config.root_markers) do
      if uv.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = dirname(dir)
    if parent == dir then
      break
    end
    dir = parent
  end
  return start
end

--- Agrippa clients attached to `bufnr` (all Agrippa clients when bufnr is nil).
function M.clients(bufnr)
  if vim.lsp.get_clients then -- 0.10+
    return vim.lsp.get_clients({ bufnr = bufnr, name = NAME })
  end
  local out = {}
  local all = bufnr and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_active_clients()
  for _, c in pairs(all) do
    if c.name == NAME then
      table.insert(out, c)
    end
  end
  return out
end

local function client_request(client, method, params, handler, bufnr)
  if has('0.11') then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function client_notify(client, method, params)
  if has('0.11') then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

-- ---------------------------------------------------------------------------------------------
-- progress ($/progress from the server's window/workDoneProgress)

local function show_progress(text, final)
  if M.config.progress == 'notify' or final then
    notify(text)
  else
    vim.api.nvim_echo({ { 'Agrippa: ' .. text, 'ModeMsg' } }, false, {})
    vim.cmd('redraw')
  end
end

local function progress_handler(err, result, ctx, config)
  local default = vim.lsp.handlers['$/progress']
  if default then
    pcall(default, err, result, ctx, config)
  end
  if type(result) ~= 'table' or type(result.value) ~= 'table' then
    return
  end
  local token, v = result.token, result.value
  local p = M.state.progress[token] or {}
  if v.kind == 'begin' then
    p = { title = v.title or 'Agrippa' }
    local train = M.state.train
    if train and train.client_id == ctx.client_id and train.token == nil then
      train.token = token
    end
  end
  p.message = v.message or p.message
  p.percentage = v.percentage or p.percentage
  if v.kind == 'end' then
    M.state.progress[token] = nil
  else
    M.state.progress[token] = p
  end
  local text = p.title or ''
  if p.message then
    text = text .. ': ' .. p.message
  end
  if p.percentage then
    text = text .. string.format(' (%d%%)', p.percentage)
  end
  if v.kind == 'end' then
    text = (p.title or 'Agrippa') .. ': ' .. (v.message or 'done')
  end
  show_progress(text, false)
  if M.on_progress then
    pcall(M.on_progress, token, v)
  end
end

-- ---------------------------------------------------------------------------------------------
-- starting the server on each version

local function refresh_codelens(bufnr)
  if has('0.10') then
    pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
  elseif vim.api.nvim_get_current_buf() == bufnr then -- 0.7-0.9 refresh the current buffer
    pcall(vim.lsp.codelens.refresh)
  end
end

-- code lenses in `bufnr`, when the server offers them
local function setup_codelens(client, bufnr)
  local caps = client.server_capabilities or {}
  if not (M.config.codelens and caps.codeLensProvider and vim.lsp.codelens and vim.lsp.codelens.refresh) then
    return
  end
  local group = vim.api.nvim_create_augroup('agrippa_codelens_' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      refresh_codelens(args.buf)
    end,
  })
  refresh_codelens(bufnr)
end

local function on_attach(client, bufnr)
  if M.config.inlay_hints and has('0.10') and vim.lsp.inlay_hint then
    pcall(vim.lsp.inlay_hint.enable, true, { bufnr = bufnr })
  end
  setup_codelens(client, bufnr)
  if M.config.on_attach then
    M.config.on_attach(client, bufnr)
  end
end

local function client_config(bufnr)
  return {
    name = NAME,
    cmd = M.server_cmd(),
    root_dir = bufnr and M.find_root(bufnr) or nil,
    settings = M.config.settings,
    handlers = { ['$/progress'] = progress_handler },
    capabilities = M.config.capabilities or vim.lsp.protocol.make_client_capabilities(),
    on_attach = on_attach,
  }
end

local clients_07 = {} -- root_dir -> client id (Neovim 0.7)

--- Starts (or reuses) the client for `bufnr` on Neovim < 0.11.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  local config = client_config(bufnr)
  if vim.lsp.start then -- 0.8+: reuses a client with the same name and root_dir
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients_07[config.root_dir]
  local existing = id and vim.lsp.get_client_by_id(id) -- also finds clients still initializing
  if not existing or existing.is_stopped() then
    config.workspace_folders = { { uri = vim.uri_from_fname(config.root_dir), name = config.root_dir } }
    id = vim.lsp.start_client(config)
    clients_07[config.root_dir] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

-- agrippa.toml keeps its `toml` filetype; the client attaches to it by name (hover and
-- completion of its tables and keys, its diagnostics)
local function attach_config_files()
  local group = vim.api.nvim_create_augroup('agrippa_toml', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
    group = group,
    pattern = 'agrippa.toml',
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ':t') == 'agrippa.toml' then
      M.attach(buf)
    end
  end
end

local function setup_lsp()
  attach_config_files()
  if has('0.11') and vim.lsp.config and vim.lsp.enable then
    local config = client_config(nil)
    config.root_dir = function(bufnr, on_dir)
      -- lsp/agrippa.lua lists the `toml` filetype too (for agrippa.toml): no other .toml
      if vim.bo[bufnr].filetype ~= 'toml' or vim.fs.basename(vim.api.nvim_buf_get_name(bufnr)) == 'agrippa.toml' then
        on_dir(M.find_root(bufnr))
      end
    end
    config.filetypes = { NAME }
    vim.lsp.config(NAME, config)
    vim.lsp.enable(NAME)
    return
  end
  local group = vim.api.nvim_create_augroup('agrippa_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = NAME,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == NAME then
      M.attach(buf)
    end
  end
end

-- ---------------------------------------------------------------------------------------------
-- commands

local function with_client(bufnr)
  local c = M.clients(bufnr)[1]
  if not c then
    notify('no language server is attached to this buffer (is agrippa installed for ' .. M.server_cmd()[1] .. '?)', vim.log.levels.ERROR)
  end
  return c
end

-- a JSON value that is there (not nil, not null)
local function present(v)
  return v ~= nil and v ~= vim.NIL
end

local function has_message(result)
  return type(result) == 'table' and type(result.message) == 'string' and result.message ~= ''
end

local function err_text(err)
  if type(err) == 'table' then
    return err.message or vim.inspect(err)
  end
  return tostring(err)
end

--- workspace/executeCommand on the buffer's Agrippa server; `cb(err, result)`.
function M.execute(command, arguments, bufnr, cb)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = with_client(bufnr)
  if not client then
    return nil
  end
  local ok, id = client_request(client, 'workspace/executeCommand', { command = command, arguments = arguments }, function(err, result)
    M.state.last[command] = { err = err, result = result }
    if cb then
      cb(err, result, client)
    end
  end, bufnr)
  return ok and client or nil, id
end

function M.compile(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local uri = vim.uri_from_bufnr(bufnr)
  show_progress('compiling ' .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':t') .. '…', false)
  M.execute('agrippa.compile', { uri }, bufnr, function(err, result)
    -- the server reports the outcome itself (window/showMessage); speak only when it did not
    if err then
      notify('compile failed: ' .. err_text(err), vim.log.levels.ERROR)
    elseif type(result) ~= 'table' then
      notify('compile failed: no result', vim.log.levels.ERROR)
    elseif not has_message(result) then
      if present(result.path) then
        notify('compiled to ' .. result.path)
      else
        notify('compile failed: ' .. tostring(result.error or vim.inspect(result.errors)), vim.log.levels.ERROR)
      end
    end
  end)
end

local function real_dir(path)
  local p = vim.fn.resolve(vim.fn.fnamemodify(vim.fn.expand(path), ':p'))
  return (p:gsub('/+$', ''))
end

--- Whether `root` may train without asking: configured as trusted, or agreed to this session.
function M.is_trusted(root)
  local trusted = M.config.trusted_projects
  if trusted == true or vim.g.agrippa_trust == true or vim.g.agrippa_trust == 1 or M.state.trusted[root] then
    return true
  end
  local dir = real_dir(root)
  for _, t in ipairs(type(trusted) == 'table' and trusted or {}) do
    local top = real_dir(t)
    if dir == top or dir:sub(1, #top + 1) == top .. '/' then
      return true
    end
  end
  return false
end

--- Ask before the first training run of an untrusted project (it runs the project's data.py);
--- `go()` runs when the user agrees, and the answer holds for the session.
local function confirm_trust(bufnr, go)
  local root = M.find_root(bufnr)
  if M.is_trusted(root) then
    return go()
  end
  local yes = 'Train (trust this project for this session)'
  local prompt = "Agrippa: training runs this project's Python code (data.py in " .. root .. '). Train?'
  vim.ui.select({ yes, 'Cancel' }, { prompt = prompt }, function(choice)
    if choice == yes then
      M.state.trusted[root] = true
      go()
    else
      notify('training not started: ' .. root .. ' is not trusted (see trusted_projects)', vim.log.levels.WARN)
    end
  end)
end

function M.train(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not M.is_trusted(M.find_root(bufnr)) then
    return confirm_trust(bufnr, function()
      M.train(bufnr)
    end)
  end
  if M.state.train then
    notify('a training run is already in progress (:AgrippaTrainCancel stops it)', vim.log.levels.WARN)
    return
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local client = with_client(bufnr)
  if not client then
    return
  end
  M.state.train = { client_id = client.id, bufnr = bufnr }
  notify('training ' .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':t') .. ' (:AgrippaTrainCancel to stop)')
  M.execute('agrippa.train', { uri }, bufnr, function(err, result)
    local cancelled = M.state.train and M.state.train.cancelled
    M.state.train = nil
    if err then
      notify((cancelled and 'training cancelled: ' or 'training failed: ') .. err_text(err), cancelled and vim.log.levels.INFO or vim.log.levels.ERROR)
      return
    end
    result = type(result) == 'table' and result or {}
    if present(result.error) then
      return -- the server has shown the error
    end
    local parts = { (cancelled or result.cancelled) and 'training stopped' or 'training finished' }
    if present(result.final_loss) then
      table.insert(parts, string.format('final loss %.4f', result.final_loss))
    end
    if present(result.weights) then
      table.insert(parts, 'weights: ' .. result.weights)
    end
    -- the server announces the end of the run too (window/showMessage): echo, no history
    show_progress(table.concat(parts, ' — '), false)
  end)
end

function M.train_cancel()
  local train = M.state.train
  if not train then
    notify('no training run in progress')
    return
  end
  local client = vim.lsp.get_client_by_id(train.client_id)
  if not client or train.token == nil then
    notify('the training run has not reported progress yet; try again in a moment', vim.log.levels.WARN)
    return
  end
  train.cancelled = true
  client_notify(client, 'window/workDoneProgress/cancel', { token = train.token })
  notify('cancelling training…')
end

local function apply_profile(client, name)
  M.config.settings.agrippa = M.config.settings.agrippa or {}
  M.config.settings.agrippa.profile = name
  client.config.settings = vim.tbl_deep_extend('force', client.config.settings or {}, { agrippa = { profile = name } })
  client_notify(client, 'workspace/didChangeConfiguration', { settings = client.config.settings })
end

function M.select_profile(name, bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local uri = vim.uri_from_bufnr(bufnr)
  local function select(choice)
    if not choice then
      return
    end
    M.execute('agrippa.selectProfile', { uri, choice }, bufnr, function(err, result, client)
      if err then
        notify('could not select profile ' .. choice .. ': ' .. err_text(err), vim.log.levels.ERROR)
        return
      end
      if type(result) == 'table' and present(result.error) then
        return -- the server has shown the error
      end
      local active = type(result) == 'table' and result.active or choice
      apply_profile(client, active)
      notify('bindings profile: ' .. tostring(active))
    end)
  end
  if name and name ~= '' then
    return select(name)
  end
  M.execute('agrippa.listProfiles', { uri }, bufnr, function(err, result)
    if err then
      notify('could not list profiles: ' .. err_text(err), vim.log.levels.ERROR)
      return
    end
    local profiles = type(result) == 'table' and result.profiles or {}
    if #profiles == 0 then
      notify('no bindings profiles are defined (agrippa.toml)')
      return
    end
    local active = type(result) == 'table' and result.active
    vim.ui.select(profiles, {
      prompt = 'Agrippa bindings profile' .. ((active and active ~= vim.NIL) and (' (active: ' .. active .. ')') or ''),
    }, select)
  end)
end

function M.restart()
  local bufs = {}
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == NAME then
      table.insert(bufs, buf)
    end
  end
  local clients = M.clients(nil)
  for _, c in ipairs(clients) do
    if has('0.11') then
      c:stop()
    else
      c.stop()
    end
  end
  vim.wait(5000, function()
    for _, c in ipairs(clients) do
      local stopped
      if has('0.11') then
        stopped = c:is_stopped()
      else
        stopped = c.is_stopped()
      end
      if not stopped then
        return false
      end
    end
    return true
  end, 50)
  clients_07 = {}
  if has('0.11') and vim.lsp.enable then
    vim.lsp.enable(NAME, false)
    vim.lsp.enable(NAME)
  else
    for _, buf in ipairs(bufs) do
      M.attach(buf)
    end
  end
  notify('language server restarted')
end

local function setup_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('AgrippaCompile', function()
    M.compile(0)
  end, { desc = 'Agrippa: compile the model to ONNX' })
  cmd('AgrippaTrain', function()
    M.train(0)
  end, { desc = 'Agrippa: compile and train the model' })
  cmd('AgrippaTrainCancel', function()
    M.train_cancel()
  end, { desc = 'Agrippa: stop the training run' })
  cmd('AgrippaProfile', function(opts)
    M.select_profile(opts.args, 0)
  end, { nargs = '?', desc = 'Agrippa: select the bindings profile' })
  cmd('AgrippaRestart', function()
    M.restart()
  end, { desc = 'Agrippa: restart the language server' })
  cmd('AgrippaGraph', function(opts)
    require('agrippa.graph').open(0, opts.args)
  end, { nargs = '?', desc = 'Agrippa: show the model graph in the browser' })
end

--- Configure and start. Call once from init.lua.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if opts and opts.root_markers then
    M.config.root_markers = opts.root_markers -- lists replace, not merge
  end
  setup_detection()
  setup_commands()
  setup_lsp()
  return M
end

return M
