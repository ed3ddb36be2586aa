"""Property: the generated validation fast path accepts only facts the pydantic models accept,
with the same values, and every facts the models reject go to them (so the user still gets
every problem with its path). Facts are drawn from the schemas of the repository's rulesets,
valid values mixed with wild ones."""

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
from engine.exceptions import DecisionConflict
from engine.run.facts import FactsError
from tests.helpers import ROOT

RULESETS = sorted(ROOT.joinpath("rulesets").glob("*.rules"))
AS_OF = datetime.date(2026, 12, 15)

WILD = st.one_of(
    st.none(), st.booleans(), st.integers(-10**40, 10**40), st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("1.5"), Decimal("-0"),
                     Decimal("1E+3"), datetime.date(2026, 1, 1),
                     datetime.datetime(2026, 1, 1, 12, 0), "2026-02-30", "20260101", [], {},
                     (), {"x": 1}, [1, "a"]]))


def value(symbols: Symbols, type_: t.Type, depth: int = 0) -> st.SearchStrategy:
    if type_ == t.INTEGER:
        good = st.one_of(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6).map(Decimal),
                         st.just(Decimal("12.000")), st.just(3.0))
    elif type_ in (t.MONEY, t.NUMBER):
        good = st.one_of(st.integers(-10**6, 10**6), st.decimals(-10**6, 10**6, places=3,
                                                                  allow_nan=False),
                         st.floats(-1e6, 1e6, allow_nan=False), st.just(Decimal("12.000")))
    elif type_ == t.BOOLEAN:
        good = st.booleans()
    elif type_ == t.DATE:
        good = st.one_of(st.dates().map(str), st.dates())
    elif isinstance(type_, t.Enum):
        good = st.sampled_from(type_.values)
    elif isinstance(type_, t.ListOf):
        good = st.one_of(st.lists(value(symbols, type_.element, depth + 1), max_size=3),
                         st.lists(value(symbols, type_.element, depth + 1), max_size=2)
                         .map(tuple))
    elif isinstance(type_, t.Record):
        good = record(symbols, type_.name, depth + 1)
    else:
        good = st.text(max_size=8)
    return good


def record(symbols: Symbols, name: str, depth: int = 0) -> st.SearchStrategy:
    fields = {}
    for field, declaration in symbols.record_fields(name).items():
        strategy = value(symbols, symbols.resolve_type(declaration.type), depth)
        fields[field] = st.none() | strategy if declaration.optional else strategy
    return st.fixed_dictionaries(fields)


@st.composite
def perturbed(draw, valid: st.SearchStrategy) -> object:
    """Valid facts, half of the time with one thing wrong somewhere inside: a wild value, a
    missing key or an unknown one."""
    facts = draw(valid)
    if draw(st.booleans()):
        return facts
    containers = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            containers.append(node)
            for item in node.values():
                collect(item)
        elif isinstance(node, list | tuple):
            for item in node:
                collect(item)

    collect(facts)
    target = draw(st.sampled_from(containers))
    change = draw(st.sampled_from(["wild", "missing", "unknown"]))
    if change == "unknown" or not target:
        target["unknown_field"] = draw(WILD)
    else:
        key = draw(st.sampled_from(sorted(target)))
        if change == "missing":
            del target[key]
        else:
            target[key] = draw(WILD)
    return facts


def same(left: object, right: object) -> bool:
    """Equal, of the same types, and Decimals with the same digits and exponent."""
    if type(left) is not type(right):
        return False
    if isinstance(left, tuple):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, Decimal):
        return left.as_tuple() == right.as_tuple()
    return left == right


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_fast_path_accepts_only_what_pydantic_accepts_with_the_same_values(path: Path) -> None:
    ruleset = engine.load(path)
    symbols = ruleset.check.program.symbols
    facts = st.fixed_dictionaries({name: record(symbols, name) for name in symbols.facts})
    fields = ruleset.compiled.fields

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(perturbed(facts), WILD))
    def check(given_facts: object) -> None:
        fast = ruleset._validate_fast(given_facts)
        if isinstance(given_facts, dict):  # the decision function holds the same checks
            try:
                decided = ruleset.compiled.decide(given_facts, AS_OF)
            except DecisionConflict:
                decided = "conflict"
            assert (decided is None) == (fast is None)
        try:
            values = ruleset.schema.validate(given_facts)
        except FactsError:
            assert fast is None
            return
        if fast is not None:
            expected = tuple(values[block][name] for block, name in fields)
            assert same(fast, expected), (fast, expected)

    check()
