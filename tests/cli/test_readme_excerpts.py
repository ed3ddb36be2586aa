"""The README's excerpts of what commands print are what they print: each excerpt's lines (the
`…` that stand for left-out lines aside) appear in the command's output, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(text: str) -> list[str]:
    """The fenced blocks without a language (what a command prints), in order."""
    blocks, current, fence = [], None, None
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if fence is None:
                fence, current = line.strip(), []
            else:
                if fence == "```":
                    blocks.append("".join(current))
                fence = current = None
        elif current is not None:
            current.append(line)
    return blocks


BLOCKS = _blocks(README)
DEMO_FACTS = ROOT / "rulesets" / "facts" / "limit_review_strong_payer.json"
LOW_USAGE = dict(json.loads(DEMO_FACTS.read_text()))
LOW_USAGE["customer"] = {**LOW_USAGE["customer"], "balance": 36_000}
COMMANDS = {
    "Decision limit_review 2026.12.1  as of 2026-12-15\n": (
        ["run", "rulesets/limit_review.rules", "--facts", str(DEMO_FACTS), "--as-of",
         "2026-12-15"], None),
    "Portfolio 1,000 rows": (
        ["batch", "rulesets/limit_review.rules", "--facts", "rulesets/facts/book.csv", "--out",
         "build/book.decisions.csv", "--as-of", "2026-12-15", "--id", "customer.customer_id",
         "--summary", "build/book.summary.json", "--jobs", "1"], None),
    "Of 1,000 customers": (
        ["diff", "rulesets/limit_review.rules", "rulesets/challengers/limit_review_2027.rules",
         "--facts", "rulesets/facts/book.csv", "--as-of", "2026-12-15", "--id",
         "customer.customer_id", "--jobs", "1"], None),
    "Decision limit_review 2026.12.1  as of 2026-12-15: ": (
        ["run", "rulesets/limit_review.rules", "--facts", "-", "--as-of", "2026-12-15",
         "--why-not", "I01"], json.dumps(LOW_USAGE)),
    "docs/examples/mistakes.rules:26:18": (["check", "docs/examples/mistakes.rules"], None),
    "rulesets/limit_review.rules\n  ✓ proved": (["verify", "rulesets/limit_review.rules"], None),
}


@pytest.mark.parametrize("start", list(COMMANDS), ids=lambda s: s.strip()[:30])
def test_a_readme_excerpt_is_what_the_command_prints(start: str, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    (ROOT / "build").mkdir(exist_ok=True)
    [block] = [block for block in BLOCKS if block.startswith(start)]
    arguments, stdin = COMMANDS[start]
    result = CliRunner().invoke(main, arguments, input=stdin)
    printed = [line.rstrip() for line in result.output.splitlines()]
    # The command prints at 100 columns, as the README's excerpts are written.
    position = 0
    for line in (line.rstrip() for line in block.splitlines()):
        if line.lstrip("│├└─ ") in ("…", ""):
            continue  # lines left out
        cut = line.endswith("…")  # a line the README cuts short
        found = next((index for index in range(position, len(printed))
                      if printed[index] == line or cut and printed[index].startswith(
                          line[:-1].rstrip())), None)
        assert found is not None, f"README line not printed (after line {position}): {line!r}"
        position = found + 1
