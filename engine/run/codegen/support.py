"""What generated decision functions call, and how their recordings become trace events.

The generated code (``engine.run.codegen.procedure``) inlines expressions and rules; combining proposals
under the rarer policies and reporting conflicts is here. A traced decision records only plain
values while it runs (an event tape ``E``, notes ``N`` and the used flags ``U``);
``TraceBuilder`` turns them into the events the reference evaluator builds, when someone reads
the trace.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from engine.exceptions import DecisionConflict
from engine.run import runtime
from engine.run.reference.interpreter import Env, Interpreter
from engine.run.trace import (
    CapEvent,
    NoteEvent,
    OfferEvent,
    OutputEvent,
    Proposal,
    RuleEvent,
    TraceEvent,
    ValueEvent,
)
from engine.syntax import ast

# Event kinds on the event tape.
LET, TABLE, RULE, OUTPUT, OFFER = range(5)
# Cap statuses on the event tape.
CAP_CONDITION_FALSE, CAP_BOUND_MISSING, CAP_VALUE_MISSING, CAP_APPLIED, CAP_NOT_BINDING = range(5)

_SINGLE = ("first", "unique", "any")


def combine(policy: str, proposals: list[tuple[int, Any]], used: list[bool] | None, what: str,
            labels: tuple[str, ...], order: dict | tuple | None, is_set: bool) -> Any:
    """The value of ``proposals`` — (slot, value) pairs in priority-then-position order —
    under ``policy``; sets ``used[slot]`` for the proposals used. ``labels[slot]`` names a
    proposal in a conflict; ``order`` ranks values for `priority` and `output order`
    (``runtime.rank``)."""
    if policy in _SINGLE:
        first = proposals[0][1]
        if policy == "unique" and len(proposals) > 1 or policy == "any" and any(
                value != first for _, value in proposals):
            shown = ", ".join(f"{labels[slot]} ({runtime.conflicting(value)})"
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
        chosen = min(values, key=lambda v: runtime.rank(order, v))
    elif policy in ("min", "max"):
        chosen = None if None in values else (min(values) if policy == "min" else max(values))
    else:
        if used is not None:
            for slot, _ in proposals:
                used[slot] = True
        if policy in ("sum", "count"):
            return runtime.aggregate(policy, values)
        if policy == "output order" and order is not None:
            values = sorted(values, key=lambda v: runtime.rank(order, v))
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
    let_values: list[ast.Expr]
    tables: list[tuple[str, str]]  # name, policy
    rules: list[RuleInfo]
    slots: list[SlotInfo]
    outputs: list[tuple[str, str, tuple[int, ...]]]  # name, policy, caps (indexes into caps)
    caps: list[CapInfo]
    offer_slots: dict[int, OfferInfo]
    budget_notes: list[str]
    fields: tuple[tuple[str, str], ...]  # (facts block, field) of the recorded field values


class TraceBuilder:
    """Builds trace events from a traced decision's recordings.

    The generated code records each value it computed for a let, table, rule, output or offer,
    not the operand values inside conditions: those are recomputed here by the reference
    interpreter from the facts and the recorded values, which gives the same condition trees
    the reference evaluator shows, at no cost to a decision whose trace nobody reads."""

    def __init__(self, metadata: TraceMetadata) -> None:
        self.metadata = metadata
        self.interpreter = Interpreter()

    def build(self, fields: tuple[Any, ...], today: datetime.date, outputs: dict[str, Any],
              events: list[tuple], notes: list[str], used: list[bool]) -> list[TraceEvent]:
        meta = self.metadata
        facts: dict[str, dict[str, Any]] = {block: {} for block, _ in meta.fields}
        for (block, name), value in zip(meta.fields, fields, strict=True):
            facts[block][name] = value
        env = Env({**facts, **outputs}, today, runtime.Notes())
        built: list[TraceEvent] = []
        rule_events: dict[int, RuleEvent] = {}
        made: dict[int, Proposal] = {}  # by slot: slots are numbered in proposal order
        for entry in events:
            kind = entry[0]
            if kind == LET:
                name = meta.lets[entry[1]]
                explained = self.interpreter.explain(meta.let_values[entry[1]], env)
                env.values[name] = entry[2]
                built.append(ValueEvent("let", name, entry[2],
                                        explanation=explained if explained.children else None))
            elif kind == TABLE:
                name, policy = meta.tables[entry[1]]
                env.values[name] = entry[2]
                built.append(ValueEvent("table", name, entry[2], [i + 1 for i in entry[3]],
                                        policy))
            elif kind == RULE:
                event = self._rule(entry, env, used, made)
                rule_events[entry[1]] = event
                built.append(event)
            elif kind == OUTPUT:
                _, index, combined, value, caps = entry
                name, policy, cap_indexes = meta.outputs[index]
                proposals = [made[slot] for slot, info in enumerate(meta.slots)
                             if info.output == name and slot in made]
                built.append(OutputEvent(
                    name, policy, proposals, combined,
                    [self._cap(meta.caps[i], status, limit)
                     for i, (status, limit) in zip(cap_indexes, caps, strict=True)],
                    value, defaulted=not proposals))
            else:
                _, slot, requires_value = entry
                info = meta.offer_slots[slot]
                rule = meta.slots[slot].rule
                requires = (None if info.requires is None
                            else self.interpreter.explain(info.requires, env))
                made_offer = info.requires is None or requires_value is True
                reason = None if made_offer else info.else_reason
                if reason is not None:
                    rule_events[rule].reasons.append(reason)
                built.append(OfferEvent(info.name, meta.rules[rule].name,
                                        "made" if made_offer else "withheld", requires, reason))
        built.extend(NoteEvent(note) for note in meta.budget_notes)
        built.extend(NoteEvent(note) for note in dict.fromkeys(notes))
        return built

    def rules(self, events: list[tuple], used: list[bool]) -> tuple[list[str], list[str]]:
        """The rules that fired, and those of them whose proposals were used or that propose
        nothing (the rules a trace shows as fired, not overridden), without building the trace:
        what an audit record keeps of every decision."""
        meta = self.metadata
        fired: list[str] = []
        kept: list[str] = []
        for entry in events:
            if entry[0] == RULE and entry[2] is True:
                info = meta.rules[entry[1]]
                fired.append(info.name)
                if not info.slots or any(used[slot] for slot in info.slots):
                    kept.append(info.name)
        return fired, kept

    def _rule(self, entry: tuple, env: Env, used: list[bool],
              made_by_slot: dict[int, Proposal]) -> RuleEvent:
        meta = self.metadata
        _, index, condition_value, values = entry
        info = meta.rules[index]
        condition = self.interpreter.explain(info.condition, env)
        status = {True: "fired", None: "unknown"}.get(condition_value, "not matched")
        made: list[Proposal] = []
        codes: list[str] = []
        if condition_value is True:
            for slot, value in zip(info.slots, values, strict=True):
                target = meta.slots[slot]
                proposal = Proposal(info.name, target.output, value, target.kind, used[slot])
                made_by_slot[slot] = proposal
                made.append(proposal)
            codes = list(info.codes)
            if made and not any(p.used for p in made):
                status = "overridden"
        return RuleEvent(info.name, info.label, status, condition, made, codes)

    @staticmethod
    def _cap(info: CapInfo, status: int, limit: Any) -> CapEvent:
        text = {CAP_CONDITION_FALSE: "skipped: its condition is not true",
                CAP_BOUND_MISSING: "skipped: its bound is missing",
                CAP_VALUE_MISSING: "skipped: the value is missing",
                CAP_APPLIED: "applied", CAP_NOT_BINDING: "not binding"}[status]
        return CapEvent(info.bound, limit, text, info.reason)


def explained_operands(node: ast.Expr) -> list[ast.Expr] | None:
    """The operands of an operator node, or None for a node without operands of its own."""
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
