"""Tenet values as z3 terms: what the prover computes with instead of Python values.

Every value may be *missing*. A scalar is a ``Scalar`` (is it there, and its term); a boolean is
a ``Truth`` (is it true, is it false: neither means missing, so `and`, `or` and `not` are Kleene
logic by construction); a list is a ``Slots`` (one slot per possible element, each present or not,
so collecting, filtering and de-duplicating never moves an element); a record is a ``RecordValue``.

Numbers, money and integers are reals (exact rationals: a proof is over exact arithmetic, where the
engine computes with 34 significant digits). A date is its year, month and day, from which its
day number follows, so that `months_between` can be stated exactly. A `one of` value is the index
of its text in the declared list; other texts are z3 strings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import z3

TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)


class Unsupported(Exception):
    """A construct the prover cannot state exactly; the property's result is `unknown`."""


@dataclass(frozen=True)
class Truth:
    """A three-valued boolean: ``true`` and ``false`` never hold together; neither is missing."""

    true: z3.BoolRef
    false: z3.BoolRef

    @property
    def defined(self) -> z3.BoolRef:
        return z3.Or(self.true, self.false)


@dataclass(frozen=True)
class Scalar:
    """A number, money, integer, text or `one of` value, or a date, which may be missing.

    ``kind`` is "number" (a real term), "text" (a string term), "enum" (an integer index into
    ``values``) or "date" (``term`` is the day number, ``parts`` the year, month and day)."""

    defined: z3.BoolRef
    term: z3.ExprRef
    kind: str
    values: tuple[str, ...] = ()
    parts: tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef] | None = None


@dataclass(frozen=True)
class Slots:
    """A list: each slot is (present, element) in order; ``defined`` is false when the list
    itself is missing (an optional list field)."""

    defined: z3.BoolRef
    slots: tuple[tuple[z3.BoolRef, Value], ...]
    is_set: bool = False


@dataclass(frozen=True)
class RecordValue:
    defined: z3.BoolRef
    fields: dict[str, Value]


Value = Truth | Scalar | Slots | RecordValue

MISSING_TRUTH = Truth(FALSE, FALSE)


def known(value: bool) -> Truth:
    return Truth(TRUE, FALSE) if value else Truth(FALSE, TRUE)


def truth_of(condition: z3.BoolRef, defined: z3.BoolRef = TRUE) -> Truth:
    """A boolean that is ``condition`` when ``defined`` holds and missing otherwise."""
    return Truth(z3.And(defined, condition), z3.And(defined, z3.Not(condition)))


def number(value: Decimal | int | Fraction) -> Scalar:
    return Scalar(TRUE, z3.RealVal(Fraction(value)), "number")


def text(value: str) -> Scalar:
    return Scalar(TRUE, z3.StringVal(value), "text")


def missing_number() -> Scalar:
    return Scalar(FALSE, z3.RealVal(0), "number")


# ------------------------------------------------------------------------------------- dates


def is_leap(year: z3.ArithRef) -> z3.BoolRef:
    return z3.Or(z3.And(year % 4 == 0, year % 100 != 0), year % 400 == 0)


def days_in_month(year: z3.ArithRef, month: z3.ArithRef) -> z3.ArithRef:
    return z3.If(month == 2, z3.If(is_leap(year), 28 + 1, 28),
                 z3.If(z3.Or(month == 4, month == 6, month == 9, month == 11), 30, 31))


def day_number(year: z3.ArithRef, month: z3.ArithRef, day: z3.ArithRef) -> z3.ArithRef:
    """Days since 1970-01-01 of a valid date (the proleptic Gregorian calendar), with integer
    division by constants only, so that the solver reasons about it exactly."""
    shifted = year - z3.If(month <= 2, 1, 0)
    era = shifted / 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * (month + z3.If(month > 2, -3, 9)) + 2) / 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def date_value(year: z3.ArithRef, month: z3.ArithRef, day: z3.ArithRef,
               defined: z3.BoolRef = TRUE) -> Scalar:
    return Scalar(defined, day_number(year, month, day), "date", parts=(year, month, day))


def date_constant(value: datetime.date) -> Scalar:
    parts = (z3.IntVal(value.year), z3.IntVal(value.month), z3.IntVal(value.day))
    ordinal = value.toordinal() - datetime.date(1970, 1, 1).toordinal()
    return Scalar(TRUE, z3.IntVal(ordinal), "date", parts=parts)


def valid_date(year: z3.ArithRef, month: z3.ArithRef, day: z3.ArithRef) -> z3.BoolRef:
    return z3.And(year >= 1, year <= 9999, month >= 1, month <= 12, day >= 1,
                  day <= days_in_month(year, month))


def months_between(start: Scalar, end: Scalar) -> z3.ArithRef:
    """LANGUAGE.md §4: whole months from ``start`` to ``end``; a month is whole once its day of
    the month is reached, clamped to the month's last day; negative when ``end`` is earlier."""
    def forward(first: Scalar, last: Scalar) -> z3.ArithRef:
        (y1, m1, d1), (y2, m2, d2) = first.parts, last.parts
        last_day = days_in_month(y2, m2)
        reached = z3.If(d1 < last_day, d1, last_day)
        return (y2 - y1) * 12 + m2 - m1 - z3.If(d2 < reached, 1, 0)
    return z3.If(end.term < start.term, -forward(end, start), forward(start, end))


# ------------------------------------------------------------------------------------ choice


def choose(condition: z3.BoolRef, then: Value, otherwise: Value) -> Value:
    """``then`` where ``condition`` holds, else ``otherwise`` (both of one type)."""
    if isinstance(then, Truth):
        return Truth(z3.If(condition, then.true, otherwise.true),
                     z3.If(condition, then.false, otherwise.false))
    if isinstance(then, Scalar):
        then, otherwise = same_kind(then, otherwise)
        parts = None
        if then.parts is not None:
            parts = tuple(z3.If(condition, a, b) for a, b in zip(then.parts, otherwise.parts,
                                                                  strict=True))
        return Scalar(z3.If(condition, then.defined, otherwise.defined),
                      z3.If(condition, then.term, otherwise.term), then.kind, then.values, parts)
    if isinstance(then, Slots):
        size = max(len(then.slots), len(otherwise.slots))
        filler = (then.slots or otherwise.slots or ((FALSE, None),))[0][1]
        a, b = padded(then, size, filler), padded(otherwise, size, filler)
        slots = tuple((z3.If(condition, pa, pb), choose(condition, ea, eb))
                      for (pa, ea), (pb, eb) in zip(a, b, strict=True))
        return Slots(z3.If(condition, then.defined, otherwise.defined), slots, then.is_set)
    fields = {name: choose(condition, value, otherwise.fields[name])
              for name, value in then.fields.items()}
    return RecordValue(z3.If(condition, then.defined, otherwise.defined), fields)


def padded(items: Slots, size: int, filler: Value) -> tuple[tuple[z3.BoolRef, Value], ...]:
    """The slots of ``items``, with absent slots (holding ``filler``) added up to ``size``."""
    return items.slots + tuple((FALSE, filler) for _ in range(size - len(items.slots)))


def same_kind(a: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
    """Two scalars in one representation: a `one of` index meets a text or another `one of` as
    a string; an integer-sorted term meets a real one as a real."""
    if a.kind == "enum" and b.kind == "enum" and a.values == b.values:
        return a, b
    if a.kind == "enum" and b.kind == "text" and z3.is_string_value(b.term):
        return a, _index_in(a.values, b)
    if b.kind == "enum" and a.kind == "text" and z3.is_string_value(a.term):
        return _index_in(b.values, a), b
    if a.kind == "enum" and b.kind in ("enum", "text") or b.kind == "enum" and a.kind == "text":
        return as_text(a), as_text(b)
    if a.kind == "number" and b.kind == "number":
        return Scalar(a.defined, z3.ToReal(a.term) if a.term.is_int() else a.term, "number"), \
            Scalar(b.defined, z3.ToReal(b.term) if b.term.is_int() else b.term, "number")
    return a, b


def _index_in(values: tuple[str, ...], literal: Scalar) -> Scalar:
    """A text constant as an index into ``values`` (-1, equal to none, when not among them)."""
    written = literal.term.as_string()
    index = values.index(written) if written in values else -1
    return Scalar(literal.defined, z3.IntVal(index), "enum", values)


def coerced(value: Value, type_: object, enum_values: tuple[str, ...] | None) -> Value:
    """A text stored where a `one of` value is expected, as its index (``enum_values``)."""
    if enum_values is None or not isinstance(value, Scalar) or value.kind != "text":
        return value
    if z3.is_string_value(value.term):
        return _index_in(enum_values, value)
    index = z3.IntVal(-1)
    for position in range(len(enum_values) - 1, -1, -1):
        index = z3.If(value.term == z3.StringVal(enum_values[position]), position, index)
    return Scalar(value.defined, index, "enum", enum_values)


def as_text(value: Scalar) -> Scalar:
    if value.kind != "enum":
        return value
    term = z3.StringVal(value.values[-1]) if value.values else z3.StringVal("")
    for index in range(len(value.values) - 2, -1, -1):
        term = z3.If(value.term == index, z3.StringVal(value.values[index]), term)
    return Scalar(value.defined, term, "text")


def enum_constant(values: tuple[str, ...], chosen: str) -> Scalar:
    return Scalar(TRUE, z3.IntVal(values.index(chosen)), "enum", values)


# ---------------------------------------------------------------------------------- equality


def equal(a: Value, b: Value) -> z3.BoolRef:
    """Python's ``==`` on two values that are both present (a missing element, inside a list or
    record, equals only a missing one)."""
    if isinstance(a, Truth):
        return z3.Or(z3.And(a.true, b.true), z3.And(a.false, b.false))
    if isinstance(a, Scalar):
        a, b = same_kind(a, b)
        return z3.And(a.defined, b.defined, a.term == b.term)
    if isinstance(a, RecordValue):
        names = set(a.fields) | set(b.fields)
        return z3.And(*[same(a.fields[n], b.fields[n]) for n in sorted(names)
                        if n in a.fields and n in b.fields])
    return lists_equal(a, b)


def same(a: Value, b: Value) -> z3.BoolRef:
    """Equal, or both missing: how two decisions' values are compared."""
    return z3.Or(z3.And(z3.Not(defined(a)), z3.Not(defined(b))),
                 z3.And(defined(a), defined(b), equal(a, b)))


def defined(value: Value) -> z3.BoolRef:
    return value.defined


def lists_equal(a: Slots, b: Slots) -> z3.BoolRef:
    """Same length, and the k-th present element of each equal, for every k."""
    def rank(items: Slots, index: int) -> z3.ArithRef:
        return z3.Sum([z3.If(p, 1, 0) for p, _ in items.slots[:index]] + [z3.IntVal(0)])
    same_length = length(a) == length(b)
    pairs = []
    for i, (pa, ea) in enumerate(a.slots):
        for j, (pb, eb) in enumerate(b.slots):
            pairs.append(z3.Implies(z3.And(pa, pb, rank(a, i) == rank(b, j)), same(ea, eb)))
    return z3.And(same_length, *pairs)


def length(items: Slots) -> z3.ArithRef:
    return z3.Sum([z3.If(p, 1, 0) for p, _ in items.slots] + [z3.IntVal(0)])


def contains(items: Slots, value: Value) -> z3.BoolRef:
    return z3.Or(FALSE, *[z3.And(p, equal(element, value)) for p, element in items.slots])


def deduplicated(items: Slots) -> Slots:
    """A set's slots: an element is present only when no earlier present slot holds it."""
    kept: list[tuple[z3.BoolRef, Value]] = []
    for present, element in items.slots:
        repeated = z3.Or(FALSE, *[z3.And(p, same(e, element)) for p, e in kept])
        kept.append((z3.And(present, z3.Not(repeated)), element))
    return Slots(items.defined, tuple(kept), True)


def fraction_of(value: z3.ExprRef) -> Fraction | None:
    """An exact rational from a model's value (None for an algebraic number)."""
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    return None
