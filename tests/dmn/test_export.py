"""`tenet dmn export`: every repository ruleset's tables, lets and outputs as DMN 1.3 valid
against the OMG's schema; what has no DMN form listed; and the round trip — import, export,
import again — deciding the same on random facts, and proved the same by `tenet verify`."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import engine
from engine.check import types as t
from engine.dmn.exporter import export_program, validate
from engine.dmn.importer import import_model
from engine.dmn.model import read_model
from engine.pipeline import check_path, check_text
from engine.verify import verify
from engine.verify.prover import PROVED
from tests.helpers import FIXTURES, ROOT, invoke
from tests.strategies import facts_strategy

DMN = FIXTURES / "dmn"
RULESETS = sorted([*ROOT.joinpath("rulesets").rglob("*.rules"),
                   *(FIXTURES / "traces").glob("*.rules")])
AS_OF = datetime.date(2026, 12, 15)


def exported(path: Path):
    result = check_path(path)
    header = result.program.symbols.header
    return export_program(result.program, header.name.name, header.label)


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_what_maps_is_exported_as_valid_dmn_1_3(path: Path) -> None:
    model = exported(path)
    assert validate(model.xml) == []
    assert model.exported  # facts, at least
    status, output = invoke("dmn", "export", str(path), "--tables-only")
    assert status == 0, output
    assert "valid against its schema" not in output  # the model went to standard output


def test_the_schema_check_really_rejects_what_dmn_1_3_does_not_allow() -> None:
    model = exported(ROOT / "rulesets" / "limit_review.rules")
    broken = model.xml.replace(b'hitPolicy="UNIQUE"', b'hitPolicy="SOMETIMES"')
    assert broken != model.xml
    assert any("hitPolicy" in problem for problem in validate(broken))


def test_what_has_no_dmn_form_is_listed_and_nothing_written_without_tables_only(
        tmp_path: Path) -> None:
    target = tmp_path / "limit_review.dmn"
    status, output = invoke("dmn", "export", str(ROOT / "rulesets" / "limit_review.rules"),
                            "--out", str(target))
    assert status == 1 and not target.exists()
    for line in ["✗ output `action`: its value comes from rules, which DMN has not",
                 "✗ rule `I01`: DMN has no rules", "✗ budget `increase_budget`: DMN has no budgets",
                 "✗ cap on `new_limit`: DMN has no caps",
                 "✗ the reason codes: DMN has no reason codes",
                 "✓ table `increase_factor` as decision `increase_factor` (a decision table, hit "
                 "policy UNIQUE)"]:
        assert line in output, output
    assert "nothing written. `--tables-only` writes what maps" in output
    status, output = invoke("dmn", "export", str(ROOT / "rulesets" / "limit_review.rules"),
                            "--out", str(target), "--tables-only")
    assert status == 0 and f"→ {target} (DMN 1.3, valid against its schema)" in output
    assert validate(target.read_bytes()) == []


def test_a_let_without_feel_leaves_out_what_reads_it() -> None:
    model = exported(ROOT / "rulesets" / "product_addon.rules")
    assert ("let `unsecured_exposure`: `sum of p.limit for p in customer.products where not "
            "p.secured` (an aggregate) has no FEEL form that Tenet reads back") in model.left_out
    assert "decision `room`: it reads `income_room`, which has no DMN form" in model.left_out
    names = {element.get("name") for element in etree.fromstring(model.xml)
             if etree.QName(element).localname == "decision"}
    assert names == {"tier"}


def _round_trip(first_text: str, tmp_path: Path) -> tuple[engine.Ruleset, engine.Ruleset, str]:
    """The ruleset imported first, the one imported again after an export, and the second's
    text."""
    first = engine.load_text(first_text, "first.rules")
    header = first.check.program.symbols.header
    model = export_program(first.check.program, header.name.name, header.label)
    assert validate(model.xml) == []
    path = tmp_path / "exported.dmn"
    path.write_bytes(model.xml)
    again = import_model(read_model(path))
    assert again.refused == []
    return first, engine.load_text(again.text, "again.rules"), again.text


ROUND_TRIPPED = [DMN / "credit_line.dmn", DMN / "hit_policies.dmn", DMN / "loan_terms_1_5.dmn",
                 DMN / "camunda_1_1.dmn", DMN / "unary_tests.dmn", DMN / "knowledge.dmn"]


@pytest.mark.parametrize("model", ROUND_TRIPPED, ids=lambda p: p.stem)
def test_import_export_import_decides_the_same_on_random_facts(model: Path,
                                                              tmp_path_factory) -> None:
    first, again, _ = _round_trip(import_model(read_model(model)).text,
                                  tmp_path_factory.mktemp("round_trip"))
    assert first.check.program.output_types == again.check.program.output_types

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(facts_strategy(first), st.integers(0, 3000))
    def decides_the_same(facts: dict, days: int) -> None:
        as_of = AS_OF + datetime.timedelta(days=days)
        assert again.decide(facts, as_of=as_of).decision == first.decide(
            facts, as_of=as_of).decision

    decides_the_same()


def _same_claims(ruleset: engine.Ruleset) -> str:
    """A property that every output equals the baseline's (both missing counts as equal)."""
    program = ruleset.check.program
    paths = []
    for name, type_ in program.output_types.items():
        if isinstance(type_, t.Record):
            paths += [f"{name}.{field}" for field in program.symbols.field_types(type_.name)]
        else:
            paths.append(name)
    claims = " and ".join(f"({p} = baseline.{p} or {p} is missing and baseline.{p} is missing)"
                          for p in paths)
    return f'\nproperty SAME "Decides as the model first imported"\n  expect {claims}\nend\n'


@pytest.mark.parametrize("model", [DMN / "credit_line.dmn", DMN / "loan_terms_1_5.dmn"],
                         ids=lambda p: p.stem)
def test_verify_proves_the_round_trip_equivalent(model: Path, tmp_path: Path) -> None:
    first, again, text = _round_trip(import_model(read_model(model)).text, tmp_path)
    challenger = engine.load_text(text + _same_claims(again), "again.rules")
    results = {r.name: r.status for r in verify(challenger, baseline=first)}
    assert results["SAME"] == PROVED, results


def test_the_command_line_round_trip(tmp_path: Path) -> None:
    status, _ = invoke("dmn", "import", str(DMN / "hit_policies.dmn"), "--out", str(tmp_path))
    assert status == 0
    imported = tmp_path / "hit_policies.rules"
    status, output = invoke("dmn", "export", str(imported), "--out", str(tmp_path / "x.dmn"))
    assert status == 0, output  # an imported model has only what maps
    status, output = invoke("dmn", "import", str(tmp_path / "x.dmn"), "--out",
                            str(tmp_path / "again"))
    assert status == 0, output
    again = (tmp_path / "again" / "hit_policies.rules").read_text()
    assert check_text(again).has_errors is False


def test_names_that_would_clash_in_dmn_get_ids_and_item_names_of_their_own(
        tmp_path: Path) -> None:
    text = ('ruleset clash\n\nfacts input\n  customer: number optional\n  kind: one of "a", "b"'
            ' optional\nend\n\nfacts customer\n  x: number optional\nend\n\ntype t_customer\n'
            '  a: number\nend\n\nlet t_kind: one of "a", "b" = if customer.x > 1 then "a" else'
            ' "b"\n\nlet y = input.customer + customer.x\n\noutputs\n  z: number default y\n'
            '  kind: one of "a", "b" default t_kind\nend\n')
    assert not check_text(text).has_errors
    first, again, _ = _round_trip(text, tmp_path)
    for facts in [{"input": {"customer": 2, "kind": "a"}, "customer": {"x": 3}},
                  {"input": {"customer": None, "kind": None}, "customer": {"x": None}}]:
        assert again.decide(facts, as_of=AS_OF).decision == first.decide(
            facts, as_of=AS_OF).decision


def test_a_destination_that_cannot_be_written_is_a_usage_error_without_a_traceback(
        tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for args in (["import", str(DMN / "hit_policies.dmn"), "--out", str(blocker / "dir")],
                 ["export", str(DMN / "hit_policies.rules"), "--out",
                  str(blocker / "dir" / "x.dmn")]):
        status, output = invoke("dmn", *args)
        assert status == 2 and "Traceback" not in output, output
        assert f"error: cannot write {blocker / 'dir'}" in output
