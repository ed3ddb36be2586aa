"""Regressions from a risk officer's first week (issue 12) that are fixed."""

from __future__ import annotations

import pytest

import engine
from engine.pipeline import check_text

DAYS = ("ruleset r\nfacts c\n  x: integer\nend\noutputs\n  days: integer default 0\nend\n"
        "rule A when true then set days = {value} end\n")


def test_a_fraction_written_for_an_integer_output_is_a_type_error() -> None:
    result = check_text(DAYS.format(value="60.5"), "days.rules")
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("E401", "output `days` is integer, but `60.5` is not a whole number")]
    assert not check_text(DAYS.format(value="60"), "days.rules").diagnostics


@pytest.mark.parametrize("reference", [False, True])
def test_a_fraction_computed_for_an_integer_output_is_no_decision(reference: bool) -> None:
    ruleset = engine.load_text(DAYS.format(value="c.x * 1.5"))
    assert ruleset.decide({"c": {"x": 2}}, as_of="2026-12-01",
                          reference=reference).decision == {"days": 3}
    with pytest.raises(engine.DecisionConflict, match=r"output `days` is an integer, but its "
                                                      r"value is 4\.5: round it in the rule"):
        ruleset.decide({"c": {"x": 3}}, as_of="2026-12-01", reference=reference)


def test_a_count_output_without_proposals_is_0_and_a_collect_output_empty() -> None:
    ruleset = engine.load_text("ruleset r\nfacts c\n  x: integer\nend\noutputs\n"
                               "  n: integer combine count\n  tags: list of text combine collect\n"
                               "end\nrule A when c.x > 5 then set n = 1 add \"big\" to tags end\n")
    for reference in (False, True):
        assert ruleset.decide({"c": {"x": 1}}, as_of="2026-12-01",
                              reference=reference).decision == {"n": 0, "tags": ()}


def test_run_reads_facts_from_stdin_with_a_bom_and_reports_errors_without_a_banner(
        tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from cli import main

    ruleset = tmp_path / "days.rules"
    ruleset.write_text(DAYS.format(value="c.x"))
    result = CliRunner().invoke(main, ["run", str(ruleset), "--facts", "-", "--format", "json",
                                       "--no-trace", "--as-of", "2026-12-01"],
                                input='\ufeff{"c": {"x": 7}}')
    assert result.exit_code == 0 and json.loads(result.stdout)["decision"] == {"days": 7}
    broken = tmp_path / "broken.json"
    broken.write_text('{"c": {"x": 7,}}')
    result = CliRunner().invoke(main, ["run", str(ruleset), "--facts", str(broken)])
    assert result.exit_code == 2 and "Usage:" not in result.output
    assert result.output.startswith(f"error: {broken}:1:15: the facts are not valid JSON")
    result = CliRunner().invoke(main, ["run", str(ruleset), "--facts", str(broken),
                                       "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == "facts"
    bad = tmp_path / "bad.json"
    bad.write_text('{"c": {"x": "seven"}}')
    result = CliRunner().invoke(main, ["run", str(ruleset), "--facts", str(bad), "--format",
                                       "json"])
    assert result.exit_code == 2 and json.loads(result.stdout) == {
        "error": "facts", "message": f"{bad}: the facts do not fit ruleset `r`",
        "problems": ['c.x: expected integer, got "seven"']}
    result = CliRunner().invoke(main, ["run", str(ruleset), "--facts", str(bad), "--as-of",
                                       "2027-13-01"])
    assert result.exit_code == 2
    assert "'2027-13-01' is not a date of the form YYYY-MM-DD (month must be in 1..12)" in \
        result.output


def test_a_row_missing_a_cell_says_how_many_cells_it_has() -> None:
    text = ("ruleset r\nfacts c\n  x: integer\n  y: integer\nend\ntable t: number\n"
            "  | c.x | c.y | t |\n  | >= 1 | >= 2 |\n  | 2 | 3 | 4 |\nend\n")
    assert [(d.code, d.message) for d in check_text(text, "t.rules").diagnostics] == [
        ("E105", "row 1 of table `t` has 2 cells but the header has 3: a cell is missing, so "
                 "its last cell is read as the table's value, which must not be a test")]


SPELLINGS = ("ruleset r\nfacts c\n  l: list of p\n  s: integer\nend\ntype p\n  d: integer\nend\n"
             "outputs\n  o: integer default 0\nend\n")


@pytest.mark.parametrize(("text", "message", "help"), [
    ("rule R when count of p in c.l where p.d > 0 >= 1 then set o = 1 end",
     "`>=` after `count … where …`: the filter takes everything to its right, so a comparison "
     "cannot follow it",
     "put the aggregate in parentheses: `rule R when (count of p in c.l where p.d > 0) >= 1 "
     "then set o = 1 end`"),
    ("let n = 1,000,000", "`,` inside a number", "write `1_000_000`: thousands are separated "
                                                 "with `_`"),
    ("let n = 100万", "`100万` is not a number of the language", "write `1_000_000`"),
    ("let n = 1e6", "`1e6` is not a number of the language", "write `1_000_000`"),
    ("let n = 45 %", "a percentage is written without a space", "write `45%`"),
    ("rule R when c.s = 1 || c.s = 2 then set o = 1 end", "`||` is not an operator", "write `or`"),
    ("rule R when c.s = 1 && c.s = 2 then set o = 1 end", "`&&` is not an operator",
     "write `and`"),
    ("rule R when c.s = 1 AND c.s = 2 then set o = 1 end",
     "`AND`: keywords are written in lowercase", "write `and`"),
    ("let n = （1）", "`（` is a full-width character",
     "write `(` (the language's punctuation is ASCII)"),
    ("table t: number\n  | c.s | t |\n  | [700, 760) | 1 |\nend",
     "an interval is written with `..`",
     "write `[700..760)`: from 700 (included) up to 760 (excluded)"),
])
def test_business_spellings_get_a_write_it_as_hint(text: str, message: str, help: str) -> None:
    diagnostic = check_text(SPELLINGS + text + "\n", "s.rules").diagnostics[0]
    assert (diagnostic.message, diagnostic.help) == (message, help)


def test_a_cap_whose_condition_is_not_true_shows_its_constant_bound() -> None:
    from rich.console import Console

    from engine.report.decisions import render_decision

    ruleset = engine.load_text("ruleset r\nfacts c\n  x: integer\nend\noutputs\n"
                               "  limit_out: money default 300_000\nend\n"
                               "cap limit_out at most 200_000 when c.x > 5\n")
    for reference in (False, True):
        decision = ruleset.decide({"c": {"x": 1}}, as_of="2026-12-01", reference=reference)
        (output,) = [e for e in decision.trace if type(e).__name__ == "OutputEvent"]
        assert output.caps[0].to_data() == {"bound": "at most", "limit": 200_000, "reason": None,
                                             "status": "skipped: its condition is not true"}
    console = Console(width=100, record=True)
    console.print(render_decision(decision))
    assert "cap at most 200,000: skipped: its condition is not true" in console.export_text()


def test_run_brief_prints_the_decision_and_why_without_the_trace(tmp_path) -> None:
    from click.testing import CliRunner

    from cli import main
    from tests.conftest import ROOT

    result = CliRunner().invoke(main, [
        "run", str(ROOT / "rulesets" / "limit_review.rules"), "--facts",
        str(ROOT / "rulesets" / "facts" / "limit_review_strong_payer.json"), "--as-of",
        "2026-12-15", "--brief"])
    assert result.exit_code == 0
    assert "Why\n  action     \"increase\"  from rule I01" in result.output
    assert "new_limit  200,000     from rule NEW_LIMIT; capped at most 200,000 (C01)" in \
        result.output
    assert "Trace" not in result.output


def test_explain_without_a_code_lists_every_code() -> None:
    from click.testing import CliRunner

    from cli import main
    from engine.codes import CODES

    result = CliRunner().invoke(main, ["explain"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(CODES)
    assert lines[0] == "E101 error   syntax error"
    assert "W210 warning cap bound looks like a typo" in lines
