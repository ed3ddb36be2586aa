"""What the lints share: the checked program, the report function and the dimensions."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.check import types as t
from engine.check.checker import CheckedProgram
from engine.codes import CODES
from engine.diagnostics import Diagnostic, Span
from engine.lint.domains import Dimension
from engine.syntax import ast
from engine.syntax.unparse import unparse


@dataclass
class Findings:
    program: CheckedProgram
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def symbols(self):
        return self.program.symbols

    def report(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, CODES[code].severity, message, span, help))

    def incomplete(self, what: str, span: Span) -> None:
        self.report("I001", f"the analysis of {what} stopped at its work budget: findings "
                            "about it may be missing", span,
                    help="conditions with fewer `or` terms (or a table with fewer rows) are "
                         "analysed completely")


class WorkLimit:
    """The work one analysis (of one table, rule or output) may do, in units of box
    operations: every analysis stays well under a second whatever the ruleset, and one that
    runs out says so (I001) instead of stalling."""

    UNITS = 50_000

    def __init__(self) -> None:
        self.left = self.UNITS

    def spend(self, units: int) -> bool:
        """Whether ``units`` more are allowed (they are spent either way)."""
        self.left -= units
        return self.left >= 0


def dimension_of(expr: ast.Expr, findings: Findings, can_be_missing: bool = False
                 ) -> Dimension | None:
    """The dimension an input expression spans, from its checked type; None when the analyses
    cannot reason about it (lists, records)."""
    type_ = findings.program.types.get(id(expr))
    missing = can_be_missing or _optional_field(expr, findings)
    text = unparse(expr)
    if isinstance(type_, t.Enum):
        return Dimension(text, "discrete", frozenset(type_.values), can_be_missing=missing)
    if type_ == t.BOOLEAN:
        return Dimension(text, "discrete", frozenset([True, False]), can_be_missing=missing)
    if type_ == t.TEXT:
        return Dimension(text, "discrete", can_be_missing=missing)
    if type_ == t.INTEGER:
        return Dimension(text, "whole", can_be_missing=missing)
    if type_ == t.DATE:
        return Dimension(text, "whole", is_date=True, can_be_missing=missing)
    if type_ in (t.MONEY, t.NUMBER, t.NUMERAL):
        return Dimension(text, "continuous", can_be_missing=missing)
    return None


def _optional_field(expr: ast.Expr, findings: Findings) -> bool:
    """`customer.monthly_income` where that field is `optional`."""
    if not isinstance(expr, ast.FieldAccess):
        return False
    record = findings.program.types.get(id(expr.target))
    if not isinstance(record, t.Record):
        return False
    declaration = findings.symbols.record_fields(record.name).get(expr.field.name)
    return declaration is not None and declaration.optional
