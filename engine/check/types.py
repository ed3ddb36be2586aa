"""Static types of Tenet values and the unit rules of LANGUAGE.md section 3.

``NUMERAL`` is the type of a numeric literal, and of anything computed from literals alone: it has
no unit and can stand for money or for a number. ``UNKNOWN`` is what the checker gives an
expression it already reported an error for, so one mistake does not cascade into many.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Scalar(Type):
    """`integer`, `number`, `money`, `boolean`, `text`, `date`, or the unitless ``numeral``."""

    name: str

    def describe(self) -> str:
        return "a number without unit" if self.name == "numeral" else self.name


@dataclass(frozen=True, slots=True)
class Enum(Type):
    """`one of "a", "b"`."""

    values: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(f'"{v}"' for v in self.values)


@dataclass(frozen=True, slots=True)
class ListOf(Type):
    """`list of T`, or `set of T` with ``is_set``."""

    element: Type
    is_set: bool = False

    def describe(self) -> str:
        return ("set of " if self.is_set else "list of ") + self.element.describe()


@dataclass(frozen=True, slots=True)
class Record(Type):
    """A `type` declaration or a `facts` block, by name."""

    name: str

    def describe(self) -> str:
        return f"a `{self.name}` record"


@dataclass(frozen=True, slots=True)
class Unknown(Type):
    """An expression whose type could not be found (its error is already reported)."""

    def describe(self) -> str:
        return "an unknown type"


INTEGER = Scalar("integer")
NUMBER = Scalar("number")
MONEY = Scalar("money")
BOOLEAN = Scalar("boolean")
TEXT = Scalar("text")
DATE = Scalar("date")
NUMERAL = Scalar("numeral")
UNKNOWN = Unknown()

NUMERIC = frozenset({INTEGER, NUMBER, MONEY, NUMERAL})
PRIMITIVES = {"integer": INTEGER, "number": NUMBER, "money": MONEY, "boolean": BOOLEAN,
              "text": TEXT, "date": DATE}


class UnitError(Exception):
    """Two operands whose units do not go together; the message is ready for a diagnostic."""

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help


def is_numeric(type_: Type) -> bool:
    return type_ in NUMERIC


def is_ordered(type_: Type) -> bool:
    """Values that `<`, `between`, `min` and intervals can compare."""
    return type_ in NUMERIC or type_ == DATE


def is_textual(type_: Type) -> bool:
    return type_ == TEXT or isinstance(type_, Enum)


def arithmetic(op: str, left: Type, right: Type) -> Type:
    """The type of `left op right` for numeric operands; raises UnitError when the money unit
    rules forbid it."""
    if MONEY not in (left, right):
        if left == NUMERAL and right == NUMERAL:
            return NUMERAL
        if op == "/":
            return NUMBER
        if {left, right} <= {INTEGER, NUMERAL}:
            return INTEGER
        return NUMBER
    other = right if left == MONEY else left
    if op in "+-":
        if other in (MONEY, NUMERAL):
            return MONEY
        verb = "add" if op == "+" else "subtract"
        raise UnitError(f"cannot {verb} {left.describe()} and {right.describe()}",
                        "money can only be added to money or to a literal amount")
    if op == "*":
        if other == MONEY:
            raise UnitError("cannot multiply money by money",
                            "multiply money by a number or a literal, e.g. `x * 1.5`")
        return MONEY
    # division
    if left == MONEY and right == MONEY:
        return NUMBER
    if left == MONEY:
        return MONEY
    raise UnitError(f"cannot divide {left.describe()} by money",
                    "divide money by money (a ratio) or money by a number (an amount)")


def comparable(left: Type, right: Type) -> bool:
    """Whether `=` can compare the two (units aside: see ``check_units_comparable``)."""
    if UNKNOWN in (left, right):
        return True
    if is_numeric(left) and is_numeric(right):
        return True
    if is_textual(left) and is_textual(right):
        return True
    if isinstance(left, ListOf) and isinstance(right, ListOf):
        return comparable(left.element, right.element)
    return left == right and not isinstance(left, Record)


def check_units_comparable(left: Type, right: Type) -> None:
    """Money compares with money and with literals, never with a non-literal number."""
    if MONEY in (left, right):
        other = right if left == MONEY else left
        if other in (INTEGER, NUMBER):
            raise UnitError(f"cannot compare money with {other.describe()}",
                            "compare money with money, or with a literal amount")


def unify(left: Type, right: Type) -> Type | None:
    """The type of a value that is either ``left`` or ``right`` (if/else branches, list items,
    table results); None when they do not go together."""
    if left == right:
        return left
    if isinstance(left, Unknown):
        return right
    if isinstance(right, Unknown):
        return left
    if is_numeric(left) and is_numeric(right):
        if NUMERAL in (left, right):
            return right if left == NUMERAL else left
        if MONEY in (left, right):
            return None
        return NUMBER
    if is_textual(left) and is_textual(right):
        if isinstance(left, Enum) and isinstance(right, Enum):
            return Enum(tuple(dict.fromkeys(left.values + right.values)))
        return TEXT
    if isinstance(left, ListOf) and isinstance(right, ListOf):
        element = unify(left.element, right.element)
        return None if element is None else ListOf(element, left.is_set and right.is_set)
    return None


def assignable(value: Type, target: Type) -> bool:
    """Whether a value of type ``value`` can be stored where ``target`` is expected (enum
    membership of literals is checked separately, where the literal is known)."""
    if isinstance(value, Unknown) or isinstance(target, Unknown):
        return True
    if value == target:
        return True
    if target == MONEY:
        return value == NUMERAL
    if target == NUMBER:
        return value in (INTEGER, NUMERAL)
    if target == INTEGER:
        return value == NUMERAL
    if isinstance(target, Enum):
        return value == TEXT or (isinstance(value, Enum) and set(value.values) <= set(target.values))
    if target == TEXT:
        return isinstance(value, Enum)
    if isinstance(target, ListOf) and isinstance(value, ListOf):
        return assignable(value.element, target.element)
    return False
