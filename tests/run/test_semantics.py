"""The meaning of the language (LANGUAGE.md sections 3-9), one point per test, with exact
expected decisions. Each decision is made by both evaluators, which must agree."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import engine
from engine.ruleset import DecisionConflict, OutsideWindow

AS_OF = datetime.date(2026, 12, 15)

SCHEMA = '''
facts c
  n: number optional
  m: money optional
  m2: money optional
  i: integer optional
  d: date optional
  s: one of "a", "b", "c" optional
  t: text optional
  flag: boolean optional
  items: list of item
  tags: set of text
end
type item
  amount: money
  late: integer optional
end
reasons
  R1 "one"
  R2 "two"
  R3 "three"
  C1 "capped"
  C2 "floored"
  X1 "no consent"
end
'''


def decide(body: str, facts: dict | None = None, as_of: datetime.date = AS_OF,
           header: str = "ruleset semantics\n") -> engine.Decision:
    ruleset = engine.load_text(header + SCHEMA + body, "semantics.rules")
    given = {"items": [], "tags": []} | (facts or {})
    compiled = ruleset.decide({"c": given}, as_of=as_of)
    reference = ruleset.decide({"c": given}, as_of=as_of, reference=True)
    assert compiled.to_json() == reference.to_json()
    return compiled


def value(expression: str, facts: dict | None = None, output_type: str | None = None) -> object:
    output_type = output_type or ("money" if "amount" in expression else "number")
    body = f"outputs\n  out: {output_type}\nend\nrule R when true then set out = {expression} end\n"
    return decide(body, facts).decision["out"]


@pytest.mark.parametrize(("expression", "expected"), [
    ("0.1 + 0.2", Decimal("0.3")),
    ("1 / 3 * 3", Decimal("0.9999999999999999999999999999999999")),  # 34 digits, exact
    ("10 - 2 * 3", Decimal("4")),
    ("round(2.5)", Decimal("2")),
    ("round(3.5)", Decimal("4")),
    ("round(2.345, 2)", Decimal("2.34")),
    ("round_down(15_999, 100)", Decimal("15900")),
    ("round_up(15_001, 100)", Decimal("15100")),
    ("round_down(-150, 100)", Decimal("-200")),
    ("abs(-4.5)", Decimal("4.5")),
    ("min(3, 1, 2)", Decimal("1")),
    ("max(3, 1, 2)", Decimal("3")),
    ("1 / (1 - 1)", None),  # (a literal 0 divisor is E416)
    ("c.n + 1", None),
    ("if c.flag then 1 else 2", None),
    ("length(c.tags)", Decimal("2")),
    ("days_between(2026-12-01, today)", Decimal("14")),
    ("days_between(today, 2026-12-01)", Decimal("-14")),
    ("months_between(2026-01-31, 2026-02-28)", Decimal("1")),
    ("months_between(2026-01-31, 2026-02-27)", Decimal("0")),
    ("months_between(2026-03-15, 2026-01-16)", Decimal("-1")),
    ("months_between(2024-02-29, 2025-02-28)", Decimal("12")),
    ("count of x in c.items", Decimal("3")),
    ("count of x in c.items where x.late > 0", Decimal("1")),
    ("sum of x.amount for x in c.items", Decimal("600.75")),
    ("sum of x.amount for x in c.items where x.amount > 1000", Decimal("0")),
    ("min of x.amount for x in c.items", Decimal("100.25")),
    ("max of x.amount for x in c.items where x.amount > 1000", None),
    ("average of x.amount for x in c.items", Decimal("200.25")),
])
def test_arithmetic_functions_and_aggregates(expression: str, expected: object) -> None:
    facts = {"items": [{"amount": Decimal("100.25")}, {"amount": 200, "late": 0},
                       {"amount": Decimal("300.50"), "late": 3}], "tags": ["x", "y", "x"]}
    assert value(expression, facts) == expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("c.flag and false", False),
    ("c.flag and true", None),
    ("c.flag or true", True),
    ("c.flag or false", None),
    ("not c.flag", None),
    ("c.flag is missing", True),
    ("c.n is not missing", False),
    ("c.n > 1", None),
    ("c.n = c.n", None),
    ("any x in c.items where x.late > 0", None),
    ("all x in c.items where x.amount > 0", True),
    ("any x in ([]) where x > 0", False),
    ("all x in ([]) where x > 0", True),
    ('"x" in c.tags', True),
    ('"z" not in c.tags', True),
    ("5 between 5 and 6", True),
    ("today = 2026-12-15", True),
])
def test_three_valued_logic(expression: str, expected: object) -> None:
    facts = {"items": [{"amount": 1}], "tags": ["x"]}
    assert value(expression, facts, "boolean") == expected


def test_division_by_zero_is_missing_with_a_note() -> None:
    decision = decide("outputs\n  out: number\nend\n"
                      "rule R when true then set out = c.n / (c.n - 5) end\n", {"n": 5})
    assert decision.decision["out"] is None
    notes = [e.message for e in decision.trace if type(e).__name__ == "NoteEvent"]
    assert notes == ["division by zero in `c.n / (c.n - 5)`: the value is missing"]


def test_a_rule_whose_condition_is_missing_does_not_fire() -> None:
    decision = decide("outputs\n  out: number default 0\nend\n"
                      "rule R when c.n > 1 then set out = 1 reason R1 end\n")
    assert (decision.decision["out"], decision.reasons) == (0, [])
    (rule,) = [e for e in decision.trace if type(e).__name__ == "RuleEvent"]
    assert rule.status == "unknown"
    assert rule.condition.children[0].value is None


POLICIES = '''
outputs
  first_out: number default 0
  min_out: number combine min
  max_out: number combine max
  sum_out: money combine sum
  count_out: integer combine count
  prio: one of "decrease", "hold", "increase" combine priority
  bag: list of text
  uniq: set of text
  ordered: list of one of "low", "mid", "high" combine output order
end
rule A priority 10 when true then
  set first_out = 1 set min_out = 5 set max_out = 5 set sum_out = 100 set count_out = 1
  set prio = "increase" add "x" to bag add "x" to uniq add "high" to ordered reason R1
end
rule B when true then
  set first_out = 2 set min_out = 3 set max_out = 3 set sum_out = 50.5 set count_out = 1
  set prio = "hold" add "y" to bag add "x" to uniq add "low" to ordered reason R2
end
rule C when true then set first_out = 3 reason R3 end
'''


def test_combine_policies_and_used_proposals() -> None:
    decision = decide(POLICIES)
    assert decision.decision == {
        "first_out": Decimal(1), "min_out": Decimal(3), "max_out": Decimal(5),
        "sum_out": Decimal("150.5"), "count_out": Decimal(2), "prio": "hold",
        "bag": ("x", "y"), "uniq": ("x",), "ordered": ("low", "high")}
    # C proposes only to first_out, where A (priority 10) wins: C is overridden, so no R3.
    assert [r["code"] for r in decision.reasons] == ["R1", "R2"]
    statuses = {e.name: e.status for e in decision.trace if type(e).__name__ == "RuleEvent"}
    assert statuses == {"A": "fired", "B": "fired", "C": "overridden"}


@pytest.mark.parametrize(("policy", "values", "expected"), [
    ("unique", ("1", "1"), "output `out` is `combine unique` but has several proposals: "
                           "rule `A` (1), rule `B` (1)"),
    ("any", ("1", "2"), "output `out` is `combine any` but has different proposals: "
                        "rule `A` (1), rule `B` (2)"),
])
def test_conflicts_name_the_rules(policy: str, values: tuple[str, str], expected: str) -> None:
    body = (f"outputs\n  out: number combine {policy}\nend\n"
            f"rule A when true then set out = {values[0]} end\n"
            f"rule B when true then set out = {values[1]} end\n")
    with pytest.raises(DecisionConflict) as error:
        decide(body)
    assert str(error.value) == expected


def test_any_accepts_agreeing_proposals() -> None:
    body = ("outputs\n  out: number combine any\nend\n"
            "rule A when true then set out = 1 reason R1 end\n"
            "rule B when true then set out = 1.0 reason R2 end\n")
    decision = decide(body)
    assert (decision.decision["out"], [r["code"] for r in decision.reasons]) == (1, ["R1", "R2"])


def test_rules_read_final_outputs() -> None:
    body = '''
    outputs
      action: one of "decrease", "hold", "increase" combine priority default "hold"
      note: text default "none"
    end
    rule FOLLOW when action = "decrease" then set note = "review" reason R2 end
    rule CUT when c.i > 30 then set action = "decrease" reason R1 end
    rule UP when true then set action = "increase" end
    '''
    decision = decide(body, {"i": 45})
    assert decision.decision == {"action": "decrease", "note": "review"}
    assert [r["code"] for r in decision.reasons] == ["R2", "R1"]


def test_caps_floors_win_and_reasons_only_when_binding() -> None:
    body = '''
    outputs
      limit: money default 0
    end
    rule SET when true then set limit = c.m reason R1 end
    cap limit at most 1_000 because C1
    cap limit at least 1_500 when c.flag because C2
    cap limit at most c.m2 because R3
    '''
    capped = decide(body, {"m": 5000})
    assert (capped.decision["limit"], [r["code"] for r in capped.reasons]) == (1000, ["R1", "C1"])
    floored = decide(body, {"m": 5000, "flag": True})
    assert (floored.decision["limit"], [r["code"] for r in floored.reasons]) == (
        1500, ["R1", "C2"])
    inside = decide(body, {"m": 800})
    assert (inside.decision["limit"], [r["code"] for r in inside.reasons]) == (800, ["R1"])
    (output,) = [e for e in inside.trace if type(e).__name__ == "OutputEvent"]
    assert [c.status for c in output.caps] == [
        "not binding", "skipped: its bound is missing", "skipped: its condition is not true"]


def test_partner_offers_need_consent_and_give_the_else_reason() -> None:
    body = '''
    offer insurance "Partner insurance"
      partner "insurer"
      requires "share" in c.tags
      else reason X1
    end
    offer card "Our card" end
    rule OFFER when true then offer insurance amount c.m offer card reason R1 end
    '''
    withheld = decide(body, {"m": 120})
    assert withheld.decision["offers"] == ({"name": "card"},)
    assert [r["code"] for r in withheld.reasons] == ["R1", "X1"]
    made = decide(body, {"m": 120, "tags": ["share"]})
    assert made.decision["offers"] == (
        {"name": "insurance", "amount": Decimal(120), "partner": "insurer"}, {"name": "card"})
    assert [r["code"] for r in made.reasons] == ["R1"]


TABLES = '''
table band: one of "high", "mid", "low" hit priority
  | c.i           | c.s         | band   |
  | >= 700        | -           | "mid"  |
  | >= 750        | "a", "b"    | "high" |
  | [0..700)      | not "c"     | "low"  |
  | missing       | -           | "low"  |
end
table first_hit hit first
  | c.i    | first_hit |
  | > 10   | 1         |
  | > 5    | 2         |
  otherwise 0
end
table all_hits: number hit collect
  | c.i    | all_hits |
  | > 10   | 1        |
  | > 5    | 2        |
end
table hits hit count
  | c.i    | hits |
  | > 10   | 1    |
  | > 5    | 1    |
end
'''


def table_values(decision: engine.Decision) -> dict[str, object]:
    return {e.name: e.value for e in decision.trace
            if type(e).__name__ == "ValueEvent" and e.kind == "table"}


@pytest.mark.parametrize(("facts", "expected"), [
    ({"i": 760, "s": "a"}, ("high", 1, (1, 2), 2)),
    ({"i": 760, "s": "c"}, ("mid", 1, (1, 2), 2)),
    ({"i": 650, "s": "c"}, (None, 1, (1, 2), 2)),  # `not "c"` fails, so no row matches
    ({"i": 650}, (None, 1, (1, 2), 2)),  # `not …` never matches a missing value
    ({"s": "a"}, ("low", 0, (), 0)),  # only `missing` and `-` match a missing value
    ({"i": 7}, (None, 2, (2,), 1)),
])
def test_decision_tables(facts: dict, expected: tuple) -> None:
    tables = table_values(decide(TABLES, facts))
    as_decimals = tuple(tuple(Decimal(x) for x in v) if isinstance(v, tuple)
                        else Decimal(v) if isinstance(v, int) else v for v in expected)
    assert (tables["band"], tables["first_hit"], tables["all_hits"], tables["hits"]) == as_decimals


def test_unique_table_with_two_matching_rows_names_them() -> None:
    # The static analysis finds the overlap (E601); suppressed here to see the run-time error.
    body = ("table strict\n  | c.i | strict |\n  | > 10 | 1 |\n"
            "  | > 5 | 2 |  # tenet: ignore[E601]\nend\n")
    assert table_values(decide(body, {"i": 7}))["strict"] == 2
    with pytest.raises(DecisionConflict) as error:
        decide(body, {"i": 20})
    assert str(error.value) == ("table `strict` is `combine unique` but has several proposals: "
                                "row 1 (1), row 2 (2)")


COMPOUND = '''
type band
  level: one of "high", "mid", "low"
  limit: money
  note: text optional
end
table terms
  | c.s || rate | months |
  | "a" || 3.9% | 36     |
  | "b" || 5.9% | 24     |
  otherwise { rate: 7.9% }
end
table best: band hit priority
  | c.i    || level  | limit |
  | > 5    || "low"  | 100   |
  | > 10   || "mid"  | 200   |
  | > 10   || "mid"  | 150   |
  | > 100  || "high" | 300   |
end
table ordered: band hit output order
  | c.i    || level  | limit |
  | > 5    || "low"  | 100   |
  | > 10   || "high" | 200   |
  | > 10   || "mid"  | 150   |
end
table listed hit collect
  | c.i    || level  | limit |
  | > 5    || "low"  | 100   |
  | > 10   || "high" | 200   |
end
table counted hit count
  | c.i    || level  | limit |
  | > 5    || "low"  | 100   |
  | > 10   || "high" | 200   |
end
table agreed hit any
  | c.i    || level  | limit |
  | > 5    || "low"  | 100   |
  | > 10   || "low"  | 100   |
end
'''


def record(**fields: object) -> dict[str, object]:
    return {name: Decimal(str(value)) if isinstance(value, int | float) else value
            for name, value in fields.items()}


@pytest.mark.parametrize(("facts", "expected"), [
    ({"s": "a", "i": 50}, {
        "terms": record(rate=0.039, months=36),
        "best": record(level="mid", limit=200),  # mid before low; the first of the two mids
        "ordered": (record(level="high", limit=200), record(level="mid", limit=150),
                    record(level="low", limit=100)),
        "listed": (record(level="low", limit=100), record(level="high", limit=200)),
        "counted": Decimal(2),
        "agreed": record(level="low", limit=100)}),
    ({"s": "c", "i": 7}, {
        "terms": record(rate=0.079),  # `otherwise` leaves `months` out: it is missing
        "best": record(level="low", limit=100),
        "ordered": (record(level="low", limit=100),),
        "listed": (record(level="low", limit=100),),
        "counted": Decimal(1),
        "agreed": record(level="low", limit=100)}),
    ({"i": 1}, {"terms": record(rate=0.079), "best": None, "ordered": (), "listed": (),
                "counted": Decimal(0), "agreed": None}),
])
def test_tables_with_several_results_give_records(facts: dict, expected: dict) -> None:
    tables = table_values(decide(COMPOUND, facts))
    assert {name: tables[name] for name in expected} == expected


def test_a_record_column_reads_as_a_field_and_a_column_left_out_as_missing() -> None:
    # `set` of a missing value proposes missing: the default is for outputs without proposals.
    body = COMPOUND + ("outputs\n  rate: number\n  months: integer default 1\nend\n"
                       "rule R when true then\n  set rate = terms.rate\n"
                       "  set months = terms.months\nend\n")
    assert decide(body, {"s": "b"}).decision == {"rate": Decimal("0.059"), "months": 24}
    assert decide(body, {"s": "c"}).decision == {"rate": Decimal("0.079"), "months": None}


def test_unique_table_with_several_results_conflicts_on_whole_rows() -> None:
    body = ("table strict\n  | c.i || rate | months |\n  | > 10 || 1% | 12 |\n"
            "  | > 5 || 1% | 12 |  # tenet: ignore[E601]\nend\n")
    assert table_values(decide(body, {"i": 7}))["strict"] == record(rate=0.01, months=12)
    with pytest.raises(DecisionConflict) as error:
        decide(body, {"i": 20})
    assert str(error.value) == (
        "table `strict` is `combine unique` but has several proposals: "
        "row 1 ({rate: 0.01, months: 12}), row 2 ({rate: 0.01, months: 12})")


def test_effective_window_is_enforced() -> None:
    header = "ruleset windowed\neffective 2026-12-01 until 2027-01-01\n"
    body = "outputs\n  out: number default 1\nend\nrule R when true then set out = 2 end\n"
    assert decide(body, header=header, as_of=datetime.date(2026, 12, 1)).decision["out"] == 2
    for outside in (datetime.date(2026, 11, 30), datetime.date(2027, 1, 1)):
        with pytest.raises(OutsideWindow) as error:
            decide(body, header=header, as_of=outside)
        assert str(error.value) == (
            f"ruleset `windowed` is effective from 2026-12-01 until 2027-01-01 (exclusive); "
            f"the as-of date {outside} is outside that window")


def test_budgets_are_ignored_for_single_decisions_and_the_trace_says_so() -> None:
    body = '''
    outputs
      granted: money default 0
    end
    rule R when true then set granted = 10 end
    budget cap_total "Budget" total granted at most 5 else set granted = 0 reason R1 end
    '''
    decision = decide(body)
    assert (decision.decision["granted"], decision.reasons) == (10, [])
    notes = [e.message for e in decision.trace if type(e).__name__ == "NoteEvent"]
    assert notes == ["budget `cap_total` (when full skip) applies to portfolio runs only; it "
                     "was not applied to this single decision"]


def test_facts_errors_list_every_problem_with_its_path() -> None:
    ruleset = engine.load_text("ruleset f\n" + SCHEMA, "f.rules")
    with pytest.raises(engine.FactsError) as error:
        ruleset.decide({"c": {"n": "lots", "m": True, "i": Decimal("1.5"), "d": "2026-13-01",
                              "s": "d", "items": [{"amount": 1, "extra": 2}, {}], "tags": "x",
                              "colour": "red"},
                        "other": {}}, as_of=AS_OF)
    assert error.value.problems == [
        'c.n: expected number, got "lots"',
        "c.m: expected money, got true",
        "c.i: expected integer, got 1.5",
        'c.d: expected a date (YYYY-MM-DD), got "2026-13-01"',
        'c.s: expected one of "a", "b", "c", got "d"',
        "c.items[0].extra: unknown field",
        "c.items[1].amount: required field is missing",
        'c.tags: expected a list, got "x"',
        "c.colour: unknown field",
        "other: unknown field",
    ]
    with pytest.raises(engine.FactsError) as error:
        ruleset.decide({}, as_of=AS_OF)
    assert error.value.problems == ["c: no facts given for this facts block"]


@pytest.mark.parametrize("start, end, months", [
    ("2026-01-31", "2026-02-28", 1), ("2026-01-15", "2026-02-14", 0),
    ("2026-01-15", "2026-02-15", 1), ("2026-02-15", "2026-01-15", -1)])
def test_months_between_as_the_guide_says(start: str, end: str, months: int) -> None:
    import datetime

    from engine.run.runtime import months_between

    assert months_between(datetime.date.fromisoformat(start),
                          datetime.date.fromisoformat(end)) == months
