"""The grammar (``grammar/tenet.lark``), analysed once per process by Lark (LALR, strict): the
tables the parser runs, the terminals syntax errors name, the words that are keywords."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark

from engine.syntax.grammar_cache import cached_lark
from engine.syntax.source import ENGINE


def grammar_text() -> str:
    """grammar/tenet.lark from a checkout, or as installed inside the package."""
    checkout = ENGINE.parent / "grammar" / "tenet.lark"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    return resources.files("engine.grammar").joinpath("tenet.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def grammar() -> Lark:
    """The Lark parser compiled from grammar/tenet.lark (tables, terminals, callbacks); every
    token is kept, so that each node's span covers its keywords."""
    return cached_lark(grammar_text(), parser="lalr", lexer="basic", strict=True,
                       keep_all_tokens=True, maybe_placeholders=True)


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every word the grammar uses as a keyword somewhere; such words cannot name declarations."""
    word = re.compile(r"^[^\W\d]\w*$")
    return frozenset(
        terminal.pattern.value for terminal in grammar().terminals
        if terminal.pattern.type == "str" and word.match(terminal.pattern.value)
    )
