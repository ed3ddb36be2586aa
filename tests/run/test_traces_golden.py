"""Golden traces: the decision JSON and the rendered trace of each fixture in
tests/fixtures/traces (NAME.rules with NAME.facts.json, decided as of 2026-12-15)."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

import engine
from engine.report.decisions import render_decision
from tests.helpers import FIXTURES, assert_golden

AS_OF = datetime.date(2026, 12, 15)
CASES = sorted((FIXTURES / "traces").glob("*.rules"))


def decide(fixture: Path) -> engine.Decision:
    facts = json.loads(fixture.with_suffix(".facts.json").read_text(), parse_float=Decimal)
    return engine.load(fixture).decide(facts, as_of=AS_OF)


def rendered(decision: engine.Decision) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None, highlight=False).print(
        render_decision(decision))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_decision_json_matches_golden(fixture: Path) -> None:
    decision = decide(fixture)
    text = decision.to_json()
    # The digest depends on the file's bytes; pin it separately from the golden.
    assert json.loads(text)["ruleset"]["digest"].startswith("sha256:")
    assert_golden(text.replace(decision.ruleset.digest, "sha256:…") + "\n",
                  fixture.with_suffix(".json"))


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_rendered_trace_matches_golden(fixture: Path) -> None:
    assert_golden(rendered(decide(fixture)), fixture.with_suffix(".txt"))


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_same_input_same_decision_and_trace(fixture: Path) -> None:
    assert decide(fixture).to_json() == decide(fixture).to_json()


def test_json_numbers_are_exact() -> None:
    ruleset = engine.load_text('ruleset exact\nfacts c\n  x: money\nend\noutputs\n  y: money\nend\n'
                               'rule R when true then set y = c.x + 0.2 end\n', "exact.rules")
    decision = ruleset.decide({"c": {"x": Decimal("0.1")}}, as_of=AS_OF, trace=False)
    assert '"y": 0.3' in decision.to_json()
    big = ruleset.decide({"c": {"x": Decimal("12345678901234567890.12")}}, as_of=AS_OF)
    assert '"y": 12345678901234567890.32' in big.to_json()
