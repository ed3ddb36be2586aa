"""Adverse actions without a reason: a customer whose limit is cut, held or frozen, or whose
application is declined, is owed the principal reasons (adverse-action notices)."""

from __future__ import annotations

from engine.lint.findings import Findings
from engine.syntax import ast

ADVERSE = frozenset({"decrease", "hold", "freeze", "decline", "reject", "close"})
# What a default may refuse: the adverse values but "hold", which keeps the terms as they are.
REFUSING = ADVERSE - {"hold"}


def lint_adverse_actions(findings: Findings) -> None:
    for rule in findings.symbols.rules.values():
        if any(isinstance(action, ast.ReasonAction) for action in rule.actions):
            continue
        for action in rule.actions:
            if isinstance(action, ast.SetAction) and isinstance(action.value, ast.Literal) \
                    and action.value.value in ADVERSE:
                findings.report(
                    "W208", f"rule `{rule.name.name}` proposes {action.output.name} = "
                            f"\"{action.value.value}\" without a reason code", action.span,
                    help="add `reason CODE` so the customer and the auditor learn why")
                break
