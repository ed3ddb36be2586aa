"""Running the `example` blocks of a ruleset (`tenet test`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.check.symbols import OFFERS_OUTPUT
from engine.exceptions import DecisionConflict, FactsError, OutsideWindow
from engine.run.reference.interpreter import Env, Interpreter
from engine.run.runtime import normalize
from engine.run.shown import show
from engine.syntax import ast

if TYPE_CHECKING:  # annotations only: the API sits above the run stage
    from engine.ruleset import Decision, Ruleset


@dataclass
class ExampleResult:
    name: str
    span: Any
    failures: list[str] = field(default_factory=list)
    decision: Decision | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def _literal(expr: ast.Expr) -> Any:
    """The value of an example's literal (a given record, an expected value)."""
    return Interpreter().value(expr, Env({}, datetime.date.today()))


def _as_json(value: Any) -> Any:
    """Given values as facts JSON would hold them (lists, not tuples)."""
    if isinstance(value, tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    return value


def run_example(ruleset: Ruleset, example: ast.ExampleDecl) -> ExampleResult:
    result = ExampleResult(example.name, example.span)
    facts = {given.facts.name: _as_json(_literal(given.value)) for given in example.givens}
    window = ruleset.window
    as_of = example.as_of or (window.start if window is not None else datetime.date.today())
    try:
        decision = ruleset.decide(facts, as_of=as_of, trace=True)
    except (FactsError, OutsideWindow, DecisionConflict) as error:
        result.failures.append(f"no decision: {error}")
        return result
    result.decision = decision
    codes = [reason["code"] for reason in decision.reasons]
    for expectation in example.expectations:
        if isinstance(expectation, ast.ExpectReasons):
            expected = [code.name for code in expectation.codes]
            if codes != expected:
                result.failures.append(f"expected reasons = [{', '.join(expected)}], "
                                       f"got [{', '.join(codes)}]")
        elif isinstance(expectation, ast.ExpectReasonIncluded):
            if expectation.code.name not in codes:
                result.failures.append(f"expected reasons to include {expectation.code.name}, "
                                       f"got [{', '.join(codes)}]")
        else:
            _check_output(expectation, decision, result)
    return result


def _check_output(expectation: ast.ExpectOutput, decision: Decision,
                  result: ExampleResult) -> None:
    name = expectation.output.name
    actual = decision.decision.get(name)
    if name == OFFERS_OUTPUT:
        expected = [item.name for item in expectation.value.items]
        made = [offer["name"] for offer in actual or ()]
        if made != expected:
            result.failures.append(f"expected offers = [{', '.join(expected)}], "
                                   f"got [{', '.join(made)}]")
        return
    expected = _literal(expectation.value)
    if normalize(actual) != normalize(expected):
        result.failures.append(f"expected {name} = {show(expected)}, got {show(actual)}")
