"""Checks of `example` blocks: the given facts against the schema, and the expectations against
the declared outputs, offers and reason codes."""

from __future__ import annotations

from engine.check import types as t
from engine.check.symbols import OFFERS_OUTPUT, Symbols
from engine.check.typecheck import ExpressionChecker
from engine.diagnostics import Diagnostic, Severity, did_you_mean
from engine.syntax import ast


def check_examples(symbols: Symbols, expressions: ExpressionChecker,
                   output_types: dict[str, t.Type]) -> None:
    for example in symbols.examples:
        _ExampleChecker(symbols, expressions, output_types).check(example)


class _ExampleChecker:
    def __init__(self, symbols: Symbols, expressions: ExpressionChecker,
                 output_types: dict[str, t.Type]) -> None:
        self.symbols = symbols
        self.expressions = expressions
        self.output_types = output_types
        self.diagnostics = symbols.diagnostics

    def error(self, code: str, message: str, node: ast.Node, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, node.span, help))

    def check(self, example: ast.ExampleDecl) -> None:
        given: set[str] = set()
        for item in example.givens:
            name = item.facts.name
            if name not in self.symbols.facts:
                self.error("E308", f"unknown facts block `{name}`", item.facts,
                           help=did_you_mean(name, self.symbols.facts)
                           or "declare it with `facts NAME … end`")
                continue
            if name in given:
                self.error("E208", f"facts block `{name}` is given twice", item.facts)
            given.add(name)
            self.check_value(item.value, t.Record(name), name)
        for name in self.symbols.facts:
            if name not in given:
                self.error("E503", f"example \"{example.name}\" gives no facts for `{name}`",
                           example, help=f"add `given {name} = {{ … }}`")
        for expectation in example.expectations:
            self.check_expectation(expectation)

    # -- facts

    def check_value(self, expr: ast.Expr, expected: t.Type, path: str) -> None:
        """Check a literal value given for a fact of type ``expected`` at ``path``."""
        if isinstance(expected, t.Record):
            self.check_record(expr, expected.name, path)
        elif isinstance(expected, t.ListOf):
            if not isinstance(expr, ast.ListLiteral):
                self.error("E503", f"{path}: expected {expected.describe()}, got "
                                   f"{_describe_literal(expr)}", expr,
                           help="write a list in square brackets, e.g. `[…]`")
                return
            for index, item in enumerate(expr.items):
                self.check_value(item, expected.element, f"{path}[{index}]")
        else:
            actual = self.expressions.infer(expr)
            fractional = (expected == t.INTEGER and isinstance(expr, ast.Literal)
                          and expr.kind in ("number", "percent")
                          and expr.value != expr.value.to_integral_value())
            if fractional or not t.assignable(actual, expected):
                self.error("E503", f"{path}: expected {expected.describe()}, got "
                                   f"{_describe_literal(expr)}", expr)
            else:
                self.expressions.check_enum_values(expr, expected)

    def check_record(self, expr: ast.Expr, record: str, path: str) -> None:
        if not isinstance(expr, ast.RecordLiteral):
            self.error("E503", f"{path}: expected a `{record}` record, got "
                               f"{_describe_literal(expr)}", expr,
                       help="write the fields in braces, e.g. `{ field: value, … }`")
            return
        fields = self.symbols.record_fields(record)
        seen: set[str] = set()
        for entry in expr.entries:
            name = entry.field.name
            declaration = fields.get(name)
            if declaration is None:
                self.error("E503", f"{path}: `{record}` has no field `{name}`", entry.field,
                           help=did_you_mean(name, fields))
                continue
            if name in seen:
                self.error("E208", f"{path}.{name} is given twice", entry.field)
            seen.add(name)
            self.check_value(entry.value, self.symbols.resolve_type(declaration.type),
                             f"{path}.{name}")
        missing = [n for n, f in fields.items() if not f.optional and n not in seen]
        if missing:
            self.error("E503", f"{path}: missing required field"
                               f"{'s' if len(missing) > 1 else ''} "
                               + ", ".join(f"`{n}`" for n in missing), expr,
                       help="give every field that is not declared `optional`")

    # -- expectations

    def check_expectation(self, expectation: ast.Expectation) -> None:
        if isinstance(expectation, ast.ExpectReasons):
            codes = expectation.codes
        elif isinstance(expectation, ast.ExpectReasonIncluded):
            codes = (expectation.code,)
        else:
            self.check_expected_output(expectation)
            return
        for code in codes:
            if code.name not in self.symbols.reasons:
                self.error("E304", f"unknown reason code `{code.name}`", code,
                           help=did_you_mean(code.name, self.symbols.reasons))

    def check_expected_output(self, expectation: ast.ExpectOutput) -> None:
        name = expectation.output.name
        if name == OFFERS_OUTPUT and self.symbols.offers:
            value = expectation.value
            if not isinstance(value, ast.ListLiteral):
                self.error("E401", "`expect offers` takes a list of offer names", value,
                           help="e.g. `expect offers = [car_insurance]`")
                return
            for item in value.items:
                if not (isinstance(item, ast.Name) and item.name in self.symbols.offers):
                    shown = item.name if isinstance(item, ast.Name) else "this"
                    self.error("E305", f"unknown offer `{shown}`", item,
                               help=did_you_mean(shown, self.symbols.offers))
            return
        if name not in self.output_types:
            self.error("E306", f"unknown output `{name}`", expectation.output,
                       help=did_you_mean(name, self.output_types)
                       or "an example expects values of declared outputs")
            return
        self.expressions.expect_assignable(expectation.value, self.output_types[name],
                                           f"output `{name}`")


def _describe_literal(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Literal):
        shown = f'"{expr.value}"' if expr.kind == "text" else str(expr.value).lower() \
            if expr.kind == "boolean" else str(expr.value)
        return f"{expr.kind} {shown}" if expr.kind != "percent" else f"number {shown}"
    if isinstance(expr, ast.ListLiteral):
        return "a list"
    if isinstance(expr, ast.RecordLiteral):
        return "a record"
    return "an expression"
