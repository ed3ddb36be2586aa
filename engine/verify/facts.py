"""Every customer a facts schema allows, as z3 variables: what the prover quantifies over.

``FactsSpace`` makes one variable (or a few) per fact: every value of its type, optional fields
possibly missing (a flag per field), lists up to the list bound (a length and a slot per
element), dates as valid year, month and day. Two rulesets encoded over one space (a ruleset and
its baseline) read the same variables for the same facts, so one model is one customer for both.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import z3

from engine.check import types as t
from engine.check.symbols import Symbols
from engine.verify import symbolic as s
from engine.verify.symbolic import TRUE, RecordValue, Scalar, Slots, Unsupported, Value

DEFAULT_LIST_BOUND = 3


# ------------------------------------------------------------------------------------- facts


@dataclass
class Leaf:
    """One fact the solver chooses: where it sits, its type, its variables."""

    path: tuple[str | int, ...]
    type: t.Type
    variables: tuple[z3.ExprRef, ...]
    present: z3.BoolRef | None  # the variable saying an optional field is there, else None


@dataclass
class ListLeaf:
    """A list fact: the variable holding its length (the elements are leaves of their own)."""

    path: tuple[str | int, ...]
    size: z3.ArithRef
    present: z3.BoolRef | None


class FactsSpace:
    """The symbolic facts of every possible customer, and the as-of date.

    Two rulesets encoded over one space (a ruleset and its baseline) read the same variables for
    the same facts, so one model is one customer for both."""

    def __init__(self, list_bound: int = DEFAULT_LIST_BOUND) -> None:
        self.list_bound = list_bound
        self.constraints: list[z3.BoolRef] = []
        self.leaves: dict[tuple[str | int, ...], Leaf] = {}
        self.lists: dict[tuple[str | int, ...], ListLeaf] = {}
        self.optional: dict[tuple[str | int, ...], z3.BoolRef] = {}
        self.block_order: list[str] = []
        year, month, day = z3.Ints("today.year today.month today.day")
        self.constraints.append(s.valid_date(year, month, day))
        self.today = s.date_value(year, month, day)
        self.today_parts = (year, month, day)

    def window(self, start: datetime.date | None, until: datetime.date | None) -> None:
        """Keep the as-of date inside a ruleset's effective window."""
        if start is not None:
            self.constraints.append(self.today.term >= s.date_constant(start).term)
        if until is not None:
            self.constraints.append(self.today.term < s.date_constant(until).term)

    def block(self, symbols: Symbols, name: str) -> RecordValue:
        if name not in self.block_order:
            self.block_order.append(name)
        return self._record(symbols, name, (name,), TRUE)

    def _record(self, symbols: Symbols, record: str, path: tuple, present: z3.BoolRef,
                depth: int = 0) -> RecordValue:
        if depth > 8:
            raise Unsupported(f"the record type `{record}` nests itself")
        values: dict[str, Value] = {}
        for name, declaration in symbols.record_fields(record).items():
            field_path = (*path, name)
            here = present
            if declaration.optional:
                flag = self.optional.get(field_path)
                if flag is None:
                    flag = self.optional[field_path] = z3.Bool(_label(field_path) + "?")
                here = z3.And(present, flag)
            values[name] = self._value(symbols, symbols.resolve_type(declaration.type),
                                       field_path, here, depth,
                                       flag if declaration.optional else None)
        return RecordValue(present, values)

    def _value(self, symbols: Symbols, type_: t.Type, path: tuple, present: z3.BoolRef,
               depth: int, flag: z3.BoolRef | None) -> Value:
        label = _label(path)
        if isinstance(type_, t.Record):
            return self._record(symbols, type_.name, path, present, depth + 1)
        if isinstance(type_, t.ListOf):
            known = self.lists.get(path)
            if known is None:
                size = z3.Int(label + ".length")
                self.constraints.append(z3.And(size >= 0, size <= self.list_bound))
                known = self.lists[path] = ListLeaf(path, size, flag)
            slots = []
            for index in range(self.list_bound):
                element = self._value(symbols, type_.element, (*path, index), TRUE, depth + 1,
                                      None)
                slots.append((z3.And(present, index < known.size), element))
            items = Slots(present, tuple(slots), type_.is_set)
            if type_.is_set:  # a set's elements differ
                for i, (pi, ei) in enumerate(slots):
                    for pj, ej in slots[i + 1:]:
                        self.constraints.append(z3.Implies(z3.And(pi, pj),
                                                           z3.Not(s.equal(ei, ej))))
            return items
        leaf = self.leaves.get(path)
        if leaf is not None and leaf.type != type_:
            raise Unsupported(f"the fact `{label}` has different types in the two rulesets")
        if leaf is None:
            leaf = self.leaves[path] = Leaf(path, type_, self._variables(type_, label), flag)
        variables = leaf.variables
        if type_ == t.BOOLEAN:
            return s.truth_of(variables[0], present)
        if type_ == t.DATE:
            return s.date_value(*variables, defined=present)
        if isinstance(type_, t.Enum):
            return Scalar(present, variables[0], "enum", type_.values)
        if type_ == t.TEXT:
            return Scalar(present, variables[0], "text")
        return Scalar(present, z3.ToReal(variables[0]) if type_ == t.INTEGER else variables[0],
                      "number")

    def _variables(self, type_: t.Type, label: str) -> tuple[z3.ExprRef, ...]:
        if type_ == t.BOOLEAN:
            return (z3.Bool(label),)
        if type_ == t.DATE:
            parts = z3.Ints(f"{label}.year {label}.month {label}.day")
            self.constraints.append(s.valid_date(*parts))
            return tuple(parts)
        if isinstance(type_, t.Enum):
            index = z3.Int(label)
            self.constraints.append(z3.And(index >= 0, index < len(type_.values)))
            return (index,)
        if type_ == t.TEXT:
            return (z3.String(label),)
        if type_ == t.INTEGER:
            return (z3.Int(label),)
        if t.is_numeric(type_):
            return (z3.Real(label),)
        raise Unsupported(f"facts of type {type_.describe()}")


def _label(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + p
                   for i, p in enumerate(path))
