"""Property: the generated code and the reference interpreter give the same decision and the
same trace, on generated facts, for every ruleset in the repository (with and without trace:
the plain generated function is specialised differently from the traced one)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.run.reference.procedure import DecisionConflict
from tests.helpers import FIXTURES, ROOT
from tests.strategies import facts_strategy

RULESETS = sorted({*ROOT.joinpath("rulesets").rglob("*.rules"),
                   *(FIXTURES / "differential").glob("*.rules"),
                   *(FIXTURES / "language").glob("*.rules"),
                   *(FIXTURES / "traces").glob("*.rules")})
@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_generated_and_reference_agree(path: Path) -> None:
    ruleset = engine.load(path)
    facts = facts_strategy(ruleset)
    start = ruleset.window.start if ruleset.window else datetime.date(2026, 1, 1)

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(facts, st.integers(0, 20))
    def check(generated: dict, days: int) -> None:
        as_of = start + datetime.timedelta(days=days)
        assert outcome(ruleset, generated, as_of, trace=True, reference=False) == \
            outcome(ruleset, generated, as_of, trace=True, reference=True)
        assert outcome(ruleset, generated, as_of, trace=False, reference=False) == \
            outcome(ruleset, generated, as_of, trace=False, reference=True)

    check()


def outcome(ruleset: engine.Ruleset, facts: dict, as_of: datetime.date, trace: bool,
            reference: bool) -> str:
    """The decision as JSON (with its trace, when asked), or the conflict that stopped it."""
    try:
        return ruleset.decide(facts, as_of=as_of, trace=trace, reference=reference).to_json()
    except DecisionConflict as conflict:
        return f"conflict: {conflict}"
