"""The cache of `tenet check`: an unchanged ruleset is not checked again, any change to it or to
a file it includes is, and a broken cache is ignored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine import pipeline


@pytest.fixture
def rulesets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "reasons.rules").write_text('reasons\n  R1 "One"\n  R2 "Two"\nend\n')
    (folder / "main.rules").write_text('include "reasons.rules"\nruleset main\noutputs\n'
                                       "  a: integer default 0\nend\nlet unused = 1\n"
                                       "rule X when true then set a = 1 reason R1 end\n")
    monkeypatch.chdir(tmp_path)
    return folder


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.output


def test_an_unchanged_ruleset_is_not_checked_again(rulesets: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = check("rules")
    assert first[0] == 0 and "W101" in first[1] and "W102" in first[1]
    calls = []
    original = pipeline.check_path
    monkeypatch.setattr(pipeline, "check_path",
                        lambda *args: calls.append(args) or original(*args))
    assert check("rules") == first  # from the cache, word for word
    assert calls == []
    assert check("--no-cache", "rules") == first
    assert len(calls) == 2


def test_a_change_to_an_included_file_checks_again(rulesets: Path) -> None:
    check("rules")
    (rulesets / "reasons.rules").write_text('reasons\n  R1 "One"\nend\n')
    code, output = check("rules")
    assert "W102" not in output and "W101" in output


def test_a_corrupt_or_unwritable_cache_is_ignored(rulesets: Path, tmp_path: Path) -> None:
    first = check("rules")
    for entry in (tmp_path / "cache" / "tenet" / "check").iterdir():
        entry.write_text("{not json")
    assert check("rules") == first
    os.chmod(tmp_path / "cache" / "tenet" / "check", 0o500)
    try:
        (rulesets / "main.rules").write_text((rulesets / "main.rules").read_text() + "\n")
        assert check("rules")[0] == 0
    finally:
        os.chmod(tmp_path / "cache" / "tenet" / "check", 0o700)


def test_an_include_whose_link_is_pointed_at_another_file_checks_again(rulesets: Path) -> None:
    (rulesets / "good.rules").write_text('reasons\n  R1 "One"\n  R2 "Two"\nend\n')
    (rulesets / "broken.rules").write_text("reasons\n  R1 \nend\n")
    (rulesets / "reasons.rules").unlink()
    (rulesets / "reasons.rules").symlink_to("good.rules")
    first = check("rules/main.rules")
    assert first[0] == 0
    (rulesets / "reasons.rules").unlink()
    (rulesets / "reasons.rules").symlink_to("broken.rules")
    assert check("rules/main.rules") == check("--no-cache", "rules/main.rules")
    assert check("rules/main.rules")[0] == 1
    (rulesets / "reasons.rules").unlink()
    (rulesets / "reasons.rules").symlink_to("../../outside.rules")
    (rulesets.parent.parent / "outside.rules").write_text('reasons\n  R1 "One"\n  R2 "Two"\nend\n')
    code, output = check("rules/main.rules")
    assert code == 1 and "E211" in output
