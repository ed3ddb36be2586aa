"""A cap bound that looks like a typo: `cap new_limit at most 2` on a money output is allowed (a
literal has no unit), but when it changes the value in most examples where the rules gave one,
each time to less than a tenth of it, the bound was almost certainly meant to be larger."""

from __future__ import annotations

import datetime
from decimal import Decimal

from engine.check import types as t
from engine.lint.findings import Findings
from engine.run.reference.interpreter import Env, Interpreter
from engine.run.reference.procedure import Decider, DecisionConflict
from engine.syntax import ast
from engine.syntax.unparse import unparse


def lint_caps(findings: Findings) -> None:
    program = findings.program
    symbols = program.symbols
    caps = [cap for cap in symbols.caps if isinstance(cap.limit, ast.Literal)
            and program.output_types.get(cap.output.name) == t.MONEY]
    if not caps or len(symbols.examples) < 2:
        return
    decisions = _example_decisions(findings)
    if len(decisions) < 2:
        return
    for cap in caps:
        # The examples where the rules gave the output a value the cap could bind (a declined
        # application's 0 says nothing of the bound); most of them cut tenfold is a typo.
        relevant = [events for events in decisions if _rules_value(events, cap)]
        cut = sum(_cuts_tenfold(events, cap) for events in relevant)
        if len(relevant) >= 2 and 2 * cut > len(relevant):
            where = ("every example" if len(relevant) == len(decisions) and cut == len(relevant)
                     else f"{cut} of the {len(relevant)} examples where the rules gave it a "
                          "value")
            findings.report(
                "W210", f"`cap {cap.output.name} at {cap.bound} {unparse(cap.limit)}` changed "
                        f"`{cap.output.name}` in {where}, each time to less than a tenth "
                        "of the rules' value: is the bound a typo?", cap.limit.span,
                help="check the bound's digits (money amounts are written in full, e.g. "
                     "`200_000`)")


def _example_decisions(findings: Findings) -> list[list]:
    """The traced decisions of the examples, by the reference evaluator (examples whose
    facts do not fit, or that give no decision, are left out: `tenet test` reports them)."""
    program = findings.program
    decider = Decider(program, Interpreter())
    window = program.symbols.effective
    decisions = []
    for example in program.symbols.examples:
        as_of = example.as_of or (window.start if window is not None else datetime.date.today())
        try:
            facts = {given.facts.name: Interpreter().value(given.value, Env({}, as_of))
                     for given in example.givens}
            decisions.append(decider.decide(facts, as_of, trace=True).trace)
        except (DecisionConflict, ArithmeticError, AttributeError, TypeError):
            continue
    return decisions


def _rules_value(events: list, cap: ast.CapDecl) -> bool:
    """Whether the rules gave the capped output a value other than 0 in this decision."""
    for event in events:
        if type(event).__name__ == "OutputEvent" and event.name == cap.output.name:
            return isinstance(event.combined, Decimal) and event.combined != 0
    return False


def _cuts_tenfold(events: list, cap: ast.CapDecl) -> bool:
    for event in events:
        if type(event).__name__ == "OutputEvent" and event.name == cap.output.name:
            applied = [c for c in event.caps if c.status == "applied" and c.bound == cap.bound
                       and c.limit == cap.limit.value]
            combined = event.combined
            return bool(applied) and isinstance(combined, Decimal) and \
                abs(combined) >= 10 * abs(cap.limit.value)
    return False
