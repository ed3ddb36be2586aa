-- Neovim as the language server's client (tests/lsp/test_neovim.py): open the file given, start
-- `tenet lsp` with Neovim's built-in client, wait for the diagnostics, ask for the code actions
-- of the first one, apply the quick fix, save, and write what happened to a JSON report.
local server, root, report = _G.tenet_server, _G.tenet_root, _G.tenet_report
local buffer = vim.api.nvim_get_current_buf()
local outcome = { diagnostics = {}, actions = {}, applied = false }

local client = vim.lsp.start_client({
  name = "tenet",
  cmd = server,
  root_dir = root,
  offset_encoding = "utf-16",
})
vim.lsp.buf_attach_client(buffer, client)

local function finish()
  vim.fn.writefile({ vim.fn.json_encode(outcome) }, report)
  vim.cmd("qall!")
end

local arrived = vim.wait(30000, function()
  return #vim.diagnostic.get(buffer) > 0
end, 50)
if not arrived then
  outcome.error = "no diagnostics arrived"
  return finish()
end

local first = vim.diagnostic.get(buffer)[1]
for _, found in ipairs(vim.diagnostic.get(buffer)) do
  table.insert(outcome.diagnostics, {
    code = found.code, message = found.message, line = found.lnum, column = found.col,
  })
end
-- Neovim 0.7 keeps only the code and data of the server's diagnostic: the rest is its own
-- (0-based lines and columns; the line is ASCII, so bytes and UTF-16 units agree).
local kept = first.user_data and first.user_data.lsp or {}
local range = {
  start = { line = first.lnum, character = first.col },
  ["end"] = { line = first.end_lnum, character = first.end_col },
}
local answers = vim.lsp.buf_request_sync(buffer, "textDocument/codeAction", {
  textDocument = { uri = vim.uri_from_bufnr(buffer) },
  range = range,
  context = { diagnostics = { {
    range = range, message = first.message, severity = first.severity,
    code = kept.code, data = kept.data, source = first.source,
  } } },
}, 20000)
for _, answer in pairs(answers or {}) do
  for _, action in ipairs(answer.result or {}) do
    table.insert(outcome.actions, action.title)
    if action.edit and not outcome.applied then
      vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
      outcome.applied = true
    end
  end
end
vim.cmd("silent write")
finish()
