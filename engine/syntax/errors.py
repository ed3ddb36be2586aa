"""Syntax errors phrased for a risk officer rather than as lists of token names.

The LALR parser stops at the first token it cannot take. From the parser's value stack we learn
which declaration it was in (`rule I01`, `table increase_factor`, …) and from the expected
terminals what would have fitted; the common mistakes get their own wording.
"""

from __future__ import annotations

import re
from decimal import Decimal

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.diagnostics import Diagnostic, Fix, Severity, Span
from engine.syntax.grammar import grammar

# Keywords that open a block closed by `end`, or a one-line declaration.
_BLOCKS = {"RULE": "rule", "FACTS": "facts", "TYPE": "type", "TABLE": "table",
           "OFFER": "offer", "BUDGET": "budget", "EXAMPLE": "example", "OUTPUTS": "outputs",
           "REASONS": "reasons", "PROPERTY": "property"}
_ONE_LINERS = {"LET": "let", "CAP": "cap", "RULESET": "ruleset", "INCLUDE": "include",
               "VERSION": "version", "EFFECTIVE": "effective"}
_DECLARATION_STARTS = {name for name in (*_BLOCKS, *_ONE_LINERS)}

_LAST_WORD = re.compile(r"([^\W\d]\w*)\s*\Z")
_WORD_CHAR = re.compile(r"\w")
_LONGEST_KEYWORD = 16

# Terminals that can begin an expression: when most of them are expected, say "an expression".
_EXPRESSION_STARTS = {"NAME", "NUMERAL", "STRING", "DATE_LITERAL", "TRUE", "FALSE", "LPAR",
                      "LSQB", "LBRACE", "MINUS", "NOT", "IF", "COUNT", "SUM", "MIN", "MAX",
                      "AVERAGE", "ANY", "ALL", "TODAY"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "EQUAL", "LESSTHAN", "MORETHAN", "LESSEQUAL",
              "MOREEQUAL", "NOTEQUAL", "AND", "OR", "BETWEEN", "IN", "IS", "NOT", "DOT"}
_WORDS = {"NAME": "a name", "NUMERAL": "a number", "STRING": 'a text in double quotes',
          "DATE_LITERAL": "a date", "$END": "the end of the file"}


def describe_syntax_error(error: UnexpectedInput, text: str, path: str) -> Diagnostic:
    """One diagnostic for a Lark parse error."""
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, text, path)
    assert isinstance(error, UnexpectedToken), error
    token = error.token
    context = _context(error, path)
    expected = set(error.expected)
    absorbed = absorbed_keyword(error, text)
    if absorbed is not None:
        # Where a name fits, the lexer reads `rule` as a name: the declaration before it is
        # unfinished, and the error belongs to that word rather than to the token after it.
        token = absorbed
        expected.add("END")
    span = _token_span(token, text, path)
    spelled = _business_spelling(token, text, span)
    if spelled is not None:
        return spelled

    if context is not None and context[0] == "rule" and token.type == "REASONS" and (
            "REASON" in expected):
        return Diagnostic(
            "E101", Severity.ERROR, "`reasons` opens the block that declares reason codes; in "
                                    f"rule `{context[1]}` an action gives one with `reason`",
            span, help="write `reason CODE`, one action for each code")

    if context is not None and context[0] in _BLOCKS.values() and "END" in expected and (
            token.type == "$END" or token.type in _DECLARATION_STARTS):
        kind, name, opening = context
        where = "the end of the file" if token.type == "$END" else f"line {token.line}"
        return Diagnostic(
            "E102", Severity.ERROR, f"{_describe_block(kind, name)} is not closed with `end`",
            opening or span, help=f"add `end` to close it before {where}")

    if context is not None and context[0] == "rule":
        _, name, _ = context
        if "THEN" in expected and "WHEN" not in expected:
            return Diagnostic(
                "E101", Severity.ERROR, f"expected `then` after the condition of rule `{name}`",
                span, help=f"found {_describe_token(token)}; a rule reads "
                           "`when CONDITION then ACTIONS end`")
        if "WHEN" in expected:
            return Diagnostic(
                "E101", Severity.ERROR, f"expected `when` and a condition in rule `{name}`",
                span, help=f"found {_describe_token(token)}; a rule reads "
                           "`rule NAME [\"label\"] [priority N] when CONDITION then ACTIONS end`")

    if token.type == "EQUAL" and _previous_char(text, token) == "=":
        return Diagnostic("E101", Severity.ERROR, "`==` is not an operator", span,
                          help="write a single `=` to compare two values", fix=Fix(span, ""))
    if "ELSE" in expected and token.type != "ELSE":
        opening = _last_if(text, token)
        if opening is not None:
            return Diagnostic(
                "E101", Severity.ERROR, "`if` without `else`: an `if` gives a value in both "
                                        "cases", Span(path, *opening),
                help="add `else VALUE` after the `then` value")
    if token.value in ("<", ">") and _previous_char(text, token) == "=":
        return Diagnostic("E101", Severity.ERROR, f"`={token.value}` is not an operator", span,
                          help=f"write `{token.value}=`",
                          fix=Fix(_widened(span, before=1), f"{token.value}="))

    if absorbed is not None and context is not None:
        return Diagnostic(
            "E101", Severity.ERROR,
            f"{_describe_block(*context[:2])} is incomplete before `{token}` on line {token.line}",
            span, help=f"finish {_describe_block(*context[:2])} before starting a new declaration")
    where = f" in {_describe_block(*context[:2])}" if context else ""
    return Diagnostic(
        "E101", Severity.ERROR, f"unexpected {_describe_token(token)}{where}", span,
        help=_expected_help(expected))


def _unexpected_character(error: UnexpectedCharacters, text: str, path: str) -> Diagnostic:
    char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
    span = Span(path, error.line, error.column, error.line, error.column + 1)
    if char == '"':
        line_end = text.find("\n", error.pos_in_stream)
        line_end = len(text) if line_end < 0 else line_end
        end_column = error.column + (line_end - error.pos_in_stream)
        return Diagnostic("E103", Severity.ERROR, "text is not closed with `\"`",
                          Span(path, error.line, error.column, error.line, max(end_column, error.column + 1)),
                          help='close the text with `"` on the same line')
    if char == "'":
        return Diagnostic("E103", Severity.ERROR, "texts are written in double quotes", span,
                          help='write `"…"` instead of `\'…\'`')
    if char in _FULL_WIDTH:
        return Diagnostic("E103", Severity.ERROR, f"`{char}` is a full-width character", span,
                          help=f"write `{_FULL_WIDTH[char]}` (the language's punctuation is ASCII)",
                          fix=Fix(span, _FULL_WIDTH[char]))
    before = text[:error.pos_in_stream]
    if char == "&" and text.startswith("&&", error.pos_in_stream):
        return Diagnostic("E103", Severity.ERROR, "`&&` is not an operator", span,
                          help="write `and`", fix=Fix(_widened(span, after=1), "and"))
    if char == "%" and re.search(r"\d\s+\Z", before[-40:]):
        found = re.search(r"(\d[\d_.]*)\s+\Z", before[-40:])
        number = found.group(1)
        return Diagnostic("E103", Severity.ERROR, "a percentage is written without a space",
                          span, help=f"write `{number}%`",
                          fix=Fix(_widened(span, before=len(found.group())), f"{number}%"))
    shown = char if char.isprintable() and not char.isspace() else repr(char)
    return Diagnostic("E103", Severity.ERROR, f"unexpected character `{shown}`", span,
                      help=_expected_help(set(error.allowed or ())))


_FULL_WIDTH = {"，": ",", "（": "(", "）": ")", "：": ":", "；": ";", "＝": "=", "“": '"',
               "”": '"', "［": "[", "］": "]", "＜": "<", "＞": ">", "－": "-", "＋": "+"}
_MULTIPLIERS = {"万": 10_000, "亿": 100_000_000, "千": 1_000, "百": 100}
_AGGREGATE = re.compile(r"\b(count|sum|min|max|average|any|all)\b(?!.*\b(count|sum|min|max|"
                        r"average|any|all)\b)")


def _business_spelling(token: Token, text: str, span: Span) -> Diagnostic | None:
    """How people write numbers and operators in documents, and how Tenet reads them."""
    position = token.start_pos if token.start_pos is not None else len(text)
    line_start = text.rfind("\n", 0, position) + 1
    before = text[line_start:position]
    after = text[position:text.find("\n", position) if "\n" in text[position:] else len(text)]
    value = str(token)
    if token.type == "COMMA" and re.search(r"\d\Z", before) and re.match(r",\d{3}\b", after):
        head = re.search(r"[\d_]+\Z", before).group()
        tail = re.match(r"(,\d{3})+", after).group()
        number = head + tail
        interval = re.search(r"[\[(]\s*[\d_.%-]+\Z", before)
        if not interval:
            return Diagnostic("E101", Severity.ERROR, "`,` inside a number", span,
                              help=f"write `{number.replace(',', '_')}`: thousands are "
                                   "separated with `_`",
                              fix=Fix(_widened(span, before=len(head), after=len(tail) - 1),
                                      number.replace(",", "_")))
    if token.type == "COMMA" and re.search(r"[\[(]\s*-?[\d_.%]+\s*\Z", before):
        return Diagnostic("E101", Severity.ERROR, "an interval is written with `..`", span,
                          help="write `[700..760)`: from 700 (included) up to 760 (excluded)")
    if token.type == "NAME" and re.search(r"\d\Z", before):
        written = re.search(r"[\d_.]+\Z", before).group()
        number = written.replace("_", "")
        whole_token = _widened(span, before=len(written))
        if value[:1] in _MULTIPLIERS:
            whole = Decimal(number) * _MULTIPLIERS[value[0]]
            # Only the first character multiplies (`5万元`: the rest is a unit): it is all
            # that the fix replaces with the number.
            only_first = Span(span.file, whole_token.line, whole_token.column, span.line,
                              span.column + 1)
            return Diagnostic("E101", Severity.ERROR, f"`{number}{value[0]}` is not a number of "
                              "the language", span, help=f"write `{int(whole):_}`",
                              fix=Fix(only_first, f"{int(whole):_}"))
        if value.lower() in ("pct", "percent"):
            return Diagnostic("E101", Severity.ERROR, f"`{number}{value}` is not a number of the "
                              "language", span, help=f"write `{number}%`",
                              fix=Fix(whole_token, f"{number}%"))
        if re.fullmatch(r"[eE]\d+", value):
            whole = Decimal(number) * 10 ** int(value[1:])
            shown = f"{int(whole):_}" if whole == whole.to_integral_value() else str(whole)
            return Diagnostic("E101", Severity.ERROR, f"`{number}{value}` is not a number of the "
                              "language", span, help=f"write `{shown}`",
                              fix=Fix(whole_token, shown))
    if token.type == "NAME" and value in ("AND", "OR", "NOT"):
        return Diagnostic("E101", Severity.ERROR, f"`{value}`: keywords are written in lowercase",
                          span, help=f"write `{value.lower()}`", fix=Fix(span, value.lower()))
    if token.type == "RESULTS_BAR":  # `||` only separates a table's inputs from its results
        return Diagnostic("E101", Severity.ERROR, "`||` is not an operator", span,
                          help="write `or`", fix=Fix(span, "or"))
    if token.type == "RPAR" and re.search(r"\[\s*-?[\d_.%]+\s*,\s*-?[\d_.%]+\s*\Z", before):
        return Diagnostic("E101", Severity.ERROR, "an interval is written with `..`", span,
                          help="write `[700..760)`: from 700 (included) up to 760 (excluded)")
    if value in ("=", "!=", "<", ">", "<=", ">="):
        aggregate = _AGGREGATE.search(before)
        if aggregate is not None and " where " in before[aggregate.start():]:
            start = aggregate.start()
            fixed = f"{before[:start]}({before[start:].rstrip()}) {after}".strip()
            return Diagnostic(
                "E101", Severity.ERROR, f"`{value}` after `{aggregate.group()} … where …`: the "
                "filter takes everything to its right, so a comparison cannot follow it", span,
                help=f"put the aggregate in parentheses: `{fixed}`")
    return None


def absorbed_keyword(error: UnexpectedInput, text: str) -> Token | None:
    """The declaration keyword that the lexer read as a name just before the error, if that
    word starts its line; returned as a keyword token."""
    parser = getattr(error, "interactive_parser", None)
    token = getattr(error, "token", None)
    if parser is None or not isinstance(token, Token) or not parser.parser_state.value_stack:
        return None
    end = len(text) if token.type == "$END" or token.start_pos is None else token.start_pos
    # Only the end of the text before the error matters: searching all of it would take
    # quadratic time behind a long word (a comment of 60,000 letters took minutes).
    window = max(0, len(text[:end].rstrip()) - _LONGEST_KEYWORD)
    match = _LAST_WORD.search(text, window, end)
    if match is None or (match.start(1) == window and window and _WORD_CHAR.match(text, window - 1)):
        return None
    word = match.group(1)
    keyword = word.upper()
    last = parser.parser_state.value_stack[-1]
    if keyword not in _DECLARATION_STARTS or (isinstance(last, Token) and last.type == keyword):
        return None
    start = match.start(1)
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return None
    line = text.count("\n", 0, start) + 1
    column = start - line_start + 1
    return Token(keyword, word, start, line, column, line, column + len(word), start + len(word))


def _context(error: UnexpectedToken, path: str) -> tuple[str, str | None, Span | None] | None:
    """The innermost declaration the parser was in: (keyword, its name, where it opened)."""
    parser = getattr(error, "interactive_parser", None)
    if parser is None:
        return None
    stack = list(parser.parser_state.value_stack)
    for index in range(len(stack) - 1, -1, -1):
        item = stack[index]
        if isinstance(item, Token) and (item.type in _BLOCKS or item.type in _ONE_LINERS):
            kind = _BLOCKS.get(item.type) or _ONE_LINERS[item.type]
            name = None
            if index + 1 < len(stack):
                following = stack[index + 1]
                if isinstance(following, Tree) and following.children:
                    name = str(following.children[0])
                elif isinstance(following, Token):
                    name = str(following)
            if isinstance(name, str) and name.startswith('"'):
                name = name.strip('"')
            opening = Span(path, item.line, item.column, item.end_line, item.end_column)
            return kind, name, opening
    return None


def _describe_block(kind: str, name: str | None) -> str:
    if kind in ("outputs", "reasons") or name is None:
        return f"the `{kind}` block"
    return f"{kind} `{name}`"


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type == "NUMERAL":
        return f"number `{token}`"
    if token.type == "STRING":
        return f"text {token}"
    if token.type == "DATE_LITERAL":
        return f"date `{token}`"
    if token.value.isalpha():
        return f"keyword `{token}`"
    return f"`{token}`"


def _expected_help(expected: set[str]) -> str | None:
    """`expected …` in words: an expression, an operator, or the keywords that fit."""
    words: list[str] = []
    remaining = set(expected)
    if len(remaining & _DECLARATION_STARTS) >= 6:
        words.append("a declaration (`rule`, `let`, `table`, …)")
        remaining -= _DECLARATION_STARTS | {"EXAMPLE", "BUDGET", "OFFER", "$END"}
    if len(remaining & _EXPRESSION_STARTS) >= 6:
        words.append("an expression")
        remaining -= _EXPRESSION_STARTS
    if len(remaining & _OPERATORS) >= 4:
        words.append("an operator")
        remaining -= _OPERATORS
    terminals = {t.name: t for t in grammar().terminals}
    for name in sorted(remaining):
        if name in _WORDS:
            words.append(_WORDS[name])
        elif name in terminals and terminals[name].pattern.type == "str":
            words.append(f"`{terminals[name].pattern.value}`")
    if not words:
        return None
    if len(words) > 8:
        words = words[:8] + ["…"]
    return "expected " + ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def _last_if(text: str, token: Token) -> tuple[int, int, int, int] | None:
    """Where the last `if` before ``token`` is (line, column, end line, end column)."""
    end = token.start_pos if token.start_pos is not None else len(text)
    found = None
    for match in re.finditer(r"\bif\b", text[:end]):
        found = match
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return line, column, line, column + 2


def _token_span(token: Token, text: str, path: str) -> Span:
    if token.type == "$END" or token.line is None:
        lines = text.splitlines() or [""]
        last = len(lines)
        column = len(lines[-1]) + 1
        return Span(path, last, column, last, column + 1)
    return Span(path, token.line, token.column, token.end_line, token.end_column)


def _previous_char(text: str, token: Token) -> str:
    position = (token.start_pos or 0) - 1
    return text[position] if position >= 0 else ""


def _widened(span: Span, before: int = 0, after: int = 0) -> Span:
    """``span`` with ``before`` more characters before it and ``after`` more after it, on its
    line."""
    return Span(span.file, span.line, span.column - before, span.end_line,
                span.end_column + after)
