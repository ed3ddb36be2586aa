"""Decisions in Tenet's own decimal context: the host's context changes nothing, results
beyond the decimal range are missing with a note, and facts beyond the range are refused."""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

import pytest

import engine
from tests.helpers import invoke

CONTEXT_RULESET = """ruleset context
facts c
  x: number
end
outputs
  negated: number default 0
  absolute: number default 0
  percent: number default 0
  third: number default 0
end
rule A when c.x > 0 then
  set negated = -c.x
  set absolute = abs(-1234567.891 - c.x)
  set percent = c.x * 12.345%
  set third = c.x / 3
end
"""


def test_the_hosts_decimal_context_changes_nothing() -> None:
    facts = {"c": {"x": Decimal("1234567.891")}}
    expected = {"negated": Decimal("-1234567.891"), "absolute": Decimal("2469135.782"),
                "percent": Decimal("152407.40614395"),
                "third": Decimal("411522.6303333333333333333333333333")}
    baseline = engine.load_text(CONTEXT_RULESET).decide(facts, as_of="2026-12-01")
    assert baseline.decision == expected
    with decimal.localcontext() as hostile:
        hostile.prec = 6
        hostile.rounding = decimal.ROUND_UP
        hostile.traps[decimal.Inexact] = hostile.traps[decimal.Rounded] = True
        ruleset = engine.load_text(CONTEXT_RULESET)
        for reference in (False, True):
            for trace in (False, True):
                decision = ruleset.decide(facts, as_of="2026-12-01", trace=trace,
                                          reference=reference)
                assert decision.to_json() == baseline.to_json() if trace else \
                    decision.decision == expected


SQUARES = "\n".join(["ruleset squares", "facts c", "  x: number", "end", "outputs",
                     "  out: number default 0", "  rounded: number default 0", "end",
                     "let s0 = c.x * c.x"]
                    + [f"let s{i} = s{i - 1} * s{i - 1}" for i in range(1, 17)]
                    + ["rule A when true then", "  set out = s16", "  set rounded = round(c.x, 20)",
                       "end"]) + "\n"


def test_results_beyond_the_decimal_range_are_missing_with_a_note() -> None:
    ruleset = engine.load_text(SQUARES)
    facts = {"c": {"x": Decimal("1E+30")}}
    for reference in (False, True):
        decision = ruleset.decide(facts, as_of="2026-12-01", reference=reference)
        assert decision.decision == {"out": None, "rounded": None}
        notes = [e.message for e in decision.trace if type(e).__name__ == "NoteEvent"]
        assert notes == [
            "`s14 * s14` is beyond the numbers Tenet computes with (34 digits, exponents to "
            "±999,999): the value is missing",
            "`round(c.x, 20)` is beyond the numbers Tenet computes with (34 digits, exponents "
            "to ±999,999): the value is missing"]
    assert ruleset.decide(facts, as_of="2026-12-01").to_json() == \
        ruleset.decide(facts, as_of="2026-12-01", reference=True).to_json()


@pytest.mark.parametrize("number", ["1e600000", "1e-999999", "1" * 5000, "12345678901234567890"
                                    "12345678901234567890.5"])
def test_facts_numbers_beyond_the_documented_range_are_facts_errors(tmp_path: Path,
                                                                    number: str) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(SQUARES)
    facts.write_text('{"c": {"x": ' + number + "}}")
    code, output = invoke("run", str(ruleset), "--facts", str(facts), "--as-of", "2026-12-01")
    assert code == 2
    assert "is out of range: numbers in facts have at most 34 significant digits and lie " \
           "between 1E-34 and 1E+34" in output
    assert len(output) < 600


def test_round_places_are_bounded_by_the_checker() -> None:
    with pytest.raises(engine.RulesetError, match="E414"):
        engine.load_text(SQUARES.replace("round(c.x, 20)", "round(c.x, 40)"))
    with pytest.raises(engine.RulesetError, match="E414"):
        engine.load_text(SQUARES.replace("round(c.x, 20)", "round(c.x, 1.5)"))
