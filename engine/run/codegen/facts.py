"""The fast path of facts validation: generated checks for facts that are valid.

Validating through pydantic models costs more than a whole decision, so each ruleset also gets a
generated function that checks the common shapes (exact numbers, texts, enum values, dates,
lists and records) and returns the field values the decision function takes. It accepts only
what the pydantic models accept, with the same values; anything else — every invalid fact, and
the rare valid shapes it does not know (a `datetime`, a `set` for a list) — it hands back, and
``engine.run.facts`` then validates as before, reporting every problem with its path.

Like ``engine.run.codegen.procedure``, the source holds engine-chosen names only; every name from the ruleset
is a constant.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

from engine.check import types as t
from engine.check.symbols import Symbols
from engine.run import runtime
from engine.run.facts import (
    DIGITS,
    LARGEST_INTEGER,
    MAX_LIST_ITEMS,
    has_surrogate,
    iso_date,
)

REJECTED = object()


class _IntegerNumbers(dict):
    """Whole numbers from facts as Decimals, ``DECIMALS[n]``: a book repeats the same few
    thousand (months, scores, round limits), and looking one up costs a third of making it.
    Beyond the numbers facts may hold, ``REJECTED``."""

    KEPT = 1 << 16  # at most this many, ~10 MB; past it each is made anew

    def __missing__(self, value: int) -> Any:
        if not -LARGEST_INTEGER < value < LARGEST_INTEGER:
            return REJECTED
        number = Decimal(value)
        if len(self) < self.KEPT:
            self[value] = number
        return number


DECIMALS = _IntegerNumbers()


def parse_date(value: str) -> Any:
    """A date from a `YYYY-MM-DD` text, as the facts schema reads it."""
    found = iso_date(value)
    return REJECTED if found is None else found


def float_number(value: float) -> Any:
    """A binary float (from `json.load`) as the decimal of its shortest text: `0.85` stays
    `0.85`, which is what the JSON said."""
    return Decimal(repr(value)) if math.isfinite(value) else REJECTED


def generate_validator(symbols: Symbols, fields: tuple[tuple[str, str], ...]
                       ) -> tuple[str, Any, tuple[Any, ...]]:
    """The source, the function (facts -> the values of ``fields`` in order, or None), and
    per field a function for a column of its values (``column(values, refused) -> values``):
    the values checked as ``validate`` checks them, with the index of each one it would not
    accept (a required field's missing value included) added to the set ``refused``."""
    generator = ValidatorGenerator(symbols)
    source = generator.source(fields)
    namespace: dict[str, Any] = {"__builtins__": dict(BUILTINS)}
    namespace.update(generator.globals())
    exec(compile(source, "<tenet facts validator>", "exec"), namespace)  # engine-chosen names only
    return source, namespace["validate"], tuple(
        namespace[f"column_{index}"] for index in range(len(fields)))


# Builtins the validation code may use; nothing else is reachable from it.
BUILTINS = {"len": len, "tuple": tuple, "dict": dict, "str": str, "type": type, "list": list,
            "int": int, "float": float, "bool": bool}


class ValidatorGenerator:
    """The validation code of one ruleset's facts. Its names (constants `kv…`, locals `q…`,
    functions `record_…`, `value_…`, `column_…`) are its own, so that the decision function
    can hold its checks (``engine.run.codegen.procedure``)."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols
        self.constants: list[Any] = []
        self.functions: dict[str, str] = {}  # record type -> function name
        self.bodies: list[str] = []  # the functions the checks call
        self.counter = 0

    def constant(self, value: Any) -> str:
        self.constants.append(value)
        return f"kv{len(self.constants) - 1}"

    def local(self) -> str:
        self.counter += 1
        return f"q{self.counter}"

    def globals(self) -> dict[str, Any]:
        """The names the code refers to but its functions."""
        names: dict[str, Any] = {f"kv{i}": value for i, value in enumerate(self.constants)}
        names.update(Decimal=Decimal, date=datetime.date, REJECTED=REJECTED,
                     parse_date=parse_date, float_number=float_number,
                     to_integral=runtime.CONTEXT.to_integral_value,
                     plus=runtime.CONTEXT.plus, DECIMALS=DECIMALS,
                     has_surrogate=has_surrogate, MAX_LIST_ITEMS=MAX_LIST_ITEMS)
        return names

    def source(self, fields: tuple[tuple[str, str], ...]) -> str:
        """`validate(facts)`, the values of ``fields`` or None, and the column checks."""
        results = [self.local() for _ in fields]
        lines = ["def validate(facts):",
                 *("    " + line for line in self.checks(fields, results)),
                 f"    return ({''.join(r + ', ' for r in results)})"]
        columns = [self.column(index, block, name) for index, (block, name) in enumerate(fields)]
        return "\n\n".join([*self.bodies, "\n".join(lines), *columns]) + "\n"

    def checks(self, fields: tuple[tuple[str, str], ...], results: list[str]) -> list[str]:
        """Statements that check the facts in `facts` and leave the value of each of
        ``fields`` in the local named by ``results``, or `return None`."""
        blocks = list(self.symbols.facts)
        lines = [f"if type(facts) is not dict or len(facts) != {len(blocks)}: return None"]
        for index, block in enumerate(blocks):
            lines += [f"qb{index} = facts.get({self.constant(block)})",
                      f"if type(qb{index}) is not dict or not qb{index}.keys() <= "
                      f"{self.constant(frozenset(self.symbols.record_fields(block)))}: "
                      "return None"]
        for (block, name), value in zip(fields, results, strict=True):
            declaration = self.symbols.record_fields(block)[name]
            lines.append(f"{value} = qb{blocks.index(block)}.get({self.constant(name)})")
            lines += self.check(value, self.symbols.resolve_type(declaration.type),
                                declaration.optional, "return None")
        return lines

    def column(self, index: int, block: str, name: str) -> str:
        """``column_{index}``: a column of the field's values (a Parquet or CSV column),
        each checked as ``validate`` checks it; one it would not accept goes in ``refused``
        (by index, with None in its place) and leaves its row to the slow path."""
        declaration = self.symbols.record_fields(block)[name]
        type_ = self.symbols.resolve_type(declaration.type)
        refuse = "refused.add(i); append(None); continue"
        value = self.local()
        if isinstance(type_, t.ListOf):  # its check loops, so a refusal cannot `continue`
            helper = f"value_{index}"
            self.bodies.append("\n".join([
                f"def {helper}({value}):",
                *("    " + line for line in self._check_present(value, type_,
                                                                   "return REJECTED")),
                f"    return {value}"]))
            check = [f"{value} = {helper}({value})", f"if {value} is REJECTED: {refuse}"]
        else:
            check = self._check_present(value, type_, refuse)
        missing = "append(None); continue" if declaration.optional else refuse
        return "\n".join([
            f"def column_{index}(values, refused):",
            "    out = []",
            "    append = out.append",
            "    i = -1",
            f"    for {value} in values:",
            "        i += 1",
            f"        if {value} is None: {missing}",
            *("        " + line for line in check),
            f"        append({value})",
            "    return out"])

    def check(self, value: str, type_: t.Type, optional: bool, reject: str) -> list[str]:
        """Lines that leave the runtime value of ``value`` in ``value`` or run ``reject``."""
        lines = self._check_present(value, type_, reject)
        if optional:
            return [f"if {value} is not None:", *("    " + line for line in lines)]
        return lines

    def _check_present(self, value: str, type_: t.Type, reject: str) -> list[str]:
        if type_ in (t.INTEGER, t.NUMBER, t.MONEY):
            whole = f" or {value} != to_integral({value})" if type_ == t.INTEGER else ""
            # engine.run.facts.number_in_range, inline: a call costs as much as the test
            in_range = (f" or {value} and not (-{DIGITS} <= {value}.adjusted() < {DIGITS}"
                        f" and plus({value}) == {value})")
            return [f"if type({value}) is int:",
                    f"    {value} = DECIMALS[{value}]",
                    f"    if {value} is REJECTED: {reject}",
                    f"elif type({value}) is Decimal:",
                    f"    if not {value}.is_finite(){whole}{in_range}: {reject}",
                    f"elif type({value}) is float:",
                    f"    {value} = float_number({value})",
                    f"    if {value} is REJECTED{whole}{in_range}: {reject}",
                    f"else: {reject}"]
        if type_ == t.BOOLEAN:
            return [f"if type({value}) is not bool: {reject}"]
        if type_ == t.DATE:
            return [f"if type({value}) is str: {value} = parse_date({value})",
                    f"elif type({value}) is not date: {reject}",
                    f"if {value} is REJECTED: {reject}"]
        if isinstance(type_, t.Enum):
            return [f"if type({value}) is not str or {value} not in "
                    f"{self.constant(frozenset(type_.values))}: {reject}"]
        if isinstance(type_, t.ListOf):
            items, item = self.local(), self.local()
            element = self._check_present(item, type_.element, reject)
            lines = [f"if type({value}) is not list and type({value}) is not tuple"
                     f" or len({value}) > MAX_LIST_ITEMS: {reject}",
                     f"{items} = []",
                     f"for {item} in {value}:",
                     *("    " + line for line in element),
                     f"    {items}.append({item})"]
            distinct = f"dict.fromkeys({items})" if type_.is_set else items
            return [*lines, f"{value} = tuple({distinct})"]
        if isinstance(type_, t.Record):
            function = self.record_function(type_.name)
            return [f"{value} = {function}({value})", f"if {value} is REJECTED: {reject}"]
        return [f"if type({value}) is not str or has_surrogate({value}): {reject}"]

    def record_function(self, name: str) -> str:
        found = self.functions.get(name)
        if found is not None:
            return found
        function = self.functions[name] = f"record_{len(self.functions)}"
        fields = self.symbols.record_fields(name)
        lines = [f"def {function}(x):",
                 f"    if type(x) is not dict or not x.keys() <= {self.constant(frozenset(fields))}: "
                 "return REJECTED"]
        entries = []
        for field_name, declaration in fields.items():
            value = self.local()
            lines.append(f"    {value} = x.get({self.constant(field_name)})")
            lines += ["    " + line for line in self.check(
                value, self.symbols.resolve_type(declaration.type), declaration.optional,
                "return REJECTED")]
            entries.append(f"{self.constant(field_name)}: {value}")
        lines.append(f"    return {{{', '.join(entries)}}}")
        self.bodies.append("\n".join(lines))
        return function
