"""Exact sets of values, for the static analyses of tables and conditions.

A ``ValueSet`` is the set of values one input (a column, a fact) can take that satisfy a test:
a union of intervals for numbers, money and dates (dates as day numbers; integers and dates have
whole-number points), or a finite or co-finite set of texts for `one of`, text and boolean
values; plus whether *missing* belongs to it. A ``Box`` is one such set per input: the inputs
that satisfy a row or a conjunction of comparisons. Sets are closed under union, intersection
and complement, so table rows can be subtracted from each other exactly, and every non-empty
set can name a witness value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.syntax.unparse import literal_text

_INF = None  # an unbounded end of an interval


@dataclass(frozen=True, slots=True)
class Interval:
    low: Decimal | None
    high: Decimal | None
    low_closed: bool
    high_closed: bool


@dataclass(frozen=True, slots=True)
class Dimension:
    """One input of an analysis: its text in the ruleset and the kind of its values."""

    text: str
    kind: str  # "continuous", "whole" (integers, dates), "discrete"
    universe: frozenset[Any] | None = None  # the values of a `one of` or boolean input
    is_date: bool = False
    can_be_missing: bool = False


_A_DATE = datetime.date(2000, 1, 1)  # a witness for a date the rules leave open


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A set of values of one dimension; ``missing`` says whether *missing* is in it."""

    dimension: Dimension
    intervals: tuple[Interval, ...] = ()
    values: frozenset[Any] = frozenset()
    cofinite: bool = False  # for discrete: every value except ``values``
    missing: bool = False

    # -- construction

    @staticmethod
    def everything(dimension: Dimension, missing: bool = True) -> ValueSet:
        if dimension.kind == "discrete":
            if dimension.universe is not None:
                return ValueSet(dimension, values=dimension.universe, missing=missing)
            return ValueSet(dimension, cofinite=True, missing=missing)
        return ValueSet(dimension, (Interval(_INF, _INF, False, False),), missing=missing)

    @staticmethod
    def nothing(dimension: Dimension) -> ValueSet:
        return ValueSet(dimension)

    @staticmethod
    def only_missing(dimension: Dimension) -> ValueSet:
        return ValueSet(dimension, missing=True)

    @staticmethod
    def compare(dimension: Dimension, op: str, value: Any) -> ValueSet:
        """The values ``v`` with ``v op value`` (never missing)."""
        if dimension.kind == "discrete":
            if op == "=":
                return ValueSet(dimension, values=frozenset([value]))._normal()
            if op == "!=":
                return ValueSet(dimension, values=frozenset([value]), cofinite=True)._normal()
            raise ValueError(f"cannot order {dimension.text}")
        point = _number(value)
        shapes = {"=": (point, point, True, True), "<": (_INF, point, False, False),
                  "<=": (_INF, point, False, True), ">": (point, _INF, False, False),
                  ">=": (point, _INF, True, False)}
        if op == "!=":
            return ValueSet(dimension, (Interval(_INF, point, False, False),
                                        Interval(point, _INF, False, False)))._normal()
        return ValueSet(dimension, (Interval(*shapes[op]),))._normal()

    @staticmethod
    def interval(dimension: Dimension, low: Any, high: Any, low_closed: bool,
                 high_closed: bool) -> ValueSet:
        return ValueSet(dimension, (Interval(_number(low), _number(high), low_closed,
                                             high_closed),))._normal()

    # -- algebra

    def union(self, other: ValueSet) -> ValueSet:
        missing = self.missing or other.missing
        if self.dimension.kind == "discrete":
            if self.cofinite and other.cofinite:
                return ValueSet(self.dimension, values=self.values & other.values,
                                cofinite=True, missing=missing)
            if self.cofinite or other.cofinite:
                excluded, included = (self, other) if self.cofinite else (other, self)
                return ValueSet(self.dimension, values=excluded.values - included.values,
                                cofinite=True, missing=missing)
            return ValueSet(self.dimension, values=self.values | other.values, missing=missing)
        return ValueSet(self.dimension, self.intervals + other.intervals,
                        missing=missing)._normal()

    def intersect(self, other: ValueSet) -> ValueSet:
        missing = self.missing and other.missing
        if self.dimension.kind == "discrete":
            if self.cofinite and other.cofinite:
                return ValueSet(self.dimension, values=self.values | other.values,
                                cofinite=True, missing=missing)
            if self.cofinite or other.cofinite:
                excluded, included = (self, other) if self.cofinite else (other, self)
                return ValueSet(self.dimension, values=included.values - excluded.values,
                                missing=missing)
            return ValueSet(self.dimension, values=self.values & other.values, missing=missing)
        pieces = [piece for a in self.intervals for b in other.intervals
                  if (piece := _intersect(a, b)) is not None]
        return ValueSet(self.dimension, tuple(pieces), missing=missing)._normal()

    def complement(self, with_missing: bool) -> ValueSet:
        """Every value not in this set; *missing* included only when ``with_missing``."""
        missing = with_missing and not self.missing
        if self.dimension.kind == "discrete":
            if self.dimension.universe is not None and not self.cofinite:
                return ValueSet(self.dimension, values=self.dimension.universe - self.values,
                                missing=missing)
            return ValueSet(self.dimension, values=self.values, cofinite=not self.cofinite,
                            missing=missing)
        gaps = []
        low, low_closed = _INF, False
        for interval in self.intervals:
            if not (low is _INF and interval.low is _INF):
                gaps.append(Interval(low, interval.low, low_closed, not interval.low_closed))
            low, low_closed = interval.high, not interval.high_closed
            if interval.high is _INF:
                low = "end"
                break
        if low != "end":
            gaps.append(Interval(low, _INF, low_closed, False))
        return ValueSet(self.dimension, tuple(gaps), missing=missing)._normal()

    def subtract(self, other: ValueSet) -> ValueSet:
        return self.intersect(other.complement(with_missing=True))

    @property
    def is_empty(self) -> bool:
        if self.missing:
            return False
        if self.dimension.kind == "discrete":
            return not self.cofinite and not self.values
        return not self.intervals

    def within(self, other: ValueSet) -> bool:
        """Whether every value of this set is in ``other`` (a fast subset test)."""
        if self.missing and not other.missing:
            return False
        if self.dimension.kind == "discrete":
            if not self.cofinite:
                return (self.values.isdisjoint(other.values) if other.cofinite
                        else self.values <= other.values)
            return other.cofinite and other.values <= self.values
        return all(any(_interval_within(a, b) for b in other.intervals) for a in self.intervals)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` (None for missing) is in the set."""
        if value is None:
            return self.missing
        if self.dimension.kind == "discrete":
            return (value not in self.values) if self.cofinite else (value in self.values)
        point = _number(value)
        return any((i.low is _INF or point > i.low or (i.low_closed and point == i.low)) and
                   (i.high is _INF or point < i.high or (i.high_closed and point == i.high))
                   for i in self.intervals)

    # -- witnesses

    def witness(self) -> Any:
        """A value in the set (non-missing when there is one), as a risk officer writes it."""
        if self.dimension.kind == "discrete":
            if not self.cofinite and self.values:
                return sorted(self.values, key=str)[0]
            if self.cofinite:
                candidate = next(c for c in ("other", "x", "y", "z") if c not in self.values)
                return candidate
            return None
        if not self.intervals:
            return None
        interval = self.intervals[0]
        whole = self.dimension.kind == "whole"
        if interval.low is not _INF:
            value = interval.low if interval.low_closed else interval.low + (1 if whole else 0)
            if not interval.low_closed and not whole:
                value = (interval.low + interval.high) / 2 if interval.high is not _INF \
                    else interval.low + 1
        elif interval.high is not _INF:
            value = interval.high if interval.high_closed else interval.high - 1
        else:  # unbounded: 0, or for a date a day of this century (day 0 does not exist)
            value = Decimal(_A_DATE.toordinal() if self.dimension.is_date else 0)
        if self.dimension.is_date:
            return datetime.date.fromordinal(int(value))
        return value

    # -- normal form

    def _normal(self) -> ValueSet:
        if self.dimension.kind == "discrete":
            universe = self.dimension.universe
            if universe is not None:
                values = universe - self.values if self.cofinite else universe & self.values
                return ValueSet(self.dimension, values=values, missing=self.missing)
            return self
        whole = self.dimension.kind == "whole"
        cleaned = [i for i in (_whole(i) if whole else i for i in self.intervals)
                   if i is not None and not _empty(i)]
        cleaned.sort(key=_start_key)
        merged: list[Interval] = []
        for interval in cleaned:
            if merged and _touches(merged[-1], interval, whole):
                merged[-1] = _merge(merged[-1], interval)
            else:
                merged.append(interval)
        return ValueSet(self.dimension, tuple(merged), missing=self.missing)


def _number(value: Any) -> Decimal:
    if isinstance(value, datetime.date):
        return Decimal(value.toordinal())
    return Decimal(value)


def _whole(interval: Interval) -> Interval | None:
    """Integer and date intervals as closed ranges of whole numbers."""
    low, high = interval.low, interval.high
    if low is not _INF:
        low = low.to_integral_value(rounding="ROUND_CEILING")
        if not interval.low_closed and low == interval.low:
            low += 1
    if high is not _INF:
        high = high.to_integral_value(rounding="ROUND_FLOOR")
        if not interval.high_closed and high == interval.high:
            high -= 1
    return Interval(low, high, low is not _INF, high is not _INF)


def _empty(interval: Interval) -> bool:
    if interval.low is _INF or interval.high is _INF:
        return False
    if interval.low > interval.high:
        return True
    return interval.low == interval.high and not (interval.low_closed and interval.high_closed)


def _start_key(interval: Interval) -> tuple:
    return (interval.low is not _INF, interval.low or 0, not interval.low_closed)


def _touches(left: Interval, right: Interval, whole: bool) -> bool:
    if left.high is _INF or right.low is _INF:
        return True
    if whole:
        return right.low <= left.high + 1
    return right.low < left.high or (right.low == left.high and (left.high_closed or
                                                                  right.low_closed))


def _merge(left: Interval, right: Interval) -> Interval:
    if left.high is _INF or (right.high is not _INF and left.high > right.high):
        return left
    if right.high is _INF or right.high > left.high:
        return Interval(left.low, right.high, left.low_closed, right.high_closed)
    return Interval(left.low, left.high, left.low_closed, left.high_closed or right.high_closed)


def _interval_within(a: Interval, b: Interval) -> bool:
    if b.low is not _INF and (a.low is _INF or a.low < b.low or
                              (a.low == b.low and a.low_closed and not b.low_closed)):
        return False
    if b.high is not _INF and (a.high is _INF or a.high > b.high or
                               (a.high == b.high and a.high_closed and not b.high_closed)):
        return False
    return True


def _intersect(a: Interval, b: Interval) -> Interval | None:
    if a.low is _INF:
        low, low_closed = b.low, b.low_closed
    elif b.low is _INF or a.low > b.low:
        low, low_closed = a.low, a.low_closed
    elif b.low > a.low:
        low, low_closed = b.low, b.low_closed
    else:
        low, low_closed = a.low, a.low_closed and b.low_closed
    if a.high is _INF:
        high, high_closed = b.high, b.high_closed
    elif b.high is _INF or a.high < b.high:
        high, high_closed = a.high, a.high_closed
    elif b.high < a.high:
        high, high_closed = b.high, b.high_closed
    else:
        high, high_closed = a.high, a.high_closed and b.high_closed
    interval = Interval(low, high, low_closed, high_closed)
    return None if _empty(interval) else interval


Box = dict[str, ValueSet]  # dimension text -> the values allowed; absent means unconstrained


def box_intersect(left: Box, right: Box) -> Box:
    result = dict(left)
    for key, values in right.items():
        result[key] = result[key].intersect(values) if key in result else values
    return result


def box_is_empty(box: Box) -> bool:
    return any(values.is_empty for values in box.values())


def box_subtract(box: Box, other: Box) -> list[Box]:
    """``box`` less ``other``, as disjoint boxes (split one dimension at a time)."""
    pieces: list[Box] = []
    remaining = dict(box)
    for key, values in other.items():
        current = remaining.get(key) or ValueSet.everything(values.dimension,
                                                            values.dimension.can_be_missing)
        outside = current.subtract(values)
        if not outside.is_empty:
            pieces.append({**remaining, key: outside})
        remaining[key] = current.intersect(values)
        if remaining[key].is_empty:
            return [p for p in pieces if not box_is_empty(p)]
    return [p for p in pieces if not box_is_empty(p)]


def describe_witness(box: Box) -> str:
    """`behavior_score 755 and utilization 0.9` (missing when only missing fits)."""
    parts = []
    for key, values in box.items():
        value = values.witness()
        shown = "missing" if value is None else literal_text(value)
        parts.append(f"{key} {shown}")
    return " and ".join(parts) if parts else "any values"
