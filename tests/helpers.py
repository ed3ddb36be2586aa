"""What tests share: the repository's paths, golden files, diagnostics as `tenet check` prints
them, the command line run in-process, and the engines a portfolio test runs on."""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli import main
from engine.pipeline import CheckResult
from engine.portfolio.formats import text_of
from engine.report.console import render_diagnostic

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


def invoke(*args: str) -> tuple[int, str]:
    """`tenet ARGS…` in this process: the exit status and what it printed (never a crash)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result.exit_code, result.output


# Portfolio tests run on both engines; the Spark ones are skipped without pyspark, except in CI
# (CI=true), where `.ci/run` installs the extra and a skip would hide a failure.
SPARK_MISSING = os.environ.get("CI") != "true" and any(
    importlib.util.find_spec(name) is None for name in ("pyspark", "pandas"))
ENGINES = ["local", pytest.param("spark", marks=pytest.mark.skipif(
    SPARK_MISSING, reason="pip install 'tenet[spark]' to run the Spark tests"))]


def run_book(engine: str, rules: Path, book: Path, tmp: Path, request: Any,
             *options: str) -> tuple[int, list, list, str]:
    """`tenet batch RULES` on ``engine`` (the id is `c.id`, the date 2026-12-15): exit status,
    decided rows (by row number, numbers as the exact text `tenet batch` writes), refused rows
    as (row, kind, problems), and what it printed."""
    if engine == "spark":
        request.getfixturevalue("spark")  # the shared session, which the command then uses
        out, errors = tmp / "out.parquet", tmp / "errors"
    else:
        out, errors = tmp / "out.parquet", tmp / "errors.jsonl"
    result = CliRunner().invoke(main, [
        "batch", str(rules), "--facts", str(book), "--out", str(out), "--errors", str(errors),
        "--as-of", "2026-12-15", "--id", "c.id", "--engine", engine,
        *(["--jobs", "1"] if engine == "local" else []), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    if result.exit_code == 2:
        return 2, [], [], result.output
    decided = sorted(pq.read_table(out).to_pylist(), key=lambda row: row["row"])
    for row in decided:  # Spark's decimals as the exact text `tenet batch` writes
        row.pop("ruleset_digest", None)
        row.update({key: text_of(value) for key, value in row.items()
                    if isinstance(value, Decimal)})
    if engine == "spark":
        refused = [(r["row"], r["kind"], list(r["problems"])) for r in pq.read_table(errors)
                   .to_pylist()]
    else:
        refused = [(r["row"], r["kind"], r["problems"]) for r in
                   map(json.loads, errors.read_text(encoding="utf-8").splitlines())]
    return result.exit_code, decided, sorted(refused), result.output
