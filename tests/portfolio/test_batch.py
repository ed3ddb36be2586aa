"""`tenet batch`: every row decided or refused, budgets exactly as LANGUAGE.md §8 says, the same
output whatever the split, every format, exact numbers, atomic output."""

from __future__ import annotations

import datetime
import decimal
import json
import os
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from cli import main
from engine.portfolio import BatchOptions, run_batch
from engine.run.reference.procedure import DecisionConflict
from tests.helpers import FIXTURES, ROOT, invoke
from tests.strategies import facts_strategy

BATCH = FIXTURES / "batch"
BUDGETS = BATCH / "budgets.rules"
AS_OF = datetime.date(2026, 12, 1)


def lines(path: Path) -> list[dict]:
    return [json.loads(line, parse_float=Decimal)
            for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------------------- budgets


def test_budgets_ties_exact_fit_later_smaller_rows_missing_rank_and_total_in_order(
        tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    summary = tmp_path / "summary.json"
    code, output = invoke("batch", str(BUDGETS), "--facts", str(BATCH / "book.jsonl"), "--out",
                          str(out), "--as-of", "2026-12-01", "--id", "c.id", "--jobs", "1",
                          "--summary", str(summary))
    assert code == 0, output
    decided = {row["id"]: (row["decision"], [r["code"] for r in row["reasons"]])
               for row in lines(out)}
    assert decided == {
        # ranked first with b (a tie: input order), kept by `increases`; then the VIP budget
        # (limit 300) overrides its amount: UP stays (its `action` proposal is still used)
        "a": ({"action": "increase", "granted": 400 * 0, "note": "vip"}, ["UP", "B2"]),
        "b": ({"action": "increase", "granted": 400, "note": "none"}, ["UP"]),
        # after g (500) no longer fits, c (300) does not either ...
        "c": ({"action": "hold", "granted": 0, "note": "none"}, ["B1"]),
        # ... but the later, smaller d does, and e, without a rank (last), fits exactly
        "d": ({"action": "increase", "granted": 100, "note": "vip"}, ["UP"]),
        "e": ({"action": "increase", "granted": 100, "note": "none"}, ["UP"]),
        "f": ({"action": "hold", "granted": 0, "note": "none"}, []),
        # capped to 500, then overridden: UP and CAP were owed to overridden outputs only
        "g": ({"action": "hold", "granted": 0, "note": "vip"}, ["B1"]),
        # ranked first, but its total is missing: it cannot be counted, so it is held
        "h": ({"action": "hold", "granted": 0, "note": "none"}, ["B1"]),
    }
    assert [row["row"] for row in lines(out)] == list(range(1, 9))
    written = json.loads(summary.read_text())
    assert (written["ruleset"]["name"], written["as_of"], written["book"], written["rows"]) == (
        "budgets", "2026-12-01", str(BATCH / "book.jsonl"), 8)
    assert written["finished_at"].endswith("+00:00")
    budgets = written["budgets"]
    # asked: every total that is not missing (h's is); the cut-off: h (95) refused first, and
    # e, kept last, has no rank
    assert budgets == {
        "increases": {"when_full": "skip", "candidates": 7, "kept": 4, "overridden": 3,
                      "asked": 1800, "used": 1000, "limit": 1000, "last_kept": None,
                      "first_refused": 95},
        "vips": {"when_full": "skip", "candidates": 2, "kept": 1, "overridden": 1, "asked": 500,
                 "used": 100, "limit": 300, "last_kept": 70, "first_refused": 90}}


def test_the_output_does_not_depend_on_the_split(tmp_path: Path) -> None:
    outputs = set()
    for jobs, chunk_rows in ((1, 1), (1, 3), (2, 2), (2, 100), (1, 100)):
        out = tmp_path / f"out-{jobs}-{chunk_rows}.jsonl"
        run_batch(BUDGETS, BATCH / "book.jsonl", BatchOptions(
            out=str(out), as_of=AS_OF, jobs=jobs, chunk_rows=chunk_rows, id_field="c.id"))
        outputs.add(out.read_bytes())
    assert len(outputs) == 1


def test_a_traced_row_says_which_budget_overrode_it(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_batch(BUDGETS, BATCH / "book.jsonl", BatchOptions(out=str(out), as_of=AS_OF,
                                                          trace=True, id_field="c.id"))
    traced = {row["id"]: row["trace"] for row in lines(out)}
    notes = [event["message"] for event in traced["g"] if event["event"] == "note"]
    assert notes == ["budget `increases`: ranked 4 (rank 85); the running total 800 left no "
                     "room for this decision, so its `else` actions apply"]
    assert not any("portfolio runs only" in event.get("message", "") for event in traced["b"])


# ------------------------------------------------------------------------------- formats


def test_bad_rows_of_every_kind_go_to_the_errors_file_and_the_run_goes_on(
        tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text('{"c": {"id": "ok", "ask": 10, "fee": 0, "score": 1, "vip": true}}\n'
                    '{"c": {"id": "broken", \n'
                    '{"c": {"id": "bad", "ask": "ten", "vip": "yes"}}\n'
                    '[1, 2]\n'
                    '{"c": {"id": "twice", "vip": true, "vip": false}}\n'
                    '{"c": {"id": "ok2", "vip": false}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, output = invoke("batch", str(BUDGETS), "--facts", str(book), "--out", str(out),
                          "--as-of", "2026-12-01", "--id", "c.id", "--jobs", "1")
    assert code == 1
    assert [(row["row"], row["id"]) for row in lines(out)] == [(1, "ok"), (6, "ok2")]
    errors = lines(tmp_path / "out.errors.jsonl")
    assert errors == [
        {"row": 2, "kind": "unreadable", "problems": [
            "the facts are not valid JSON: Expecting property name enclosed in double quotes "
            "(column 24)"]},
        {"row": 3, "id": "bad", "kind": "facts", "problems": [
            'c.ask: expected money, got "ten"', 'c.vip: expected true or false, got "yes"']},
        {"row": 4, "kind": "facts", "problems": [
            "facts: expected an object keyed by facts block (c), got a list"]},
        {"row": 5, "kind": "unreadable", "problems": ["`c.vip` is given twice"]},
    ]
    assert "6 rows: 2 decided" in output


def test_csv_is_read_by_the_schema_exactly_and_broken_rows_are_errors(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text("id,ask,fee,score,vip\n"
                    "x,0.1,0,90,true\n"
                    "y,123.456789012345678901,0,80,false\n"
                    "z,1,2\n"
                    "w,abc,0,,maybe\n"
                    "v,,0,70,false\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _ = invoke("batch", str(BUDGETS), "--facts", str(book), "--out", str(out),
                     "--as-of", "2026-12-01", "--id", "c.id", "--jobs", "1")
    assert code == 1
    assert out.read_text().splitlines() == [
        '"row","id","action","granted","note","reasons"',
        '1,"x","increase","0.1","vip","UP"',
        '2,"y","increase","123.456789012345678901","none","UP"',
        '5,"v","hold","0","none",""']
    assert lines(tmp_path / "out.errors.jsonl") == [
        {"row": 3, "id": "z", "kind": "unreadable",
         "problems": ["the row has 3 cells, the header 5"]},
        {"row": 4, "id": "w", "kind": "facts", "problems": [
            'c.ask: expected money, got "abc"', 'c.vip: expected true or false, got "maybe"']}]


def test_parquet_in_and_out_keeps_numbers_exact(tmp_path: Path) -> None:
    book = tmp_path / "book.parquet"
    pq.write_table(pa.table({
        "c.id": ["p", "q", "r"],
        "c.ask": pa.array([Decimal("0.10"), Decimal("450.5"), None], pa.decimal128(10, 2)),
        "c.fee": pa.array([Decimal("0"), Decimal("0"), Decimal("0")], pa.decimal128(10, 2)),
        "c.score": [1.5, 2.0, None],
        "c.vip": [True, False, True]}), book)
    out = tmp_path / "out.parquet"
    code, output = invoke("batch", str(BUDGETS), "--facts", str(book), "--out", str(out),
                          "--as-of", "2026-12-01", "--id", "c.id", "--jobs", "1")
    assert code == 0, output
    table = pq.read_table(out)
    assert table.column_names == ["row", "id", "action", "granted", "note", "reasons"]
    assert table.schema.field("granted").type == pa.decimal128(38, 18)
    assert table.to_pylist() == [
        {"row": 1, "id": "p", "action": "increase", "granted": Decimal("0.1"), "note": "vip",
         "reasons": ["UP"]},
        {"row": 2, "id": "q", "action": "increase", "granted": Decimal("450.5"),
         "note": "none", "reasons": ["UP"]},
        {"row": 3, "id": "r", "action": "hold", "granted": Decimal(0), "note": "vip",
         "reasons": []}]
    assert pc.sum(table.column("granted")).as_py() == Decimal("450.6")  # no cast needed


def test_parquet_rows_with_bad_values_and_unknown_columns_are_errors(tmp_path: Path) -> None:
    book = tmp_path / "book.parquet"
    pq.write_table(pa.table({"c.id": ["p", "q"], "c.ask": ["12.5", "lots"], "c.fee": ["0", "0"],
                             "c.vip": [True, None]}), book)
    out = tmp_path / "out.jsonl"
    code, _ = invoke("batch", str(BUDGETS), "--facts", str(book), "--out", str(out),
                     "--as-of", "2026-12-01", "--id", "c.id", "--jobs", "1")
    assert code == 1
    assert [(row["row"], row["decision"]["granted"]) for row in lines(out)] == [(1, Decimal("12.5"))]
    assert lines(tmp_path / "out.errors.jsonl") == [{"row": 2, "id": "q", "kind": "facts",
        "problems": ['c.ask: expected money, got "lots"', "c.vip: required field is missing"]}]
    pq.write_table(pa.table({"customer.id": ["p"]}), book)
    code, _ = invoke("batch", str(BUDGETS), "--facts", str(book), "--out", str(out),
                     "--as-of", "2026-12-01", "--jobs", "1")
    assert code == 1
    assert lines(tmp_path / "out.errors.jsonl") == [{"row": 1, "kind": "unreadable", "problems": [
        "column `customer.id`: name columns `block.field`, with a facts block of the ruleset (c)"]}]


def test_stdin_to_stdout(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["batch", str(BUDGETS), "--facts", "-", "--out", "-",
                                       "--as-of", "2026-12-01", "--quiet", "--jobs", "1",
                                       "--errors", str(tmp_path / "errors.jsonl")],
                                input=(BATCH / "book.jsonl").read_text())
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [row["row"] for row in rows] == list(range(1, 9))


def test_an_interrupted_run_leaves_no_output(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.portfolio import runner

    calls = []

    def interrupt(self, chunk):
        calls.append(chunk)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, chunk)

    original = runner.ChunkDecider.rows_of
    monkeypatch.setattr(runner.ChunkDecider, "rows_of", interrupt)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch(BUDGETS, BATCH / "book.jsonl", BatchOptions(out=str(out), as_of=AS_OF,
                                                              chunk_rows=2))
    assert os.listdir(tmp_path) == []


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    book = str(BATCH / "book.jsonl")
    assert invoke("batch", str(BUDGETS), "--facts", book, "--out", str(tmp_path / "o.txt"))[0] == 2
    assert invoke("batch", str(BUDGETS), "--facts", str(tmp_path / "none.jsonl"), "--out",
                  str(tmp_path / "o.jsonl"))[0] == 2
    assert invoke("batch", str(BUDGETS), "--facts", book, "--out", str(tmp_path / "o.csv"),
                  "--trace")[0] == 2
    broken = tmp_path / "broken.rules"
    broken.write_text("ruleset r\nlet x = \n")
    assert invoke("batch", str(broken), "--facts", book, "--out", str(tmp_path / "o.jsonl"))[0] == 2
    # Before the ruleset's effective date: a message, not a traceback, and no output file.
    code, output = invoke("batch", str(BUDGETS), "--facts", book, "--out",
                          str(tmp_path / "o.jsonl"), "--as-of", "2025-06-01")
    assert code == 2 and "is effective from 2026-01-01; the as-of date 2025-06-01 is outside " \
        "that window" in output
    assert not (tmp_path / "o.jsonl").exists()


# ----------------------------------------------------------------- batch = decide, row by row


RULESETS = sorted(ROOT.joinpath("rulesets").glob("*.rules"))


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_batch_equals_decide_row_by_row(path: Path, tmp_path_factory) -> None:
    ruleset = engine.load(path)
    facts = facts_strategy(ruleset)
    as_of = ruleset.window.start if ruleset.window else AS_OF

    @settings(deadline=None, max_examples=30,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(facts, min_size=1, max_size=12), st.integers(1, 5))
    def check(book: list[dict], chunk_rows: int) -> None:
        out = tmp_path_factory.mktemp("batch") / "out.jsonl"
        run_batch(ruleset, book, BatchOptions(out=str(out), as_of=as_of, chunk_rows=chunk_rows))
        written = {row["row"]: row for row in lines(out)}
        errors = {row["row"]: row for row in lines(out.with_suffix(".errors.jsonl"))}
        assert sorted([*written, *errors]) == list(range(1, len(book) + 1))
        for number, given_facts in enumerate(book, start=1):
            try:
                decision = ruleset.decide(given_facts, as_of=as_of, trace=False)
                expected = json.loads(decision.to_json(indent=None), parse_float=Decimal)
            except DecisionConflict as conflict:
                assert errors[number]["problems"] == [str(conflict)]
                continue
            row = written[number]
            if any(reason["code"] == "B01" for reason in row["reasons"]):
                continue  # overridden by the budget: the budget tests cover it
            assert {key: row[key] for key in expected} == expected

    check()


SPLIT = """ruleset split
effective 2026-01-01

facts c
  id: text
  amount: money
end

outputs
  third: money default 0
end

rule T when c.amount > 0 then
  set third = c.amount / 3
end
"""


def test_parquet_money_is_exact_decimal_and_a_value_that_does_not_fit_is_an_error_row(
        tmp_path: Path) -> None:
    rules = tmp_path / "split.rules"
    rules.write_text(SPLIT, encoding="utf-8")
    book = tmp_path / "book.jsonl"
    book.write_text("".join(f'{{"c": {{"id": "{name}", "amount": {amount}}}}}\n'
                            for name, amount in [("a", 3), ("b", 1), ("c", 0), ("d", "30.03")]),
                    encoding="utf-8")  # 30.03 as written: JSON numbers are read exactly
    out = tmp_path / "out.parquet"
    code, output = invoke("batch", str(rules), "--facts", str(book), "--out", str(out),
                          "--id", "c.id", "--jobs", "1", "--as-of", "2026-12-01")
    assert code == 1, output  # a row went to the errors
    table = pq.read_table(out)
    assert table.schema.field("third").type == pa.decimal128(38, 18)
    assert table.to_pylist() == [
        {"row": 1, "id": "a", "third": Decimal(1), "reasons": []},
        {"row": 3, "id": "c", "third": Decimal(0), "reasons": []},
        {"row": 4, "id": "d", "third": Decimal("10.01"), "reasons": []}]
    assert lines(tmp_path / "out.errors.jsonl") == [{
        "row": 2, "id": "b", "kind": "decimal", "problems": [
            "output `third` = 0.3333333333333333333333333333333333 does not fit a "
            "decimal(38,18) column; the value is exact and is not rounded (a smaller scale, or "
            "`round` in the ruleset, makes it fit)"]}]
    # --scale: fewer digits after the point; then 10.01 needs more than it holds
    code, _ = invoke("batch", str(rules), "--facts", str(book), "--out", str(out), "--id",
                     "c.id", "--jobs", "1", "--as-of", "2026-12-01", "--scale", "1")
    assert code == 1
    assert pq.read_table(out).schema.field("third").type == pa.decimal128(38, 1)
    assert [row["row"] for row in lines(tmp_path / "out.errors.jsonl")] == [2, 4]


def test_a_budgeted_value_that_does_not_fit_its_column_is_an_error_row_too(
        tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text("".join(
        f'{{"c": {{"id": "{name}", "ask": {ask}, "fee": 0, "score": 1, "vip": false}}}}\n'
        for name, ask in [("p", "0.10"), ("q", 200)]), encoding="utf-8")
    out = tmp_path / "out.parquet"
    code, output = invoke("batch", str(BUDGETS), "--facts", str(book), "--out", str(out),
                          "--id", "c.id", "--jobs", "1", "--as-of", "2026-12-01",
                          "--scale", "0", "--summary", str(tmp_path / "summary.json"))
    assert code == 1, output
    assert [(row["row"], row["granted"]) for row in pq.read_table(out).to_pylist()] == [
        (2, Decimal(200))]
    assert [(row["row"], row["kind"]) for row in lines(tmp_path / "out.errors.jsonl")] == [
        (1, "decimal")]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["decided"], summary["errors"]) == (1, 1)


def test_summary_totals_are_exact_whatever_the_hosts_decimal_context(tmp_path: Path) -> None:
    """A host program that set `decimal.getcontext().prec = 4` gets the book's totals in
    full: the summary adds in Tenet's context, as decisions compute."""
    ruleset = engine.load_text(
        "ruleset totals\nfacts c\n  amount: money\nend\noutputs\n"
        "  paid: money combine sum default 0\nend\nrule A when c.amount > 0 then\n"
        "  set paid = c.amount\nend\n", "totals.rules")
    amounts = [Decimal("1234567.89"), Decimal("0.01"), Decimal("98765.43")]
    with decimal.localcontext() as context:
        context.prec = 4
        summary = run_batch(ruleset, [{"c": {"amount": a}} for a in amounts],
                            BatchOptions(out=str(tmp_path / "out.jsonl"), as_of=AS_OF))
    assert summary.totals == {"paid": Decimal("1333333.33")}


def test_a_record_output_is_a_column_per_field_in_csv_and_parquet(tmp_path: Path) -> None:
    """An output whose value is a record (a table with several results, published: what
    `tenet dmn import` makes of a compound decision) is written field by field, never as the
    text of the whole record."""
    ruleset = FIXTURES / "dmn" / "credit_line.rules"
    book = tmp_path / "book.jsonl"
    book.write_text(
        '{"applicant": {"segment": "retail", "opened": "2019-01-01"}, "input": {}}\n'
        '{"applicant": {"segment": "micro business"}, "input": {"days_past_due": 120}}\n')
    status, output = invoke("batch", str(ruleset), "--facts", str(book), "--out",
                            str(tmp_path / "out.csv"))
    assert status == 0, output
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        '"row","action","offer_terms.rate","offer_terms.term_months","reasons"',
        '1,"hold","0.039","36",""', '2,"freeze","0.079","12",""']
    status, output = invoke("batch", str(ruleset), "--facts", str(book), "--out",
                            str(tmp_path / "out.parquet"), "--scale", "3")
    assert status == 0, output
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == [
        {"row": 1, "action": "hold", "offer_terms.rate": Decimal("0.039"),
         "offer_terms.term_months": Decimal("36.000"), "reasons": []},
        {"row": 2, "action": "freeze", "offer_terms.rate": Decimal("0.079"),
         "offer_terms.term_months": Decimal("12.000"), "reasons": []}]
