"""The parser: the AST it builds for each construct of the language, spans, and layout-freedom."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from engine.syntax import ast
from engine.syntax.ast import (
    Aggregate,
    Alternatives,
    AnyCell,
    Between,
    Binary,
    Call,
    CompareTest,
    EqualsTest,
    FieldAccess,
    Ident,
    If,
    In,
    IntervalTest,
    IsMissing,
    ListLiteral,
    Literal,
    MissingCell,
    Name,
    NotCell,
    Quantifier,
    RecordEntry,
    RecordLiteral,
    Today,
    Unary,
)
from engine.syntax.parser import parse_module
from tests.helpers import FIXTURES


def parse(text: str) -> ast.Module:
    module, diagnostics = parse_module(text, "test.rules")
    assert diagnostics == []
    return module


def expr(text: str) -> ast.Expr:
    (let,) = parse(f"let x = {text}").declarations
    return let.value


def num(value: str) -> Literal:
    return Literal(Decimal(value), "number")


def field(target: str, *names: str) -> ast.Expr:
    node: ast.Expr = Name(target)
    for name in names:
        node = FieldAccess(node, Ident(name))
    return node


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3", Binary("+", num("1"), Binary("*", num("2"), num("3")))),
    ("(1 + 2) * 3", Binary("*", Binary("+", num("1"), num("2")), num("3"))),
    ("10 - 4 - 3", Binary("-", Binary("-", num("10"), num("4")), num("3"))),
    ("-a * 2", Binary("*", Unary("-", Name("a")), num("2"))),
    ("-3", num("-3")),
    ("not a and b", Binary("and", Unary("not", Name("a")), Name("b"))),
    ("a or b and c", Binary("or", Name("a"), Binary("and", Name("b"), Name("c")))),
    ("a = 1 and b != 2",
     Binary("and", Binary("=", Name("a"), num("1")), Binary("!=", Name("b"), num("2")))),
    ("x between 1 and 2 and y",
     Binary("and", Between(Name("x"), num("1"), num("2")), Name("y"))),
    ("x in [1, 2,]", In(Name("x"), ListLiteral((num("1"), num("2"))))),
    ("x not in s", In(Name("x"), Name("s"), negated=True)),
    ("x is missing", IsMissing(Name("x"))),
    ("x is not missing or y", Binary("or", IsMissing(Name("x"), negated=True), Name("y"))),
    ("if a then 1 else 2 + 3", If(Name("a"), num("1"), Binary("+", num("2"), num("3")))),
    ("min(a, b)", Call(Ident("min"), (Name("a"), Name("b")))),
    ("round_down(c.limit * 1.5, 100)",
     Call(Ident("round_down"), (Binary("*", field("c", "limit"), num("1.5")), num("100")))),
    ("today", Today()),
])
def test_expression_shapes(source: str, expected: ast.Expr) -> None:
    assert expr(source) == expected


def test_aggregates_and_where_take_the_rest_of_the_expression() -> None:
    loans = field("customer", "loans")
    assert expr("count of l in customer.loans > 2") == Binary(
        ">", Aggregate("count", Ident("l"), loans, None, None), num("2"))
    assert expr("count of l in customer.loans where l.dpd > 30 and l.open") == Aggregate(
        "count", Ident("l"), loans, None,
        Binary("and", Binary(">", field("l", "dpd"), num("30")), field("l", "open")))
    assert expr("sum of l.amount for l in customer.loans") == Aggregate(
        "sum", Ident("l"), loans, field("l", "amount"), None)
    assert expr("(max of l.amount for l in customer.loans where l.open) + 1") == Binary(
        "+", Aggregate("max", Ident("l"), loans, field("l", "amount"), field("l", "open")),
        num("1"))
    assert expr("a and any l in customer.loans where l.dpd > 0 or b") == Binary(
        "and", Name("a"), Quantifier("any", Ident("l"), loans,
                                     Binary("or", Binary(">", field("l", "dpd"), num("0")),
                                            Name("b"))))
    assert expr("not all l in customer.loans where l.open") == Unary(
        "not", Quantifier("all", Ident("l"), loans, field("l", "open")))


@pytest.mark.parametrize(("source", "value", "kind"), [
    ("40%", Decimal("0.40"), "percent"),
    ("12.5%", Decimal("0.125"), "percent"),
    ("200_000", Decimal("200000"), "number"),
    ("0.1", Decimal("0.1"), "number"),
    ('"a \\"quoted\\" \\\\ text"', 'a "quoted" \\ text', "text"),
    ('"存量客户"', "存量客户", "text"),
    ("true", True, "boolean"),
    ("false", False, "boolean"),
    ("2026-12-01", datetime.date(2026, 12, 1), "date"),
])
def test_literals(source: str, value: object, kind: str) -> None:
    assert expr(source) == Literal(value, kind)


def test_records_and_keywords_as_field_names() -> None:
    module = parse("""
        type loan
          amount: money
          date: date
          type: text
          limit: money optional
          count: integer
        end
        let x = { amount: 1, date: 2026-01-01, type: "t", count: 2, }
        let y = customer.loan.date
    """)
    loan, x, y = module.declarations
    assert [f.name.name for f in loan.fields] == ["amount", "date", "type", "limit", "count"]
    assert [f.optional for f in loan.fields] == [False, False, False, True, False]
    assert x.value == RecordLiteral((
        RecordEntry(Ident("amount"), num("1")),
        RecordEntry(Ident("date"), Literal(datetime.date(2026, 1, 1), "date")),
        RecordEntry(Ident("type"), Literal("t", "text")),
        RecordEntry(Ident("count"), num("2"))))
    assert y.value == field("customer", "loan", "date")


def test_unicode_names() -> None:
    (let,) = parse("let 月收入 = 客户.月收入 * 12").declarations
    assert let.name == Ident("月收入")
    assert let.value == Binary("*", field("客户", "月收入"), num("12"))


def test_table_cells() -> None:
    (table,) = parse("""
        table factor: number hit first
          | customer.score | customer.segment | utilization | factor |
          | [700..750)     | not "A", "B"     | -           | 1.1    |
          | (0..1]         | missing          | >= 80%      | 1.2    |
          | 750            | "A", "B"         | != 3        | -0.5   |
          otherwise 1
        end
    """).declarations
    assert table.policy == Ident("first")
    assert table.inputs == (field("customer", "score"), field("customer", "segment"),
                            Name("utilization"))
    assert table.result_column == Name("factor")
    first, second, third = table.rows
    text = lambda v: EqualsTest(Literal(v, "text"))  # noqa: E731
    assert first.cells == (IntervalTest(num("700"), num("750"), True, False),
                           NotCell(Alternatives((text("A"), text("B")))), AnyCell())
    assert second.cells == (IntervalTest(num("0"), num("1"), False, True), MissingCell(),
                            CompareTest(">=", Literal(Decimal("0.80"), "percent")))
    assert third.cells == (EqualsTest(num("750")), Alternatives((text("A"), text("B"))),
                           CompareTest("!=", num("3")))
    assert [row.result for row in table.rows] == [num("1.1"), num("1.2"), num("-0.5")]
    assert table.otherwise == num("1")


def test_declarations_of_every_kind() -> None:
    module = parse("""
        ruleset r "label"
        version "1"
        effective 2026-01-01 until 2027-01-01
        include "shared.rules"
        outputs
          tags: list of one of "a", "b" combine output order
          total: money combine sum default 0
        end
        rule R "l" priority -5 when true then
          set total = 1
          add "a" to tags
          offer o amount 5
          reason R1
        end
        cap total at least 0 when true because C1
        offer o "O" partner "p" requires "x" in customer.consents else reason X end
        budget b "B" total total at most 50_000 among total > 0 rank by total ascending
          else set total = 0 reason B01
        end
        example "e" as of 2026-12-15
          given customer = { a: 1 }
          expect reasons = [R1, X]
          expect reasons include R1
          expect total = 1
        end
    """)
    kinds = [type(d).__name__ for d in module.declarations]
    assert kinds == ["RulesetHeader", "VersionDecl", "EffectiveDecl", "IncludeDecl", "OutputsDecl",
                     "RuleDecl", "CapDecl", "OfferDecl", "BudgetDecl", "ExampleDecl"]
    header, version, effective, include, outputs, rule, cap, offer, budget, example = \
        module.declarations
    assert (header.name, header.label, version.version) == (Ident("r"), "label", "1")
    assert (effective.start, effective.until) == (datetime.date(2026, 1, 1),
                                                  datetime.date(2027, 1, 1))
    assert include.path == "shared.rules"
    assert [o.policy.name for o in outputs.outputs] == ["output order", "sum"]
    assert rule.priority == -5
    assert [type(a).__name__ for a in rule.actions] == ["SetAction", "AddAction", "OfferAction",
                                                        "ReasonAction"]
    assert (cap.bound, cap.reason) == ("least", Ident("C1"))
    assert (offer.partner, offer.else_reason) == ("p", Ident("X"))
    assert (budget.descending, budget.limit) == (False, num("50000"))
    assert example.as_of == datetime.date(2026, 12, 15)
    assert [type(e).__name__ for e in example.expectations] == [
        "ExpectReasons", "ExpectReasonIncluded", "ExpectOutput"]


def test_spans_are_left_out_of_equality() -> None:
    compact = parse('rule R when a>1 then set x=if b then 1 else 2 reason C end')
    spread = parse('''
        # the same rule, laid out differently
        rule R
          when a > 1
          then
            set x = if b
                    then 1
                    else 2
            reason C
        end
    ''')
    assert compact.declarations == spread.declarations
    assert compact.declarations[0].span != spread.declarations[0].span


def test_every_node_has_its_source_span() -> None:
    path = FIXTURES / "language" / "complete_example.rules"
    text = path.read_text(encoding="utf-8")
    module, _ = parse_module(text, "example.rules")
    lines = text.splitlines()
    for node in ast.walk(module):
        span = node.span
        assert span.file == "example.rules"
        assert 1 <= span.line <= span.end_line <= len(lines)
        if isinstance(node, Ident):
            assert lines[span.line - 1][span.column - 1: span.end_column - 1] == node.name
