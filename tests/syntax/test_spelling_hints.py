"""Syntax errors a risk officer makes while typing (business spellings of numbers and operators,
a table row missing a cell) say how to write it instead."""

from __future__ import annotations

import pytest

from engine.pipeline import check_text


def test_a_row_missing_a_cell_says_how_many_cells_it_has() -> None:
    text = ("ruleset r\nfacts c\n  x: integer\n  y: integer\nend\ntable t: number\n"
            "  | c.x | c.y | t |\n  | >= 1 | >= 2 |\n  | 2 | 3 | 4 |\nend\n")
    assert [(d.code, d.message) for d in check_text(text, "t.rules").diagnostics] == [
        ("E105", "row 1 of table `t` has 2 cells but the header has 3: a cell is missing, so "
                 "its last cell is read as the table's value, which must not be a test")]


SPELLINGS = ("ruleset r\nfacts c\n  l: list of p\n  s: integer\nend\ntype p\n  d: integer\nend\n"
             "outputs\n  o: integer default 0\nend\n")


@pytest.mark.parametrize(("text", "message", "help"), [
    ("rule R when count of p in c.l where p.d > 0 >= 1 then set o = 1 end",
     "`>=` after `count … where …`: the filter takes everything to its right, so a comparison "
     "cannot follow it",
     "put the aggregate in parentheses: `rule R when (count of p in c.l where p.d > 0) >= 1 "
     "then set o = 1 end`"),
    ("let n = 1,000,000", "`,` inside a number", "write `1_000_000`: thousands are separated "
                                                 "with `_`"),
    ("let n = 100万", "`100万` is not a number of the language", "write `1_000_000`"),
    ("let n = 1e6", "`1e6` is not a number of the language", "write `1_000_000`"),
    ("let n = 45 %", "a percentage is written without a space", "write `45%`"),
    ("rule R when c.s = 1 || c.s = 2 then set o = 1 end", "`||` is not an operator", "write `or`"),
    ("rule R when c.s = 1 && c.s = 2 then set o = 1 end", "`&&` is not an operator",
     "write `and`"),
    ("rule R when c.s = 1 AND c.s = 2 then set o = 1 end",
     "`AND`: keywords are written in lowercase", "write `and`"),
    ("let n = （1）", "`（` is a full-width character",
     "write `(` (the language's punctuation is ASCII)"),
    ("rule R when c.s = 1 then\n  set o = 1\n  reasons R02\nend",
     "`reasons` opens the block that declares reason codes; in rule `R` an action gives one "
     "with `reason`", "write `reason CODE`, one action for each code"),
    ("rule R when c.s =< 1 then set o = 1 end", "`=<` is not an operator", "write `<=`"),
    ("let n = 50pct", "`50pct` is not a number of the language", "write `50%`"),
    ("let n = if c.s > 1 then 1", "`if` without `else`: an `if` gives a value in both cases",
     "add `else VALUE` after the `then` value"),
    ("rule R when c.s => 1 then set o = 1 end", "`=>` is not an operator", "write `>=`"),
    ("table t: number\n  | c.s | t |\n  | [700, 760) | 1 |\nend",
     "an interval is written with `..`",
     "write `[700..760)`: from 700 (included) up to 760 (excluded)"),
])
def test_business_spellings_get_a_write_it_as_hint(text: str, message: str, help: str) -> None:
    diagnostic = check_text(SPELLINGS + text + "\n", "s.rules").diagnostics[0]
    assert (diagnostic.message, diagnostic.help) == (message, help)


@pytest.mark.parametrize(("text", "message", "help"), [
    ('outputs\n  d: one of "approve", "refer" default "approve"\nend\n'
     "rule R when c.s > 1 then set d = refer end",
     "unknown name `refer`", '`refer` is a value of `d`: write it in quotes, `"refer"`'),
    ('facts m\n  amount: money\nend\nrule R when m.amount < "5000" then set o = 1 end',
     "cannot compare money with text", "write the number without quotes: `5000`"),
])
def test_values_written_in_the_wrong_quotes_get_a_hint(text: str, message: str,
                                                        help: str) -> None:
    diagnostic = next(d for d in check_text(SPELLINGS + text + "\n", "s.rules").diagnostics
                      if d.severity.value == "error")
    assert (diagnostic.message, diagnostic.help) == (message, help)
