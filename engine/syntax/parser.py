"""Parse ruleset text into the typed AST of ``engine.syntax.ast``.

The grammar lives in ``grammar/tenet.lark``; Lark analyses it once (``engine.syntax.grammar``)
and ``engine.syntax.lalr`` runs its tables with a contextual keyword lexer, building the AST as it reduces.
Syntax errors become diagnostics (see ``engine.syntax.errors``); after an error, parsing resumes
at the next line that starts a declaration, so one run reports every independent mistake.
"""

from __future__ import annotations

import datetime
import gc
import re
import threading
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache

from lark import Token
from lark.exceptions import UnexpectedInput

from engine.diagnostics import Diagnostic, Severity, Span
from engine.syntax import ast
from engine.syntax.errors import absorbed_keyword, describe_syntax_error
from engine.syntax.grammar import grammar
from engine.syntax.lalr import LalrDriver
from engine.syntax.source import BIDI_CONTROLS, LINE_SEPARATORS

# Words that open a top-level declaration; parsing resumes at a line starting with one of them.
# `offer` also opens an action inside rules, so it only counts at the start of a line.
_RESYNC_KEYWORDS = ("ruleset", "version", "effective", "include", "facts", "type", "reasons",
                    "outputs", "let", "table", "rule", "cap", "budget", "example")
_RESYNC = re.compile(r"^[ \t]*(?:" + "|".join(_RESYNC_KEYWORDS) + r")\b|^offer\b", re.M)


_BUILDER_LOCK = threading.Lock()


@contextmanager
def no_cyclic_gc():
    """Parsing and checking allocate hundreds of thousands of small acyclic objects, which makes
    the cyclic garbage collector run over and over for nothing; pause it meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=1)
def _parser() -> tuple[LalrDriver, AstBuilder]:
    """The parser, built once per process. It builds the AST as it reduces, which is several
    times faster than building a parse tree and then walking it;
    every token is kept so that each node's span covers its keywords. ``LalrDriver`` runs
    Lark's tables (see engine/syntax/lalr.py)."""
    builder = AstBuilder()
    return LalrDriver(grammar(), builder.reducer, DECLARATIONS), builder


def parse_module(text: str, path: str) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file. With syntax errors the module holds what parsed cleanly, and the
    diagnostics say what did not."""
    parser, builder = _parser()
    text, diagnostics = _without_line_separators(text, path)
    declarations: tuple[ast.Declaration, ...] = ()
    start = syntax_errors = 0
    while True:
        # Blank out what was already consumed (keeping line breaks) so positions stay true.
        masked = re.sub(r"[^\n]", " ", text[:start]) + text[start:]
        try:
            with _BUILDER_LOCK, no_cyclic_gc():
                builder.file, builder.diagnostics, builder.not_a_value = path, [], {}
                declarations = parser.parse(masked)
                diagnostics.extend(builder.diagnostics)
        except UnexpectedInput as error:
            diagnostics.append(describe_syntax_error(error, masked, path))
            syntax_errors += 1
            if syntax_errors >= MAX_SYNTAX_ERRORS:
                last = diagnostics[-1].span
                diagnostics.append(Diagnostic(
                    "E101", Severity.ERROR,
                    f"too many syntax errors: the rest of the file was not read after "
                    f"{MAX_SYNTAX_ERRORS}", Span(path, last.line, last.column, last.line,
                                                 last.column + 1),
                    help="fix these first; is this a ruleset file?"))
                break
            resume = _RESYNC.search(masked, _error_offset(error, masked))
            if resume is not None and resume.start() <= start:
                resume = _RESYNC.search(masked, masked.find("\n", start) + 1 or len(masked))
            if resume is None or resume.start() <= start:
                break
            start = resume.start()
            continue
        break
    diagnostics.extend(_too_deep(declarations, parser.depths))
    return ast.Module(path, declarations, span=Span(path, 1, 1, 1, 1)), diagnostics


_LINE_SEPARATOR = re.compile(f"[{LINE_SEPARATORS}]")
_SUSPICIOUS = re.compile(f"[{LINE_SEPARATORS}]|{BIDI_CONTROLS.pattern}")
_NAMES = {"\v": "a vertical tab", "\f": "a form feed", "\x85": "a next-line character (U+0085)",
          "\u2028": "a line separator (U+2028)", "\u2029": "a paragraph separator (U+2029)"}


def _without_line_separators(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    """Characters that some editors show as a line break and the language does not (see
    ``engine.syntax.source``) are errors; they are read as spaces so that parsing goes on. Bidi
    controls, which make an editor show text in another order than it is read (Trojan
    Source), are warnings."""
    found = []
    line, counted = 1, 0
    for match in _SUSPICIOUS.finditer(text):
        start = match.start()
        line += text.count("\n", counted, start)
        counted = start
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        span = Span(path, line, column, line, column + 1)
        character = match.group()
        if BIDI_CONTROLS.match(character):
            found.append(Diagnostic(
                "W301", Severity.WARNING,
                f"a bidirectional control character (U+{ord(character):04X}) here: editors "
                "may show the text around it in another order than Tenet reads it", span,
                help="remove it; right-to-left text displays correctly without it"))
            continue
        name = _NAMES.get(character, f"a record separator (U+{ord(character):04X})")
        found.append(Diagnostic(
            "E107", Severity.ERROR, f"{name} here: editors disagree on whether it breaks the line",
            span, help="replace it with a line break or a space"))
    if any(d.code == "E107" for d in found):
        text = _LINE_SEPARATOR.sub(" ", text)
    return text, found


MAX_DEPTH = 200
# The grammar's declarations, whose nesting depth the parser reports.
DECLARATIONS = frozenset({
    "ruleset_header", "version_decl", "effective_decl", "include_decl", "facts_decl",
    "type_decl", "reasons_decl", "outputs_decl", "let_decl", "table_decl", "rule_decl",
    "cap_decl", "offer_decl", "budget_decl", "example_decl"})
# After this many syntax errors the rest of a file is not read: more would not help anyone,
# and each resumption rescans the file.
MAX_SYNTAX_ERRORS = 100


def _too_deep(declarations: tuple[ast.Declaration, ...],
              depths: dict[int, int]) -> list[Diagnostic]:
    """Expressions nested more than MAX_DEPTH levels: every later pass walks expressions
    recursively, and no real ruleset comes near the limit, so it is a syntax error. The
    parser measured each declaration's depth as it built the tree (``LalrDriver.depths``)."""
    found = []
    for declaration in declarations:
        if depths.get(id(declaration), 0) > MAX_DEPTH + 1:
            span = declaration.span
            found.append(Diagnostic(
                "E106", Severity.ERROR,
                f"an expression here is nested more than {MAX_DEPTH} levels deep",
                Span(span.file, span.line, span.column, span.line, span.column + 1),
                help="split it into several `let`s"))
    return found


def _error_offset(error: UnexpectedInput, text: str) -> int:
    """Where to look for the next declaration: the error itself, or the declaration keyword
    that the lexer read as a name just before it."""

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
                           "cap_bound", "rank_direction", "aggregate_function",
                           "quantifier_kind", "function_name", "interval", "signed_integer",
                           "compare", "arithmetic"})


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
    partner_clause = else_reason_clause = among_clause = as_of_clause = _first
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
        return tuple(children)

    def table_row(self, span, children):
        *cells, result = children
        # The grammar cannot tell the last cell from the others: it must be a plain value.
        if isinstance(result, ast.EqualsTest):
            return ast.TableRow(tuple(cells), result.value, span=span)
        row = ast.TableRow(tuple(cells), ast.Literal(False, "boolean", span=result.span),
                           span=span)
        self.not_a_value[id(row)] = result.span  # reported by the table, which knows its header
        return row

    def table_decl(self, span, children):
        name, type_, policy, header, *rows, otherwise = children
        *inputs, result_column = header
        for number, row in enumerate(rows, start=1):
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

    cap_bound = rank_direction = comparison_op = _word
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
        name, label, total, limit, among, rank, *actions = children
        rank_by, direction = (rank[0], rank[1].name) if rank is not None else (None, "descending")
        return ast.BudgetDecl(name, self._text(label), total, limit, among, rank_by,
                              direction == "descending", tuple(actions), span=span)

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
