"""Property: the generated code and the reference interpreter give the same decision and the
same trace, on generated facts, for every ruleset in the repository (with and without trace:
the plain generated function is specialised differently from the traced one)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.check import types as t
from engine.check.symbols import Symbols
from engine.run.reference.procedure import DecisionConflict
from tests.conftest import FIXTURES, ROOT

RULESETS = sorted({*ROOT.joinpath("rulesets").rglob("*.rules"),
                   *(FIXTURES / "differential").glob("*.rules"),
                   *(FIXTURES / "language").glob("*.rules"),
                   *(FIXTURES / "traces").glob("*.rules")})
TEXTS = ["share_with_insurer", "share", "retail", "x", ""]


def value_strategy(symbols: Symbols, type_: t.Type, depth: int = 0) -> st.SearchStrategy:
    if type_ in (t.MONEY, t.NUMBER):
        return st.one_of(st.integers(-1000, 300_000).map(Decimal),
                         st.decimals(-1000, 300_000, places=2, allow_nan=False),
                         st.sampled_from([Decimal(0), Decimal(60), Decimal(750)]))
    if type_ == t.INTEGER:
        return st.one_of(st.integers(-5, 1000), st.sampled_from([0, 6, 30, 60, 61, 700, 750]))
    if type_ == t.BOOLEAN:
        return st.booleans()
    if type_ == t.DATE:
        return st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 1, 1)).map(str)
    if isinstance(type_, t.Enum):
        return st.sampled_from(type_.values)
    if isinstance(type_, t.ListOf):
        return st.lists(value_strategy(symbols, type_.element, depth + 1), max_size=3)
    if isinstance(type_, t.Record):
        return record_strategy(symbols, type_.name, depth + 1)
    return st.sampled_from(TEXTS)


def record_strategy(symbols: Symbols, name: str, depth: int = 0) -> st.SearchStrategy:
    fields = {}
    for field_name, declaration in symbols.record_fields(name).items():
        strategy = value_strategy(symbols, symbols.resolve_type(declaration.type), depth)
        fields[field_name] = st.none() | strategy if declaration.optional else strategy
    return st.fixed_dictionaries(fields)


def facts_strategy(ruleset: engine.Ruleset) -> st.SearchStrategy:
    """Facts objects of any shape the ruleset's schema accepts (and some it refuses)."""
    symbols = ruleset.check.program.symbols
    return st.fixed_dictionaries({name: record_strategy(symbols, name) for name in symbols.facts})


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
