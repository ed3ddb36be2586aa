"""Rulesets read files only inside their folder: an include of the environment, a committed
symbolic link out of the folder, or an oversized file is an error that echoes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from tests.helpers import ROOT, invoke

SECRET = "tenet-probe-secret-4711"


def _check_in_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", *args],
                          capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "TENET_PROBE": SECRET})


def test_an_include_of_the_environment_echoes_nothing(tmp_path: Path) -> None:
    (tmp_path / "r.rules").write_text('include "/proc/self/environ"\n'
                                      'include "../../../../../../../../proc/self/environ"\n'
                                      "ruleset r\n")
    process = _check_in_subprocess("r.rules", cwd=tmp_path)
    assert process.returncode == 1
    assert SECRET not in process.stdout + process.stderr
    assert "r.rules:1:1: E211 [error] included file `/proc/self/environ` is an absolute path" \
        in process.stdout
    assert ("r.rules:2:1: E211 [error] included file `../../../../../../../../proc/self/environ` "
            "is outside the ruleset's folder `.`") in process.stdout
    assert "Traceback" not in process.stderr


def test_a_committed_symlink_out_of_the_folder_is_refused_and_others_still_checked(
        tmp_path: Path) -> None:
    rules = tmp_path / "rulesets"
    rules.mkdir()
    (tmp_path / "outside.rules").write_text(f'ruleset leak\nlet x = "{SECRET}" +\n')
    (rules / "a_link.rules").symlink_to(tmp_path / "outside.rules")
    (rules / "b_environ.rules").symlink_to("/proc/self/environ")
    (rules / "c_loop.rules").symlink_to(rules / "c_loop.rules")
    (rules / "d_folder.rules").mkdir()
    (rules / "e_good.rules").write_text("ruleset good\noutputs\n  a: integer default 0\nend\n"
                                        "rule A when true then set a = 1 end\n")
    (rules / "f_bad.rules").write_text("ruleset bad\nlet y = nowhere\n")
    process = _check_in_subprocess("rulesets", cwd=tmp_path)
    output = process.stdout
    assert SECRET not in output + process.stderr and "Traceback" not in process.stderr
    assert process.returncode == 1
    found = [line for line in output.splitlines() if ": E" in line]
    assert found == [
        "rulesets/a_link.rules:1:1: E211 [error] `rulesets/a_link.rules` is outside the "
        "ruleset's folder `rulesets`",
        "rulesets/b_environ.rules:1:1: E211 [error] `rulesets/b_environ.rules` is outside the "
        "ruleset's folder `rulesets`",
        "rulesets/c_loop.rules:1:1: E212 [error] `rulesets/c_loop.rules` is a symbolic link that "
        "points to itself",
        "rulesets/d_folder.rules:1:1: E212 [error] `rulesets/d_folder.rules` is a folder, not a "
        "ruleset file",
        "rulesets/f_bad.rules:2:9: E301 [error] unknown name `nowhere`",
    ]
    assert output.rstrip().endswith("6 files checked: 5 errors, 1 warning")


def test_root_widens_the_folder_and_stays_closed_above_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "reasons.rules").write_text('reasons\n  R1 "Good"\nend\n')
    (tmp_path / "main").mkdir()
    main_rules = tmp_path / "main" / "main.rules"
    main_rules.write_text('include "../shared/reasons.rules"\nruleset main\n'
                          "outputs\n  a: integer default 0\nend\n"
                          "rule X when true then set a = 1 reason R1 end\n")
    code, output = invoke("check", str(main_rules))
    assert code == 1 and "E211" in output
    assert invoke("check", "--root", str(tmp_path), str(main_rules)) == (
        0, "✓ 1 file checked, no problems\n")
    assert engine.load(main_rules, root=tmp_path).name == "main"
    with pytest.raises(engine.RulesetError, match="E211"):
        engine.load(main_rules)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = tmp_path / "big.rules"
    ruleset.write_text("ruleset big\n" + "# padding\n" * 200)
    monkeypatch.setenv("TENET_MAX_FILE_BYTES", "1000")
    code, output = invoke("check", str(ruleset))
    assert code == 1
    assert "E212 [error] `" in output and "` is larger than 1,000 bytes" in output
    assert invoke("fmt", str(ruleset))[0] == 1
    monkeypatch.setenv("TENET_MAX_FILE_BYTES", "100000")
    assert invoke("check", str(ruleset))[0] == 0
