"""The meaning of values and operators at run time, shared by both evaluators.

Values are Python objects: ``Decimal`` for integers, numbers and money (never binary floats),
``str``, ``bool``, ``datetime.date``, tuples for lists and sets, dicts for records, and ``None``
for *missing*. Arithmetic and comparisons with a missing operand give missing; `and`, `or` and
`not` follow three-valued (Kleene) logic; division by zero gives missing and a note.
"""

from __future__ import annotations

import calendar
import datetime
import decimal
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from engine.exceptions import DecisionConflict

# 34 significant digits (IEEE decimal128): enough for any amount, and deterministic.
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN,
                          traps=[decimal.InvalidOperation, decimal.Overflow])
ZERO = Decimal(0)


def check_whole(output: str, value: Any) -> None:
    """An `integer` output takes whole numbers: a rule that computes a fraction for it (say
    `c.days * 1.5`) must not have it silently kept."""
    if value is not None and value != CONTEXT.to_integral_value(value):
        raise DecisionConflict(f"output `{output}` is an integer, but its value is "
                               f"{normalize(value)}: round it in the rule, e.g. with `round(…)`")


def out_of_range(where: str) -> str:
    """The note for a result beyond the numbers Tenet computes with."""
    return (f"`{where}` is beyond the numbers Tenet computes with (34 digits, exponents to "
            "±999,999): the value is missing")


def guarded(function: Callable[..., Any], notes: Notes, where: str, *arguments: Any) -> Any:
    """``function(*arguments)``, or missing with a note when the result is out of range (an
    overflow, or more digits than `round` can give): a decision never fails on a number."""
    try:
        return function(*arguments)
    except decimal.DecimalException:
        notes.add(out_of_range(where))
        return None


class Notes:
    """Notes the evaluation leaves in the trace (division by zero, skipped caps, …)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)


# ------------------------------------------------------------------------------ arithmetic


def add(left: Any, right: Any) -> Any:
    return None if left is None or right is None else CONTEXT.add(left, right)


def subtract(left: Any, right: Any) -> Any:
    return None if left is None or right is None else CONTEXT.subtract(left, right)


def multiply(left: Any, right: Any) -> Any:
    return None if left is None or right is None else CONTEXT.multiply(left, right)


def divide(left: Any, right: Any, notes: Notes, where: str) -> Any:
    if left is None or right is None:
        return None
    if right == 0:
        notes.add(f"division by zero in `{where}`: the value is missing")
        return None
    return CONTEXT.divide(left, right)


def negate(value: Any) -> Any:
    # CONTEXT, never the thread's: a host that set `getcontext().prec = 6` must not change
    # a decision.
    return None if value is None else CONTEXT.minus(value)


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {"+": add, "-": subtract, "*": multiply}


# ---------------------------------------------------------------------------- comparisons


def compare(op: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def between(value: Any, low: Any, high: Any) -> bool | None:
    if value is None or low is None or high is None:
        return None
    return low <= value <= high


def contains(collection: Any, value: Any, negated: bool) -> bool | None:
    if value is None or collection is None:
        return None
    found = value in collection
    return not found if negated else found


# -------------------------------------------------------------------------------- logic


def logical_not(value: bool | None) -> bool | None:
    return None if value is None else not value


def logical_and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def logical_or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def any_of(values: Iterable[bool | None]) -> bool | None:
    unknown = False
    for value in values:
        if value is True:
            return True
        unknown = unknown or value is None
    return None if unknown else False


def all_of(values: Iterable[bool | None]) -> bool | None:
    unknown = False
    for value in values:
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True


# ---------------------------------------------------------------------------- functions


def _to_step(rounding: str) -> Callable[[Decimal, Decimal], Decimal]:
    """`round_down` or `round_up`: a value rounded to a multiple of a step (0: as it is)."""
    def rounded(value: Decimal, step: Decimal) -> Decimal:
        if step == 0:
            return value
        quotient = CONTEXT.divide(value, step).to_integral_value(rounding, CONTEXT)
        return CONTEXT.multiply(quotient, step)
    return rounded


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole months from ``start`` to ``end``: a month is whole once its day of the month is
    reached, clamped to the month's last day; negative when ``end`` is before ``start``."""
    if end < start:
        return -months_between(end, start)
    months = (end.year - start.year) * 12 + end.month - start.month
    last_day = calendar.monthrange(end.year, end.month)[1]
    if end.day < min(start.day, last_day):
        months -= 1
    return months


def _missing_if_any(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*arguments: Any) -> Any:
        return None if None in arguments else function(*arguments)
    return wrapper


def _round(value: Decimal, places: Decimal = ZERO) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-int(places)), rounding=decimal.ROUND_HALF_EVEN,
                          context=CONTEXT)


# The functions of the language on values that are not missing: the generated code calls
# them once it has tested its arguments (it knows which can be missing); ``FUNCTIONS`` are the
# same functions giving missing for a missing argument, for the reference interpreter.
IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "min": min,  # two arguments or more (the checker holds calls to it)
    "max": max,
    "abs": CONTEXT.abs,
    "round": _round,
    "round_down": _to_step(decimal.ROUND_FLOOR),
    "round_up": _to_step(decimal.ROUND_CEILING),
    "days_between": lambda d1, d2: Decimal((d2 - d1).days),
    "months_between": lambda d1, d2: Decimal(months_between(d1, d2)),
    "length": lambda items: Decimal(len(items)),
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _missing_if_any(function) for name, function in IMPLEMENTATIONS.items()}


# --------------------------------------------------------------------------- aggregates


def aggregate(kind: str, values: list[Any]) -> Any:
    """count, sum, min, max or average of the kept elements' values. Over nothing, `count` and
    `sum` are 0 and the others missing; a missing value makes the result missing."""
    if kind == "count":
        return Decimal(len(values))
    if any(value is None for value in values):
        return None
    if kind == "sum":
        total = ZERO
        for value in values:
            total = CONTEXT.add(total, value)
        return total
    if not values:
        return None
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    return CONTEXT.divide(aggregate("sum", values), Decimal(len(values)))


def conflicting(value: Any) -> str:
    """A proposal as a conflict's message shows it: `1.5`, or `{rate: 0.039, months: 36}` for
    a row of a table with several results."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{name}: {conflicting(item)}" for name, item in value.items()) + "}"
    return str(normalize(value))


def rank(order: dict | tuple | None, value: Any) -> Any:
    """The rank of ``value`` under `priority` and `output order`, lowest first, for an order
    made by ``engine.check.checker.rank_order``: a `one of` value by its position; a record (a
    row of a table with several results) by its ranked fields in turn. Unranked values come
    last, in their order (the sorts are stable)."""
    if order is None:
        return 0
    if isinstance(order, dict):
        return order.get(value, len(order))
    return tuple(ranks.get(value.get(name), len(ranks)) for name, ranks in order)


def normalize(value: Any) -> Any:
    """A value as a decision shows it: whole numbers without a decimal part (15000, not
    15000.0), other numbers without trailing zeros; lists of such values likewise. Nothing goes
    through ``int``: a whole number too long to write out keeps its exponent (1E+40)."""
    if isinstance(value, Decimal):
        integral = value.to_integral_value(None, CONTEXT)  # positional: keywords cost more
        if value != integral:
            return _strip(value)
        if not integral:
            return ZERO  # no negative zero
        try:
            return integral.quantize(_ONE, None, CONTEXT)
        except decimal.InvalidOperation:  # more digits than the context holds
            return integral
    if isinstance(value, (tuple, list)):  # noqa: UP038 (a tuple of types is faster here)
        return [normalize(item) for item in value]
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    return value


_ONE = Decimal(1)


def _strip(value: Decimal) -> Decimal:
    text = format(value, "f")
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)
