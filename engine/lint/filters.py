"""A `where` filter that swallowed a condition: `any p in c.loans where p.late or c.flag` reads as
`where (p.late or c.flag)`, since `where` takes everything to its right. An operand of the
filter's `and`/`or` that does not mention the element is almost always meant for the whole
condition, outside the aggregate."""

from __future__ import annotations

from engine.lint.findings import Findings
from engine.syntax import ast
from engine.syntax.unparse import unparse


def lint_filters(findings: Findings) -> None:
    symbols = findings.symbols
    roots: list[ast.Node] = [*symbols.lets.values(), *symbols.tables.values(),
                             *symbols.rules.values(), *symbols.caps, *symbols.offers.values(),
                             *symbols.budgets.values(), *symbols.outputs.values()]
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Aggregate | ast.Quantifier) and node.condition is not None:
            _check(node, findings)
        stack.extend(ast.children(node))


def _check(node: ast.Aggregate | ast.Quantifier, findings: Findings) -> None:
    variable = node.variable.name
    condition = node.condition
    if not (isinstance(condition, ast.Binary) and condition.op in ("and", "or")):
        return
    op = condition.op
    operands = _chain(condition, op)
    if not any(_mentions(operand, variable) for operand in operands):
        return
    for operand in operands[1:]:
        if not _mentions(operand, variable):
            head = unparse(node).split(" where ")[0]
            kept = f" {op} ".join(unparse(o) for o in operands if o is not operand)
            findings.report(
                "W209", f"`{op} {unparse(operand)}` does not mention `{variable}`, yet it is part "
                        f"of the `where` filter of `{head} …`", operand.span,
                help=f"if it is meant for the whole condition, write "
                     f"`({head} where {kept}) {op} {unparse(operand)}`")


def _chain(expr: ast.Expr, op: str) -> list[ast.Expr]:
    if isinstance(expr, ast.Binary) and expr.op == op:
        return [*_chain(expr.left, op), *_chain(expr.right, op)]
    return [expr]


def _mentions(node: ast.Node, variable: str) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name) and current.name == variable:
            return True
        stack.extend(ast.children(current))
    return False
