"""`tenet check` never sends a ruleset's control characters to the terminal: they are escaped
in text and GitHub output."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import invoke


def test_control_characters_are_escaped_in_text_and_github_output(tmp_path: Path) -> None:
    ruleset = tmp_path / "r.rules"
    ruleset.write_text('ruleset r\nfacts c\n  s: one of "a", "b"\nend\noutputs\n'
                       '  out: integer default 0\nend\n'
                       'rule A when c.s = "\x1b]0;pwned\x07\x1b[2J\x9b31m" then set out = 1 end\n'
                       '# \x1b[31m a comment in red\n', encoding="utf-8")
    for output_format in ("text", "github"):
        code, output = invoke("check", "--format", output_format, str(ruleset))
        assert code == 1
        assert not set(output) & {"\x1b", "\x07", "\x9b"}
        assert "\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m" in output
