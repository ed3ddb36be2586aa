"""Division by a value that can be zero, with no guard: the result would silently be missing.

A division is guarded when its divisor is a non-zero constant, when it sits in the `else` of
`if X = 0 then …`, in the `then` of `if X != 0` or `if X > 0`, or in a rule whose condition
requires `X != 0` or `X > 0` (or `X < 0`) alongside the rest with `and`.
"""

from __future__ import annotations

from engine.lint.findings import Findings
from engine.syntax import ast
from engine.syntax.unparse import unparse


def lint_divisions(findings: Findings) -> None:
    symbols = findings.symbols
    for let in symbols.lets.values():
        _check(let.value, frozenset(), findings)
    for table in symbols.tables.values():
        for node in (*table.inputs, *table.rows, table.otherwise):
            if node is not None:
                _check(node, frozenset(), findings)
    for rule in symbols.rules.values():
        guards = _guards(rule.condition, positive=True)
        _check(rule.condition, guards, findings)
        for action in rule.actions:
            _check(action, guards, findings)
    for node in [*symbols.caps, *symbols.offers.values(), *symbols.budgets.values(),
                 *(o.default for o in symbols.outputs.values() if o.default is not None)]:
        _check(node, frozenset(), findings)


def _guards(condition: ast.Expr, positive: bool) -> frozenset[str]:
    """The divisors a condition proves non-zero when it is true (``positive``) or false."""
    if isinstance(condition, ast.Binary) and condition.op == ("and" if positive else "or"):
        return _guards(condition.left, positive) | _guards(condition.right, positive)
    if isinstance(condition, ast.Unary) and condition.op == "not":
        return _guards(condition.operand, not positive)
    if isinstance(condition, ast.Binary) and condition.op in ("=", "!=", ">", "<"):
        for value, other in ((condition.left, condition.right), (condition.right, condition.left)):
            if isinstance(other, ast.Literal) and other.value == 0 and not isinstance(
                    other.value, bool):
                non_zero = condition.op != "=" if positive else condition.op == "="
                if non_zero:
                    return frozenset([unparse(value)])
    return frozenset()


def _check(node: ast.Node, guards: frozenset[str], findings: Findings) -> None:
    if isinstance(node, ast.If):
        _check(node.condition, guards, findings)
        _check(node.then_value, guards | _guards(node.condition, True), findings)
        _check(node.else_value, guards | _guards(node.condition, False), findings)
        return
    if isinstance(node, ast.Binary) and node.op == "/":
        divisor = node.right
        constant = isinstance(divisor, ast.Literal) and divisor.value != 0
        if not constant and unparse(divisor) not in guards:
            findings.report(
                "W207", f"`{unparse(divisor)}` can be zero here: the division then gives missing",
                divisor.span,
                help=f"guard it: `if {unparse(divisor)} = 0 then … else …`, or require "
                     f"`{unparse(divisor)} > 0` in the rule's condition")
    for child in ast.children(node):
        _check(child, guards, findings)
