"""`tenet run` reads facts from standard input (a byte order mark too) and reports errors
without a banner; `--brief` leaves the trace out; `tenet explain` lists every code."""

from __future__ import annotations

DAYS = ("ruleset r\nfacts c\n  x: integer\nend\noutputs\n  days: integer default 0\nend\n"
        "rule A when true then set days = {value} end\n")


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


def test_run_brief_prints_the_decision_and_why_without_the_trace(tmp_path) -> None:
    from click.testing import CliRunner

    from cli import main
    from tests.helpers import ROOT

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
