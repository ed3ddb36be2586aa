"""Every example of the language reference parses and checks clean.

The reference's examples are kept as fixtures (tests/fixtures/language), so that the suite
needs nothing outside the repository; the project's own guide, docs/language.md, is what users
read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.pipeline import check_path
from tests.helpers import FIXTURES

LANGUAGE_FIXTURES = sorted((FIXTURES / "language").glob("*.rules"))


@pytest.mark.parametrize("fixture", LANGUAGE_FIXTURES, ids=lambda p: p.stem)
def test_reference_examples_check_clean(fixture: Path) -> None:
    result = check_path(fixture)
    # No errors; the one finding is the lint on the reference's deliberate division by an income
    # that can be zero ("missing when income is 0"), which `tenet check` accepts (exit 0).
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("W207", "`customer.monthly_income` can be zero here: the division then gives missing")]
    assert result.program is not None and not result.program.has_errors
