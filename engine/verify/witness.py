"""From a z3 model to a customer: facts a person can read and `tenet run` takes.

A model is whatever the solver found first (amounts like 4097/3, optional fields filled in). Before
it is shown, ``simplify`` asks the solver, one fact at a time, whether the violation survives with
the optional field left out, with the list shorter, with the amount 0 or rounded to one or two
significant digits or to a whole number; each answer that keeps the violation is kept. Then
``facts_of`` reads the facts off the model; an amount that is not a decimal (a third, say) cannot
be written in a facts file, and the caller reports the result as unknown.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

from engine.check import types as t
from engine.check.symbols import Symbols
from engine.verify import symbolic as s
from engine.verify.facts import FactsSpace, Leaf

# Each check while simplifying gets this long; one that times out just keeps the fact as it is.
_STEP_TIMEOUT_MS = 300


class NotDecimal(Exception):
    """The model's value of a fact has no exact decimal form."""


def simplify(solver: z3.Solver, space: FactsSpace, start: datetime.date | None,
             patience_ms: int, budget: int = 200) -> z3.ModelRef:
    """A model of the solver's assertions with facts as plain as the solver allows: at most
    ``budget`` extra checks, each kept only when the violation survives. The caller pops.

    Each check may take a moment only, so how plain a witness is can depend on the machine's
    load; that it is a decimal cannot: a fact still without a decimal form at the end gets one
    more chance with ``patience_ms``, the claim's own time limit."""
    model = solver.model()
    solver.set("timeout", _STEP_TIMEOUT_MS)

    def keep(condition: z3.BoolRef, needed: bool = False) -> bool:
        nonlocal model, budget
        if budget <= 0 and not needed:
            return False
        budget -= 1
        solver.push()
        solver.add(condition)
        if needed:
            solver.set("timeout", patience_ms)
        answer = solver.check()
        solver.set("timeout", _STEP_TIMEOUT_MS)
        if answer == z3.sat:
            model = solver.model()
            return True
        solver.pop()
        return False

    for flag in space.optional.values():
        if z3.is_true(model.eval(flag, model_completion=True)):
            keep(z3.Not(flag))
    for leaf in space.lists.values():
        size = model.eval(leaf.size, model_completion=True).as_long()
        for shorter in range(size):
            if keep(leaf.size == shorter):
                break
    keep(space.today.term == s.date_constant(start or datetime.date.today()).term)
    for leaf in space.leaves.values():  # dates of facts: the as-of date reads best
        if leaf.type == t.DATE:
            keep(s.day_number(*leaf.variables) == space.today.term)
    numeric = [leaf for leaf in space.leaves.values() if t.is_numeric(leaf.type)]
    # Twice: a fact that cannot be round while others are free (a product of two facts is hard
    # for the solver) often can once they are fixed.
    for leaf in numeric + numeric:
        variable = leaf.variables[0]
        current = s.fraction_of(model.eval(variable, model_completion=True))
        if current is None:
            continue
        for candidate in _round_candidates(current, leaf.type == t.INTEGER):
            if candidate == current and _is_decimal(current):
                break
            if keep(variable == _numeral(candidate, leaf)):
                break
        else:
            # No round value keeps the violation: ask for any amount with few decimals.
            for places in (2, 6, 12):
                if keep(z3.IsInt(variable * 10 ** places)):
                    break
    for leaf in numeric:
        current = s.fraction_of(model.eval(leaf.variables[0], model_completion=True))
        if current is not None and not _is_decimal(current):
            keep(z3.IsInt(leaf.variables[0] * 10 ** 6), needed=True)
    return model


def _round_candidates(value: Fraction, whole: bool) -> list[Fraction]:
    """0, then ``value`` with one and two significant digits, whole, and to the cent."""
    found = [Fraction(0)]
    magnitude = abs(value)
    if magnitude >= 1:
        digits = len(str(int(magnitude)))
        for keep in (1, 2):
            step = Fraction(10) ** max(digits - keep, 0)
            found.append(round(value / step) * step)
    found.append(Fraction(round(value)))
    if not whole:
        found.append(Fraction(round(value * 100), 100))
    return list(dict.fromkeys(found))


def _numeral(value: Fraction, leaf: Leaf) -> z3.ExprRef:
    if leaf.type == t.INTEGER:
        return z3.IntVal(int(value))
    return z3.RealVal(value)


def _is_decimal(value: Fraction) -> bool:
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1


def decimal_of(value: Fraction) -> Decimal:
    if not _is_decimal(value):
        raise NotDecimal(str(value))
    digits = 0
    while (value * 10 ** digits).denominator != 1:
        digits += 1
    return (Decimal(value.numerator * 10 ** digits // value.denominator)
            .scaleb(-digits))


def as_of_of(model: z3.ModelRef, space: FactsSpace) -> datetime.date:
    return _date(model, space.today_parts)


def facts_of(model: z3.ModelRef, space: FactsSpace, symbols: Symbols) -> dict[str, Any]:
    """The facts of the model for ``symbols``' schema: JSON-ready (Decimals, ISO dates), with
    optional fields that are missing left out."""
    return {name: _record(model, space, symbols, name, (name,)) for name in symbols.facts}


def _record(model, space: FactsSpace, symbols: Symbols, record: str, path: tuple) -> dict:
    values = {}
    for name, declaration in symbols.record_fields(record).items():
        field_path = (*path, name)
        flag = space.optional.get(field_path)
        if declaration.optional and not z3.is_true(model.eval(flag, model_completion=True)):
            continue
        values[name] = _value(model, space, symbols, symbols.resolve_type(declaration.type),
                              field_path)
    return values


def _value(model, space: FactsSpace, symbols: Symbols, type_: t.Type, path: tuple) -> Any:
    if isinstance(type_, t.Record):
        return _record(model, space, symbols, type_.name, path)
    if isinstance(type_, t.ListOf):
        size = model.eval(space.lists[path].size, model_completion=True).as_long()
        return [_value(model, space, symbols, type_.element, (*path, index))
                for index in range(size)]
    variables = space.leaves[path].variables
    if type_ == t.DATE:
        return _date(model, variables).isoformat()
    found = model.eval(variables[0], model_completion=True)
    if type_ == t.BOOLEAN:
        return z3.is_true(found)
    if isinstance(type_, t.Enum):
        return type_.values[found.as_long()]
    if type_ == t.TEXT:
        return found.as_string()
    value = s.fraction_of(found)
    if value is None:
        raise NotDecimal(str(found))
    return decimal_of(value)


def _date(model, parts) -> datetime.date:
    year, month, day = (model.eval(p, model_completion=True).as_long() for p in parts)
    return datetime.date(year, month, day)
