"""Versions of one ruleset in one folder (E213): their `effective … until` windows must not
share a day; files in other folders, and rulesets without a window, are not compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import FIXTURES, assert_golden, invoke

RULESET = '''ruleset lr
version "{version}"
{window}

facts c
  x: integer
end

outputs
  y: integer default 0
end

rule R
  when c.x > 0
  then
    set y = 1
end
'''


def _write(folder: Path, name: str, version: str, window: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(RULESET.format(version=version, window=window), encoding="utf-8")


@pytest.mark.parametrize("cache", [False, True], ids=["checked", "from the cache"])
def test_overlapping_versions_are_an_error_for_the_later_one(tmp_path, monkeypatch, cache) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _write(tmp_path / "lr", "a.rules", "1", "effective 2026-12-01")
    _write(tmp_path / "lr", "b.rules", "2", "effective 2027-01-01 until 2027-07-01")
    arguments = ["check", "lr"] + ([] if cache else ["--no-cache"])
    if cache:
        invoke(*arguments)  # fills the cache: the second run reads the windows from it
        assert len(list((tmp_path / "cache" / "tenet" / "check").glob("*.json"))) == 2
    status, output = invoke(*arguments)
    assert status == 1
    assert_golden(output, FIXTURES / "versions" / "overlap.out")


def test_windows_that_meet_do_not_overlap(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "lr", "a.rules", "1", "effective 2026-12-01 until 2027-01-01")
    _write(tmp_path / "lr", "b.rules", "2", "effective 2027-01-01 until 2027-07-01")
    _write(tmp_path / "lr", "c.rules", "3", "effective 2027-07-01")
    assert invoke("check", "--no-cache", "lr")[0] == 0


def test_other_folders_and_undated_rulesets_are_not_versions(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "lr", "a.rules", "1", "effective 2026-12-01")
    _write(tmp_path / "lr" / "challengers", "b.rules", "2", "effective 2026-12-01")
    _write(tmp_path / "lr", "c.rules", "3", "")
    _write(tmp_path / "lr", "d.rules", "4", "")
    assert invoke("check", "--no-cache", "lr") == (0, "✓ 4 files checked, no problems\n")


def test_the_same_start_names_both_files(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "lr", "a.rules", "1", "effective 2026-12-01 until 2027-01-01")
    _write(tmp_path / "lr", "b.rules", "2", "effective 2026-12-01 until 2026-12-15")
    status, output = invoke("check", "--no-cache", "lr", "--format", "json")
    assert status == 1 and '"code": "E213"' in output
    assert "lr/b.rules" in output and "(from 2026-12-01 until 2027-01-01)" in output
    assert "give each version a window of its own" in output
