"""Differential testing: on random well-typed rulesets and random facts, the generated code
and the reference interpreter give the same decision JSON, trace included, or the same
conflict; and formatting them keeps their meaning. Rulesets it found interesting are kept in
tests/fixtures/differential/, which the agreement test over the repository's rulesets runs
too."""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.diagnostics import Severity
from engine.pipeline import check_text
from engine.ruleset import Ruleset
from engine.run.reference.procedure import DecisionConflict
from engine.syntax.formatter import format_text
from engine.syntax.parser import parse_module
from tests.strategies import facts, rulesets

START = datetime.date(2026, 12, 1)


def outcome(ruleset: Ruleset, given_facts: dict, as_of: datetime.date, trace: bool,
            reference: bool) -> str:
    try:
        return ruleset.decide(given_facts, as_of=as_of, trace=trace, reference=reference).to_json()
    except DecisionConflict as conflict:
        return f"conflict: {conflict}"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rulesets(), st.lists(facts(), min_size=1, max_size=4), st.integers(0, 400))
def test_generated_code_and_reference_agree_on_random_rulesets(text: str, customers: list[dict],
                                                               days: int) -> None:
    result = check_text(text, "random.rules")
    errors = [f"{d.span.line}: {d.code} {d.message}" for d in result.diagnostics
              if d.severity is Severity.ERROR]
    assert errors == [], text
    formatted = format_text(text, "random.rules")  # and fmt keeps its meaning
    assert parse_module(formatted, "random.rules")[0] == parse_module(text, "random.rules")[0]
    ruleset = Ruleset(result)
    as_of = START + datetime.timedelta(days=days)
    for given_facts in customers:
        for trace in (False, True):
            generated = outcome(ruleset, given_facts, as_of, trace, reference=False)
            assert generated == outcome(ruleset, given_facts, as_of, trace, reference=True), text
