"""`tenet verify` from the command line: each V code's fixture, its text pinned in a golden file
(times masked), exit statuses, the machine formats, witness files that `tenet run` takes, and the
repository's own rulesets proved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from engine.codes import CODES
from engine.verify.prover import Prover
from tests.helpers import FIXTURES, ROOT, assert_golden, invoke

VERIFY = FIXTURES / "verify"
CASES = sorted(VERIFY.glob("V*.rules"))
EXTRA = {"V002_property_unknown": ["--timeout", "0.5"],
         "V005_differs_from_baseline": ["--baseline", "V005_baseline.rules.txt"],
         "V007_baseline_does_not_fit": ["--baseline", "V005_baseline.rules.txt"]}
STATUS = {"V001": 1, "V002": 1, "V003": 1, "V004": 0, "V005": 0, "V006": 1, "V007": 2}


def masked(output: str) -> str:
    """The text without the times it took, which vary from run to run."""
    return re.sub(r"\d+\.\d\d s\b", "… s", output)


def test_every_verify_code_has_a_fixture() -> None:
    assert {case.stem.split("_")[0] for case in CASES} == {c for c in CODES if c[0] == "V"}


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_verify_output_matches_golden(fixture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VERIFY)
    code = fixture.stem.split("_")[0]
    if code == "V006":  # the engine disagrees with every witness: how a prover bug is reported
        monkeypatch.setattr(Prover, "breaks", lambda self, declaration, witness: False)
    status, output = invoke("verify", fixture.name, *EXTRA.get(fixture.stem, []))
    assert status == STATUS[code], output
    assert_golden(masked(output), fixture.with_suffix(".out"))
    if code == "V007":  # refused before anything is proved
        return
    _, data = invoke("verify", fixture.name, "--format", "json", *EXTRA.get(fixture.stem, []))
    assert code in {CODE_OF[(r["kind"], r["status"])] for r in json.loads(data)
                    if (r["kind"], r["status"]) in CODE_OF} or code == "V002"


CODE_OF = {("property", "violated"): "V001", ("property", "unknown"): "V002",
           ("conflicts", "violated"): "V003", ("partial use", "violated"): "V004",
           ("baseline", "violated"): "V005", ("property", "internal error"): "V006"}


def test_repository_rulesets_are_proved() -> None:
    status, output = invoke("verify", str(ROOT / "rulesets"), "--format", "json")
    results = json.loads(output)
    assert status == 0, output
    skipped = [r["name"] for r in results if r["status"] == "skipped"]
    assert skipped == ["C01"]  # it reads `baseline.`: skipped without --baseline, never counted
    assert all(r["status"] == "proved" for r in results if r["name"] != "C01"), output
    names = {(Path(r["ruleset"]).name, r["name"]) for r in results
             if r["kind"] == "property" and r["status"] == "proved"}
    assert ("limit_review.rules", "P05") in names  # never a hold with a raised limit
    assert ("cross_sell.rules", "insurer_consent") in names
    assert ("product_addon.rules", "exposure_cap") in names


def test_challenger_against_the_champion() -> None:
    status, output = invoke("verify", str(ROOT / "rulesets/challengers/limit_review_2027.rules"),
                            "--baseline", str(ROOT / "rulesets/limit_review.rules"),
                            "--format", "json")
    results = {(r["kind"], r["name"]): r for r in json.loads(output)}
    assert status == 0, output
    assert results[("property", "C01")]["status"] == "proved"
    assert results[("baseline", "offers")]["status"] == "proved"
    for output_name in ("action", "new_limit", "reasons"):
        found = results[("baseline", output_name)]
        assert found["status"] == "violated"
        witness = found["witness"]
        assert witness["decision"] != witness["baseline"]["decision"] or \
            witness["reasons"] != witness["baseline"]["reasons"]


def test_witness_files_are_facts_that_run_decides_the_same(tmp_path: Path) -> None:
    fixture = VERIFY / "V001_property_violated.rules"
    status, output = invoke("verify", str(fixture), "--witness-dir", str(tmp_path),
                            "--format", "json")
    assert status == 1
    witness = next(r["witness"] for r in json.loads(output) if r["name"] == "P01")
    written = tmp_path / "review.P01.json"
    assert json.loads(written.read_text()) == witness["facts"]
    status, decided = invoke("run", str(fixture), "--facts", str(written), "--as-of",
                             witness["as_of"], "--format", "json")
    assert status == 0
    assert json.loads(decided)["decision"] == witness["decision"]


def test_sarif_and_github_name_the_property(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VERIFY)
    _, sarif = invoke("verify", "V001_property_violated.rules", "--format", "sarif")
    log = json.loads(sarif)
    schema = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    result = log["runs"][0]["results"][0]
    assert result["ruleId"] == "V001"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 25
    _, github = invoke("verify", "V001_property_violated.rules", "--format", "github")
    assert github.startswith("::error file=V001_property_violated.rules,line=25,")


def test_only_one_property_and_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VERIFY)
    status, output = invoke("verify", "V001_property_violated.rules", "--property", "P01",
                            "--format", "json")
    assert [r["name"] for r in json.loads(output)] == ["P01"]
    status, output = invoke("verify", "V001_property_violated.rules", "--property", "P9")
    assert status == 2 and "no property named `P9`" in output


def test_a_ruleset_with_errors_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules"
    broken.write_text('ruleset b\noutputs\n  x: integer default 0\nend\n'
                      'rule R when length(reasons) > 0 then set x = 1 end\n')
    status, output = invoke("verify", str(broken))
    assert status == 2
    assert "`reasons` (the reason codes a decision gives) can be read only inside" in output
