"""`tenet run` and `tenet test`: output, exit status, and no traceback on user errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import FIXTURES, invoke

TRACES = FIXTURES / "traces"
RULESET = str(TRACES / "limit_review_increase.rules")
FACTS = str(TRACES / "limit_review_increase.facts.json")


def test_run_prints_the_decision_as_json() -> None:
    code, output = invoke("run", RULESET, "--facts", FACTS, "--as-of", "2026-12-15",
                          "--format", "json", "--no-trace")
    assert code == 0
    data = json.loads(output)
    assert data["decision"] == {"action": "increase", "new_limit": 15000, "offers": []}
    assert [r["code"] for r in data["reasons"]] == ["I01", "X01"]
    assert "trace" not in data


def test_run_text_shows_decision_and_trace() -> None:
    code, output = invoke("run", RULESET, "--facts", FACTS, "--as-of", "2026-12-15")
    assert code == 0
    assert "new_limit  15,000" in output
    assert "customer.max_dpd_12m (0) > 60 → false" in output


def test_run_bad_facts_exit_2_with_every_problem(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text('{"customer": {"segment": "corp", "balance": "lots"}}')
    code, output = invoke("run", RULESET, "--facts", str(facts), "--as-of", "2026-12-15")
    assert code == 2
    assert 'customer.balance: expected money, got "lots"' in output
    assert "customer.current_limit: required field is missing" in output
    assert 'customer.segment: expected one of "retail", "micro_business", got "corp"' in output


def test_run_invalid_json_and_missing_files_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"customer": ')
    code, output = invoke("run", RULESET, "--facts", str(broken))
    assert code == 2 and "the facts are not valid JSON" in output
    assert invoke("run", RULESET, "--facts", str(tmp_path / "none.json"))[0] == 2
    deep = tmp_path / "deep.json"
    deep.write_text('{"customer": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, output = invoke("run", RULESET, "--facts", str(deep))
    assert code == 2 and "nested too deeply" in output
    assert invoke("run", str(tmp_path / "none.rules"), "--facts", FACTS)[0] == 2
    assert invoke("run", RULESET, "--facts", FACTS, "--as-of", "15/12/2026")[0] == 2


def test_run_outside_the_window_exits_2() -> None:
    code, output = invoke("run", RULESET, "--facts", FACTS, "--as-of", "2026-11-30")
    assert code == 2
    assert "effective from 2026-12-01" in output


def test_run_ruleset_errors_exit_1() -> None:
    code, output = invoke("run", str(FIXTURES / "diagnostics" / "E302_unknown_field.rules"),
                          "--facts", FACTS)
    assert code == 1
    assert "E302" in output


def test_run_conflict_exits_3(tmp_path: Path) -> None:
    rules = tmp_path / "conflict.rules"
    rules.write_text('ruleset conflict\nfacts c\n  x: integer\nend\noutputs\n'
                     '  out: integer combine unique\nend\n'
                     'rule A when c.x > 0 then set out = 1 end\n'
                     'rule B when c.x > 1 then set out = 2 end\n')
    facts = tmp_path / "facts.json"
    facts.write_text('{"c": {"x": 5}}')
    code, output = invoke("run", str(rules), "--facts", str(facts))
    assert code == 3
    assert "rule `A` (1), rule `B` (2)" in output


def test_test_command_passes_and_fails(tmp_path: Path) -> None:
    code, output = invoke("test", RULESET)
    assert code == 0
    assert output.splitlines()[-1] == "1 passed, 0 failed"
    failing = tmp_path / "failing.rules"
    failing.write_text(Path(RULESET).read_text().replace("expect new_limit = 15_000",
                                                         "expect new_limit = 16_000"))
    code, output = invoke("test", str(failing))
    assert code == 1
    assert "expected new_limit = 16,000, got 15,000" in output
    assert "Trace" in output
    assert output.splitlines()[-1] == "0 passed, 1 failed"
