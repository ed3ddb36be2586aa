"""Stage 1, syntax: ruleset text to the typed AST and back (reading files and includes, the
LALR parser, syntax errors in words, `tenet fmt`)."""
