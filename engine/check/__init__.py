"""Stage 2, check: the AST against its own schema (symbols, types, dependencies, examples),
and the cache of `tenet check`'s findings."""
