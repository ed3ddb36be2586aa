"""Static analysis of checked rulesets: the mistakes that cost a lender money.

Each lint is a module with one job; ``lint`` runs them all on a program that checked without
errors. Findings carry stable codes documented in ``engine.codes`` (`tenet explain CODE`).
"""

from __future__ import annotations

from engine.check.checker import CheckedProgram
from engine.diagnostics import Diagnostic
from engine.lint.caps import lint_caps
from engine.lint.conditions import lint_conditions
from engine.lint.division import lint_divisions
from engine.lint.filters import lint_filters
from engine.lint.findings import Findings
from engine.lint.names import lint_names
from engine.lint.percentages import lint_percentages
from engine.lint.reasons import lint_adverse_actions
from engine.lint.tables import lint_tables

LINTS = (lint_tables, lint_conditions, lint_divisions, lint_adverse_actions, lint_names,
         lint_filters, lint_caps, lint_percentages)


def lint(program: CheckedProgram) -> list[Diagnostic]:
    findings = Findings(program)
    for run in LINTS:
        run(findings)
    return findings.diagnostics
