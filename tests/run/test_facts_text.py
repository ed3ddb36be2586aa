"""Facts as text: repeated keys refused with their path, long and hostile texts shortened and
escaped in the errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import invoke

TEXT_RULESET = """ruleset texts
facts c
  name: one of "a", "b"
  loans: list of loan
end
type loan
  amount: money
end
outputs
  out: integer default 0
end
rule A when c.name = "a" then set out = 1 end
"""


def test_repeated_keys_in_facts_are_refused_with_their_path(tmp_path: Path) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(TEXT_RULESET)
    facts.write_text('{"c": {"name": "a", "loans": [{"amount": 1}, '
                     '{"amount": 1, "amount": 1000000}]}}')
    code, output = invoke("run", str(ruleset), "--facts", str(facts))
    assert code == 2
    assert "`c.loans[1].amount` is given twice" in output


def test_long_and_hostile_texts_in_facts_errors_are_shortened_and_escaped(tmp_path: Path) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(TEXT_RULESET)
    facts.write_text(json.dumps({"c": {"name": "\x1b[2J\x1b[31mred" + "x" * 12_000_000,
                                       "loans": []}}))
    code, output = invoke("run", str(ruleset), "--facts", str(facts))
    assert code == 2
    assert '`c.name`' not in output and "\x1b" not in output
    assert 'c.name: expected one of "a", "b", got "\\u001b[2J\\u001b[31mred' in output
    assert "…\" (12,000,012 characters)" in output
    assert len(output) < 1000
