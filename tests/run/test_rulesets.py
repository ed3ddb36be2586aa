"""The lender's rulesets in rulesets/: clean under --strict, every example passes, and together
the examples exercise every rule, every reason code and every table row."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.pipeline import check_files, find_rule_files
from engine.run.examples import run_example
from engine.run.trace import RuleEvent, ValueEvent
from engine.syntax import ast
from tests.helpers import ROOT

RULESETS = [file.path for file in find_rule_files([ROOT / "rulesets"])]


def test_rulesets_are_clean_under_strict() -> None:
    results = check_files(find_rule_files([ROOT / "rulesets"]))
    assert [(d.span.file, d.code, d.message) for r in results for d in r.diagnostics] == []


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_examples_pass_and_cover_every_rule_reason_and_row(path: Path) -> None:
    ruleset = engine.load(path)
    symbols = ruleset.check.program.symbols
    fired: set[str] = set()
    given: set[str] = set()
    rows: dict[str, set[int]] = {name: set() for name in symbols.tables}
    for example in ruleset.examples:
        result = run_example(ruleset, example)
        assert result.failures == [], example.name
        given.update(reason["code"] for reason in result.decision.reasons)
        for event in result.decision.trace:
            if isinstance(event, RuleEvent) and event.status in ("fired", "overridden"):
                fired.add(event.name)
            if isinstance(event, ValueEvent) and event.kind == "table":
                rows[event.name].update(event.matched_rows or [0])  # 0: no row matched
    assert set(symbols.rules) - fired == set()
    # Budget reasons are given in portfolio runs only.
    budget_only = {a.code.name for b in symbols.budgets.values() for a in b.otherwise
                   if isinstance(a, ast.ReasonAction)}
    assert set(symbols.reasons) - given - budget_only == set()
    for name, table in symbols.tables.items():
        assert set(range(1, len(table.rows) + 1)) - rows[name] == set(), name


def test_at_least_forty_examples() -> None:
    assert sum(len(engine.load(path).examples) for path in RULESETS) >= 40
