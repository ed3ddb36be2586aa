"""Golden tests: every diagnostic code has a fixture that triggers it, and its full rendering
(code, message, source line with caret underline, help) is pinned in the `.out` beside it.
Fixtures named `near_CODE_…` are near misses of a lint: they must not report CODE."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.codes import CODES
from engine.pipeline import check_path
from tests.helpers import FIXTURES, assert_golden, render_result

DIAGNOSTICS = FIXTURES / "diagnostics"
CASES = sorted(DIAGNOSTICS.glob("*.rules"))


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_diagnostics_match_golden(fixture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DIAGNOSTICS)
    result = check_path(Path(fixture.name))
    codes = {d.code for d in result.diagnostics}
    if fixture.stem.startswith("near_"):
        assert fixture.stem.split("_")[1] not in codes
    else:
        assert fixture.stem.split("_")[0] in codes
    assert_golden(render_result(result), fixture.with_suffix(".out"))


def test_every_code_has_a_fixture_and_every_lint_a_near_miss() -> None:
    triggered = {f.stem.split("_")[0] for f in CASES if not f.stem.startswith("near_")}
    near_misses = {f.stem.split("_")[1] for f in CASES if f.stem.startswith("near_")}
    # V0xx are `tenet verify`'s results, pinned by tests/verify/test_verify_cli.py; E213 is a
    # finding about a folder's files together, pinned by tests/check/test_versions.py.
    assert triggered == {code for code in CODES if not code.startswith("V") and code != "E213"}
    lints = {code for code in CODES if code.startswith("E6") or code.startswith("W")}
    assert lints <= near_misses
