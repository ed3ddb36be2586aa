"""Shared test helpers: golden files and plain rendering of diagnostics."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from hypothesis import settings

from engine.pipeline import CheckResult
from engine.report.console import render_diagnostic

# How hard the property tests look: `dev` for a quick local run, `ci` for `make test` (and CI),
# `deep` for a long hunt started on demand: HYPOTHESIS_PROFILE=deep make test.
settings.register_profile("dev", max_examples=100)
settings.register_profile("ci", max_examples=300, print_blob=True)
settings.register_profile("deep", max_examples=5000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
UPDATE_GOLDEN = os.environ.get("TENET_UPDATE_GOLDEN") == "1"


def render_result(result: CheckResult) -> str:
    """Every diagnostic as `tenet check` prints it, without colour."""
    return "\n\n".join(render_diagnostic(d, result.sources.sources.get(d.span.file)).plain
                       for d in result.diagnostics) + "\n"


def assert_golden(actual: str, golden: Path) -> None:
    """Compare with a golden file; TENET_UPDATE_GOLDEN=1 rewrites it instead."""
    if UPDATE_GOLDEN or not golden.exists():
        if not UPDATE_GOLDEN:
            pytest.fail(f"golden file {golden} is missing; run with TENET_UPDATE_GOLDEN=1")
        golden.write_text(actual, encoding="utf-8")
        return
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            str(golden), "actual"))
        pytest.fail(f"output differs from {golden.name}:\n{diff}")


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for every test that needs one (the JVM starts once)."""
    from engine import spark as tenet_spark

    session = tenet_spark.session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()
