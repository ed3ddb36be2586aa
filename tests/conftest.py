"""pytest's set-up: the hypothesis profiles, and the one Spark session (shared helpers are in
``tests.helpers``, strategies in ``tests.strategies``)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# How hard the property tests look: `dev` for a quick local run, `ci` for `make test` (and CI),
# `deep` for a long hunt started on demand: HYPOTHESIS_PROFILE=deep make test.
settings.register_profile("dev", max_examples=100)
settings.register_profile("ci", max_examples=300, print_blob=True)
settings.register_profile("deep", max_examples=5000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for every test that needs one (the JVM starts once)."""
    from engine import spark as tenet_spark

    session = tenet_spark.session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()
