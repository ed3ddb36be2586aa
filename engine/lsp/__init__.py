"""`tenet lsp`: the language server that puts the checker, fmt, examples and verify under an
editor's cursor (issue 23)."""
