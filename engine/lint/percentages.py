"""Percentage slips: a ratio held against `0.5%` where 50% was meant, a ratio compared with a
plain number above 1 (`utilization > 70`), an amount multiplied by a plain number of 10 or more
(`income * 50`; smaller multiples, such as four times the annual income, are common policy).
Each is legal and changes decisions a hundredfold, so the finding says what was likely meant.

A ratio is a `number` that the ruleset compares with a percentage somewhere (in a condition or
a table column); that is how the author shows it is a share.
"""

from __future__ import annotations

from decimal import Decimal

from engine.check import types as t
from engine.lint.findings import Findings
from engine.syntax import ast
from engine.syntax.unparse import literal_text, unparse

_COMPARISONS = frozenset({"<", "<=", ">", ">=", "=", "!="})
_HUNDRED = Decimal(100)
_MULTIPLE = 10  # a plain factor from which an amount is flagged (4 × income is policy; 50 × is not)


def lint_percentages(findings: Findings) -> None:
    symbols = findings.symbols
    roots: list[ast.Node] = [
        *(let.value for let in symbols.lets.values()),
        *(rule.condition for rule in symbols.rules.values()),
        *(action for rule in symbols.rules.values() for action in rule.actions),
        *symbols.caps, *symbols.budgets.values()]
    comparisons = [node for root in roots for node in ast.walk(root)
                   if isinstance(node, ast.Binary) and node.op in _COMPARISONS]
    columns = [(table, index, column) for table in symbols.tables.values()
               for index, column in enumerate(table.inputs)]
    ratios = _ratios(findings, comparisons, columns)
    for node in comparisons:
        for value, other in ((node.left, node.right), (node.right, node.left)):
            if unparse(value) in ratios:
                _check_bound(findings, other)
    for table, index, column in columns:
        if unparse(column) in ratios:
            for row in table.rows:
                for bound in ast.cell_values(row.cells[index]) if index < len(row.cells) else ():
                    _check_bound(findings, bound)
    for root in roots + [row.result for table in symbols.tables.values() for row in table.rows]:
        for node in ast.walk(root):
            if isinstance(node, ast.Binary) and node.op == "*":
                _check_factor(findings, node)


def _ratios(findings: Findings, comparisons: list[ast.Binary],
            columns: list[tuple[ast.TableDecl, int, ast.Expr]]) -> set[str]:
    """The `number` expressions compared with a percentage somewhere, by their text."""
    found = set()
    for node in comparisons:
        for value, other in ((node.left, node.right), (node.right, node.left)):
            if _is_percent(other) and findings.program.types.get(id(value)) == t.NUMBER:
                found.add(unparse(value))
    for table, index, column in columns:
        if findings.program.types.get(id(column)) == t.NUMBER and any(
                _is_percent(bound) for row in table.rows if index < len(row.cells)
                for bound in ast.cell_values(row.cells[index])):
            found.add(unparse(column))
    return found


def _is_percent(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) and node.kind == "percent"


def _check_bound(findings: Findings, bound: ast.Expr) -> None:
    """A ratio held against `0.5%` (meant 50%), or against a plain number above 1."""
    if not isinstance(bound, ast.Literal) or not isinstance(bound.value, Decimal):
        return
    if bound.kind == "percent" and 0 < bound.value < Decimal("0.01"):
        meant = literal_text(bound.value * _HUNDRED, "percent")
        findings.report(
            "W213", f"`{literal_text(bound.value, 'percent')}` is less than one percent, held "
                    f"against a ratio: {meant} was likely meant", bound.span,
            help=f"write `{meant}`; if a fraction of a percent is meant, say so with "
                 "`# tenet: ignore[W213]`")
    elif bound.kind == "number" and bound.value > 1:
        meant = literal_text(bound.value / _HUNDRED, "percent")
        findings.report(
            "W213", f"a ratio compared with {literal_text(bound.value)}, which no ratio reaches: "
                    f"{meant} was likely meant", bound.span,
            help=f"write `{meant}` (a ratio is a share: 70% is 0.7)")


def _check_factor(findings: Findings, node: ast.Binary) -> None:
    """An amount multiplied by a plain number of 10 or more: a percentage was likely meant."""
    for amount, factor in ((node.left, node.right), (node.right, node.left)):
        if findings.program.types.get(id(amount)) == t.MONEY and isinstance(
                factor, ast.Literal) and factor.kind == "number" and factor.value >= _MULTIPLE:
            meant = literal_text(factor.value / _HUNDRED, "percent")
            findings.report(
                "W213", f"`{unparse(node)}` multiplies an amount by {literal_text(factor.value)}: "
                        f"{meant} of it was likely meant", factor.span,
                help=f"write `{meant}` for a share; if {literal_text(factor.value)} times the "
                     "amount is meant, say so with `# tenet: ignore[W213]`")
            return
