"""Outputs: an integer output refuses a fraction (written: a type error; computed: no decision),
`count` and `collect` outputs start at 0 and empty, and a cap shows its constant bound."""

from __future__ import annotations

import pytest

import engine
from engine.pipeline import check_text

DAYS = ("ruleset r\nfacts c\n  x: integer\nend\noutputs\n  days: integer default 0\nend\n"
        "rule A when true then set days = {value} end\n")


def test_a_fraction_written_for_an_integer_output_is_a_type_error() -> None:
    result = check_text(DAYS.format(value="60.5"), "days.rules")
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("E401", "output `days` is integer, but `60.5` is not a whole number")]
    assert not check_text(DAYS.format(value="60"), "days.rules").diagnostics


@pytest.mark.parametrize("reference", [False, True])
def test_a_fraction_computed_for_an_integer_output_is_no_decision(reference: bool) -> None:
    ruleset = engine.load_text(DAYS.format(value="c.x * 1.5"))
    assert ruleset.decide({"c": {"x": 2}}, as_of="2026-12-01",
                          reference=reference).decision == {"days": 3}
    with pytest.raises(engine.DecisionConflict, match=r"output `days` is an integer, but its "
                                                      r"value is 4\.5: round it in the rule"):
        ruleset.decide({"c": {"x": 3}}, as_of="2026-12-01", reference=reference)


def test_a_count_output_without_proposals_is_0_and_a_collect_output_empty() -> None:
    ruleset = engine.load_text("ruleset r\nfacts c\n  x: integer\nend\noutputs\n"
                               "  n: integer combine count\n  tags: list of text combine collect\n"
                               "end\nrule A when c.x > 5 then set n = 1 add \"big\" to tags end\n")
    for reference in (False, True):
        assert ruleset.decide({"c": {"x": 1}}, as_of="2026-12-01",
                              reference=reference).decision == {"n": 0, "tags": ()}


def test_a_cap_whose_condition_is_not_true_shows_its_constant_bound() -> None:
    from rich.console import Console

    from engine.report.decisions import render_decision

    ruleset = engine.load_text("ruleset r\nfacts c\n  x: integer\nend\noutputs\n"
                               "  limit_out: money default 300_000\nend\n"
                               "cap limit_out at most 200_000 when c.x > 5\n")
    for reference in (False, True):
        decision = ruleset.decide({"c": {"x": 1}}, as_of="2026-12-01", reference=reference)
        (output,) = [e for e in decision.trace if type(e).__name__ == "OutputEvent"]
        assert output.caps[0].to_data() == {"bound": "at most", "limit": 200_000, "reason": None,
                                             "status": "skipped: its condition is not true"}
    console = Console(width=100, record=True)
    console.print(render_decision(decision))
    assert "cap at most 200,000: skipped: its condition is not true" in console.export_text()
