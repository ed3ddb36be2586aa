"""The typed syntax tree of a ruleset.

Every node is a frozen, slotted dataclass. Its source ``span`` is keyword-only and left out of
equality, so two trees that differ only in layout compare equal. Types inferred by the checker live
in a side table (``engine.check.checker.CheckedProgram``), never in the nodes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Literal as TypingLiteral

from engine.diagnostics import Span

_NO_SPAN = Span("<none>", 1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node: only the source span, which equality ignores."""

    span: Span = field(default=_NO_SPAN, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Ident(Node):
    """A name as written in the source, e.g. a rule name or the output a `set` action targets."""

    name: str


# ---------------------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class PrimitiveType(Node):
    """`integer`, `number`, `money`, `boolean`, `text` or `date`."""

    name: str


@dataclass(frozen=True, slots=True)
class EnumType(Node):
    """`one of "a", "b"`: the allowed texts, in their declared order."""

    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListType(Node):
    """`list of T` (order kept) or, with ``is_set``, `set of T` (no duplicates)."""

    element: TypeExpr
    is_set: bool = False


@dataclass(frozen=True, slots=True)
class NamedType(Node):
    """A reference to a `type` declaration."""

    name: Ident


TypeExpr = PrimitiveType | EnumType | ListType | NamedType


# ---------------------------------------------------------------------------------- expressions


LiteralKind = TypingLiteral["number", "percent", "text", "boolean", "date"]


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant. ``value`` is a Decimal for numbers and percentages (`40%` holds 0.40)."""

    value: Decimal | str | bool | datetime.date
    kind: LiteralKind
    # A number as written (`200_000`, `1.0`, `40%`), so the formatter and traces keep its
    # spelling; not part of equality.
    source: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A bare name: a facts block, let, table or output, or an aggregate's element variable."""

    name: str


@dataclass(frozen=True, slots=True)
class Today(Node):
    """`today`: the decision's as-of date."""


@dataclass(frozen=True, slots=True)
class FieldAccess(Node):
    """`target.field`, e.g. `customer.balance` or `loan.amount`."""

    target: Expr
    field: Ident


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """`-x` (``op`` is "-") or `not x` (``op`` is "not")."""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic (`+ - * /`), logic (`and`, `or`) and comparison (`= != < <= > >=`)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Between(Node):
    """`value between low and high`, inclusive at both ends."""

    value: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True, slots=True)
class In(Node):
    """`value in collection`, or with ``negated`` `value not in collection`."""

    value: Expr
    collection: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsMissing(Node):
    """`value is missing`, or with ``negated`` `value is not missing`."""

    value: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class If(Node):
    """`if condition then then_value else else_value`."""

    condition: Expr
    then_value: Expr
    else_value: Expr


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A built-in function call such as `round_down(x, 100)`."""

    function: Ident
    arguments: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    """`[a, b, …]`."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class RecordEntry(Node):
    """One `field: value` of a record literal."""

    field: Ident
    value: Expr


@dataclass(frozen=True, slots=True)
class RecordLiteral(Node):
    """`{ field: value, … }`."""

    entries: tuple[RecordEntry, ...]


AggregateKind = TypingLiteral["count", "sum", "min", "max", "average"]


@dataclass(frozen=True, slots=True)
class Aggregate(Node):
    """`count of X in LIST [where C]` or `sum|min|max|average of VALUE for X in LIST [where C]`.

    ``value`` is None for `count`; ``condition`` is None without `where`.
    """

    kind: AggregateKind
    variable: Ident
    source: Expr
    value: Expr | None
    condition: Expr | None


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """`any X in LIST where C` or `all X in LIST where C`."""

    kind: TypingLiteral["any", "all"]
    variable: Ident
    source: Expr
    condition: Expr


Expr = (
    Literal | Name | Today | FieldAccess | Unary | Binary | Between | In | IsMissing | If | Call
    | ListLiteral | RecordLiteral | Aggregate | Quantifier
)


# ----------------------------------------------------------------------------------- table cells


@dataclass(frozen=True, slots=True)
class AnyCell(Node):
    """`-`: matches every value, a missing one included."""


@dataclass(frozen=True, slots=True)
class MissingCell(Node):
    """`missing`: matches only a missing value."""


@dataclass(frozen=True, slots=True)
class EqualsTest(Node):
    """A bare value: matches an equal input."""

    value: Expr


@dataclass(frozen=True, slots=True)
class CompareTest(Node):
    """`>= 750`, `!= "retail"`: the input compared with ``value``."""

    op: str
    value: Expr


@dataclass(frozen=True, slots=True)
class IntervalTest(Node):
    """`[700..750)`: ``low`` and ``high`` with whether each end is closed (included)."""

    low: Expr
    high: Expr
    low_closed: bool
    high_closed: bool


CellTest = EqualsTest | CompareTest | IntervalTest


@dataclass(frozen=True, slots=True)
class Alternatives(Node):
    """`"A", "B"`: matches when any of the tests does."""

    tests: tuple[CellTest, ...]


@dataclass(frozen=True, slots=True)
class NotCell(Node):
    """`not …`: negates the whole cell; never matches a missing value."""

    cell: Alternatives | CellTest


Cell = AnyCell | MissingCell | NotCell | Alternatives | CellTest


# ------------------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class SetAction(Node):
    """`set OUTPUT = VALUE`: a proposal for a single-valued output."""

    output: Ident
    value: Expr


@dataclass(frozen=True, slots=True)
class AddAction(Node):
    """`add VALUE to OUTPUT`: one element for a `collect` or `output order` output."""

    value: Expr
    output: Ident


@dataclass(frozen=True, slots=True)
class OfferAction(Node):
    """`offer NAME [amount EXPR]`."""

    offer: Ident
    amount: Expr | None


@dataclass(frozen=True, slots=True)
class ReasonAction(Node):
    """`reason CODE`."""

    code: Ident


Action = SetAction | AddAction | OfferAction | ReasonAction


# -------------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class RulesetHeader(Node):
    """`ruleset NAME ["label"]`."""

    name: Ident
    label: str | None


@dataclass(frozen=True, slots=True)
class VersionDecl(Node):
    """`version "…"`."""

    version: str


@dataclass(frozen=True, slots=True)
class EffectiveDecl(Node):
    """`effective DATE [until DATE]`: the window is [start, until)."""

    start: datetime.date
    until: datetime.date | None


@dataclass(frozen=True, slots=True)
class IncludeDecl(Node):
    """`include "relative/path.rules"`."""

    path: str


@dataclass(frozen=True, slots=True)
class FieldDecl(Node):
    """`name: TYPE [optional] ["label"]` in a `facts` or `type` block."""

    name: Ident
    type: TypeExpr
    optional: bool
    label: str | None


@dataclass(frozen=True, slots=True)
class FactsDecl(Node):
    """`facts NAME ["label"] fields end`: one input record of a decision."""

    name: Ident
    label: str | None
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True, slots=True)
class TypeDecl(Node):
    """`type NAME ["label"] fields end`: a record type for nested values and list elements."""

    name: Ident
    label: str | None
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True, slots=True)
class ReasonEntry(Node):
    """`CODE "text"` in a `reasons` block."""

    code: Ident
    text: str


@dataclass(frozen=True, slots=True)
class ReasonsDecl(Node):
    """`reasons … end`: part of the reason-code catalogue."""

    entries: tuple[ReasonEntry, ...]


@dataclass(frozen=True, slots=True)
class OutputDecl(Node):
    """`name: TYPE [combine POLICY] [default EXPR]`; ``policy`` None means the type's default."""

    name: Ident
    type: TypeExpr
    policy: Ident | None
    default: Expr | None


@dataclass(frozen=True, slots=True)
class OutputsDecl(Node):
    """`outputs … end`."""

    outputs: tuple[OutputDecl, ...]


@dataclass(frozen=True, slots=True)
class LetDecl(Node):
    """`let NAME [: TYPE] = VALUE`."""

    name: Ident
    type: TypeExpr | None
    value: Expr


@dataclass(frozen=True, slots=True)
class TableRow(Node):
    """One row of a decision table: a cell per input column, then the result. In a table with
    several result columns the result is a record literal, an entry per column in the header's
    order, spanning the row's result cells."""

    cells: tuple[Cell, ...]
    result: Expr


@dataclass(frozen=True, slots=True)
class TableDecl(Node):
    """A decision table. ``inputs`` are the header's input columns. A table with one result
    has ``result_column``, the header's last cell, which must repeat the table's name; a table
    with several (the header's `||` then their names) has ``results`` and no ``result_column``,
    and its value is a record."""

    name: Ident
    type: TypeExpr | None
    policy: Ident | None
    inputs: tuple[Expr, ...]
    result_column: Expr | None
    rows: tuple[TableRow, ...]
    otherwise: Expr | None
    results: tuple[Ident, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleDecl(Node):
    """`rule NAME ["label"] [priority N] when CONDITION then ACTIONS end`."""

    name: Ident
    label: str | None
    priority: int
    condition: Expr
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class CapDecl(Node):
    """`cap OUTPUT at most|at least LIMIT [when CONDITION] [because CODE]`."""

    output: Ident
    bound: TypingLiteral["most", "least"]
    limit: Expr
    condition: Expr | None
    reason: Ident | None


@dataclass(frozen=True, slots=True)
class OfferDecl(Node):
    """`offer NAME ["label"] [partner "who"] [requires CONDITION [else reason CODE]] end`."""

    name: Ident
    label: str | None
    partner: str | None
    requires: Expr | None
    else_reason: Ident | None


@dataclass(frozen=True, slots=True)
class BudgetDecl(Node):
    """A portfolio budget: `total EXPR at most LIMIT [among C] [rank by EXPR dir]
    [when full skip|stop] else ACTIONS`."""

    name: Ident
    label: str | None
    total: Expr
    limit: Expr
    among: Expr | None
    rank_by: Expr | None
    descending: bool
    otherwise: tuple[Action, ...]
    when_full: Ident | None = None  # `skip` (the default) or `stop`, as written

    @property
    def stops_when_full(self) -> bool:
        return self.when_full is not None and self.when_full.name == "stop"


@dataclass(frozen=True, slots=True)
class Given(Node):
    """`given FACTS = { … }` in an example."""

    facts: Ident
    value: Expr


@dataclass(frozen=True, slots=True)
class ExpectOutput(Node):
    """`expect OUTPUT = VALUE` (``offers`` takes a list of offer names)."""

    output: Ident
    value: Expr


@dataclass(frozen=True, slots=True)
class ExpectReasons(Node):
    """`expect reasons = [CODES]`: exactly these codes, in this order."""

    codes: tuple[Ident, ...]


@dataclass(frozen=True, slots=True)
class ExpectReasonIncluded(Node):
    """`expect reasons include CODE`."""

    code: Ident


Expectation = ExpectOutput | ExpectReasons | ExpectReasonIncluded


@dataclass(frozen=True, slots=True)
class ExampleDecl(Node):
    """`example "name" [as of DATE] given… expect… end`: a test case run by `tenet test`."""

    name: str
    as_of: datetime.date | None
    givens: tuple[Given, ...]
    expectations: tuple[Expectation, ...]


@dataclass(frozen=True, slots=True)
class PropertyDecl(Node):
    """`property NAME ["label"] [when CONDITION] expect CLAIM end`: a claim about every decision,
    proved or refuted by `tenet verify` (LANGUAGE.md §12)."""

    name: Ident
    label: str | None
    condition: Expr | None
    claim: Expr


Declaration = (
    RulesetHeader | VersionDecl | EffectiveDecl | IncludeDecl | FactsDecl | TypeDecl | ReasonsDecl
    | OutputsDecl | LetDecl | TableDecl | RuleDecl | CapDecl | OfferDecl | BudgetDecl | ExampleDecl
    | PropertyDecl
)


@dataclass(frozen=True, slots=True)
class Module(Node):
    """One parsed file: its declarations in source order."""

    path: str
    declarations: tuple[Declaration, ...]


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: Node) -> list[Node]:
    """The nodes directly below ``node``, in field order."""
    names = _CHILD_FIELDS.get(type(node))
    if names is None:
        names = _CHILD_FIELDS[type(node)] = tuple(f.name for f in fields(node) if f.name != "span")
    found: list[Node] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, tuple):
            stack = list(value)
            while stack:
                item = stack.pop(0)
                if isinstance(item, Node):
                    found.append(item)
                elif isinstance(item, tuple):
                    stack[:0] = list(item)
    return found


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, depth first, in field order."""
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(reversed(children(item)))


def cell_values(cell: Cell) -> list[Expr]:
    """The values a table cell holds its input against (an interval's two ends)."""
    match cell:
        case NotCell(cell=inner):
            return cell_values(inner)
        case Alternatives(tests=tests):
            return [value for test in tests for value in cell_values(test)]
        case IntervalTest(low=low, high=high):
            return [low, high]
        case EqualsTest(value=value) | CompareTest(value=value):
            return [value]
    return []
