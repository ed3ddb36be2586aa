"""The value-set algebra under the static analyses agrees with plain set membership."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.lint.domains import Dimension, ValueSet

WHOLE = Dimension("x", "whole", can_be_missing=True)
CONTINUOUS = Dimension("y", "continuous", can_be_missing=True)
DISCRETE = Dimension("s", "discrete", frozenset({"a", "b", "c"}), can_be_missing=True)
TEXT = Dimension("t", "discrete", can_be_missing=True)
POINTS = [None, *(Decimal(n) / 2 for n in range(-12, 13))]
WORDS = [None, "a", "b", "c", "d"]


@st.composite
def value_sets(draw, dimension: Dimension) -> ValueSet:
    """Sets built the ways the analyses build them: comparisons, intervals, `missing`, unions."""
    result = ValueSet.nothing(dimension)
    for _ in range(draw(st.integers(1, 3))):
        if dimension.kind == "discrete":
            word = draw(st.sampled_from(["a", "b", "c", "d"]))
            piece = ValueSet.compare(dimension, draw(st.sampled_from(["=", "!="])), word)
        elif draw(st.booleans()):
            piece = ValueSet.compare(dimension, draw(st.sampled_from(["=", "!=", "<", "<=", ">",
                                                                      ">="])),
                                     Decimal(draw(st.integers(-5, 5))))
        else:
            low, high = sorted(Decimal(draw(st.integers(-6, 6))) / 2 for _ in range(2))
            piece = ValueSet.interval(dimension, low, high, draw(st.booleans()),
                                      draw(st.booleans()))
        if draw(st.booleans()):
            piece = piece.union(ValueSet.only_missing(dimension))
        result = result.union(piece)
    return result


def points(dimension: Dimension) -> list:
    if dimension.kind == "discrete":
        return [w for w in WORDS if dimension.universe is None or w is None or
                w in dimension.universe]
    if dimension.kind == "whole":
        return [p for p in POINTS if p is None or p == p.to_integral_value()]
    return POINTS


def check_algebra(dimension: Dimension, a: ValueSet, b: ValueSet) -> None:
    for point in points(dimension):
        assert a.union(b).contains(point) == (a.contains(point) or b.contains(point))
        assert a.intersect(b).contains(point) == (a.contains(point) and b.contains(point))
        assert a.subtract(b).contains(point) == (a.contains(point) and not b.contains(point))
        assert a.complement(True).contains(point) == (not a.contains(point))
    assert a.within(b) == a.subtract(b).is_empty
    if not a.is_empty:
        assert a.contains(a.witness()) or (a.witness() is None and a.missing)


@settings(deadline=None)
@given(st.data())
def test_value_set_algebra(data: st.DataObject) -> None:
    dimension = data.draw(st.sampled_from([WHOLE, CONTINUOUS, DISCRETE, TEXT]))
    check_algebra(dimension, data.draw(value_sets(dimension)), data.draw(value_sets(dimension)))


def test_a_witness_for_an_open_date_is_a_real_day() -> None:
    import datetime

    from engine.pipeline import check_text

    text = ('ruleset r\nfacts c\n  opened: date\nend\nreasons\n  A "a"\nend\noutputs\n'
            '  d: one of "approve", "decline" default "decline"\nend\n'
            'rule OK when c.opened != 2020-01-01 then set d = "approve" reason A end\n')
    [finding] = check_text(text, "r.rules").diagnostics
    assert finding.message == ('a customer with c.opened 2020-01-01 gets `d` = "decline", its '
                               "default, and no reason at all")
    from engine.lint.domains import Dimension, ValueSet

    opened = Dimension("c.opened", "whole", is_date=True)
    assert ValueSet.everything(opened, missing=False).witness() == datetime.date(2000, 1, 1)
