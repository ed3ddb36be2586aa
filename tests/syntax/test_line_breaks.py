"""Every command reads a ruleset's lines alike: a line break hidden from one command (a lone
carriage return, a form feed, a line separator) must not make another see a different rule."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import invoke

RULESET = """ruleset hostile
facts c
  x: integer
end
outputs
  out: integer default 0
end
rule FIRST when c.x > 0 then set out = 1 end
# a comment that ends here{BREAK}rule HIDDEN priority 10 when true then set out = 999 end
"""


FACTS = {"c": {"x": 5}}


def decided_out(ruleset: Path, facts: Path) -> int:
    code, output = invoke("run", str(ruleset), "--facts", str(facts), "--as-of", "2026-12-01",
                          "--format", "json", "--no-trace")
    assert code == 0, output
    return json.loads(output)["decision"]["out"]


@pytest.mark.parametrize("line_break", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
def test_every_line_break_is_a_line_break_for_run_check_and_fmt(tmp_path: Path,
                                                                line_break: str) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_bytes(RULESET.replace("\n", line_break).format(BREAK=line_break).encode())
    facts.write_text(json.dumps(FACTS))
    assert decided_out(ruleset, facts) == 999  # the rule after the comment is seen
    assert invoke("check", str(ruleset))[0] == 0
    before = ruleset.read_bytes()
    code, output = invoke("fmt", str(ruleset))
    assert code == 0
    assert (output.startswith("reformatted")) == (line_break != "\n" or before != ruleset.read_bytes())
    assert b"\r" not in ruleset.read_bytes()
    assert decided_out(ruleset, facts) == 999  # fmt did not change the decision
    assert invoke("fmt", "--check", str(ruleset))[0] == 0


def test_a_byte_order_mark_is_accepted_and_dropped_by_fmt(tmp_path: Path) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_bytes(b"\xef\xbb\xbf" + RULESET.format(BREAK="\n").encode())
    facts.write_text(json.dumps(FACTS))
    assert decided_out(ruleset, facts) == 999
    assert invoke("fmt", "--check", str(ruleset)) == (
        1, f"would reformat {os.path.relpath(ruleset)}\n1 file would be reformatted, 0 unchanged\n")
    invoke("fmt", str(ruleset))
    assert not ruleset.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\f", "\v", "\x85", "\x1e"])
def test_characters_that_editors_may_show_as_line_breaks_are_errors(tmp_path: Path,
                                                                  separator: str) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(RULESET.format(BREAK=separator), encoding="utf-8")
    facts.write_text(json.dumps(FACTS))
    code, output = invoke("check", str(ruleset))
    assert code == 1
    assert f"{os.path.relpath(ruleset)}:9:27: E107 [error]" in output
    assert separator not in output  # the echoed line shows a replacement character
    assert invoke("fmt", str(ruleset))[0] == 1
    assert ruleset.read_text(encoding="utf-8") == RULESET.format(BREAK=separator)
    assert invoke("run", str(ruleset), "--facts", str(facts))[0] == 1


def test_line_numbers_agree_after_lone_carriage_returns(tmp_path: Path) -> None:
    """A diagnostic and its `ignore` comment are found on the same line however lines break."""
    text = ("ruleset r\rfacts c\r  x: integer\rend\routputs\r  out: integer default 0\rend\r"
            "let unused = c.x  # tenet: ignore[W101]\r"
            "rule A when c.x > 0 then set out = 1 end\r"
            "let unused_too = c.x\r")
    ruleset = tmp_path / "r.rules"
    ruleset.write_bytes(text.encode())
    code, output = invoke("check", str(ruleset))
    assert code == 0
    assert output.startswith(f"{os.path.relpath(ruleset)}:10:5: W101 [warning] let `unused_too`")
    assert "  10 | let unused_too = c.x\n" in output
