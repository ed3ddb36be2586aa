"""Trace events: what a decision did, in evaluation order, as plain typed data.

The evaluators record these; ``Decision.to_json`` (``engine.ruleset``) serialises them to JSON
and ``engine.report.decisions`` draws them in the terminal. The same decision always yields the same
trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.run.runtime import normalize


@dataclass(slots=True)
class ExprTrace:
    """One sub-expression of a condition with its value; ``children`` are its operands."""

    text: str
    value: Any
    children: list[ExprTrace] = field(default_factory=list)
    op: str | None = None  # the operator of a binary expression, for renderers

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"expr": self.text, "value": normalize(self.value)}
        if self.children:
            data["children"] = [child.to_data() for child in self.children]
        return data


@dataclass(slots=True)
class ValueEvent:
    """A let or a table with its value; for a table, the rows (1-based) that matched."""

    kind: str  # "let" or "table"
    name: str
    value: Any
    matched_rows: list[int] | None = None
    policy: str | None = None
    explanation: ExprTrace | None = None  # how a let was computed, when not a single value

    def to_data(self) -> dict[str, Any]:
        data = {"event": self.kind, "name": self.name, "value": normalize(self.value)}
        if self.kind == "table":
            data |= {"policy": self.policy, "matched_rows": self.matched_rows}
        if self.explanation is not None:
            data["explanation"] = self.explanation.to_data()
        return data


@dataclass(slots=True)
class Proposal:
    """A value a fired rule proposed for an output (or an offer it made)."""

    rule: str
    output: str
    value: Any
    action: str = "set"  # "set", "add" or "offer"
    used: bool = False

    def to_data(self) -> dict[str, Any]:
        return {"rule": self.rule, "action": self.action, "output": self.output,
                "value": normalize(self.value), "used": self.used}


@dataclass(slots=True)
class RuleEvent:
    """A rule: fired, not matched, unknown (its condition was missing) or overridden (it fired
    but none of its proposals was used)."""

    name: str
    label: str | None
    status: str
    condition: ExprTrace | None
    proposals: list[Proposal] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {"event": "rule", "name": self.name, "label": self.label, "status": self.status,
                "condition": self.condition.to_data() if self.condition else None,
                "proposals": [p.to_data() for p in self.proposals], "reasons": self.reasons}


@dataclass(slots=True)
class CapEvent:
    bound: str  # "most" or "least"
    limit: Any
    status: str  # "applied", "not binding", "skipped: …"
    reason: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"bound": f"at {self.bound}", "limit": normalize(self.limit),
                "status": self.status, "reason": self.reason}


@dataclass(slots=True)
class OutputEvent:
    """An output: how its proposals were combined, which caps applied, its final value."""

    name: str
    policy: str
    proposals: list[Proposal]
    combined: Any
    caps: list[CapEvent]
    value: Any
    defaulted: bool

    def to_data(self) -> dict[str, Any]:
        return {"event": "output", "name": self.name, "policy": self.policy,
                "proposals": [p.to_data() for p in self.proposals],
                "combined": normalize(self.combined), "defaulted": self.defaulted,
                "caps": [c.to_data() for c in self.caps], "value": normalize(self.value)}


@dataclass(slots=True)
class OfferEvent:
    """An offer a rule made: kept, or withheld because its `requires` was not true."""

    name: str
    rule: str
    status: str  # "made" or "withheld"
    requires: ExprTrace | None = None
    reason: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"event": "offer", "name": self.name, "rule": self.rule, "status": self.status,
                "requires": self.requires.to_data() if self.requires else None,
                "reason": self.reason}


@dataclass(slots=True)
class NoteEvent:
    message: str

    def to_data(self) -> dict[str, Any]:
        return {"event": "note", "message": self.message}


TraceEvent = ValueEvent | RuleEvent | OutputEvent | OfferEvent | NoteEvent


def budget_note(name: str, stops_when_full: bool) -> str:
    """What a single decision's trace says of a budget: it applies to whole books only."""
    rule = "stop" if stops_when_full else "skip"
    return (f"budget `{name}` (when full {rule}) applies to portfolio runs only; it was not "
            "applied to this single decision")
