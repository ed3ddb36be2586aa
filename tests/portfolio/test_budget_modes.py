"""`when full skip` and `when full stop` (LANGUAGE.md §8) on both engines: which candidates a
full budget keeps, and what the summary says of it (the rule, the amount asked, the cut-off)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.syntax.formatter import format_text
from tests.helpers import ENGINES, FIXTURES, run_book

RULES = FIXTURES / "budgets" / "when_full.rules"
BOOK = "c.id,c.ask,c.score\nlow,300,70\ntop,600,90\nmid,500,80\n"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode, kept", [("skip", {"top", "low"}), ("stop", {"top"})])
def test_a_full_budget_skips_or_stops(engine: str, mode: str, kept: set[str], tmp_path: Path,
                                      request: Any) -> None:
    rules = tmp_path / "when_full.rules"
    rules.write_text(RULES.read_text(encoding="utf-8").replace("when full skip",
                                                               f"when full {mode}"))
    book = tmp_path / "book.csv"
    book.write_text(BOOK, encoding="utf-8")
    summary = tmp_path / "summary.json"
    code, decided, refused, _ = run_book(engine, rules, book, tmp_path, request,
                                         "--summary", str(summary))
    assert (code, refused) == (0, [])
    assert {row["id"]: (row["action"], row["granted"], row["reasons"]) for row in decided} == {
        name: (("increase", ask, ["UP"]) if name in kept else ("hold", "0", ["B1"]))
        for name, ask in (("low", "300"), ("top", "600"), ("mid", "500"))}
    assert json.loads(summary.read_text())["budgets"]["increases"] == {
        "when_full": mode, "candidates": 3, "kept": len(kept), "overridden": 3 - len(kept),
        "asked": 1400, "used": 600 + (300 if mode == "skip" else 0), "limit": 1000,
        "last_kept": 70 if mode == "skip" else 90, "first_refused": 80}


def test_when_full_is_kept_by_fmt_and_defaults_to_skip() -> None:
    text = RULES.read_text(encoding="utf-8")
    assert format_text(text, "when_full.rules") == text
    without = text.replace("  when full skip\n", "")
    assert "\n  when full" not in format_text(without, "when_full.rules")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_summary_counts_the_rules_still_used_after_budgets(
        engine: str, tmp_path: Path, request: Any) -> None:
    rules = tmp_path / "when_full.rules"
    rules.write_text(RULES.read_text(encoding="utf-8").replace("when full skip",
                                                               "when full stop"))
    book = tmp_path / "book.csv"
    book.write_text(BOOK, encoding="utf-8")
    summary = tmp_path / "summary.json"
    code, _, _, _ = run_book(engine, rules, book, tmp_path, request, "--summary", str(summary))
    assert code == 0
    # UP and GRANT made three increases; the budget kept one and overrode both their outputs
    # in the two others.
    assert json.loads(summary.read_text())["rules"] == {
        "UP": {"fired": 3, "used": 3, "used_after_budgets": 1},
        "GRANT": {"fired": 3, "used": 3, "used_after_budgets": 1}}
