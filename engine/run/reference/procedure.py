"""The decision procedure (LANGUAGE.md sections 5-9), shared by both evaluators.

Lets, tables, rules and outputs are evaluated in the checker's dependency order, so that an
output is final before anything reads it. Each output combines the proposals of the rules that
fired, ordered by priority (higher first) and then position; then its caps apply (ceilings, then
floors). Reasons come from the rules whose proposals were used (or that propose nothing), then
from the caps that bound the final value.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.check import types as t
from engine.check.checker import CheckedProgram, rank_order, table_result_type
from engine.check.symbols import OFFERS_OUTPUT, Symbols
from engine.exceptions import DecisionConflict
from engine.run import runtime
from engine.run.reference.interpreter import Env, Interpreter
from engine.run.trace import (
    CapEvent,
    ExprTrace,
    NoteEvent,
    OfferEvent,
    OutputEvent,
    Proposal,
    RuleEvent,
    TraceEvent,
    ValueEvent,
    budget_note,
)
from engine.syntax import ast


@dataclass(frozen=True, slots=True)
class _RulePlan:
    """A rule prepared once: its condition and actions as ready-to-call functions."""

    name: str
    label: str | None
    condition: Callable[[Env], Any]
    explain_condition: Callable[[Env], ExprTrace]
    # (kind, output or code, value function or None) per action, in order
    actions: tuple[tuple[str, str, Callable[[Env], Any] | None], ...]


@dataclass
class Outcome:
    """What a decision produced, before it is dressed as a ``Decision``."""

    outputs: dict[str, Any]
    reasons: list[str]
    trace: list[TraceEvent] | None
    values: dict[str, Any] = field(default_factory=dict)  # facts, lets, tables and outputs


@dataclass
class _RuleResult:
    status: str
    proposals: list[Proposal] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    event: RuleEvent | None = None


# The results of rules that did not fire, shared between decisions made without a trace: nothing
# ever changes them (only fired rules get statuses and reasons afterwards).
_NOT_MATCHED = _RuleResult("not matched")
_UNKNOWN = _RuleResult("unknown")


class Decider:
    """Makes decisions for one checked program with the reference interpreter."""

    def __init__(self, program: CheckedProgram, evaluator: Interpreter) -> None:
        symbols = program.symbols
        self.symbols = symbols
        self.evaluator = evaluator
        self.order = program.order
        self.policies = program.policies
        self.output_types = program.output_types
        self.rule_order, self.proposers = rule_order(symbols)
        self.plans = {rule.name.name: self._plan(rule) for rule in self.rule_order}
        self.lets = {name: self._bound(let.value)[0] for name, let in symbols.lets.items()}
        self.caps = caps_by_output(symbols)

    def _bound(self, expr: ast.Expr) -> tuple[Callable[[Env], Any], Callable[[Env], ExprTrace]]:
        """The value and the explained value of ``expr``, as functions of an environment."""
        evaluator = self.evaluator
        return (lambda env: evaluator.value(expr, env)), (lambda env: evaluator.explain(expr, env))

    def decide(self, facts: dict[str, Any], as_of: datetime.date, trace: bool) -> Outcome:
        env = Env(dict(facts), as_of)
        events: list[TraceEvent] | None = [] if trace else None
        results: dict[str, _RuleResult] = {}
        cap_reasons: list[tuple[int, str]] = []
        for kind, name in self.order:
            if kind == "let":
                if events is None:
                    env.values[name] = self.lets[name](env)
                else:
                    explained = self.evaluator.explain(self.symbols.lets[name].value, env)
                    env.values[name] = explained.value
                    events.append(ValueEvent("let", name, explained.value,
                                             explanation=explained if explained.children else None))
            elif kind == "table":
                env.values[name] = self._table(self.symbols.tables[name], env, events)
            elif kind == "rule":
                results[name] = self._rule(self.plans[name], env, trace)
                if events is not None:
                    events.append(results[name].event)
            elif name == OFFERS_OUTPUT:
                env.values[name] = self._offers(results, env, events)
            else:
                env.values[name] = self._output(name, results, env, events, cap_reasons)
        if events is not None:
            for name, budget in self.symbols.budgets.items():
                events.append(NoteEvent(budget_note(name, budget.stops_when_full)))
            events.extend(NoteEvent(message) for message in env.notes.messages)
        outputs = {name: env.values.get(name) for name in self.output_types}
        return Outcome(outputs, self._reasons(results, cap_reasons), events, env.values)

    # -- rules

    def _plan(self, rule: ast.RuleDecl) -> _RulePlan:
        actions = []
        for action in rule.actions:
            if isinstance(action, ast.ReasonAction):
                actions.append(("reason", action.code.name, None))
            elif isinstance(action, ast.OfferAction):
                actions.append(("offer", OFFERS_OUTPUT, self._offer_function(action)))
            else:
                kind = "add" if isinstance(action, ast.AddAction) else "set"
                actions.append((kind, action.output.name,
                                self._bound(action.value)[0]))
        condition, explain = self._bound(rule.condition)
        return _RulePlan(rule.name.name, rule.label, condition, explain, tuple(actions))

    def _rule(self, plan: _RulePlan, env: Env, trace: bool) -> _RuleResult:
        if trace:
            condition = plan.explain_condition(env)
            value = condition.value
        else:
            condition, value = None, plan.condition(env)
            if value is not True:  # most rules: nothing to record, so share one result
                return _UNKNOWN if value is None else _NOT_MATCHED
        status = "fired" if value is True else ("unknown" if value is None else "not matched")
        result = _RuleResult(status)
        if value is True:
            for kind, target, function in plan.actions:
                if kind == "reason":
                    result.codes.append(target)
                else:
                    result.proposals.append(Proposal(plan.name, target, function(env), kind))
        if trace:
            result.event = RuleEvent(plan.name, plan.label, status, condition, result.proposals,
                                     result.codes)
        return result

    def _offer_function(self, action: ast.OfferAction) -> Callable[[Env], dict[str, Any]]:
        """A function making the offer record {name, amount?, partner?}."""
        offer = self.symbols.offers[action.offer.name]
        name, partner = offer.name.name, offer.partner
        amount = self._bound(action.amount)[0] if action.amount is not None else None

        def make(env: Env) -> dict[str, Any]:
            made: dict[str, Any] = {"name": name}
            if amount is not None:
                made["amount"] = amount(env)
            if partner is not None:
                made["partner"] = partner
            return made
        return make

    def _proposals(self, output: str, results: dict[str, _RuleResult]) -> list[Proposal]:
        return [proposal for rule in self.proposers.get(output, ())
                for proposal in results[rule].proposals if proposal.output == output]

    # -- outputs

    def _output(self, name: str, results: dict[str, _RuleResult], env: Env,
                events: list[TraceEvent] | None, cap_reasons: list[tuple[int, str]]) -> Any:
        proposals = self._proposals(name, results)
        policy = self.policies[name]
        declaration = self.symbols.outputs[name]
        if proposals:
            combined = self._combine(f"output `{name}`", policy, self.output_types[name],
                                     proposals, lambda p: f"rule `{p.rule}`", env.notes)
        elif declaration.default is not None:
            combined = self.evaluator.value(declaration.default, env)
        else:  # LANGUAGE.md §5: no proposal and no default
            combined = {"count": runtime.ZERO, "collect": (), "output order": ()}.get(policy)
        value, caps = self._apply_caps(name, combined, env, cap_reasons)
        if self.output_types[name] == t.INTEGER:
            runtime.check_whole(name, value)
        if events is not None:
            events.append(OutputEvent(name, policy, proposals, combined, caps, value,
                                      defaulted=not proposals))
        return value

    def _combine(self, what: str, policy: str, type_: t.Type, proposals: list[Proposal],
                 who, notes: runtime.Notes) -> Any:
        """The final value of ``proposals`` under ``policy``; marks the proposals used."""
        values = [p.value for p in proposals]
        if policy in ("first", "unique", "any"):
            if policy == "unique" and len(proposals) > 1 or policy == "any" and any(
                    v != values[0] for v in values):
                shown = ", ".join(f"{who(p)} ({runtime.conflicting(p.value)})" for p in proposals)
                raise DecisionConflict(f"{what} is `combine {policy}` but has "
                                       f"{'several' if policy == 'unique' else 'different'} "
                                       f"proposals: {shown}")
            chosen = values[0]
            for p in proposals if policy == "any" else proposals[:1]:
                p.used = True
            return chosen
        if policy == "priority":
            order = None if isinstance(type_, t.ListOf) else rank_order(self.symbols, type_)
            chosen = min(values, key=lambda v: runtime.rank(order, v))
        elif policy in ("min", "max"):
            chosen = None if None in values else (min(values) if policy == "min" else max(values))
        else:
            for p in proposals:
                p.used = True
            if policy == "sum":
                return runtime.guarded(runtime.aggregate, notes, f"the sum of {what}", "sum",
                                       values)
            if policy == "count":
                return runtime.aggregate("count", values)
            if policy == "output order":
                order = rank_order(self.symbols, type_)
                values = sorted(values, key=lambda v: runtime.rank(order, v))
            if isinstance(type_, t.ListOf) and type_.is_set:
                values = list(dict.fromkeys(values))
            return tuple(values)
        for p in proposals:
            p.used = p.value == chosen
        return chosen

    def _apply_caps(self, name: str, combined: Any, env: Env,
                    cap_reasons: list[tuple[int, str]]) -> tuple[Any, list[CapEvent]]:
        value = combined
        events: list[CapEvent] = []
        bound_by: list[tuple[ast.CapDecl, Any]] = []
        for cap in self.caps.get(name, ()):
            reason = cap.reason.name if cap.reason is not None else None
            if cap.condition is not None and self.evaluator.value(cap.condition, env) is not True:
                constant = cap.limit.value if isinstance(cap.limit, ast.Literal) else None
                events.append(CapEvent(cap.bound, constant, "skipped: its condition is not true",
                                       reason))
                continue
            limit = self.evaluator.value(cap.limit, env)
            if limit is None or value is None:
                which = "its bound" if limit is None else "the value"
                env.notes.add(f"cap on `{name}` skipped: {which} is missing")
                events.append(CapEvent(cap.bound, limit, f"skipped: {which} is missing", reason))
                continue
            binds = value > limit if cap.bound == "most" else value < limit
            if binds:
                value = limit
            events.append(CapEvent(cap.bound, limit, "applied" if binds else "not binding",
                                   reason))
            bound_by.append((cap, limit))
        for cap, limit in bound_by:
            if cap.reason is not None and value == limit and value != combined:
                cap_reasons.append((self.symbols.caps.index(cap), cap.reason.name))
        return value, events

    # -- offers

    def _offers(self, results: dict[str, _RuleResult], env: Env,
                events: list[TraceEvent] | None) -> tuple[dict[str, Any], ...]:
        kept = []
        for proposal in self._proposals(OFFERS_OUTPUT, results):
            proposal.used = True
            offer = self.symbols.offers[proposal.value["name"]]
            requires = None
            if offer.requires is not None:
                requires = (self.evaluator.explain(offer.requires, env) if events is not None
                            else ExprTrace("", self.evaluator.value(offer.requires, env)))
            if requires is None or requires.value is True:
                kept.append(proposal.value)
                status, reason = "made", None
            else:
                status = "withheld"
                reason = offer.else_reason.name if offer.else_reason is not None else None
                if reason is not None:
                    results[proposal.rule].codes.append(reason)
            if events is not None:
                events.append(OfferEvent(offer.name.name, proposal.rule, status, requires, reason))
        return tuple(kept)

    # -- tables

    def _table(self, table: ast.TableDecl, env: Env, events: list[TraceEvent] | None) -> Any:
        inputs = [self.evaluator.value(column, env) for column in table.inputs]
        matched = [index for index, row in enumerate(table.rows)
                   if all(self.cell_matches(cell, value, env)
                          for cell, value in zip(row.cells, inputs, strict=False))]
        policy = table.policy.name if table.policy is not None else "unique"
        if not matched:
            if table.otherwise is not None:
                value = self.evaluator.value(table.otherwise, env)
            else:
                value = {"count": runtime.ZERO, "collect": (), "output order": ()}.get(policy)
        else:
            proposals = [Proposal(str(index + 1), table.name.name,
                                  self.evaluator.value(table.rows[index].result, env))
                         for index in matched]
            declared = table_result_type(self.symbols, table, policy)
            value = self._combine(f"table `{table.name.name}`", policy, declared, proposals,
                                  lambda p: f"row {p.rule}", env.notes)
        if events is not None:
            events.append(ValueEvent("table", table.name.name, value,
                                     [index + 1 for index in matched], policy))
        return value

    def cell_matches(self, cell: ast.Cell, value: Any, env: Env) -> bool:
        if isinstance(cell, ast.AnyCell):
            return True
        if isinstance(cell, ast.MissingCell):
            return value is None
        if value is None:
            return False
        if isinstance(cell, ast.NotCell):
            return not self.cell_matches(cell.cell, value, env)
        if isinstance(cell, ast.Alternatives):
            return any(self.cell_matches(test, value, env) for test in cell.tests)
        if isinstance(cell, ast.IntervalTest):
            low = self.evaluator.value(cell.low, env)
            high = self.evaluator.value(cell.high, env)
            if low is None or high is None:
                return False
            above = value >= low if cell.low_closed else value > low
            below = value <= high if cell.high_closed else value < high
            return above and below
        op = cell.op if isinstance(cell, ast.CompareTest) else "="
        return runtime.compare(op, value, self.evaluator.value(cell.value, env)) is True

    # -- reasons

    def _reasons(self, results: dict[str, _RuleResult],
                 cap_reasons: list[tuple[int, str]]) -> list[str]:
        codes: list[str] = []
        for rule in self.rule_order:
            result = results[rule.name.name]
            if result.status != "fired":
                continue
            used = not result.proposals or any(p.used for p in result.proposals)
            if not used:
                result.status = "overridden"
                if result.event is not None:
                    result.event.status = "overridden"
                continue
            codes.extend(result.codes)
        codes.extend(code for _, code in sorted(cap_reasons))
        return list(dict.fromkeys(codes))


def rule_order(symbols: Symbols) -> tuple[list[ast.RuleDecl], dict[str, list[str]]]:
    """The rules by priority (higher first), then position; and for each output, the rules
    that can propose to it in that order (the dependency order evaluates all of them before
    the output)."""
    position = {name: index for index, name in enumerate(symbols.rules)}
    ordered = sorted(symbols.rules.values(), key=lambda r: (-r.priority, position[r.name.name]))
    proposers: dict[str, list[str]] = {}
    for rule in ordered:
        for target in dict.fromkeys(target_of(action) for action in rule.actions):
            if target is not None:
                proposers.setdefault(target, []).append(rule.name.name)
    return ordered, proposers


def caps_by_output(symbols: Symbols) -> dict[str, list[ast.CapDecl]]:
    """Each output's caps in the order they apply: ceilings first, then floors, each in
    declared order (LANGUAGE.md §6)."""
    caps: dict[str, list[ast.CapDecl]] = {}
    for cap in symbols.caps:
        caps.setdefault(cap.output.name, []).append(cap)
    for listed in caps.values():
        listed.sort(key=lambda cap: cap.bound == "least")
    return caps


def target_of(action: ast.Action) -> str | None:
    if isinstance(action, ast.SetAction | ast.AddAction):
        return action.output.name
    return OFFERS_OUTPUT if isinstance(action, ast.OfferAction) else None
