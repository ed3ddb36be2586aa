"""Golden tests: every diagnostic code has a fixture that triggers it, and its full rendering
(code, message, source line with caret underline, help) is pinned in the `.out` beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.codes import CODES
from engine.pipeline import check_path
from tests.conftest import FIXTURES, assert_golden, render_result

DIAGNOSTICS = FIXTURES / "diagnostics"
CASES = sorted(DIAGNOSTICS.glob("*.rules"))


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_diagnostics_match_golden(fixture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DIAGNOSTICS)
    result = check_path(Path(fixture.name))
    expected_code = fixture.stem.split("_")[0]
    assert expected_code in {d.code for d in result.diagnostics}
    assert_golden(render_result(result), fixture.with_suffix(".out"))


def test_every_code_has_a_fixture() -> None:
    covered = {fixture.stem.split("_")[0] for fixture in CASES}
    assert covered == set(CODES)
