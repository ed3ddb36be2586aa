"""Facts: validated against the ruleset's `facts` and `type` declarations before anything runs.

The checker's types become pydantic models (one per facts block and record type, extra fields
forbidden) whose field validators are strict: numbers must be JSON numbers (read as Decimals,
never binary floats), dates ISO texts, enum values among their list. Every problem is reported
with its path (`customer.balance: expected money, got "lots"`), all at once.
"""

from __future__ import annotations

import datetime
import json
import math
import numbers
import operator
import re
import threading
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from engine.check import types as t
from engine.check.symbols import Symbols
from engine.diagnostics import did_you_mean
from engine.exceptions import FactsError, FactsJsonError
from engine.run.runtime import CONTEXT
from engine.syntax.source import escape_unprintable

MAX_LIST_ITEMS = 100_000  # in a facts list: a customer's loans, contacts, transactions, …


# Numbers in facts: at most 34 significant digits (what decisions compute with), and a size
# between 1E-34 and 1E+34 (or zero). Larger or finer numbers are facts errors, not surprises
# deep inside a decision.
DIGITS = CONTEXT.prec
LARGEST_INTEGER = 10**DIGITS
_SHOWN_TEXT = 60  # characters of a text value shown in an error message


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(text: str) -> datetime.date | None:
    """The date of a `YYYY-MM-DD` text of ASCII digits, or None: Python's `fromisoformat` also
    takes week dates (`2015-W01-1`) and other forms that a facts file should not mean."""
    if _ISO_DATE.fullmatch(text) is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def plain_date(value: Any) -> datetime.date | None:
    """A date value as a plain `datetime.date`, or None when it is not a date. A `datetime`
    (or `pandas.Timestamp`, a Parquet timestamp) is not a date, even at midnight: comparing it
    with one is always false or an error, and which day a time with a zone falls on is not
    obvious."""
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        return None
    return value if type(value) is datetime.date else datetime.date(
        value.year, value.month, value.day)


def plain_number(value: Any) -> Any:
    """Python's own number for a number of another type that says one exactly: a subclass of
    `int` or `float` (`numpy.float64` is one), or an integer type such as `numpy.int64`, read
    through the base type's own methods (a subclass may rig its own). Anything else is returned
    as it is, for the validators to judge (`numpy.float32` cannot say 0.1)."""
    if type(value) in (int, float, Decimal, bool):
        return value
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    return value


def number_in_range(value: Decimal) -> bool:
    return not value or (-DIGITS <= value.adjusted() < DIGITS and CONTEXT.plus(value) == value)


class _Repeated(dict):
    """A JSON object in which a key appeared more than once (the first such key is kept)."""

    repeated: str


def parse_facts_json(text: str) -> Any:
    """Facts from JSON text: numbers as Decimals (never binary floats; a whole number too long
    for Python's int is a Decimal too, for the schema to refuse), and an object with a repeated
    key refused with the key's path, since which value would count is not obvious."""
    _REPEATS.count = 0
    try:
        try:
            value = _DECODER.decode(text)
        except json.JSONDecodeError:
            raise
        except ValueError:  # a whole number longer than Python converts to int
            value = _LONG_INTEGER_DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise FactsJsonError(f"the facts are not valid JSON: {error.msg}",
                             f":{error.lineno}:{error.colno}") from None
    except RecursionError:
        raise FactsJsonError("the facts are nested too deeply to read") from None
    if _REPEATS.count:
        raise FactsJsonError(f"`{_repeated_key(value, '')}` is given twice")
    if _SURROGATE_ESCAPE.search(text) is not None:
        where = _lone_surrogate(value, "")
        if where is not None:
            raise FactsJsonError(f"{where} holds a lone surrogate (a `\\ud800`…`\\udfff` escape "
                                 "without its pair), which is no character")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate, which no UTF-8 output can write."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _lone_surrogate(value: Any, path: str) -> str | None:
    """Where a text (or key) with a lone surrogate is, as `the text at …`, or None."""
    if isinstance(value, str):
        return f"the text at `{path or '(top)'}`" if has_surrogate(value) else None
    items = (value.items() if isinstance(value, dict) else enumerate(value)
             if isinstance(value, list) else ())
    for key, item in items:
        if isinstance(key, str) and has_surrogate(key):
            return f"a key in `{path or '(top)'}`"
        where = _lone_surrogate(item, f"{path}[{key}]" if isinstance(key, int) else
                                f"{path}.{key}" if path else key)
        if where is not None:
            return where
    return None


def _objects(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    _REPEATS.count += 1
    marked = _Repeated(pairs)
    seen: set[str] = set()
    marked.repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
    return marked


_REPEATS = threading.local()  # how many objects of the text being read repeat a key


def _json_integer(digits: str) -> int | Decimal:
    return int(digits) if len(digits) < 40 else Decimal(digits)


# Made once: json.loads with options builds a decoder on every call.
_DECODER = json.JSONDecoder(parse_float=Decimal, object_pairs_hook=_objects)
_LONG_INTEGER_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=_json_integer,
                                         object_pairs_hook=_objects)


def _repeated_key(value: Any, path: str) -> str | None:
    """The path of the first repeated key, depth first."""
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Repeated):
            return f"{where}.{node.repeated}" if where else node.repeated
        if isinstance(node, dict):
            stack.extend((item, f"{where}.{key}" if where else key)
                         for key, item in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{index}]")
                         for index, item in reversed(list(enumerate(node))))
    return None


def describe_json(value: Any) -> str:
    """A value as the error message shows it: JSON-like, control characters escaped, long
    texts and huge numbers shortened (a 12 MB text must not take a minute to print)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = escape_unprintable(json.dumps(value[:_SHOWN_TEXT], ensure_ascii=False))
        return shown if len(value) <= _SHOWN_TEXT else \
            f"{shown[:-1]}…\" ({len(value):,} characters)"
    if isinstance(value, int) and abs(value) >= LARGEST_INTEGER:
        digits = int(value.bit_length() * 0.30103) + 1  # str() refuses ints this long
        return f"a whole number of about {digits:,} digits"
    if isinstance(value, Decimal) and len(value.as_tuple().digits) > 2 * DIGITS:
        return f"a number of {len(value.as_tuple().digits):,} digits"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return f"the binary float {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _fail(expected: str, value: Any) -> None:
    raise PydanticCustomError("tenet", "expected {expected}, got {got}",
                              {"expected": expected, "got": describe_json(value)})


def _out_of_range(value: Any) -> None:
    raise PydanticCustomError(
        "tenet", "{got} is out of range: numbers in facts have at most {digits} significant "
                 "digits and lie between 1E-{digits} and 1E+{digits}",
        {"got": describe_json(value), "digits": DIGITS})


def _scalar_validator(type_: t.Type):
    """A strict conversion from a JSON value to the runtime value of ``type_``."""
    if type_ in (t.INTEGER, t.NUMBER, t.MONEY):
        name = type_.describe()

        def number(value: Any) -> Decimal:
            value = plain_number(value)
            if isinstance(value, float) and math.isfinite(value):
                # A binary float (facts from `json.load`) is read as its shortest text.
                return number(Decimal(repr(value)))
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                _fail(name, value)
            if isinstance(value, int) and not -LARGEST_INTEGER < value < LARGEST_INTEGER:
                _out_of_range(value)
            result = Decimal(value)
            if not result.is_finite() or (
                    type_ == t.INTEGER and result != CONTEXT.to_integral_value(result)):
                _fail(name, value)
            if not number_in_range(result):
                _out_of_range(value)
            return result
        return number
    if type_ == t.BOOLEAN:
        def boolean(value: Any) -> bool:
            if not isinstance(value, bool):
                _fail("true or false", value)
            return value
        return boolean
    if type_ == t.DATE:
        def date(value: Any) -> datetime.date:
            found = (iso_date(str.__str__(value)) if isinstance(value, str)
                     else plain_date(value))
            if found is None:
                if isinstance(value, datetime.datetime):
                    raise PydanticCustomError(
                        "tenet", "expected a date (YYYY-MM-DD), got the timestamp {got}: a "
                                 "date field takes dates; convert the column to dates",
                        {"got": value.isoformat()})
                _fail("a date (YYYY-MM-DD)", value)
            return found
        return date
    if isinstance(type_, t.Enum):
        options = ", ".join(f'"{v}"' for v in type_.values)

        def enum(value: Any) -> str:
            if isinstance(value, str):
                value = str.__str__(value)  # the plain text: a subclass may rig `==`
            if not isinstance(value, str) or value not in type_.values:
                suggestion = did_you_mean(value, type_.values) if isinstance(value, str) else None
                raise PydanticCustomError(
                    "tenet", "expected one of {options}, got {got}{hint}",
                    {"options": options, "got": describe_json(value),
                     "hint": f" ({suggestion})" if suggestion else ""})
            return value
        return enum

    def text(value: Any) -> str:
        if not isinstance(value, str):
            _fail("text", value)
        if has_surrogate(value):
            raise PydanticCustomError("tenet", "{got} holds a lone surrogate, which is no "
                                      "character", {"got": describe_json(value)})
        return str.__str__(value)
    return text


def _distinct(values: list[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))


class FactsSchema:
    """The pydantic models of a ruleset's facts, built once per ruleset."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols
        self._models: dict[str, type[BaseModel]] = {}
        # Python attributes are engine-chosen (`f0`, `f1`, …) and the ruleset's names are
        # aliases: pydantic would take a name such as `_x` or `__builtins__` for private.
        blocks = {f"f{index}": (self._annotation(t.Record(name)), Field(alias=name))
                  for index, name in enumerate(symbols.facts)}
        self.model = create_model("Facts", __config__=ConfigDict(extra="forbid"), **blocks)

    def _annotation(self, type_: t.Type) -> Any:
        if isinstance(type_, t.Record):
            return self._record_model(type_.name)
        if isinstance(type_, t.ListOf):
            # The length is checked as the items are read, so a huge list stops at once.
            element = Annotated[list[self._annotation(type_.element)],
                                Field(max_length=MAX_LIST_ITEMS)]
            if type_.is_set:
                return Annotated[element, BeforeValidator(_list_of), AfterValidator(_distinct)]
            return Annotated[element, BeforeValidator(_list_of)]
        return Annotated[Any, BeforeValidator(_scalar_validator(type_))]

    def _record_model(self, name: str) -> type[BaseModel]:
        if name not in self._models:
            fields: dict[str, Any] = {}
            for index, (field_name, declaration) in enumerate(
                    self.symbols.record_fields(name).items()):
                annotation = self._annotation(self.symbols.resolve_type(declaration.type))
                if declaration.optional:
                    fields[f"f{index}"] = (annotation | None, Field(None, alias=field_name))
                else:
                    fields[f"f{index}"] = (annotation, Field(alias=field_name))
            self._models[name] = create_model(
                f"Record_{name}", __config__=ConfigDict(extra="forbid"), **fields)
        return self._models[name]

    def validate(self, facts: Any) -> dict[str, Any]:
        """The facts as runtime values, or FactsError listing every problem."""
        if not isinstance(facts, dict):
            raise FactsError([f"facts: expected an object keyed by facts block "
                              f"({', '.join(self.symbols.facts)}), got {describe_json(facts)}"])
        try:
            validated = self.model.model_validate(facts)
        except ValidationError as error:
            raise FactsError([self._problem(e) for e in error.errors()]) from None
        return _as_runtime(validated)

    def _problem(self, error: dict) -> str:
        path = _path(error["loc"])
        kind = error["type"]
        if kind == "missing":
            return f"{path}: required field is missing" if len(error["loc"]) > 1 else \
                f"{path}: no facts given for this facts block"
        if kind == "extra_forbidden":
            parent = error["loc"][:-1]
            known = (self.symbols.facts if not parent else
                     self.symbols.record_fields(self._record_at(parent) or ""))
            hint = did_you_mean(str(error["loc"][-1]), known)
            return f"{path}: unknown field" + (f" ({hint})" if hint else "")
        if kind in ("model_type", "model_attributes_type", "dict_type"):
            return f"{path}: expected an object, got {describe_json(error['input'])}"
        if kind == "list_type":
            return f"{path}: expected a list, got {describe_json(error['input'])}"
        if kind == "too_long":
            return (f"{path}: a list of more than {MAX_LIST_ITEMS:,} items; a facts list "
                    f"holds at most {MAX_LIST_ITEMS:,}")
        return f"{path}: {error['msg']}"

    def _record_at(self, loc: tuple) -> str | None:
        """The record type at a path such as ("customer", "loans", 0)."""
        record: str | None = str(loc[0])
        for part in loc[1:]:
            if isinstance(part, int):
                continue
            declaration = self.symbols.record_fields(record or "").get(str(part))
            if declaration is None:
                return None
            type_ = self.symbols.resolve_type(declaration.type)
            while isinstance(type_, t.ListOf):
                type_ = type_.element
            record = type_.name if isinstance(type_, t.Record) else None
        return record


def _list_of(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if not isinstance(part, int):  # a key from the facts, which may be anything
            part = escape_unprintable(str(part))
            part = part if len(part) <= _SHOWN_TEXT else f"{part[:_SHOWN_TEXT]}…"
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _as_runtime(value: Any) -> Any:
    """Validated models become plain dicts and tuples, the evaluators' values."""
    if isinstance(value, BaseModel):
        return {info.alias: _as_runtime(getattr(value, name))
                for name, info in type(value).model_fields.items()}
    if isinstance(value, list | tuple):
        return tuple(_as_runtime(item) for item in value)
    return value
