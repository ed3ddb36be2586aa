"""The hostile inputs of the security probe, one fixture each (tests/fixtures/hostile/), through
the command line as a user or CI would run it: each command gives its exit status and message,
never a traceback. EXPECT lists the commands."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.helpers import FIXTURES

HOSTILE = FIXTURES / "hostile"
CASES = [line for line in (HOSTILE / "EXPECT").read_text(encoding="utf-8").splitlines()
         if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.split(" =>")[0])
def test_hostile_input(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command, expected = case.split(" => ", 1)
    status, text = expected.split(" ", 1)
    folder = tmp_path / "hostile"
    shutil.copytree(HOSTILE, folder)  # fmt must not touch the fixtures
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, shlex.split(command))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == int(status), result.output
    assert text in result.output
    assert "Traceback" not in result.output and "\x1b" not in result.output
