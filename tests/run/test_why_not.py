"""Why not: what stopped a rule (a comparison, a missing value, an aggregate, all/any, a table, a
date, a higher-priority rule), by how much, in text and JSON, from Python and `tenet run`."""

from __future__ import annotations

import datetime
import decimal
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

import engine
from cli import main
from engine.portfolio.summary import json_text
from engine.report.why_not import render_why_not
from engine.run.trace import RuleEvent
from tests.helpers import FIXTURES, ROOT, assert_golden, invoke
from tests.strategies import facts_strategy

CASES = FIXTURES / "why_not"
AS_OF = datetime.date(2026, 12, 1)


def rendered(renderable) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


@pytest.fixture(scope="module")
def cases() -> tuple[engine.Ruleset, dict]:
    ruleset = engine.load(CASES / "cases.rules")
    return ruleset, json.loads((CASES / "cases.json").read_text())


def test_every_way_a_rule_is_stopped_in_words(cases) -> None:
    ruleset, facts = cases
    text = "".join(rendered(render_why_not(ruleset.decide(facts, as_of=AS_OF,
                                                          why_not=rule).why_not))
                   for rule in ruleset.check.program.symbols.rules)
    assert_golden(text, CASES / "cases.txt")


def test_every_way_a_rule_is_stopped_as_data(cases) -> None:
    ruleset, facts = cases
    data = {rule: json.loads(ruleset.decide(facts, as_of=AS_OF, why_not=rule).to_json(),
                             parse_float=Decimal)["why_not"]
            for rule in ruleset.check.program.symbols.rules}
    assert_golden(json_text(data), CASES / "cases.why_not.json")
    assert data["SCORE"]["findings"][0]["margin"] == 8
    assert data["INCOME"]["status"] == "unknown"
    assert data["TENURE"]["findings"][0]["margin"] == 59  # days
    assert data["FACTOR"]["tables"] == [{"table": "factor", "value": 1, "matched_rows": [],
                                         "nearest_row": 2, "nearest_value": Decimal("1.2"),
                                         "differences": ["customer.score is 712; row 2 needs "
                                                         "[720..780): 8 short"]}]
    assert data["SMALL"]["status"] == "overridden"
    assert data["BIG"]["status"] == "used"
    assert data["BOTH"]["status"] == "used" and len(data["BOTH"]["overrides"]) == 1  # one lost


def test_the_decision_is_the_same_with_or_without_why_not(cases) -> None:
    ruleset, facts = cases
    plain = ruleset.decide(facts, as_of=AS_OF)
    asked = ruleset.decide(facts, as_of=AS_OF, why_not="SCORE")
    assert (asked.decision, asked.reasons) == (plain.decision, plain.reasons)
    assert [e.to_data() for e in asked.trace] == [e.to_data() for e in plain.trace]
    assert ruleset.decide(facts, as_of=AS_OF, trace=False, why_not="SCORE").trace is None


def test_an_unknown_rule_is_named_with_a_hint(cases) -> None:
    ruleset, facts = cases
    with pytest.raises(engine.UnknownRule, match=r"has no rule `SCOR`; did you mean `SCORE`\?"):
        ruleset.decide(facts, as_of=AS_OF, why_not="SCOR")


def test_tenet_run_why_not_on_the_limit_review(monkeypatch: pytest.MonkeyPatch) -> None:
    """The strong payer of the demo holds on H07 when her usage is low: the matrix's row that
    matched, and how far she is from the row that would have given an increase."""
    monkeypatch.chdir(ROOT)
    facts = json.loads(Path("rulesets/facts/limit_review_strong_payer.json").read_text())
    facts["customer"]["balance"] = 36_000  # usage 24%
    code, output = _run_with_stdin(json.dumps(facts), "--why-not", "I01")
    assert code == 0
    assert_golden(output, CASES / "limit_review_I01.txt")
    code, traced = _run_with_stdin(json.dumps(facts), "--why-not", "I01", "--trace")
    assert code == 0 and traced.startswith(output)  # the answer first, then the decision
    assert "\nDecision limit_review 2026.12.1  as of 2026-12-15\n" in traced
    assert "\nTrace\n" in traced
    code, output = _run_with_stdin(json.dumps(facts), "--format", "json", "--no-trace",
                                   "--why-not", "I01")
    data = json.loads(output)
    assert code == 0 and data["decision"]["action"] == "hold"
    assert data["why_not"]["status"] == "not matched"
    assert data["why_not"]["tables"][0]["matched_rows"] == [5]


def _run_with_stdin(facts: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", "rulesets/limit_review.rules", "--facts", "-",
                                       "--as-of", "2026-12-15", *args], input=facts)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_tenet_run_unknown_rule_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, output = invoke("run", "rulesets/limit_review.rules", "--facts",
                          "rulesets/facts/limit_review_strong_payer.json", "--why-not", "I03")
    assert code == 2
    assert "ruleset `limit_review` has no rule `I03`; did you mean" in output
    assert "Traceback" not in output


RULESETS = sorted(ROOT.joinpath("rulesets").glob("*.rules"))


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_why_not_answers_for_any_customer_and_rule(path: Path) -> None:
    """Never a crash; the status is the trace's; a rule that did not fire has at least one
    finding, and every finding is about a part that is not true."""
    ruleset = engine.load(path)
    facts = facts_strategy(ruleset)
    as_of = ruleset.window.start if ruleset.window else AS_OF

    @settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(facts, st.sampled_from(sorted(ruleset.check.program.symbols.rules)))
    def check(given_facts: dict, rule: str) -> None:
        try:
            decision = ruleset.decide(given_facts, as_of=as_of, why_not=rule)
        except engine.DecisionConflict:
            return
        why = decision.why_not
        event = next(e for e in decision.trace if isinstance(e, RuleEvent) and e.name == rule)
        assert why.status == ("used" if event.status == "fired" else event.status)
        if why.status in ("not matched", "unknown"):
            assert why.findings
            assert all(finding.value is not True for finding in why.findings)
        if why.status == "overridden":
            assert why.overrides
        rendered(render_why_not(why))
        json.dumps(decision.to_data()["why_not"], default=str)

    check()


@pytest.mark.parametrize("context", [
    {"prec": 3}, {"prec": 6, "rounding": "ROUND_FLOOR"}, {"Inexact": True}],
    ids=["3 digits", "6 digits floored", "inexact trapped"])
def test_the_callers_decimal_context_changes_no_explanation(cases, context) -> None:
    ruleset, facts = cases
    rules = list(ruleset.check.program.symbols.rules)
    facts = json.loads(json.dumps(facts))
    facts["customer"]["usage"] = Decimal("0.0512345678912")  # margins with many digits
    facts["customer"]["accounts"][0]["balance"] = Decimal("30000.123456789")

    def explanations() -> list[tuple[str, str]]:
        return [(rendered(render_why_not(d.why_not)), d.to_json()) for d in
                (ruleset.decide(facts, as_of=AS_OF, why_not=rule) for rule in rules)]

    expected = explanations()
    with decimal.localcontext() as local:
        for key, value in context.items():
            if key == "Inexact":
                local.traps[decimal.Inexact] = value
            else:
                setattr(local, key, value)
        assert explanations() == expected


def test_a_table_with_several_results_shows_the_nearest_row_with_another_record() -> None:
    ruleset = engine.load(FIXTURES / "traces" / "compound_terms.rules")
    facts = {"customer": {"segment": "retail", "behavior_score": 720, "balance": 3200}}
    why = json.loads(ruleset.decide(facts, as_of=AS_OF, why_not="TERMS").to_json(),
                     parse_float=Decimal)["why_not"]
    assert why["status"] == "used"
    facts["customer"]["segment"] = "micro_business"
    why = json.loads(ruleset.decide(facts, as_of=AS_OF, why_not="TERMS").to_json(),
                     parse_float=Decimal)["why_not"]
    assert why["summary"] == "its condition is false"
    assert why["tables"] == [{
        "table": "offer_terms", "value": {"rate": Decimal("0.079"), "term_months": 12},
        "matched_rows": [], "nearest_row": 2,
        "nearest_value": {"rate": Decimal("0.059"), "term_months": 24},
        "differences": ['customer.segment is "micro_business"; row 2 needs "retail"']}]
