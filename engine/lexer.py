"""A fast contextual lexer for the LALR parser.

Lark's contextual lexer builds one large regular expression per parser state; on the rule
language (a hundred keywords) it spends most of a parse in the lexer. This lexer scans with one
small expression and decides per word, from the parser's current state, whether it is a keyword:
a word is a keyword only where the parser can take that keyword, and otherwise a NAME. That is the
contextual lexer's rule, which lets real field names such as `amount`, `date` or `count` be used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer, LexerState, Token

_SCAN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<DATE_LITERAL>\d{4}-\d{2}-\d{2})
  | (?P<NUMERAL>\d(?:_?\d)*(?:\.\d(?:_?\d)*)?%?)
  | (?P<word>[^\W\d]\w*)
  | (?P<STRING>"(?:[^"\\\n]|\\.)*")
  | (?P<symbol>\.\.|!=|<=|>=|[-+*/=<>()\[\]{}|,:.])
""", re.VERBOSE)


class ContextualKeywordLexer(Lexer):
    """Lark custom lexer (future interface 2: it receives the parser state)."""

    __future_interface__ = 2

    def __init__(self, lexer_conf) -> None:
        self.literals: dict[str, str] = {}
        for terminal in lexer_conf.terminals:
            if terminal.pattern.type == "str":
                self.literals[terminal.pattern.value] = terminal.name

    def lex(self, lexer_state: LexerState, parser_state) -> Iterator[Token]:
        text_slice = lexer_state.text
        text = text_slice.text
        position = text_slice.start
        end = text_slice.end
        line, line_start = 1, 0
        literals = self.literals
        states = parser_state.parse_conf.states
        match_at = _SCAN.match
        while position < end:
            match = match_at(text, position)
            if match is None:
                accepted = set(states[parser_state.position])
                raise UnexpectedCharacters(text, position, line, position - line_start + 1,
                                           allowed=accepted, state=parser_state.position)
            kind = match.lastgroup
            value = match.group()
            start = position
            position = match.end()
            if kind == "space":
                continue
            if kind == "newline":
                line += 1
                line_start = position
                continue
            if kind == "word":
                keyword = literals.get(value)
                if keyword is None:
                    kind = "NAME"
                else:
                    accepted = states[parser_state.position]
                    # A keyword where the parser takes it (or where it takes no name either,
                    # so that the error names the keyword); a name everywhere else.
                    kind = keyword if keyword in accepted or "NAME" not in accepted else "NAME"
            elif kind == "symbol":
                kind = literals[value]
            column = start - line_start + 1
            token = Token(kind, value, start, line, column, line, column + len(value), position)
            lexer_state.last_token = token
            yield token
