"""A Decision as the Python API hands it over: read-only, equal by what it decided, shown in
one line, its trace built when read."""

from __future__ import annotations

import json

import pytest

import engine
from tests.helpers import ROOT

FACTS = json.loads((ROOT / "rulesets/facts/limit_review_strong_payer.json").read_text())


def test_a_decision_is_read_only_equal_by_content_and_builds_its_trace_when_read() -> None:
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    traced = ruleset.decide(FACTS, "2026-12-15", trace=True)
    plain = ruleset.decide(FACTS, "2026-12-15", trace=False)
    for name in ("decision", "reasons", "as_of", "ruleset", "trace", "why_not"):
        with pytest.raises(AttributeError):
            setattr(plain, name, None)
    assert traced == plain and traced != ruleset.decide(FACTS, "2026-12-16", trace=False)
    assert plain.trace is None and plain.why_not is None
    assert [getattr(event, "name", None) for event in traced.trace][:2] == ["F01", "D01"]
    assert traced.trace is traced.trace  # built once
    assert repr(plain) == ("Decision(ruleset='limit_review', as_of='2026-12-15', decision="
                           "{'action': 'increase', 'new_limit': Decimal('200000')}, "
                           "reasons=['I01', 'C01'])")
    with pytest.raises(TypeError):
        hash(plain)
    assert plain.to_data(trace=False) == traced.to_data(trace=False)
