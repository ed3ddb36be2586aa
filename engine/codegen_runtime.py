"""What generated decision functions call, and how their recordings become trace events.

The generated code (``engine.codegen``) inlines expressions and rules; combining proposals under
a policy and reporting conflicts is here, written once and shared with nothing else. A traced
decision records only plain values while it runs (an event tape ``E``, a value tape ``T`` for
conditions, notes ``N`` and the used flags ``U``); ``TraceBuilder`` turns them into the same
events the reference evaluator builds, when someone reads the trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine import ast, runtime
from engine.decide import DecisionConflict
from engine.trace import (
    CapEvent,
    ExprTrace,
    NoteEvent,
    OfferEvent,
    OutputEvent,
    Proposal,
    RuleEvent,
    TraceEvent,
    ValueEvent,
)
from engine.unparse import unparse

# Event kinds on the event tape.
LET, TABLE, RULE, OUTPUT, OFFER = range(5)
# Cap statuses on the event tape.
CAP_CONDITION_FALSE, CAP_BOUND_MISSING, CAP_VALUE_MISSING, CAP_APPLIED, CAP_NOT_BINDING = range(5)

_SINGLE = ("first", "unique", "any")


def combine(policy: str, proposals: list[tuple[int, Any]], used: list[bool] | None, what: str,
            labels: tuple[str, ...], order: dict[str, int] | None, is_set: bool) -> Any:
    """The value of ``proposals`` — (slot, value) pairs in priority-then-position order —
    under ``policy``; sets ``used[slot]`` for the proposals used. ``labels[slot]`` names a
    proposal in a conflict; ``order`` ranks `one of` values for `priority` and `output order`."""
    if policy in _SINGLE:
        first = proposals[0][1]
        if policy == "unique" and len(proposals) > 1 or policy == "any" and any(
                value != first for _, value in proposals):
            shown = ", ".join(f"{labels[slot]} ({runtime.normalize(value)})"
                              for slot, value in proposals)
            raise DecisionConflict(f"{what} is `combine {policy}` but has "
                                   f"{'several' if policy == 'unique' else 'different'} "
                                   f"proposals: {shown}")
        if used is not None:
            for slot, _ in proposals if policy == "any" else proposals[:1]:
                used[slot] = True
        return first
    values = [value for _, value in proposals]
    if policy == "priority":
        ranks = order or {}
        chosen = min(values, key=lambda v: ranks.get(v, len(ranks)))
    elif policy in ("min", "max"):
        chosen = None if None in values else (min(values) if policy == "min" else max(values))
    else:
        if used is not None:
            for slot, _ in proposals:
                used[slot] = True
        if policy in ("sum", "count"):
            return runtime.aggregate(policy, values)
        if policy == "output order" and order is not None:
            values = sorted(values, key=lambda v: order.get(v, len(order)))
        if is_set:
            values = list(dict.fromkeys(values))
        return tuple(values)
    if used is not None:
        for slot, value in proposals:
            used[slot] = value == chosen
    return chosen


# ---------------------------------------------------------------------------------- traces


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """One proposing action of a rule: its rule, kind (set, add, offer) and target."""

    rule: int
    kind: str
    output: str


@dataclass(frozen=True, slots=True)
class RuleInfo:
    name: str
    label: str | None
    condition: ast.Expr
    slots: tuple[int, ...]  # the rule's proposing actions, in order
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CapInfo:
    bound: str
    reason: str | None
    output: str


@dataclass(frozen=True, slots=True)
class OfferInfo:
    name: str
    requires: ast.Expr | None
    else_reason: str | None


@dataclass
class TraceMetadata:
    """What the generator knows statically about each recorded item."""

    lets: list[str]
    tables: list[tuple[str, str]]  # name, policy
    rules: list[RuleInfo]
    slots: list[SlotInfo]
    outputs: list[tuple[str, str, tuple[int, ...]]]  # name, policy, caps (indexes into caps)
    caps: list[CapInfo]
    offer_slots: dict[int, OfferInfo]
    budget_notes: list[str]


class TraceBuilder:
    """Builds trace events from a traced decision's recordings."""

    def __init__(self, metadata: TraceMetadata) -> None:
        self.metadata = metadata
        self._texts: dict[int, str] = {}
        self._keep: list[ast.Expr] = []  # keeps nodes alive, so their ids stay theirs

    def build(self, events: list[tuple], tape: list[Any], notes: list[str],
              used: list[bool]) -> list[TraceEvent]:
        meta = self.metadata
        built: list[TraceEvent] = []
        rule_events: dict[int, RuleEvent] = {}
        proposals: dict[int, Proposal] = {}
        for entry in events:
            kind = entry[0]
            if kind == LET:
                built.append(ValueEvent("let", meta.lets[entry[1]], entry[2]))
            elif kind == TABLE:
                name, policy = meta.tables[entry[1]]
                built.append(ValueEvent("table", name, entry[2], [i + 1 for i in entry[3]],
                                        policy))
            elif kind == RULE:
                _, index, condition_value, start, end, values = entry
                info = meta.rules[index]
                condition = self.rebuild(info.condition, tape, start, end)
                status = {True: "fired", None: "unknown"}.get(condition_value, "not matched")
                made: list[Proposal] = []
                codes: list[str] = []
                if condition_value is True:
                    for slot, value in zip(info.slots, values, strict=True):
                        proposal = Proposal(info.name, meta.slots[slot].output, value,
                                            meta.slots[slot].kind, used[slot])
                        proposals[slot] = proposal
                        made.append(proposal)
                    codes = list(info.codes)
                    if made and not any(p.used for p in made):
                        status = "overridden"
                event = RuleEvent(info.name, info.label, status, condition, made, codes)
                rule_events[index] = event
                built.append(event)
            elif kind == OUTPUT:
                _, index, made, combined, value, caps = entry
                name, policy, cap_indexes = meta.outputs[index]
                built.append(OutputEvent(
                    name, policy, [proposals[slot] for slot, _ in made], combined,
                    [self._cap(meta.caps[i], status, limit)
                     for i, (status, limit) in zip(cap_indexes, caps, strict=True)],
                    value, defaulted=not made))
            else:
                _, slot, requires_value, start, end = entry
                info = meta.offer_slots[slot]
                rule = meta.slots[slot].rule
                requires = (None if info.requires is None
                            else self.rebuild(info.requires, tape, start, end))
                made_offer = info.requires is None or requires_value is True
                reason = None if made_offer else info.else_reason
                if reason is not None:
                    rule_events[rule].reasons.append(reason)
                built.append(OfferEvent(info.name, meta.rules[rule].name,
                                        "made" if made_offer else "withheld", requires, reason))
        built.extend(NoteEvent(note) for note in meta.budget_notes)
        built.extend(NoteEvent(note) for note in dict.fromkeys(notes))
        return built

    @staticmethod
    def _cap(info: CapInfo, status: int, limit: Any) -> CapEvent:
        text = {CAP_CONDITION_FALSE: "skipped: its condition is not true",
                CAP_BOUND_MISSING: "skipped: its bound is missing",
                CAP_VALUE_MISSING: "skipped: the value is missing",
                CAP_APPLIED: "applied", CAP_NOT_BINDING: "not binding"}[status]
        return CapEvent(info.bound, limit, text, info.reason)

    def rebuild(self, expr: ast.Expr, tape: list[Any], start: int, end: int) -> ExprTrace:
        """The condition tree of ``expr`` from the values it recorded in ``tape[start:end]``,
        in post-order (operands before the operator; an `if` records only its branch taken)."""
        position = start

        def take() -> Any:
            nonlocal position
            position += 1
            return tape[position - 1]

        def walk(node: ast.Expr) -> ExprTrace:
            if isinstance(node, ast.If):
                condition = walk(node.condition)
                if condition.value is None:
                    return ExprTrace(self.text(node), take(), [condition])
                branch = walk(node.then_value if condition.value else node.else_value)
                return ExprTrace(self.text(node), take(), [condition, branch])
            operands = explained_operands(node)
            if operands is None:
                return ExprTrace(self.text(node), take())
            children = [walk(operand) for operand in operands]
            op = node.op if isinstance(node, ast.Binary) else None
            return ExprTrace(self.text(node), take(), children, op)

        result = walk(expr)
        assert position == end, "the recorded condition does not match its expression"
        return result

    def text(self, node: ast.Expr) -> str:
        found = self._texts.get(id(node))
        if found is None:
            found = self._texts[id(node)] = unparse(node)
            self._keep.append(node)
        return found


def explained_operands(node: ast.Expr) -> list[ast.Expr] | None:
    """The operands a trace shows below ``node``, or None for a node shown as one value."""
    match node:
        case ast.Unary(operand=operand):
            return [operand]
        case ast.Binary(left=left, right=right):
            return [left, right]
        case ast.Between(value=value, low=low, high=high):
            return [value, low, high]
        case ast.In(value=value, collection=collection):
            return [value, collection]
        case ast.IsMissing(value=value):
            return [value]
        case ast.Call(arguments=arguments):
            return list(arguments)
    return None
