"""The databases the service's tests run on: every store test runs on SQLite and on a real
PostgreSQL server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve.harness import ROOT, PostgresCluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
    except FileNotFoundError as missing:
        if os.environ.get("TENET_REQUIRE_TOOLS"):  # CI: .ci/run installs it
            raise
        pytest.skip(str(missing))
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty audit database's URL: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "audit.db")
    return request.getfixturevalue("postgres").database()


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    """The limit review in two versions: until 2027-01-01, and the challenger's matrix from
    then on (a folder of its own, as a service would serve it)."""
    folder = tmp_path / "served"
    folder.mkdir()
    champion = (ROOT / "rulesets/limit_review.rules").read_text(encoding="utf-8")
    (folder / "limit_review_2026.rules").write_text(champion.replace(
        "effective 2026-12-01", "effective 2026-12-01 until 2027-01-01"), encoding="utf-8")
    challenger = (ROOT / "rulesets/challengers/limit_review_2027.rules").read_text(
        encoding="utf-8")
    (folder / "limit_review_2027.rules").write_text(challenger.replace(
        "effective 2026-12-01", "effective 2027-01-01").replace("as of 2026-12-15",
                                                                "as of 2027-01-15"),
        encoding="utf-8")
    shutil.copy(ROOT / "rulesets/cross_sell.rules", folder)
    return folder
