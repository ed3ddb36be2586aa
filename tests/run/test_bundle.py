"""A ruleset shipped as texts (to a Spark executor) loads elsewhere as the very same ruleset."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

import engine
from engine.ruleset import RulesetBundle, RulesetError, load_bundle

SCHEMA = """facts customer
  score: integer
  limit: money
end
"""
OUTPUTS = """outputs
  new_limit: money default customer.limit
end
"""
MAIN = """ruleset shipped
include "parts/schema.rules"
include "parts/deep/outputs.rules"

reasons
  R1 "Good score"
end

rule R1 "Good score raises the limit"
  when customer.score >= 700
  then set new_limit = customer.limit * 1.5
end
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "parts" / "deep").mkdir(parents=True)
    (tmp_path / "main.rules").write_text(MAIN, encoding="utf-8")
    (tmp_path / "parts" / "schema.rules").write_text(SCHEMA, encoding="utf-8")
    # an include of an include, resolved from its own folder, with a `..` that stays inside
    (tmp_path / "parts" / "deep" / "outputs.rules").write_text(
        'include "../schema.rules"\n' + OUTPUTS, encoding="utf-8")
    return tmp_path


def test_a_ruleset_with_includes_ships_as_texts_and_decides_the_same(folder: Path) -> None:
    ruleset = engine.load(folder / "main.rules")
    bundle = ruleset.bundle()
    assert bundle.main == "main.rules"
    assert [path for path, _ in bundle.files] == [
        "main.rules", "parts/schema.rules", "parts/deep/outputs.rules"]
    shipped = load_bundle(bundle)
    assert shipped.info == ruleset.info
    facts = {"customer": {"score": 720, "limit": Decimal("1000.10")}}
    as_of = datetime.date(2026, 12, 15)
    assert (shipped.decide(facts, as_of).to_json()
            == ruleset.decide(facts, as_of).to_json())
    assert shipped.decide(facts, as_of).decision == {"new_limit": Decimal("1500.150")}


def test_a_ruleset_from_a_subfolder_of_its_root_keeps_its_place(folder: Path) -> None:
    (folder / "parts" / "run.rules").write_text(
        MAIN.replace('"parts/', '"'), encoding="utf-8")
    bundle = engine.load(folder / "parts" / "run.rules", root=folder).bundle()
    assert bundle.main == "parts/run.rules"
    assert load_bundle(bundle).info.digest == bundle.digest


def test_a_bundle_reads_nothing_but_its_texts(folder: Path) -> None:
    bundle = engine.load(folder / "main.rules").bundle()
    without_schema = tuple(item for item in bundle.files if item[0] != "parts/schema.rules")
    with pytest.raises(RulesetError) as raised:
        load_bundle(RulesetBundle(bundle.main, without_schema, bundle.digest))
    assert [d.code for d in raised.value.diagnostics][0] == "E203"


def test_a_changed_text_is_refused_by_its_digest(folder: Path) -> None:
    bundle = engine.load(folder / "main.rules").bundle()
    changed = ((bundle.main, bundle.files[0][1].replace("1.5", "1.6")), *bundle.files[1:])
    with pytest.raises(ValueError, match="loaded as sha256:"):
        load_bundle(RulesetBundle(bundle.main, changed, bundle.digest))
