"""Stage 4, run: deciding (values and operators, facts validation, traces, why-not, examples),
by the generated code (`codegen/`) or the reference evaluator (`reference/`)."""
