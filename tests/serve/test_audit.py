"""The audit store: every record chained and complete, any alteration, removal or insertion
found by `tenet audit verify`, and every recorded decision replayed identically by
`tenet replay` from nothing but the database."""

from __future__ import annotations

import datetime
import functools
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.portfolio.diff import DiffOptions, diff_books
from engine.portfolio.summary import json_text
from engine.ruleset import rules_of
from engine.serve.audit import AuditStore, chain_hash, decision_id, record_of
from tests.helpers import ROOT, invoke
from tests.serve.harness import execute
from tests.strategies import facts_strategy

STRONG_PAYER = json.loads((ROOT / "rulesets/facts/limit_review_strong_payer.json").read_text())
RECEIVED = datetime.datetime(2026, 12, 15, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def store(database: str) -> AuditStore:
    """A database (SQLite, PostgreSQL) with 30 decisions of the limit review, balances 1,000
    to 9,700."""
    audit = AuditStore(database)
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    for index in range(30):
        facts = json.loads(json.dumps(STRONG_PAYER))
        facts["customer"]["balance"] = 1_000 + index * 300
        audited = ruleset.decide_audited(facts, "2026-12-15")
        audit.record(ruleset, record_of(ruleset, audited, received=RECEIVED,
                                        latency_us=42, request_id=f"req-{index}"))
    yield audit
    audit.close()


def test_a_record_holds_everything_an_auditor_asks_for(store: AuditStore) -> None:
    first = next(store.records())[0]
    record = store.get(first["decision_id"])
    assert record["ruleset"]["name"] == "limit_review"
    assert record["ruleset"]["version"] == "2026.12.1"
    assert record["ruleset"]["digest"] == engine.load(
        ROOT / "rulesets/limit_review.rules").info.digest
    assert record["engine"] == engine.__version__
    assert record["received"] == "2026-12-15T09:30:00.000000+00:00"
    assert record["as_of"] == "2026-12-15"
    assert record["facts"]["customer"]["balance"] == 1_000
    assert record["facts"]["customer"]["monthly_purchases"] is None  # as validated
    assert record["decision"] == {"action": "hold", "new_limit": 150_000}
    assert record["reasons"] == ["H07"]  # usage under 1%: no increase earned
    assert record["rules_fired"] == ["H07"] and record["rules_used"] == ["H07"]
    assert (record["latency_us"], record["request_id"]) == (42, "req-0")
    assert record["previous_hash"] == "0" * 64


def test_decision_ids_are_uuid7_in_time_order() -> None:
    ids = [decision_id(now_ns=n * 1_000_000) for n in (1, 2, 3, 1_700_000_000_000)]
    assert ids == sorted(ids)
    assert all(len(i) == 36 and i[14] == "7" and i[19] in "89ab" for i in ids)


def test_the_chain_holds_and_replay_is_identical(store: AuditStore) -> None:
    assert store.verify_chain() == (30, None)
    assert invoke("audit", "verify", "--db", store.url) == (
        0, "✓ 30 records, the chain holds\n")
    assert invoke("replay", "--db", store.url) == (
        0, "30 decisions replayed: 30 identical, 0 different\n")
    assert invoke("replay", "--db", store.url, "--ruleset", "cross_sell") == (
        0, "0 decisions replayed: 0 identical, 0 different\n")


def _sql(store: AuditStore, statement: str, *arguments) -> list[tuple]:
    return execute(store.url, statement, *arguments)


def test_an_altered_record_is_found(store: AuditStore) -> None:
    _sql(store, "UPDATE decisions SET record = replace(record, '\"new_limit\":150000', "
                "'\"new_limit\":170000') WHERE seq = 7")
    status, output = invoke("audit", "verify", "--db", store.url)
    assert status == 1
    assert output.startswith("✗ record 7 (") and "it was altered; 6 records before it hold" in output


def test_a_removed_record_is_found(store: AuditStore) -> None:
    _sql(store, "DELETE FROM decisions WHERE seq = 12")
    status, output = invoke("audit", "verify", "--db", store.url)
    assert status == 1 and output.startswith("✗ record 13 (")
    assert "the record before it was removed or replaced" in output


def test_an_inserted_record_is_found_even_with_a_correct_hash_of_its_own(
        store: AuditStore) -> None:
    body = b'{"forged":true}'
    _sql(store, "INSERT INTO decisions (seq, decision_id, received, ruleset, digest, record, "
                "previous_hash, hash) SELECT 1000, 'forged', received, ruleset, digest, ?, ?, ? "
                "FROM decisions WHERE seq = 5", body.decode(), "f" * 64,
         chain_hash("f" * 64, body))
    assert store.verify_chain()[1].decision_id == "forged"


def test_replay_reports_a_decision_that_is_not_made_again(store: AuditStore) -> None:
    """A record whose decision differs from what its ruleset decides (here rewritten, with the
    chain rewritten too, as a changed engine would show) is reported with both versions."""
    rows = _sql(store, "SELECT seq, record FROM decisions ORDER BY seq")
    previous = "0" * 64
    for seq, body in rows:
        if seq == 3:
            body = body.replace('"reasons":["H07"]', '"reasons":["H05"]')
        digest = chain_hash(previous, body.encode())
        _sql(store, "UPDATE decisions SET record = ?, previous_hash = ?, hash = ? WHERE seq = ?",
             body, previous, digest, seq)
        previous = digest
    assert invoke("audit", "verify", "--db", store.url)[0] == 0
    status, output = invoke("replay", "--db", store.url)
    assert status == 1
    lines = output.splitlines()
    assert lines[0].startswith("✗ ") and '"reasons":["H05"]' in lines[1]
    assert '"reasons":["H07"]' in lines[2]
    assert lines[-1] == "30 decisions replayed: 29 identical, 1 different"


def test_numbers_are_kept_exact(database: str) -> None:
    audit = AuditStore(database)
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    facts = json.loads(json.dumps(STRONG_PAYER))
    facts["customer"]["balance"] = Decimal("1234567890123456.78")
    audited = ruleset.decide_audited(facts, "2026-12-15")
    audit.record(ruleset, record_of(ruleset, audited, received=RECEIVED,
                                    latency_us=1, request_id=None))
    record, _ = next(audit.records())
    assert record["facts"]["customer"]["balance"] == Decimal("1234567890123456.78")
    assert audit.verify_chain() == (1, None)


def test_a_file_that_is_not_an_audit_database_is_a_usage_error(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_text("not a database")
    status, output = invoke("audit", "verify", "--db", str(other))
    assert status == 2 and "cannot be opened (file is not a database)" in output
    execute(str(tmp_path / "other.db"), "CREATE TABLE notes (line TEXT)")
    status, output = invoke("replay", "--db", str(tmp_path / "other.db"))
    assert status == 2 and "not an audit database (no such table: rulesets)" in output
    assert invoke("replay", "--db", "mysql://host/db") == (
        2, "Usage: main replay [OPTIONS]\nTry 'main replay --help' for help.\n\nError: --db "
           "mysql://host/db: a database is a path, sqlite:///PATH or postgresql://USER@HOST/NAME\n")


def test_a_database_that_cannot_be_reached_is_a_usage_error(postgres) -> None:
    url = postgres.url("no_such_database")
    status, output = invoke("audit", "verify", "--db", url)
    assert status == 2
    assert f"--db {url}: cannot be opened (" in output and "no_such_database" in output


REPO_RULESETS = sorted((ROOT / "rulesets").glob("*.rules"))


@pytest.mark.parametrize("path", REPO_RULESETS, ids=lambda p: p.stem)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow],
          deadline=None)
@given(data=st.data())
def test_an_audited_decision_keeps_what_its_trace_shows(path: Path, data) -> None:
    """The rules fired and used that an audit record keeps (found without building the trace)
    are those the trace shows, and the facts are those validation gives, on any facts."""
    ruleset = _loaded(path)
    facts = data.draw(facts_strategy(ruleset))
    as_of = ruleset.window.start if ruleset.window else datetime.date(2026, 12, 15)
    try:
        audited = ruleset.decide_audited(facts, as_of)
    except (engine.FactsError, engine.DecisionConflict):
        return
    assert (audited.rules_fired, audited.rules_used) == rules_of(audited.decision.trace)
    assert audited.facts == ruleset.schema.validate(facts)
    assert audited.decision.to_data() == ruleset.decide(facts, as_of, trace=True).to_data()


@functools.cache
def _loaded(path: Path) -> engine.Ruleset:
    return engine.load(path)


def test_replay_against_a_challenger_reports_what_tenet_diff_reports(
        database: str, tmp_path: Path) -> None:
    """The live book as the test book: 300 recorded decisions against the 2027 challenger give
    the report `tenet diff` gives on a book of the same customers on the same date (but for
    the portfolio budget, which a live service does not apply)."""
    store = AuditStore(database)
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    for index in range(300):
        facts = json.loads(json.dumps(STRONG_PAYER))
        customer = facts["customer"]
        customer["balance"] = 1_000 + index * 487
        customer["behavior_score"] = 560 + index * 37 % 300
        customer["max_dpd_12m"] = index % 7 * 10
        store.record(ruleset, record_of(ruleset, ruleset.decide_audited(facts, "2026-12-15"),
                                        received=RECEIVED, latency_us=1, request_id=None))
    challenger = ROOT / "rulesets/challengers/limit_review_2027.rules"
    status, output = invoke("replay", "--db", store.url, "--against", str(challenger),
                            "--format", "json")
    assert status == 0
    replayed = json.loads(output)
    book = tmp_path / "book.jsonl"
    book.write_text("".join(json.dumps(record["facts"], default=str) + "\n"
                            for record, _ in store.records()), encoding="utf-8")
    diffed = json.loads(json_text(diff_books(ROOT / "rulesets/limit_review.rules", challenger,
                                             book, DiffOptions(as_of=datetime.date(2026, 12, 15)))))
    assert "changes action for 0 customers" not in diffed["headline"][0]  # a test with changes
    assert replayed["headline"] == [line for line in diffed["headline"]
                                    if not line.startswith("Budgets used")]
    for key in ("rows", "decided_by_both", "refused_by_both", "money", "reasons", "rules"):
        assert replayed[key] == diffed[key], key
    for name, matrix in diffed["matrices"].items():
        assert [{**cell, "examples": [e["row"] for e in cell["examples"]]}
                for cell in replayed["matrices"][name]["cells"]] == \
            [{**cell, "examples": [e["row"] for e in cell["examples"]]}
             for cell in matrix["cells"]]
    assert replayed["champion"]["path"] == f"recorded in {store.url}"
    assert replayed["as_of"] == "each decision's own date"
    status, text = invoke("replay", "--db", store.url, "--against", str(challenger))
    assert status == 0 and "the challenger changes action for" in " ".join(text.split())
    assert invoke("replay", "--db", store.url, "--against", str(challenger), "--ruleset",
                  "cross_sell")[0] == 2
    store.close()


def test_records_archived_from_the_oldest_end_leave_a_chain_that_verifies_after_their_hash(
        store: AuditStore) -> None:
    archived_last_hash = _sql(store, "SELECT hash FROM decisions WHERE seq = 10")[0][0]
    _sql(store, "DELETE FROM decisions WHERE seq <= 10")
    status, output = invoke("audit", "verify", "--db", store.url)
    assert status == 1 and output.startswith("✗ record 11 (")
    assert invoke("audit", "verify", "--db", store.url, "--after", archived_last_hash) == (
        0, "✓ 20 records, the chain holds\n")
    assert invoke("audit", "verify", "--db", store.url, "--after", "abc")[0] == 2
