"""A lean driver for Lark's LALR tables, with a contextual keyword lexer.

Lark builds the tables and the tree callbacks from ``grammar/tenet.lark``; this module only runs
them. Lark's own parse loop and contextual lexer are general (any grammar, interactive parsing,
regex collisions per state) and spend most of a large parse on that generality; here the loop is
a dozen lines over plain dictionaries and the lexer scans with one small expression. A word is a
keyword only where the parser can take that keyword and a NAME elsewhere — the contextual lexer's
rule, which lets real field names such as `amount`, `date` or `count` be used.

Errors are raised as Lark's own ``UnexpectedToken`` and ``UnexpectedCharacters``, carrying a
snapshot of the value stack, so ``engine.syntax.errors`` can say where the parser was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.parse_tree_builder import ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

_SCAN = re.compile(r"""
    (?P<space>[ \t]+|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<DATE_LITERAL>\d{4}-\d{2}-\d{2})
  | (?P<NUMERAL>\d(?:_?\d)*(?:\.\d(?:_?\d)*)?%?)
  | (?P<word>[^\W\d]\w*)
  | (?P<STRING>"[^"\\\n]*(?:\\.[^"\\\n]*)*")
  | (?P<symbol>\.\.|!=|<=|>=|\|\||[-+*/=<>()\[\]{}|,:.])
  | (?P<error>.)
""", re.VERBOSE | re.DOTALL)


@dataclass
class _ParserState:
    """What an error carries about the parser: the values it had shifted and reduced."""

    value_stack: list[Any]


@dataclass
class _Snapshot:
    parser_state: _ParserState


class LalrDriver:
    """Runs the LALR tables of a Lark parser built with an inline transformer."""

    def __init__(self, lark: Lark,
                 reducer: Callable[[str, list[str]], Callable[[list], Any] | None],
                 measured: Collection[str] = ()) -> None:
        """``reducer(rule, expansion)``: the function that builds a rule's value from its
        children, or None for Lark's own (a Tree, which an inlined `_rule` hands up). It is
        wrapped in Lark's filters for the rule (placeholders, inlining) and nothing else.

        The parse also measures how deeply values nest: a value is one level above its deepest
        child, tokens are level 0, and a tuple or an inlined rule's tree adds no level of its
        own (its items are the parent's children). ``depths`` gives the depth of every value of
        the ``measured`` rules, by id, after each parse."""
        parser = lark.parser.parser.parser
        filters = dict(lark._parse_tree_builder.rule_builders)
        table = parser.parse_table
        self.start_state = table.start_states["start"]
        self.end_state = table.end_states["start"]
        # Per state: terminal -> next state (a shift, >= 0) or -(rule number + 1) (a reduce).
        self.actions: dict[int, dict[str, int]] = {}
        self.gotos: dict[int, dict[str, int]] = {}
        rules: dict[Any, int] = {}
        self.sizes: list[int] = []
        self.passes: list[bool] = []
        self.origins: list[str] = []
        self.callbacks: list[Any] = []
        self.flat: list[bool] = []  # inlined `_rule`s: their trees add no level
        self.measured: list[bool] = []
        self.depths: dict[int, int] = {}
        for state, row in table.states.items():
            actions, gotos = self.actions.setdefault(state, {}), self.gotos.setdefault(state, {})
            for symbol, (action, argument) in row.items():
                symbol = str(symbol)
                if action is Shift:
                    (actions if symbol.isupper() or symbol == "$END" else gotos)[symbol] = argument
                    continue
                if argument not in rules:
                    rules[argument] = len(self.sizes)
                    # `?rule: one_symbol` hands its only child up unchanged (most reductions
                    # of an expression): the loop changes the state and leaves the value.
                    self.sizes.append(len(argument.expansion))
                    self.passes.append(len(argument.expansion) == 1 and isinstance(
                        parser.callbacks[argument], ExpandSingleChild))
                    self.origins.append(str(argument.origin.name))
                    self.callbacks.append(self._callback(argument, parser, filters, reducer))
                    name = _name(argument)
                    self.flat.append(name.startswith("_"))
                    self.measured.append(name in measured)
                actions[symbol] = -rules[argument] - 1
        self.literals = {t.pattern.value: t.name for t in lark.terminals
                         if t.pattern.type == "str"}
        self._passes_cache: dict[tuple[int, int, str], int] = {}

    def _reduce(self, rule: int, states: list[int], values: list[Any], levels: list[int]) -> None:
        size = self.sizes[rule]
        if size:
            children = values[-size:]
            level = max(levels[-size:])
            del states[-size:], values[-size:], levels[-size:]
        else:
            children, level = [], 0
        value = self.callbacks[rule](children)
        if value.__class__ is not tuple and not self.flat[rule]:
            level += 1
        values.append(value)
        levels.append(level)
        if self.measured[rule]:
            self.depths[id(value)] = level
        states.append(self.gotos[states[-1]][self.origins[rule]])

    @staticmethod
    def _callback(rule: Any, parser: Any, filters: dict, reducer: Callable) -> Callable:
        callback = reducer(_name(rule), [str(symbol.name) for symbol in rule.expansion])
        if callback is None:
            return parser.callbacks[rule]
        for wrap in filters[rule]:
            callback = wrap(callback)
        return callback

    def parse(self, text: str) -> Any:
        states = [self.start_state]
        values: list[Any] = []
        levels: list[int] = []  # beside values: how deeply each nests
        self.depths = {}
        actions, gotos = self.actions, self.gotos
        origins = self.origins
        passes, chains = self.passes, self._passes_cache
        for token in self._tokens(text, states):
            kind = token.type
            while True:
                action = actions[states[-1]].get(kind)
                if action is None:
                    self._unexpected(token, states, values)
                if action >= 0:
                    states.append(action)
                    values.append(token)
                    levels.append(0)
                    break
                rule = -action - 1
                if passes[rule]:  # the child is the value: only the state changes
                    below = states[-2]
                    states[-1] = chains.get((below, states[-1], kind)) or self._after_passes(
                        below, states[-1], kind)
                    continue
                self._reduce(rule, states, values, levels)
        end = Token("$END", "", len(text), *_end_position(text))
        while states[-1] != self.end_state:
            action = actions[states[-1]].get("$END")
            if action is None or action >= 0:
                self._unexpected(end, states, values)
            rule = -action - 1
            if passes[rule]:
                states[-1] = gotos[states[-2]][origins[rule]]
                continue
            self._reduce(rule, states, values, levels)
        return values[-1]

    def _after_passes(self, below: int, top: int, kind: str) -> int:
        """The state after every pass-through reduction the parser makes in state ``top``
        (above ``below``) before ``kind``: chains of them (a literal becoming an operand of
        each precedence level in turn) are most of the reductions, and they depend only on
        these three, so each chain is walked once."""
        key = (below, top, kind)
        found = self._passes_cache.get(key)
        if found is None:
            state, action = top, self.actions[top].get(kind)
            while action is not None and action < 0 and self.passes[-action - 1]:
                state = self.gotos[below][self.origins[-action - 1]]
                action = self.actions[state].get(kind)
            found = self._passes_cache[key] = state
        return found

    def _unexpected(self, token: Token, states: list[int], values: list[Any]) -> None:
        expected = set(self.actions[states[-1]])
        raise UnexpectedToken(token, expected, interactive_parser=_Snapshot(
            _ParserState(list(values))))

    def _tokens(self, text: str, states: list[int]) -> Iterator[Token]:
        """Tokens of ``text``; reads the parser's current state (``states[-1]``) to decide
        whether each word is a keyword."""
        actions, literals = self.actions, self.literals
        line, line_start = 1, 0
        new_token = str.__new__
        # One pass of the expression over the text; `error` matches any character no token
        # starts with, so every character is accounted for.
        for match in _SCAN.finditer(text):
            kind = match.lastgroup
            if kind == "space":
                continue
            start, position = match.span()
            if kind == "newline":
                line, line_start = line + 1, position
                continue
            if kind == "error":
                raise UnexpectedCharacters(text, start, line, start - line_start + 1,
                                           allowed=set(actions[states[-1]]))
            value = match.group()
            if kind == "word":
                keyword = literals.get(value)
                if keyword is None:
                    kind = "NAME"
                else:
                    accepted = actions[states[-1]]
                    # A keyword where the parser takes it (or where it takes no name either,
                    # so that the error names the keyword); a name everywhere else.
                    kind = keyword if keyword in accepted or "NAME" not in accepted else "NAME"
            elif kind == "symbol":
                kind = literals[value]
            # Lark's Token, made without its constructor's argument handling (a tenth of
            # the parse): tokens never span lines.
            token = new_token(Token, value)
            token.type, token.value, token.start_pos, token.end_pos = kind, value, start, position
            token.line = token.end_line = line
            token.column = start - line_start + 1
            token.end_column = token.column + len(value)
            yield token


def _end_position(text: str) -> tuple[int, int, int, int]:
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return line, column, line, column


def _name(rule: Any) -> str:
    """The name a rule's value is built under: its alias, or the rule's own name."""
    return str(rule.alias or rule.options.template_source or rule.origin.name)
