"""The part of FEEL that Tenet's language can say exactly, read into Tenet's syntax tree.

Two readings: an expression (a literal expression, a table's input expression, an output entry)
and unary tests (a table's input entry). Anything else raises ``FeelError`` naming the construct,
so that the importer can refuse that one element and go on. Names in FEEL may hold spaces
(`Credit Score`): the reader knows the model's names and matches the longest one first.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.syntax import ast
from engine.syntax.grammar import keywords


class FeelError(Exception):
    """A FEEL construct with no exact form in Tenet's language; the message names it."""


@dataclass
class Names:
    """What the model's names become: a variable (input data, decision) a Tenet expression; a
    field of a structured type its Tenet field name."""

    variables: dict[str, ast.Expr]
    fields: dict[str, str]
    # Business knowledge models that a call inlines (arguments -> the body's expression), and
    # those refused, with why.
    functions: dict[str, Callable[[list[ast.Expr]], ast.Expr]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def known(self) -> list[str]:
        # Longest first, so that `Credit Score Band` is not read as `Credit Score` then `Band`.
        return sorted({*self.variables, *self.fields, *self.functions, *self.refused}, key=len,
                      reverse=True)

    def bound(self, variables: dict[str, ast.Expr]) -> Names:
        """The names a business knowledge model's body sees: its parameters, bound."""
        return Names(variables, self.fields, self.functions, self.refused)


def tenet_name(dmn_name: str) -> str:
    """A DMN name as a Tenet name: `Credit Score` and `creditScore` become `credit_score`; a
    keyword of the language gets `_value` after it."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", dmn_name.strip())
    name = re.sub(r"\W+", "_", spaced, flags=re.UNICODE).strip("_").lower()
    if not name:
        name = "unnamed"
    if name[0].isdigit():
        name = "n_" + name
    return name + "_value" if name in keywords() else name


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<symbol>\.\.|<=|>=|!=|\*\*|[-+*/=<>()\[\],.?@])
  | (?P<word>[^\W\d][\w']*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


@dataclass
class _Token:
    kind: str  # number, string, symbol, word, name (one of the model's names)
    text: str


def _tokens(text: str, names: Names) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    names_known = names.known()
    while position < len(text):
        known = next((name for name in names_known if text.startswith(name, position)
                      and not _continues(text, position + len(name))
                      and (position == 0 or not _continues(text, position - 1))), None)
        if known is not None:
            tokens.append(_Token("name", known))
            position += len(known)
            continue
        match = _TOKEN.match(text, position)
        kind = match.lastgroup
        if kind == "other":
            raise FeelError(f"the character `{match.group()}`")
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        position = match.end()
    return tokens


def _continues(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


class _Reader:
    """Recursive descent over FEEL's tokens, from the lowest precedence to the highest."""

    def __init__(self, text: str, names: Names) -> None:
        self.text = text
        self.names = names
        self.tokens = _tokens(text, names)
        self.position = 0
        self.in_interval = False

    # -- tokens

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind in ("symbol", "word") and token.text in texts

    def take(self, *texts: str) -> _Token:
        token = self.peek()
        if token is None or texts and not self.at(*texts):
            wanted = " or ".join(f"`{t}`" for t in texts) or "more"
            found = f"`{token.text}`" if token is not None else "the end"
            raise FeelError(f"FEEL that does not read as expected ({wanted} before {found} in "
                            f"`{self.text}`)")
        self.position += 1
        return token

    def done(self) -> None:
        if self.peek() is not None:
            raise FeelError(f"FEEL that does not read as expected (`{self.peek().text}` in "
                            f"`{self.text}`)")

    # -- expressions

    def expression(self) -> ast.Expr:
        if self.at("if"):
            self.take("if")
            condition = self.expression()
            self.take("then")
            then_value = self.expression()
            self.take("else")
            return ast.If(condition, then_value, self.expression())
        if self.at("for", "some", "every", "function"):
            raise FeelError(f"the FEEL `{self.peek().text}` expression")
        return self.disjunction()

    def _chained(self, ops: tuple[str, ...], operand: Callable[[], ast.Expr],
                 make: Callable[[str, ast.Expr, ast.Expr], ast.Expr] = ast.Binary) -> ast.Expr:
        """Operands joined by left-associative ``ops`` of one precedence level."""
        value = operand()
        while self.at(*ops):
            op = self.take().text
            value = make(op, value, operand())
        return value

    def disjunction(self) -> ast.Expr:
        return self._chained(("or",), self.conjunction)

    def conjunction(self) -> ast.Expr:
        return self._chained(("and",), self.comparison)

    def comparison(self) -> ast.Expr:
        value = self.additive()
        if self.at(*_COMPARISONS):
            op = self.take().text
            if self.at("null"):
                self.take()
                if op not in ("=", "!="):
                    raise FeelError(f"an order comparison with `null` (`{op} null`)")
                return ast.IsMissing(value, negated=op == "!=")
            return ast.Binary(op, value, self.additive())
        if self.at("between"):
            self.take()
            low = self.additive()
            self.take("and")
            return ast.Between(value, low, self.additive())
        if self.at("in"):
            self.take()
            if self.at("[", "(", "]") and self._is_interval():
                return _holds(value, self.positive_test())
            if self.at("("):  # `x in ("a", "b")`, `x in (< 5, > 10)`
                self.take()
                tests = self.positive_tests(condition=True)
                self.take(")")
                return _holds(value, tests)
            if self.at("["):
                return ast.In(value, self.primary())
            return _holds(value, self.positive_test())
        if self.at("instance"):
            raise FeelError("`instance of`")
        return value

    def additive(self) -> ast.Expr:
        return self._chained(("+", "-"), self.multiplicative)

    def multiplicative(self) -> ast.Expr:
        return self._chained(("*", "/", "**"), self.unary, _product)

    def unary(self) -> ast.Expr:
        if self.at("-"):
            self.take()
            return ast.Unary("-", self.unary())
        return self.postfix()

    def postfix(self) -> ast.Expr:
        value = self.primary()
        # In `]1..2[` the closing `[` ends the interval: no filter there.
        while self.at(".") or self.at("[") and not self.in_interval:
            if self.take().text == "[":
                raise FeelError("a filter or an index (`[…]` after a value)")
            token = self.peek()
            if token is None or token.kind not in ("name", "word"):
                raise FeelError(f"a path that does not name a field in `{self.text}`")
            self.take()
            component = self.names.fields.get(token.text) or tenet_name(token.text)
            value = ast.FieldAccess(value, ast.Ident(component))
        return value

    def primary(self) -> ast.Expr:
        token = self.peek()
        if token is None:
            raise FeelError(f"an incomplete FEEL expression `{self.text}`")
        if token.kind == "number":
            self.take()
            return ast.Literal(Decimal(token.text), "number")
        if token.kind == "string":
            self.take()
            return ast.Literal(_string(token.text), "text")
        if token.kind == "name" and token.text in self.names.variables:
            self.take()
            return self.names.variables[token.text]
        if self.at("true", "false"):
            return ast.Literal(self.take().text == "true", "boolean")
        if self.at("null"):
            raise FeelError("`null` as a value (Tenet has no missing literal)")
        if self.at("("):
            self.take()
            value = self.expression()
            self.take(")")
            return value
        if self.at("["):
            self.take()
            items = []
            while not self.at("]"):
                items.append(self.expression())
                if not self.at("]"):
                    self.take(",")
            self.take("]")
            return ast.ListLiteral(tuple(items))
        if self.at("@"):
            self.take()
            literal = self.take()
            if literal.kind != "string":
                raise FeelError("an `@` literal that is not a text")
            return _date(_string(literal.text))
        if token.kind in ("word", "name") and (following := self.peek(1)) is not None and (
                following.text == "("):
            return self.call()
        if token.kind in ("word", "name"):
            raise FeelError(f"the name `{token.text}`, which is not an input or a decision "
                            "of this model")
        raise FeelError(f"FEEL that does not read as expected (`{token.text}` in `{self.text}`)")

    def call(self) -> ast.Expr:
        name = self.take().text
        self.take("(")
        arguments = []
        while not self.at(")"):
            arguments.append(self.expression())
            if not self.at(")"):
                self.take(",")
        self.take(")")
        if name in self.names.refused:
            raise FeelError(f"it invokes `{name}`, {self.names.refused[name]}")
        make = self.names.functions.get(name) or _FUNCTIONS.get(name)
        if make is None:
            raise FeelError(f"the FEEL function `{name}`, which Tenet has no equivalent for")
        return make(arguments)

    # -- unary tests

    def unary_tests(self) -> ast.Cell:
        if self.at("-") and len(self.tokens) == 1:
            return ast.AnyCell()
        if self.at("not") and (following := self.peek(1)) is not None and following.text == "(":
            self.take()
            self.take("(")
            tests = self.positive_tests()
            self.take(")")
            self.done()
            if isinstance(tests, ast.MissingCell):
                raise FeelError("`not(null)` (any present value): a Tenet cell has no such test")
            return ast.NotCell(tests)
        tests = self.positive_tests()
        self.done()
        return tests

    def positive_tests(self, condition: bool = False) -> ast.Cell:
        """Tests separated by commas; in a cell `null` must stand alone, in a condition
        (``condition``: after `in`) it is one test among the others."""
        tests = [self.positive_test()]
        while self.at(","):
            self.take()
            tests.append(self.positive_test())
        if condition and len(tests) > 1:
            return ast.Alternatives(tuple(tests))
        if any(isinstance(test, ast.MissingCell) for test in tests):
            if len(tests) > 1:
                raise FeelError("`null` beside other tests in one cell")
            return tests[0]
        return tests[0] if len(tests) == 1 else ast.Alternatives(tuple(tests))

    def positive_test(self) -> ast.CellTest | ast.MissingCell:
        if self.at("null"):
            self.take()
            return ast.MissingCell()
        if self.at("?"):
            raise FeelError("a unary test with `?`")
        if self.at("<", "<=", ">", ">=", "=", "!="):
            op = self.take().text
            value = self.additive()
            return ast.EqualsTest(value) if op == "=" else ast.CompareTest(op, value)
        if self.at("[", "(", "]") and self._is_interval():
            opening = self.take().text
            self.in_interval = True
            low = self.additive()
            self.take("..")
            high = self.additive()
            self.in_interval = False
            closing = self.take("]", ")", "[").text
            return ast.IntervalTest(low, high, opening == "[", closing == "]")
        return ast.EqualsTest(self.additive())

    def _is_interval(self) -> bool:
        """Whether the bracket at hand opens an interval `[a..b]` (not a list or a group)."""
        depth = 1  # the bracket at hand opens, whichever way it faces (`]1..2[`)
        for token in self.tokens[self.position + 1:]:
            if token.text in ("(", "["):
                depth += 1
            elif token.text in (")", "]") and depth > 1:
                depth -= 1
            elif token.text == ".." and depth == 1:
                return True
            elif token.text in (",", ")", "]") and depth <= 1:
                return False
        return False


def _holds(value: ast.Expr, test: ast.Cell) -> ast.Expr:
    """`value in TESTS` as a condition: the unary tests of a cell, said of ``value``."""
    match test:
        case ast.MissingCell():
            return ast.IsMissing(value)
        case ast.EqualsTest(value=other):
            return ast.Binary("=", value, other)
        case ast.CompareTest(op=op, value=other):
            return ast.Binary(op, value, other)
        case ast.IntervalTest(low=low, high=high, low_closed=low_closed, high_closed=high_closed):
            return ast.Binary("and", ast.Binary(">=" if low_closed else ">", value, low),
                              ast.Binary("<=" if high_closed else "<", value, high))
        case ast.Alternatives(tests=tests):
            condition = _holds(value, tests[0])
            for other in tests[1:]:
                condition = ast.Binary("or", condition, _holds(value, other))
            return condition
    raise FeelError("`in` followed by tests Tenet cannot say as a condition")


def _product(op: str, left: ast.Expr, right: ast.Expr) -> ast.Expr:
    if op == "**":
        raise FeelError("exponentiation (`**`)")
    return _to_step(ast.Binary(op, left, right))


def _to_step(product: ast.Binary) -> ast.Expr:
    """`floor(x / step) * step` is Tenet's `round_down(x, step)` (`ceiling`: `round_up`)."""
    match product:
        case ast.Binary(op="*", left=ast.Call(
                function=ast.Ident(name=("round_down" | "round_up") as name),
                arguments=(ast.Binary(op="/", left=value, right=step), ast.Literal(value=one))),
                right=again) if one == 1 and again == step:
            return ast.Call(ast.Ident(name), (value, step))
    return product


def _string(token: str) -> str:
    body = token[1:-1]

    def unescape(match: re.Match[str]) -> str:
        if match.group(1) in ('"', "\\"):
            return match.group(1)
        raise FeelError(f"the escape `\\{match.group(1)}` in a FEEL string")

    text = re.sub(r"\\(.)", unescape, body)
    if "\n" in text:
        raise FeelError("a FEEL string over several lines")
    return text


def _date(text: str) -> ast.Literal:
    try:
        return ast.Literal(datetime.date.fromisoformat(text), "date")
    except ValueError:
        raise FeelError(f"the date or time `{text}` (Tenet has dates only)") from None


def _date_call(arguments: list[ast.Expr]) -> ast.Expr:
    if len(arguments) != 1 or not isinstance(arguments[0], ast.Literal) or not isinstance(
            arguments[0].value, str):
        raise FeelError("`date(…)` of something other than one text")
    return _date(arguments[0].value)


def _spread(name: str) -> Callable[[list[ast.Expr]], ast.Expr]:
    """`min`/`max` of a list literal or of several arguments."""
    def make(arguments: list[ast.Expr]) -> ast.Expr:
        if len(arguments) == 1 and isinstance(arguments[0], ast.ListLiteral):
            arguments = list(arguments[0].items)
        if len(arguments) == 1:
            raise FeelError(f"`{name}` of a list that is not written out")
        if not arguments:
            raise FeelError(f"`{name}()` of nothing")
        return ast.Call(ast.Ident(name), tuple(arguments))
    return make


def _items(name: str, arguments: list[ast.Expr]) -> list[ast.Expr]:
    """The values a `sum` or `mean` is of: a written list, or the arguments themselves."""
    if len(arguments) == 1 and isinstance(arguments[0], ast.ListLiteral):
        arguments = list(arguments[0].items)
    elif len(arguments) == 1:
        raise FeelError(f"`{name}` of a list that is not written out")
    if not arguments:
        raise FeelError(f"`{name}` of nothing (null in FEEL)")
    return arguments


def _sum(arguments: list[ast.Expr]) -> ast.Expr:
    items = _items("sum", arguments)
    total = items[0]
    for item in items[1:]:
        total = ast.Binary("+", total, item)
    return total


def _mean(arguments: list[ast.Expr]) -> ast.Expr:
    items = _items("mean", arguments)
    return ast.Binary("/", _sum(items), ast.Literal(Decimal(len(items)), "number"))


def _fixed(tenet: str, count: int, extra: tuple[ast.Expr, ...] = ()) -> Callable:
    def make(arguments: list[ast.Expr]) -> ast.Expr:
        if len(arguments) != count:
            raise FeelError(f"a call with {len(arguments)} arguments where {count} are expected")
        return ast.Call(ast.Ident(tenet), (*arguments, *extra))
    return make


def _not(arguments: list[ast.Expr]) -> ast.Expr:
    if len(arguments) != 1:
        raise FeelError("`not` with several arguments")
    return ast.Unary("not", arguments[0])


_ONE = ast.Literal(Decimal(1), "number")
_FUNCTIONS: dict[str, Callable[[list[ast.Expr]], ast.Expr]] = {
    "not": _not,
    "date": _date_call,
    "min": _spread("min"),
    "max": _spread("max"),
    "abs": _fixed("abs", 1),
    "floor": _fixed("round_down", 1, (_ONE,)),
    "ceiling": _fixed("round_up", 1, (_ONE,)),
    "decimal": _fixed("round", 2),  # both round half to even
    "count": _fixed("length", 1),
    "sum": _sum,  # of a written list: its items added
    "mean": _mean,
}


def expression(text: str, names: Names) -> ast.Expr:
    """A FEEL expression as a Tenet expression."""
    reader = _Reader(text, names)
    value = reader.expression()
    reader.done()
    return value


def unary_tests(text: str, names: Names) -> ast.Cell:
    """A decision table's input entry as a Tenet cell; an empty entry matches anything."""
    if not text.strip():
        return ast.AnyCell()
    return _Reader(text, names).unary_tests()

