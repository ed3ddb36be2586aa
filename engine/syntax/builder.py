"""The syntax tree built as the parser reduces (``AstBuilder``): each grammar rule's method
makes its ``engine.syntax.ast`` node, with the span of all its tokens; texts are unescaped and
literals held to their limits on the way."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from lark import Token

from engine.diagnostics import Diagnostic, Severity, Span
from engine.syntax import ast

# Limits on literals, far beyond any real ruleset, so that no text makes a pass slow.
MAX_TEXT = 10_000  # characters of one text
MAX_LIST = 10_000  # items of one list literal


def _unescape(token: Token, path: str, diagnostics: list[Diagnostic]) -> str:
    body = token.value[1:-1]
    if len(body) > MAX_TEXT:
        diagnostics.append(Diagnostic(
            "E104", Severity.ERROR, f"a text of {len(body):,} characters: texts have at most "
                                    f"{MAX_TEXT:,}", Span(path, token.line, token.column,
                                                          token.line, token.column + 1),
            help="a ruleset holds labels and codes; keep long documents elsewhere"))
        return body[:MAX_TEXT]
    if "\\" not in body:  # most texts: nothing to unescape
        return body

    def replace(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped in ('"', "\\"):
            return escaped
        column = token.column + 1 + match.start()
        diagnostics.append(Diagnostic(
            "E104", Severity.ERROR, f"unknown escape `\\{escaped}` in a text",
            Span(path, token.line, column, token.line, column + 2),
            help='only `\\"` and `\\\\` are escapes; write other characters as they are'))
        return escaped

    return re.sub(r"\\(.)", replace, body)


# Terminals whose text is data; every other token (keywords, punctuation) is dropped before a
# builder method sees its children, except in the rules that read their tokens' text.
_DATA_TERMINALS = frozenset({"NAME", "STRING", "NUMERAL", "DATE_LITERAL", "TRUE", "FALSE",
                             "OPTIONAL"})
_READS_TOKENS = frozenset({"policy", "primitive_type", "comparison_op",
                           "cap_bound", "rank_direction", "full_rule", "aggregate_function",
                           "quantifier_kind", "function_name", "interval", "signed_integer",
                           "compare", "arithmetic", "table_header", "table_row"})


@dataclass(frozen=True, slots=True)
class _ResultCells:
    """The result cells of a row after `||`, until its table makes them a record."""

    values: tuple[ast.Expr, ...]


def _split_at_results(children: list) -> tuple[tuple, tuple | None]:
    """A header's or row's cells, split at `||`: (inputs, results), results None without one."""
    parts: list[list] = [[]]
    for child in children:
        if child.__class__ is Token:
            if child.value == "||":
                parts.append([])
        else:
            parts[-1].append(child)
    if len(parts) == 1:
        return tuple(parts[0]), None
    # A second `||` is taken as a plain bar: the row's cell count tells the user what is wrong.
    return tuple(parts[0]), tuple(item for part in parts[1:] for item in part)


class AstBuilder:
    """Builds ``engine.syntax.ast`` nodes while the parser reduces, so no parse tree is ever built;
    method names are the grammar's rule names. Each method takes the span of all the rule's
    tokens (keywords included) and the children that carry data, names already Idents."""

    def __init__(self) -> None:
        self.file = "<none>"
        self.diagnostics: list[Diagnostic] = []
        self.not_a_value: dict[int, Span] = {}  # rows whose last cell is a test, by id

    def reducer(self, rule: str, expansion: list[str]):
        """The function the parser calls to reduce ``rule`` (its children: one value per
        symbol of ``expansion``, after Lark's filters), or None for rules without a method."""
        method = getattr(self, rule, None) if not rule.startswith("_") else None
        if method is None:
            return None
        # Only a rule whose expansion has terminals (or inlined rules, which may) gets tokens
        # among its children; the rules that read their tokens' text keep them all.
        keeps_all = rule in _READS_TOKENS or not any(
            symbol.isupper() or symbol.startswith("_") for symbol in expansion)
        span_of, ident, data = self._span_of, self._ident, _DATA_TERMINALS

        def reduce(children: list) -> object:
            span = span_of(children)
            if not keeps_all:
                children = [(ident(c) if c.type == "NAME" else c) if c.__class__ is Token
                            else c for c in children
                            if c.__class__ is not Token or c.type in data]
            return method(span, children)
        return reduce

    # -- helpers

    def _span_of(self, children: list) -> Span:
        """From the start of the first child that has a position to the end of the last."""
        for child in children:
            if child.__class__ is Token:
                line, column = child.line, child.column
                break
            if isinstance(child, ast.Node):
                span = child.span
                line, column = span.line, span.column
                break
            if child.__class__ is tuple and (position := _position(child)) is not None:
                line, column = position[0], position[1]
                break
        else:
            return Span(self.file, 1, 1, 1, 1)
        for child in reversed(children):
            if child.__class__ is Token:
                return Span(self.file, line, column, child.end_line, child.end_column)
            if isinstance(child, ast.Node):
                span = child.span
                return Span(self.file, line, column, span.end_line, span.end_column)
            if child.__class__ is tuple and (position := _position(child)) is not None:
                return Span(self.file, line, column, position[2], position[3])
        return Span(self.file, 1, 1, 1, 1)  # unreachable: the first loop found a position

    def _ident(self, token: Token) -> ast.Ident:
        return ast.Ident(token.value, span=Span(self.file, token.line, token.column,
                                                token.end_line, token.end_column))

    def _token_span(self, token: Token) -> Span:
        return Span(self.file, token.line, token.column, token.end_line, token.end_column)

    def _text(self, token: Token | None) -> str | None:
        return None if token is None else _unescape(token, self.file, self.diagnostics)

    def _date(self, token: Token | None) -> datetime.date | None:
        if token is None:
            return None
        try:
            return datetime.date.fromisoformat(token.value)
        except ValueError:
            self.diagnostics.append(Diagnostic(
                "E104", Severity.ERROR, f"`{token.value}` is not a valid date",
                self._token_span(token), help="dates are written YYYY-MM-DD, e.g. `2026-12-01`"))
            return datetime.date(1, 1, 1)

    # -- names and types

    def _first(self, span, children):
        """A `*_clause` rule: its one value (the keyword is already dropped)."""
        return children[0]

    until_clause = combine_clause = default_clause = type_annotation = hit_clause = _first
    otherwise_clause = priority_clause = amount_clause = when_clause = because_clause = _first
    partner_clause = else_reason_clause = among_clause = as_of_clause = when_full = _first
    atom = source = _first  # a parenthesised expression

    def primitive_type(self, span, children):
        return ast.PrimitiveType(str(children[0]), span=span)

    def enum_type(self, span, children):
        return ast.EnumType(tuple(self._text(t) for t in children), span=span)

    def list_type(self, span, children):
        return ast.ListType(children[0], False, span=span)

    def set_type(self, span, children):
        return ast.ListType(children[0], True, span=span)

    def named_type(self, span, children):
        return ast.NamedType(children[0], span=span)

    def policy(self, span, children):
        return ast.Ident(" ".join(str(t) for t in children), span=span)

    # -- declarations

    def start(self, span, children):
        return tuple(children)

    def ruleset_header(self, span, children):
        name, label = children
        return ast.RulesetHeader(name, self._text(label), span=span)

    def version_decl(self, span, children):
        return ast.VersionDecl(self._text(children[0]), span=span)

    def effective_decl(self, span, children):
        start, until = children
        return ast.EffectiveDecl(self._date(start), self._date(until), span=span)

    def include_decl(self, span, children):
        return ast.IncludeDecl(self._text(children[0]), span=span)

    def field_decl(self, span, children):
        name, type_, optional, label = children
        return ast.FieldDecl(name, type_, optional is not None, self._text(label),
                             span=span)

    def facts_decl(self, span, children):
        name, label, *fields = children
        return ast.FactsDecl(name, self._text(label), tuple(fields), span=span)

    def type_decl(self, span, children):
        name, label, *fields = children
        return ast.TypeDecl(name, self._text(label), tuple(fields), span=span)

    def reason_entry(self, span, children):
        code, text = children
        return ast.ReasonEntry(code, self._text(text), span=span)

    def reasons_decl(self, span, children):
        return ast.ReasonsDecl(tuple(children), span=span)

    def output_decl(self, span, children):
        name, type_, policy, default = children
        return ast.OutputDecl(name, type_, policy, default, span=span)

    def outputs_decl(self, span, children):
        return ast.OutputsDecl(tuple(children), span=span)

    def let_decl(self, span, children):
        name, type_, value = children
        return ast.LetDecl(name, type_, value, span=span)

    def table_header(self, span, children):
        return _split_at_results(children)

    def table_row(self, span, children):
        cells, results = _split_at_results(children)
        if results is not None:  # the result cells of a table with several results
            values = [cell.value if isinstance(cell, ast.EqualsTest) else None for cell in results]
            for cell, value in zip(results, values, strict=True):
                if value is None:
                    self.diagnostics.append(Diagnostic(
                        "E105", Severity.ERROR, "a result cell must be a value, not a test",
                        cell.span, help="write the value this column takes when the row "
                                        "matches, e.g. `3.9%`"))
            return ast.TableRow(cells, _ResultCells(tuple(
                value if value is not None else ast.Literal(False, "boolean", span=cell.span)
                for cell, value in zip(results, values, strict=True))), span=span)
        *cells, result = cells
        # The grammar cannot tell the last cell from the others: it must be a plain value.
        if isinstance(result, ast.EqualsTest):
            return ast.TableRow(tuple(cells), result.value, span=span)
        row = ast.TableRow(tuple(cells), ast.Literal(False, "boolean", span=result.span),
                           span=span)
        self.not_a_value[id(row)] = result.span  # reported by the table, which knows its header
        return row

    def table_decl(self, span, children):
        name, type_, policy, (header, names), *rows, otherwise = children
        if names is not None:
            return self._compound_table(span, name, type_, policy, header, names, rows,
                                        otherwise)
        *inputs, result_column = header
        for number, row in enumerate(rows, start=1):
            if isinstance(row.result, _ResultCells):
                self.diagnostics.append(Diagnostic(
                    "E408", Severity.ERROR, f"row {number} of table `{name.name}` has `||` but "
                    "its header has no result columns", row.span,
                    help="name the result columns in the header after `||`, e.g. "
                         "`| customer.segment || rate | term_months |`"))
                rows[number - 1] = ast.TableRow(row.cells, row.result.values[0], span=row.span)
                continue
            where = self.not_a_value.pop(id(row), None)
            if where is None:
                continue
            if len(row.cells) < len(inputs):
                message = (f"row {number} of table `{name.name}` has {len(row.cells) + 1} cells "
                           f"but the header has {len(header)}: a cell is missing, so its last "
                           "cell is read as the table's value, which must not be a test")
                help = "add the missing cell (`-` matches any value), then the table's value"
            else:
                message = "the last cell of a row must be the table's value, not a test"
                help = "write the value the table takes when this row matches, e.g. `1.5`"
            self.diagnostics.append(Diagnostic("E105", Severity.ERROR, message, where, help=help))
        return ast.TableDecl(name, type_, policy, tuple(inputs), result_column, tuple(rows),
                             otherwise, span=span)

    def _compound_table(self, span, name, type_, policy, inputs, names, rows, otherwise):
        """A table with several result columns: each row's results become a record literal."""
        columns = []
        for column in names:
            if isinstance(column, ast.Name):
                columns.append(ast.Ident(column.name, span=column.span))
                continue
            self.diagnostics.append(Diagnostic(
                "E410", Severity.ERROR, "a result column is named by a plain name",
                column.span, help="write the name of the record field this column gives, "
                                  "e.g. `rate`"))
            columns.append(ast.Ident(f"column {len(columns) + 1}", span=column.span))
        built = []
        for number, row in enumerate(rows, start=1):
            self.not_a_value.pop(id(row), None)
            values = row.result.values if isinstance(row.result, _ResultCells) else ()
            if len(values) != len(columns):
                given = (f"{len(values)} result cell{'s' if len(values) != 1 else ''}"
                         if values else "no `||` before its results")
                self.diagnostics.append(Diagnostic(
                    "E408", Severity.ERROR, f"row {number} of table `{name.name}` has {given} "
                    f"but the header has {len(columns)} result columns", row.span,
                    help="write `||` between the row's input cells and its results, one "
                         "result a column"))
                continue
            entries = tuple(ast.RecordEntry(column, value, span=value.span)
                            for column, value in zip(columns, values, strict=True))
            record = ast.RecordLiteral(entries, span=values[0].span.to(values[-1].span))
            built.append(ast.TableRow(row.cells, record, span=row.span))
        return ast.TableDecl(name, type_, policy, tuple(inputs), None, tuple(built), otherwise,
                             tuple(columns), span=span)

    def signed_integer(self, span, children):
        sign, digits = children
        value = int(str(digits).replace("_", "")) if re.fullmatch(r"[\d_]+", digits) else None
        if value is None:
            self.diagnostics.append(Diagnostic(
                "E104", Severity.ERROR, f"priority `{digits}` is not a whole number",
                self._token_span(digits), help="write a whole number such as `100` or `-5`"))
            return 0
        return -value if sign is not None else value

    def rule_decl(self, span, children):
        name, label, priority, condition, *actions = children
        return ast.RuleDecl(name, self._text(label), priority or 0, condition, tuple(actions),
                            span=span)

    def set_action(self, span, children):
        return ast.SetAction(children[0], children[1], span=span)

    def add_action(self, span, children):
        return ast.AddAction(children[0], children[1], span=span)

    def offer_action(self, span, children):
        return ast.OfferAction(children[0], children[1], span=span)

    def reason_action(self, span, children):
        return ast.ReasonAction(children[0], span=span)

    def _word(self, span, children):
        """A rule that is one keyword or operator (`most`, `>=`, `sum`, …), kept with its span."""
        return ast.Ident(str(children[0]), span=span)

    cap_bound = rank_direction = full_rule = comparison_op = _word
    aggregate_function = quantifier_kind = _word

    def cap_decl(self, span, children):
        output, bound, limit, condition, reason = children
        return ast.CapDecl(output, bound.name, limit, condition, reason, span=span)

    def offer_requires(self, span, children):
        return tuple(children)  # (condition, else reason or None)

    def offer_decl(self, span, children):
        name, label, partner, requires = children
        condition, else_reason = requires if requires is not None else (None, None)
        return ast.OfferDecl(name, self._text(label), self._text(partner), condition, else_reason,
                             span=span)

    def budget_rank(self, span, children):
        return tuple(children)

    def budget_decl(self, span, children):
        name, label, total, limit, among, rank, when_full, *actions = children
        rank_by, direction = (rank[0], rank[1].name) if rank is not None else (None, "descending")
        return ast.BudgetDecl(name, self._text(label), total, limit, among, rank_by,
                              direction == "descending", tuple(actions), when_full, span=span)

    def given(self, span, children):
        return ast.Given(children[0], children[1], span=span)

    def expect_reasons(self, span, children):
        codes = tuple(c for c in children if c is not None)
        return ast.ExpectReasons(codes, span=span)

    def expect_reason_included(self, span, children):
        return ast.ExpectReasonIncluded(children[0], span=span)

    def expect_output(self, span, children):
        return ast.ExpectOutput(children[0], children[1], span=span)

    def example_decl(self, span, children):
        name, as_of, *rest = children
        givens = tuple(c for c in rest if isinstance(c, ast.Given))
        expectations = tuple(c for c in rest if not isinstance(c, ast.Given))
        return ast.ExampleDecl(self._text(name), self._date(as_of), givens, expectations,
                               span=span)

    def property_decl(self, span, children):
        name, label, condition, claim = children
        return ast.PropertyDecl(name, self._text(label), condition, claim, span=span)

    # -- table cells

    def any_cell(self, span, children):
        return ast.AnyCell(span=span)

    def missing_cell(self, span, children):
        return ast.MissingCell(span=span)

    def not_cell(self, span, children):
        return ast.NotCell(children[0], span=span)

    def alternatives(self, span, children):
        return ast.Alternatives(tuple(children), span=span)

    def compare_test(self, span, children):
        return ast.CompareTest(children[0].name, children[1], span=span)

    def equals_test(self, span, children):
        return ast.EqualsTest(children[0], span=span)

    def interval(self, span, children):
        opening, low, _, high, closing = children
        return ast.IntervalTest(low, high, opening == "[", closing == "]", span=span)

    # -- expressions

    def literal(self, span, children):
        token = children[0]
        if token.type == "NUMERAL":
            digits = token.value.replace("_", "")
            if digits.endswith("%"):  # exact, and in no decimal context: the exponent moves
                return ast.Literal(Decimal(digits[:-1] + "E-2"), "percent", token.value,
                                   span=span)
            return ast.Literal(Decimal(digits), "number", token.value, span=span)
        if token.type == "STRING":
            return ast.Literal(self._text(token), "text", span=span)
        if token.type == "DATE_LITERAL":
            return ast.Literal(self._date(token), "date", span=span)
        return ast.Literal(token.type == "TRUE", "boolean", span=span)

    def name_ref(self, span, children):
        return ast.Name(children[0].name, span=span)

    def today(self, span, children):
        return ast.Today(span=span)

    def field_access(self, span, children):
        return ast.FieldAccess(children[0], children[1], span=span)

    def path(self, span, children):
        first, *rest = children
        node: ast.Expr = ast.Name(first.name, span=first.span)
        for field_name in rest:
            node = ast.FieldAccess(node, field_name, span=first.span.to(field_name.span))
        return node

    def negate(self, span, children):
        operand = children[0]
        # `-3` is a literal, so that it carries no unit and prints back as written.
        if isinstance(operand, ast.Literal) and isinstance(operand.value, Decimal):
            source = None if operand.source is None else "-" + operand.source
            return ast.Literal(operand.value.copy_negate(), operand.kind, source, span=span)
        return ast.Unary("-", operand, span=span)

    def not_op(self, span, children):
        return ast.Unary("not", children[0], span=span)

    def arithmetic(self, span, children):
        left, op, right = children  # the operator is written in place: a token
        return ast.Binary(op.value, left, right, span=span)

    def or_op(self, span, children):
        return ast.Binary("or", children[0], children[1], span=span)

    def and_op(self, span, children):
        return ast.Binary("and", children[0], children[1], span=span)

    compare = arithmetic

    def between(self, span, children):
        return ast.Between(*children, span=span)

    def in_op(self, span, children):
        return ast.In(children[0], children[1], False, span=span)

    def not_in_op(self, span, children):
        return ast.In(children[0], children[1], True, span=span)

    def is_missing(self, span, children):
        return ast.IsMissing(children[0], False, span=span)

    def is_not_missing(self, span, children):
        return ast.IsMissing(children[0], True, span=span)

    def if_expr(self, span, children):
        return ast.If(*children, span=span)

    def function_name(self, span, children):
        return ast.Ident(str(children[0]), span=span)

    def call(self, span, children):
        function, *arguments = children
        return ast.Call(function, tuple(a for a in arguments if a is not None),
                        span=span)

    def list_literal(self, span, children):
        items = tuple(c for c in children if c is not None)
        if len(items) > MAX_LIST:
            self.diagnostics.append(Diagnostic(
                "E104", Severity.ERROR, f"a list of {len(items):,} items: lists written in a "
                                        f"ruleset have at most {MAX_LIST:,}",
                Span(span.file, span.line, span.column, span.line, span.column + 1),
                help="give long lists as facts"))
            items = items[:MAX_LIST]
        return ast.ListLiteral(items, span=span)

    def record_entry(self, span, children):
        return ast.RecordEntry(children[0], children[1], span=span)

    def record_literal(self, span, children):
        return ast.RecordLiteral(tuple(c for c in children if c is not None),
                                 span=span)

    def count_aggregate(self, span, children):
        variable, source, *condition = children
        return ast.Aggregate("count", variable, source, None, condition[0] if condition else None,
                             span=span)

    def value_aggregate(self, span, children):
        kind, value, variable, source, *condition = children
        return ast.Aggregate(kind.name, variable, source, value,
                             condition[0] if condition else None, span=span)

    def quantifier(self, span, children):
        kind, variable, source, condition = children
        return ast.Quantifier(kind.name, variable, source, condition, span=span)


def _position(child: object) -> tuple[int, int, int, int] | None:
    """(line, column, end line, end column) of a token, a node or a tuple of them."""
    if child.__class__ is Token:
        return child.line, child.column, child.end_line, child.end_column
    if isinstance(child, ast.Node):
        span = child.span
        return span.line, span.column, span.end_line, span.end_column
    if isinstance(child, tuple):
        positions = [p for p in map(_position, child) if p is not None]
        if positions:
            return positions[0][:2] + positions[-1][2:]
    return None
