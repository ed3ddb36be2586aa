"""Text from facts and books never reaches the terminal raw: escape sequences (clipboard
writes, clearing the screen, hyperlinks), bells and right-to-left overrides in a customer's
data are shown as `\\u…` in `tenet run`'s trace, `--why-not` and `tenet diff`'s text report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import FIXTURES, invoke

RULES = FIXTURES / "hostile_books" / "book.rules"
HOSTILE = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]8;;http://x\x1b\\y\u202eevil\x9b"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def test_tenet_run_and_why_not_show_escapes_instead_of_sending_them(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"c": {"id": HOSTILE, "limit": 5, "segment": "retail",
                                       "note": HOSTILE, "past_due": 0}}), encoding="utf-8")
    for extra in ([], ["--why-not", "NOTE"], ["--why-not", "F01"]):
        code, output = invoke("run", str(RULES), "--facts", str(facts), "--as-of",
                              "2026-12-15", *extra)
        assert code == 0
        assert not any(raw in output for raw in RAW), (extra, output)
    code, output = invoke("run", str(RULES), "--facts", str(facts), "--as-of", "2026-12-15")
    assert ('"\\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\u001b]8;;http://x\\u001b\\\\y'
            '\\u202eevil\\u009b"') in "".join(output.split())


def test_tenet_diff_shows_escapes_in_ids_and_problems(tmp_path: Path) -> None:
    challenger = tmp_path / "challenger.rules"
    challenger.write_text(RULES.read_text(encoding="utf-8").replace(
        "ruleset hostile_book", "ruleset hostile_book_2").replace(
        "c.past_due > 0", "c.past_due > 5"), encoding="utf-8")
    book = tmp_path / "book.jsonl"
    book.write_text(json.dumps({"c": {"id": HOSTILE, "limit": 5, "segment": "retail",
                                      "past_due": 2}}) + "\n"
                    + json.dumps({"c": {"id": "x", "limit": 5, "segment": HOSTILE}}) + "\n",
                    encoding="utf-8")
    code, output = invoke("diff", str(RULES), str(challenger), "--facts", str(book), "--as-of",
                          "2026-12-15", "--id", "c.id", "--jobs", "1")
    assert code == 0
    assert not any(raw in output for raw in RAW), output
    assert "\\u001b]52;c;ZXZpbA==" in "".join(output.split())


def test_tenet_run_refuses_facts_with_a_lone_surrogate_without_a_traceback(
        tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text('{"c": {"id": "a", "limit": 5, "segment": "retail", "note": "x\\udfff"}}',
                     encoding="utf-8")
    code, output = invoke("run", str(RULES), "--facts", str(facts), "--as-of", "2026-12-15")
    assert code == 2
    assert "Traceback" not in output
    assert "the text at `c.note` holds a lone surrogate" in output
