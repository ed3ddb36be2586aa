"""Parse ruleset text into the typed AST of ``engine.ast``.

The grammar lives in ``grammar/tenet.lark`` and is loaded once (LALR, contextual lexer, strict).
Syntax errors become diagnostics (see ``engine.syntax_errors``); after an error, parsing resumes
at the next line that starts a declaration, so one run reports every independent mistake.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from engine import ast
from engine.diagnostics import Diagnostic, Severity, Span

GRAMMAR_PATH = Path(__file__).resolve().parent.parent / "grammar" / "tenet.lark"

# Words that open a top-level declaration; parsing resumes at a line starting with one of them.
# `offer` also opens an action inside rules, so it only counts at the start of a line.
_RESYNC_KEYWORDS = ("ruleset", "version", "effective", "include", "facts", "type", "reasons",
                    "outputs", "let", "table", "rule", "cap", "budget", "example")
_RESYNC = re.compile(r"^[ \t]*(?:" + "|".join(_RESYNC_KEYWORDS) + r")\b|^offer\b", re.M)


@lru_cache(maxsize=1)
def grammar() -> Lark:
    """The Lark parser, built once per process."""
    return Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                strict=True, propagate_positions=True, maybe_placeholders=True)


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every word the grammar uses as a keyword somewhere; such words cannot name declarations."""
    word = re.compile(r"^[^\W\d]\w*$")
    return frozenset(
        terminal.pattern.value for terminal in grammar().terminals
        if terminal.pattern.type == "str" and word.match(terminal.pattern.value)
    )


def parse_module(text: str, path: str) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file. With syntax errors the module holds what parsed cleanly, and the
    diagnostics say what did not."""
    from engine.syntax_errors import describe_syntax_error

    diagnostics: list[Diagnostic] = []
    declarations: list[ast.Declaration] = []
    start = 0
    while True:
        # Blank out what was already consumed (keeping line breaks) so positions stay true.
        masked = re.sub(r"[^\n]", " ", text[:start]) + text[start:]
        try:
            tree = grammar().parse(masked)
        except UnexpectedInput as error:
            diagnostics.append(describe_syntax_error(error, masked, path))
            resume = _RESYNC.search(masked, _error_offset(error, masked))
            if resume is not None and resume.start() <= start:
                resume = _RESYNC.search(masked, masked.find("\n", start) + 1 or len(masked))
            if resume is None or resume.start() <= start:
                break
            start = resume.start()
            continue
        builder = AstBuilder(path)
        try:
            module = builder.transform(tree)
        except VisitError as error:  # a bug in the builder, not a user error
            raise error.orig_exc from error
        declarations.extend(module.declarations)
        diagnostics.extend(builder.diagnostics)
        break
    return ast.Module(path, tuple(declarations), span=Span(path, 1, 1, 1, 1)), diagnostics


def _error_offset(error: UnexpectedInput, text: str) -> int:
    """Where to look for the next declaration: the error itself, or the declaration keyword
    that the lexer read as a name just before it."""
    from engine.syntax_errors import absorbed_keyword

    absorbed = absorbed_keyword(error, text)
    if absorbed is not None:
        return absorbed.start_pos
    token = getattr(error, "token", None)
    if isinstance(token, Token) and token.start_pos is not None:
        return token.start_pos
    position = getattr(error, "pos_in_stream", None)
    if position is None or position < 0:
        return len(text)
    # A lexer error: resume no earlier than the next line.
    line_end = text.find("\n", position)
    return len(text) if line_end < 0 else line_end


# --------------------------------------------------------------------------- tree -> AST


def _unescape(token: Token, path: str, diagnostics: list[Diagnostic]) -> str:
    body = token.value[1:-1]

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


@v_args(meta=True)
class AstBuilder(Transformer):
    """Turns the Lark tree into ``engine.ast`` nodes; rule names match the grammar's."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.file = path
        self.diagnostics: list[Diagnostic] = []

    # -- helpers

    def _span(self, meta) -> Span:
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

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

    def NAME(self, token: Token) -> ast.Ident:  # noqa: N802 - Lark calls it by terminal name
        return ast.Ident(str(token), span=self._token_span(token))

    def primitive_type(self, meta, children):
        return ast.PrimitiveType(str(children[0]), span=self._span(meta))

    def enum_type(self, meta, children):
        return ast.EnumType(tuple(self._text(t) for t in children), span=self._span(meta))

    def list_type(self, meta, children):
        return ast.ListType(children[0], False, span=self._span(meta))

    def set_type(self, meta, children):
        return ast.ListType(children[0], True, span=self._span(meta))

    def named_type(self, meta, children):
        return ast.NamedType(children[0], span=self._span(meta))

    def policy(self, meta, children):
        return ast.Ident(" ".join(str(t) for t in children), span=self._span(meta))

    # -- declarations

    def start(self, meta, children):
        return ast.Module(self.file, tuple(children), span=Span(self.file, 1, 1, 1, 1))

    def ruleset_header(self, meta, children):
        name, label = children
        return ast.RulesetHeader(name, self._text(label), span=self._span(meta))

    def version_decl(self, meta, children):
        return ast.VersionDecl(self._text(children[0]), span=self._span(meta))

    def effective_decl(self, meta, children):
        start, until = children
        return ast.EffectiveDecl(self._date(start), self._date(until), span=self._span(meta))

    def include_decl(self, meta, children):
        return ast.IncludeDecl(self._text(children[0]), span=self._span(meta))

    def field_decl(self, meta, children):
        name, type_, optional, label = children
        return ast.FieldDecl(name, type_, optional is not None, self._text(label),
                             span=self._span(meta))

    def facts_decl(self, meta, children):
        name, label, *fields = children
        return ast.FactsDecl(name, self._text(label), tuple(fields), span=self._span(meta))

    def type_decl(self, meta, children):
        name, label, *fields = children
        return ast.TypeDecl(name, self._text(label), tuple(fields), span=self._span(meta))

    def reason_entry(self, meta, children):
        code, text = children
        return ast.ReasonEntry(code, self._text(text), span=self._span(meta))

    def reasons_decl(self, meta, children):
        return ast.ReasonsDecl(tuple(children), span=self._span(meta))

    def output_decl(self, meta, children):
        name, type_, policy, default = children
        return ast.OutputDecl(name, type_, policy, default, span=self._span(meta))

    def outputs_decl(self, meta, children):
        return ast.OutputsDecl(tuple(children), span=self._span(meta))

    def let_decl(self, meta, children):
        name, type_, value = children
        return ast.LetDecl(name, type_, value, span=self._span(meta))

    def table_header(self, meta, children):
        return tuple(children)

    def table_row(self, meta, children):
        *cells, result = children
        # The grammar cannot tell the last cell from the others: it must be a plain value.
        if isinstance(result, ast.EqualsTest):
            value = result.value
        else:
            self.diagnostics.append(Diagnostic(
                "E105", Severity.ERROR, "the last cell of a row must be the table's value, not a test",
                result.span, help="write the value the table takes when this row matches, e.g. `1.5`"))
            value = ast.Literal(False, "boolean", span=result.span)
        return ast.TableRow(tuple(cells), value, span=self._span(meta))

    def table_decl(self, meta, children):
        name, type_, policy, header, *rows, otherwise = children
        *inputs, result_column = header
        return ast.TableDecl(name, type_, policy, tuple(inputs), result_column, tuple(rows),
                             otherwise, span=self._span(meta))

    def signed_integer(self, meta, children):
        sign, digits = children
        value = int(str(digits).replace("_", "")) if re.fullmatch(r"[\d_]+", digits) else None
        if value is None:
            self.diagnostics.append(Diagnostic(
                "E104", Severity.ERROR, f"priority `{digits}` is not a whole number",
                self._token_span(digits), help="write a whole number such as `100` or `-5`"))
            return 0
        return -value if sign is not None else value

    def rule_decl(self, meta, children):
        name, label, priority, condition, *actions = children
        return ast.RuleDecl(name, self._text(label), priority or 0, condition, tuple(actions),
                            span=self._span(meta))

    def set_action(self, meta, children):
        return ast.SetAction(children[0], children[1], span=self._span(meta))

    def add_action(self, meta, children):
        return ast.AddAction(children[0], children[1], span=self._span(meta))

    def offer_action(self, meta, children):
        return ast.OfferAction(children[0], children[1], span=self._span(meta))

    def reason_action(self, meta, children):
        return ast.ReasonAction(children[0], span=self._span(meta))

    def cap_bound(self, meta, children):
        return str(children[0])

    def cap_decl(self, meta, children):
        output, bound, limit, condition, reason = children
        return ast.CapDecl(output, bound, limit, condition, reason, span=self._span(meta))

    def offer_requires(self, meta, children):
        return tuple(children)

    def offer_decl(self, meta, children):
        name, label, partner, requires = children
        condition, else_reason = requires if requires is not None else (None, None)
        return ast.OfferDecl(name, self._text(label), self._text(partner), condition, else_reason,
                             span=self._span(meta))

    def rank_direction(self, meta, children):
        return str(children[0])

    def budget_rank(self, meta, children):
        return tuple(children)

    def budget_decl(self, meta, children):
        name, label, total, limit, among, rank, *actions = children
        rank_by, direction = rank if rank is not None else (None, "descending")
        return ast.BudgetDecl(name, self._text(label), total, limit, among, rank_by,
                              direction == "descending", tuple(actions), span=self._span(meta))

    def given(self, meta, children):
        return ast.Given(children[0], children[1], span=self._span(meta))

    def expect_reasons(self, meta, children):
        codes = tuple(c for c in children if c is not None)
        return ast.ExpectReasons(codes, span=self._span(meta))

    def expect_reason_included(self, meta, children):
        return ast.ExpectReasonIncluded(children[0], span=self._span(meta))

    def expect_output(self, meta, children):
        return ast.ExpectOutput(children[0], children[1], span=self._span(meta))

    def example_decl(self, meta, children):
        name, as_of, *rest = children
        givens = tuple(c for c in rest if isinstance(c, ast.Given))
        expectations = tuple(c for c in rest if not isinstance(c, ast.Given))
        return ast.ExampleDecl(self._text(name), self._date(as_of), givens, expectations,
                               span=self._span(meta))

    # -- table cells

    def any_cell(self, meta, children):
        return ast.AnyCell(span=self._span(meta))

    def missing_cell(self, meta, children):
        return ast.MissingCell(span=self._span(meta))

    def not_cell(self, meta, children):
        return ast.NotCell(children[0], span=self._span(meta))

    def alternatives(self, meta, children):
        return ast.Alternatives(tuple(children), span=self._span(meta))

    def compare_test(self, meta, children):
        return ast.CompareTest(children[0], children[1], span=self._span(meta))

    def equals_test(self, meta, children):
        return ast.EqualsTest(children[0], span=self._span(meta))

    def interval(self, meta, children):
        opening, low, _, high, closing = children
        return ast.IntervalTest(low, high, opening == "[", closing == "]", span=self._span(meta))

    def comparison_op(self, meta, children):
        return str(children[0])

    # -- expressions

    def literal(self, meta, children):
        token = children[0]
        span = self._span(meta)
        if token.type == "NUMERAL":
            digits = token.value.replace("_", "")
            if digits.endswith("%"):
                return ast.Literal(Decimal(digits[:-1]) / 100, "percent", span=span)
            return ast.Literal(Decimal(digits), "number", span=span)
        if token.type == "STRING":
            return ast.Literal(self._text(token), "text", span=span)
        if token.type == "DATE_LITERAL":
            return ast.Literal(self._date(token), "date", span=span)
        return ast.Literal(token.type == "TRUE", "boolean", span=span)

    def name_ref(self, meta, children):
        return ast.Name(children[0].name, span=self._span(meta))

    def today(self, meta, children):
        return ast.Today(span=self._span(meta))

    def field_access(self, meta, children):
        return ast.FieldAccess(children[0], children[1], span=self._span(meta))

    def path(self, meta, children):
        first, *rest = children
        node: ast.Expr = ast.Name(first.name, span=first.span)
        for field_name in rest:
            node = ast.FieldAccess(node, field_name, span=first.span.to(field_name.span))
        return node

    def negate(self, meta, children):
        operand = children[0]
        # `-3` is a literal, so that it carries no unit and prints back as written.
        if isinstance(operand, ast.Literal) and isinstance(operand.value, Decimal):
            return ast.Literal(-operand.value, operand.kind, span=self._span(meta))
        return ast.Unary("-", operand, span=self._span(meta))

    def not_op(self, meta, children):
        return ast.Unary("not", children[0], span=self._span(meta))

    def add_op(self, meta, children):
        return str(children[0])

    mul_op = add_op

    def arithmetic(self, meta, children):
        left, op, right = children
        return ast.Binary(op, left, right, span=self._span(meta))

    def or_op(self, meta, children):
        return ast.Binary("or", children[0], children[1], span=self._span(meta))

    def and_op(self, meta, children):
        return ast.Binary("and", children[0], children[1], span=self._span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return ast.Binary(op, left, right, span=self._span(meta))

    def between(self, meta, children):
        return ast.Between(*children, span=self._span(meta))

    def in_op(self, meta, children):
        return ast.In(children[0], children[1], False, span=self._span(meta))

    def not_in_op(self, meta, children):
        return ast.In(children[0], children[1], True, span=self._span(meta))

    def is_missing(self, meta, children):
        return ast.IsMissing(children[0], False, span=self._span(meta))

    def is_not_missing(self, meta, children):
        return ast.IsMissing(children[0], True, span=self._span(meta))

    def if_expr(self, meta, children):
        return ast.If(*children, span=self._span(meta))

    def function_name(self, meta, children):
        name = children[0]
        return name if isinstance(name, ast.Ident) else ast.Ident(str(name), span=self._span(meta))

    def call(self, meta, children):
        function, *arguments = children
        return ast.Call(function, tuple(a for a in arguments if a is not None),
                        span=self._span(meta))

    def list_literal(self, meta, children):
        return ast.ListLiteral(tuple(c for c in children if c is not None), span=self._span(meta))

    def record_entry(self, meta, children):
        return ast.RecordEntry(children[0], children[1], span=self._span(meta))

    def record_literal(self, meta, children):
        return ast.RecordLiteral(tuple(c for c in children if c is not None),
                                 span=self._span(meta))

    def aggregate_function(self, meta, children):
        return str(children[0])

    quantifier_kind = aggregate_function

    def count_aggregate(self, meta, children):
        variable, source, *condition = children
        return ast.Aggregate("count", variable, source, None, condition[0] if condition else None,
                             span=self._span(meta))

    def value_aggregate(self, meta, children):
        kind, value, variable, source, *condition = children
        return ast.Aggregate(kind, variable, source, value, condition[0] if condition else None,
                             span=self._span(meta))

    def quantifier(self, meta, children):
        kind, variable, source, condition = children
        return ast.Quantifier(kind, variable, source, condition, span=self._span(meta))
