"""Decisions and their traces in the terminal (rich), readable at 100 columns.

The decision and its reasons come first; then the trace as a tree in evaluation order: lets and
tables with their values, each rule with a mark and its condition, in which every comparison
shows its operands' values (`customer.behavior_score (652) >= 700 → false`), outputs with their
proposals and caps, offers withheld and why, and notes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from engine.run.shown import percentage, show
from engine.run.trace import ExprTrace, NoteEvent, OfferEvent, OutputEvent, RuleEvent, TraceEvent, ValueEvent

_COMPARISONS = frozenset({"<", "<=", ">", ">=", "=", "!="})
_MARKS = {"fired": ("✓", "bold green"), "not matched": ("·", "dim"),
          "unknown": ("?", "bold yellow"), "overridden": ("↷", "magenta")}


def render_decision(decision, brief: bool = False) -> RenderableType:
    """The decision, its reasons, why (each output's rules and caps, the offers), and (when it
    was recorded, unless ``brief``) the whole trace."""
    header = Text.assemble(("Decision ", "bold"), (decision.ruleset.name, "bold cyan"),
                           f" {decision.ruleset.version or ''}  as of {decision.as_of}")
    outputs = Table.grid(padding=(0, 2))
    for name, value in decision.decision.items():
        outputs.add_row(Text(f"  {name}"), Text(show(value), style="bold"))
    parts: list[RenderableType] = [header, outputs, Text("Reasons", style="bold")]
    if decision.reasons:
        reasons = Table.grid(padding=(0, 2))
        for reason in decision.reasons:
            reasons.add_row(Text(f"  {reason['code']}", style="bold"), reason["text"])
        parts.append(reasons)
    else:
        parts.append(Text("  none", style="dim"))
    if decision.trace is not None:
        parts.append(render_why(decision.trace))
        if not brief:
            parts.append(render_trace(decision.trace))
    return Group(*parts)


def render_decision_line(decision) -> Text:
    """The decision in one line: each output's value, and the reason codes."""
    line = Text.assemble(("Decision ", "bold"), (decision.ruleset.name, "bold cyan"),
                         f" {decision.ruleset.version or ''}  as of {decision.as_of}: ")
    line.append(", ".join(f"{name} {show(value)}" for name, value in decision.decision.items()),
                style="bold")
    codes = [reason["code"] for reason in decision.reasons]
    line.append(f"; reasons {', '.join(codes)}" if codes else "; no reason")
    return line


def render_why(events: list[TraceEvent]) -> RenderableType:
    """A few lines that say why: which rules made each output, which caps bound it, which
    offers were made or withheld."""
    why = Table.grid(padding=(0, 2))
    for event in events:
        if isinstance(event, OutputEvent):
            used = [p.rule for p in event.proposals if p.used]
            source = (f"from rule{'s' if len(used) > 1 else ''} {', '.join(used)}" if used
                      else "its default")
            applied = [f"capped at {cap.bound} {show(cap.limit)}"
                       + (f" ({cap.reason})" if cap.reason else "")
                       for cap in event.caps if cap.status == "applied"]
            why.add_row(Text(f"  {event.name}", style="cyan"), Text(show(event.value), style="bold"),
                        Text("; ".join([source, *applied]), style="dim"))
        elif isinstance(event, OfferEvent):
            status = (f"by rule {event.rule}" if event.status == "made" else
                      f"by rule {event.rule}, but its `requires` is not true"
                      + (f" (reason {event.reason})" if event.reason else ""))
            why.add_row(Text(f"  offer {event.name}", style="cyan"), Text(event.status),
                        Text(status, style="dim"))
    return Group(Text("Why", style="bold"), why)


def render_trace(events: list[TraceEvent]) -> Tree:
    tree = Tree(Text("Trace", style="bold"))
    # An offer a rule made but its `requires` withheld is shown so under the rule too.
    withheld = {(event.rule, event.name) for event in events
                if isinstance(event, OfferEvent) and event.status == "withheld"}
    for event in events:
        if isinstance(event, ValueEvent):
            _value_event(tree, event)
        elif isinstance(event, RuleEvent):
            _rule_event(tree, event, withheld)
        elif isinstance(event, OutputEvent):
            _output_event(tree, event)
        elif isinstance(event, OfferEvent):
            _offer_event(tree, event)
        elif isinstance(event, NoteEvent):
            tree.add(Text.assemble(("note ", "yellow"), event.message))
    return tree


def _value_event(tree: Tree, event: ValueEvent) -> None:
    line = Text.assemble((f"{event.kind} ", "dim"), (event.name, "cyan"), " = ",
                         (show(event.value), "bold"))
    if event.kind == "table":
        rows = ", ".join(str(r) for r in event.matched_rows) if event.matched_rows else "none"
        line.append(f"   row{'s' if len(event.matched_rows or []) != 1 else ''} {rows} "
                    f"matched (hit {event.policy})", style="dim")
    branch = tree.add(line)
    if event.explanation is not None:  # how it was computed: which argument won, what was missing
        _condition(branch, event.explanation, "from ")


def _rule_event(tree: Tree, event: RuleEvent, withheld: set[tuple[str, str]]) -> None:
    mark, style = _MARKS[event.status]
    line = Text.assemble((f"{mark} ", style), ("rule ", "dim"), (event.name, "bold"))
    if event.label:
        line.append(f" {event.label}", style="italic")
    line.append(f"  {event.status}", style=style)
    branch = tree.add(line)
    if event.condition is not None:
        _condition(branch, event.condition, "when ")
    for proposal in event.proposals:
        value = show(proposal.value)
        what = {"offer": f"offer {value}", "add": f"add {value} to {proposal.output}"}.get(
            proposal.action, f"set {proposal.output} = {value}")
        used = ("used", "green") if proposal.used else ("overridden", "magenta")
        if proposal.action == "offer" and (event.name, _offer_name(proposal.value)) in withheld:
            used = ("withheld", "bold red")
        branch.add(Text.assemble(f"{what}  ", used))
    if event.reasons:
        branch.add(Text.assemble(("reason ", "dim"), ", ".join(event.reasons)))


def _offer_name(value: Any) -> Any:
    return value.get("name") if isinstance(value, dict) else value


def _condition(branch: Tree, node: ExprTrace, prefix: str = "") -> None:
    """A condition as a tree; `and`/`or` chains as lists, comparisons on one line."""
    operator = _chain_operator(node)
    if operator is not None:
        parts = _flatten(node, operator)
        sub = branch.add(Text.assemble(prefix, ("all of" if operator == "and" else "any of"),
                                       " → ", _value_text(node.value)))
        for part in parts:
            _condition(sub, part)
        return
    line = Text(prefix)
    line.append_text(_inline(node))
    if node.children and not all(not child.children for child in node.children):
        sub = branch.add(line)
        for child in node.children:
            if child.children:
                _condition(sub, child)
        return
    branch.add(line)


def _chain_operator(node: ExprTrace) -> str | None:
    return node.op if node.op in ("and", "or") else None


def _flatten(node: ExprTrace, operator: str) -> list[ExprTrace]:
    if _chain_operator(node) != operator:
        return [node]
    return [part for child in node.children for part in _flatten(child, operator)]


def _inline(node: ExprTrace) -> Text:
    """`text → value`, with each non-literal operand's value in parentheses, pytest style."""
    text = Text(node.text)
    shown = [child for child in node.children if not _is_literal(child)]
    # A ratio compared with a percentage reads best as a percentage: `utilization (94.0%)`. In
    # arithmetic the percentage is a factor (`income * 50%`): the other operand is an amount.
    percent = node.op in _COMPARISONS and any(
        _is_literal(child) and child.text.endswith("%") for child in node.children)
    if any(not child.children for child in shown):
        # Each simple operand's value after it; a compound one is explained on its own line.
        text = Text()
        rest = node.text
        for child in shown:
            index = rest.find(child.text)
            if index < 0:
                continue
            text.append(rest[: index + len(child.text)])
            rest = rest[index + len(child.text):]
            if child.children:
                continue
            value = (percentage(child.value) if percent and isinstance(child.value, Decimal)
                     else show(child.value))
            text.append(f" ({value})", style="cyan")
        text.append(rest)
    text.append(" → ")
    text.append_text(_value_text(node.value))
    return text


def _is_literal(node: ExprTrace) -> bool:
    """A number, text, date, list or yes/no written in the rule: its value is its text."""
    return not node.children and (node.text[:1] in '0123456789"-[{'
                                  or node.text in ("true", "false"))


def _value_text(value: Any) -> Text:
    style = {True: "green", False: "red"}.get(value, "yellow" if value is None else "bold")
    return Text(show(value), style=style)


def _output_event(tree: Tree, event: OutputEvent) -> None:
    line = Text.assemble(("output ", "dim"), (event.name, "cyan"), " = ",
                         (show(event.value), "bold"), (f"   combine {event.policy}", "dim"))
    branch = tree.add(line)
    if event.defaulted:
        branch.add(Text(f"no proposal: default {show(event.combined)}", style="dim"))
    for proposal in event.proposals:
        status = ("used", "green") if proposal.used else ("overridden", "magenta")
        branch.add(Text.assemble(f"rule {proposal.rule} proposed {show(proposal.value)}  ",
                                 status))
    for cap in event.caps:
        reason = f" because {cap.reason}" if cap.reason else ""
        branch.add(Text(f"cap at {cap.bound} {show(cap.limit)}{reason}: {cap.status}",
                        style="bold" if cap.status == "applied" else "dim"))


def _offer_event(tree: Tree, event: OfferEvent) -> None:
    style = "green" if event.status == "made" else "bold red"
    line = Text.assemble(("offer ", "dim"), (event.name, "cyan"), f" by rule {event.rule}: ",
                         (event.status, style))
    if event.reason:
        line.append(f" (reason {event.reason})")
    branch = tree.add(line)
    if event.requires is not None:
        _condition(branch, event.requires, "requires ")
