"""The checker's rules, one behaviour per case, on small rulesets with exact expected findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.check import types as t
from engine.pipeline import check_path, check_text

SCHEMA = '''ruleset checks
facts customer
  balance: money
  income: money optional
  score: integer
  rate: number
  segment: one of "retail", "micro"
  opened: date
  consents: set of text
  loans: list of loan
end
type loan
  amount: money
  dpd: integer
  opened: date
end
reasons
  R1 "One"
end
outputs
  action: one of "decrease", "hold", "increase" combine priority default "hold"
  new_limit: money default customer.balance
  tags: list of text
end
rule BASE when customer.score > 0 then
  set action = "hold"
  set new_limit = customer.balance
  add "base" to tags
  reason R1
end
'''


def errors(body: str) -> list[tuple[str, str]]:
    result = check_text(SCHEMA + body, "checks.rules")
    return [(d.code, d.message) for d in result.diagnostics if d.code.startswith("E")]


def let_type(expression: str) -> t.Type:
    body = f"let probe = {expression}\nrule USE when probe is missing then reason R1 end\n"
    result = check_text(SCHEMA + body, "checks.rules")
    assert [d.message for d in result.diagnostics if d.code.startswith("E")] == []
    let = result.program.symbols.lets["probe"]
    return result.program.types[id(let.value)]


@pytest.mark.parametrize(("expression", "expected"), [
    ("customer.balance + customer.balance", t.MONEY),
    ("customer.balance + 100", t.MONEY),
    ("100 - customer.balance", t.MONEY),
    ("customer.balance * customer.rate", t.MONEY),
    ("customer.rate * customer.balance", t.MONEY),
    ("customer.balance * 1.5", t.MONEY),
    ("customer.balance / customer.score", t.MONEY),
    ("customer.balance / customer.balance", t.NUMBER),
    ("customer.score + 1", t.INTEGER),
    ("customer.score / 2", t.NUMBER),
    ("customer.score * customer.rate", t.NUMBER),
    ("1 + 2 * 40%", t.NUMERAL),
    ("if customer.score > 1 then customer.balance else 0", t.MONEY),
    ("if customer.score > 1 then customer.score else customer.rate", t.NUMBER),
    ("max(customer.balance, 0, customer.income)", t.MONEY),
    ("min(customer.opened, today)", t.DATE),
    ("round(customer.rate, 2)", t.NUMBER),
    ("round_down(customer.balance, 100)", t.MONEY),
    ("abs(customer.score)", t.INTEGER),
    ("days_between(customer.opened, today)", t.INTEGER),
    ("months_between(customer.opened, today)", t.INTEGER),
    ("length(customer.loans)", t.INTEGER),
    ("count of l in customer.loans where l.dpd > 30", t.INTEGER),
    ("sum of l.amount for l in customer.loans", t.MONEY),
    ("average of l.dpd for l in customer.loans", t.NUMBER),
    ("max of l.opened for l in customer.loans", t.DATE),
    ("any l in customer.loans where l.amount > customer.balance", t.BOOLEAN),
    ('"x" in customer.consents', t.BOOLEAN),
    ("customer.balance between 0 and 1_000", t.BOOLEAN),
    ("customer.segment", t.Enum(("retail", "micro"))),
    ("tags", t.ListOf(t.TEXT)),
])
def test_inferred_types(expression: str, expected: t.Type) -> None:
    assert let_type(expression) == expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("customer.balance + customer.rate", ("E402", "cannot add money and number")),
    ("customer.balance - customer.score", ("E402", "cannot subtract money and integer")),
    ("customer.balance * customer.balance", ("E402", "cannot multiply money by money")),
    ("customer.rate / customer.balance", ("E402", "cannot divide number by money")),
    ("customer.balance > customer.rate", ("E402", "cannot compare money with number")),
    ("max(customer.balance, customer.rate)", ("E402", "`max` mixes money and number")),
    ("round_down(customer.balance, customer.rate)",
     ("E402", "the step of `round_down` is number, the value money")),
    ("if customer.score > 1 then customer.balance else customer.rate",
     ("E402", "the branches of `if` differ: money after `then`, number after `else`")),
    ("customer.opened + 1", ("E401", "`+` needs numbers, not date")),
    ('customer.segment = "corporate"',
     ("E403", '"corporate" is not one of "retail", "micro"')),
    ('customer.segment in ["retail", "corp"]',
     ("E403", '"corp" is not one of "retail", "micro"')),
    ('customer.segment < "micro"', ("E413", '`<` needs numbers or dates, not one of "retail", '
                                            '"micro"')),
    ("customer.score and true",
     ("E404", "the left side of `and` must be true or false, not integer")),
    ("customer.balance in customer.balance",
     ("E412", "`in` needs a list or set on its right, not money")),
    ("sum of l.opened for l in customer.loans", ("E401", "`sum` adds numbers, not date")),
    ("count of l in customer.loans where l.nope", ("E302", "`loan` has no field `nope`")),
    ("l.amount", ("E301", "unknown name `l`")),
    ("abs(1, 2)", ("E405", "`abs` takes 1 argument, not 2")),
    ("round(customer.rate, 1, 2)", ("E405", "`round` takes 1 or 2 arguments, not 3")),
    ("max(1)", ("E405", "`max` takes at least 2 arguments, not 1")),
    ("days_between(customer.opened, 5)",
     ("E401", "argument 2 of `days_between` must be a date, not a number without unit")),
    ("length(customer.score)", ("E412", "`length` needs a list or set, not integer")),
])
def test_expression_errors(expression: str, expected: tuple[str, str]) -> None:
    assert errors(f"let probe = {expression}\nrule USE when probe is missing then reason R1 end\n") \
        == [expected]


def test_aggregate_variables_are_scoped_to_their_aggregate() -> None:
    # `l` is bound inside the aggregate only; the let read inside it does not see `l`.
    assert errors("""
        let first_dpd = l.dpd
        rule USE when (count of l in customer.loans where first_dpd > 0) > 0 then reason R1 end
    """) == [("E301", "unknown name `l`")]


@pytest.mark.parametrize(("body", "expected"), [
    ('rule X when true then set action = "raise" end',
     [("E403", '"raise" is not one of "decrease", "hold", "increase"')]),
    ('rule X when true then set tags = ["a"] end',
     [("E406", "output `tags` collects values: write `add … to tags`")]),
    ("rule X when true then add 1 to tags end",
     [("E401", "each element of output `tags` is text, but this is a number without unit")]),
    ("rule X when true then set new_limit = customer.rate end",
     [("E402", "output `new_limit` is money, but this is number")]),
    ("cap tags at most 3",
     [("E413", "a cap bounds a number, money or a date, but output `tags` is list of text")]),
    ("cap new_limit at most customer.score",
     [("E402", "the bound of output `new_limit` is money, but this is integer")]),
    ("cap new_limit at most 200_000 when customer.balance because R7",
     [("E404", "the condition of a cap must be true or false, not money"),
      ("E304", "unknown reason code `R7`")]),
    ('offer o partner "p" end\nrule X when true then offer o amount customer.rate end',
     [("E502", 'offer `o` shares data with partner "p" but has no `requires` condition'),
      ("E402", "an offer's amount is money, but this is number")]),
    ('offer o requires customer.consents else reason R1 end\nrule X when true then offer o end',
     [("E404", "the `requires` of offer `o` must be true or false, not set of text")]),
    ("rule X when true then set offers = [] end", [("E306", "unknown output `offers`")]),
])
def test_action_and_declaration_errors(body: str, expected: list[tuple[str, str]]) -> None:
    assert errors(body) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("table f: integer hit sum\n | customer.score | f |\n | > 1 | 2 |\nend",
     []),
    ("table f hit collect\n | customer.score | f |\n | > 1 | 2 |\n otherwise 0\nend",
     [("E401", "the `otherwise` value of table `f` is list of a number without unit, but this "
               "is a number without unit")]),
    ('table f: one of "a", "b" hit priority\n | customer.score | f |\n | > 1 | "c" |\nend',
     [("E403", '"c" is not one of "a", "b"')]),
    ("table f hit output order\n | customer.score | f |\n | > 1 | 2 |\nend",
     [("E407", "`hit output order` needs a list of `one of` values, but table `f` gives a "
               "number without unit")]),
    ("table f\n | customer.score | f |\n | [1..customer.balance] | 2 |\nend",
     [("E409", "cell does not fit its column: cannot compare money with integer")]),
    ('table f\n | customer.segment | f |\n | "retail", "corp" | 2 |\nend',
     [("E403", '"corp" is not one of "retail", "micro"')]),
    ('table f\n | customer.score | f |\n | > 1 | 2 |\n | > 2 | "x" |\nend',
     [("E401", "table `f` gives a number without unit in an earlier row but text here")]),
])
def test_tables(body: str, expected: list[tuple[str, str]]) -> None:
    use = "\nrule USE when f is missing then reason R1 end\n"
    assert errors(body + use) == expected


def test_outputs_policies() -> None:
    body = """
    outputs
      sum_total: money combine sum default 0
      n: integer combine count
      worst: date combine min
      flags: list of one of "a", "b" combine output order
      bad_sum: text combine sum
      bad_collect: money combine collect
    end
    rule X when true then set sum_total = 1 set n = 1 set worst = today add "a" to flags
      set bad_sum = "x" set bad_collect = 1 end
    """
    assert errors(body) == [
        ("E407", "`combine sum` needs numbers or money, but output `bad_sum` is text"),
        ("E407", "`combine collect` needs a list or set, but output `bad_collect` is money"),
    ]


def test_rules_may_read_outputs_of_other_rules_but_not_their_own() -> None:
    assert errors("""
        rule FOLLOW when action = "decrease" then add "followed" to tags end
    """) == []
    assert errors("""
        let decreasing = action = "decrease"
        table t | decreasing | t | | true | 1 | otherwise 0 end
        rule LOOP when t > 0 then set action = "decrease" end
    """) == [("E501", "dependency cycle: rule `LOOP` → table `t` → let `decreasing` → "
                      "output `action` → rule `LOOP`")]


def test_examples_check_facts_and_expectations() -> None:
    body = """
    offer card "A card" end
    rule CARD when customer.score > 700 then offer card end
    example "full"
      as of 2026-12-15
      given customer = { balance: 1_000, score: 720, rate: 0.5, segment: "retail",
                         opened: 2020-01-01, consents: ["share"],
                         loans: [ { amount: 10, dpd: 0, opened: 2021-01-01 } ] }
      expect action = "hold"
      expect new_limit = 1_000
      expect tags = ["base"]
      expect offers = [card]
      expect reasons = [R1]
      expect reasons include R1
    end
    example "wrong"
      given customer = { balance: 1_000, score: 1.5, rate: 0.5, segment: "corp",
                         opened: "2020", consents: [], loans: [] }
      expect offers = [cards]
      expect action = "up"
    end
    """
    assert errors(body) == [
        ("E503", "customer.score: expected integer, got number 1.5"),
        ("E403", '"corp" is not one of "retail", "micro"'),
        ("E503", 'customer.opened: expected date, got text "2020"'),
        ("E305", "unknown offer `cards`"),
        ("E403", '"up" is not one of "decrease", "hold", "increase"'),
    ]


def test_includes_are_read_once_and_share_one_namespace(tmp_path: Path) -> None:
    (tmp_path / "schema.rules").write_text("facts customer\n  score: integer\nend\n")
    (tmp_path / "reasons.rules").write_text(
        'include "schema.rules"\nreasons\n  R1 "One"\nend\nlet score = customer.score\n')
    (tmp_path / "main.rules").write_text(
        'include "schema.rules"\ninclude "reasons.rules"\nruleset main\n'
        "outputs\n  a: integer default 0\nend\nlet score = 1\n"
        "rule X when customer.score > score then set a = 1 reason R1 end\n")
    result = check_path(tmp_path / "main.rules")
    # The root file is read first, so the included declaration is the duplicate.
    assert [(d.code, Path(d.span.file).name, d.message) for d in result.diagnostics] \
        == [("E206", "reasons.rules", "`score` is already declared as a let")]
    assert len(result.sources.modules) == 3
