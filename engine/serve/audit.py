"""The audit record of every decision, tamper-evident and replayable (issue 22).

One record per decision: a time-ordered id, when it was received, the ruleset's name, version and
digest, Tenet's version, the as-of date, the facts exactly as validated, the decision, reasons,
offers, the rules that fired and those whose proposals were used, the latency and the caller's
request id. The texts of every ruleset version are stored once, by digest, so a record can be
replayed years later with nothing but the database.

Records form a chain: each carries the hash of the one before it and its own hash over its
canonical JSON, so ``verify_chain`` finds the first record that was altered, removed from the
middle or inserted. (Removing the newest records leaves a shorter chain that still verifies:
anchor the last hash outside the database, e.g. in the daily report, to catch that.)

SQLite is the embedded store: write-ahead log, and `synchronous=FULL`, so a committed record
survives a crash. A record is committed before ``record`` returns.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

import engine
from engine.ruleset import Decision, Ruleset, RulesetBundle

GENESIS = "0" * 64  # the hash before the first record

# Canonical JSON: keys sorted, Decimals as exact numbers, no spaces.
_CANONICAL = msgspec.json.Encoder(decimal_format="number", order="sorted")
_EXACT = msgspec.json.Decoder(float_hook=Decimal)  # numbers with a fraction back as Decimals

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rulesets (
    digest TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT,
    main TEXT NOT NULL,
    files TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL UNIQUE,
    received TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    digest TEXT NOT NULL REFERENCES rulesets(digest),
    record TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_received ON decisions(received);
"""


def decision_id(now_ns: int | None = None) -> str:
    """A UUID version 7: 48 bits of milliseconds since 1970, then random bits, so that ids sort
    in the order the decisions were made (RFC 9562)."""
    milliseconds = (now_ns if now_ns is not None else time.time_ns()) // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    value = (milliseconds & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (random >> 68 & 0xFFF) << 64 \
        | 0b10 << 62 | random & ((1 << 62) - 1)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value)


def record_of(ruleset: Ruleset, facts: dict[str, Any], decision: Decision, *,
              received: datetime.datetime, latency_us: int, request_id: str | None,
              identifier: str | None = None) -> dict[str, Any]:
    """The audit record of one decision (facts as validated; the decision with its trace)."""
    fired, used = rules_of(decision)
    data = decision.to_data()
    return {
        "decision_id": identifier or decision_id(),
        "received": received.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "ruleset": {"name": ruleset.name, "version": ruleset.version,
                    "digest": ruleset.info.digest},
        "engine": engine.__version__,
        "as_of": decision.as_of.isoformat(),
        "facts": ruleset.schema.validate(facts),
        "decision": data["decision"],
        "reasons": [reason["code"] for reason in data["reasons"]],
        "offers": data["decision"].get("offers", []),
        "rules_fired": fired,
        "rules_used": used,
        "latency_us": latency_us,
        "request_id": request_id,
    }


def rules_of(decision: Decision) -> tuple[list[str], list[str]]:
    """The rules that fired, and those of them whose proposals were used (or that propose
    nothing), from the decision's trace."""
    fired, used = [], []
    for event in decision.trace or ():
        status = getattr(event, "status", None)
        if status in ("fired", "overridden"):
            fired.append(event.name)
            if status == "fired":
                used.append(event.name)
    return fired, used


@dataclass
class ChainBreak:
    """The first record where the chain does not hold, and how."""

    seq: int
    decision_id: str
    problem: str


class AuditStore:
    """Decisions' audit records in SQLite, chained."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.executescript(_SCHEMA)
        self._known: set[str] = set()

    def close(self) -> None:
        self._connection.close()

    def keep_ruleset(self, ruleset: Ruleset) -> None:
        """Store the texts of a ruleset version once, by digest."""
        bundle = ruleset.bundle()
        if bundle.digest in self._known:
            return
        with self._lock:
            self._connection.execute(
                "INSERT OR IGNORE INTO rulesets (digest, name, version, main, files) "
                "VALUES (?, ?, ?, ?, ?)",
                (bundle.digest, ruleset.name, ruleset.version, bundle.main,
                 canonical([list(pair) for pair in bundle.files]).decode()))
        self._known.add(bundle.digest)

    def record(self, ruleset: Ruleset, record: dict[str, Any]) -> None:
        """Append ``record`` to the chain and commit it before returning."""
        self.keep_ruleset(ruleset)
        body = canonical(record)
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    "SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
                previous = row[0] if row else GENESIS
                connection.execute(
                    "INSERT INTO decisions (decision_id, received, ruleset, digest, record, "
                    "previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (record["decision_id"], record["received"], record["ruleset"]["name"],
                     record["ruleset"]["digest"], body.decode(), previous,
                     chain_hash(previous, body)))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def get(self, identifier: str) -> dict[str, Any] | None:
        row = self._connection.execute(
            "SELECT record, previous_hash, hash FROM decisions WHERE decision_id = ?",
            (identifier,)).fetchone()
        if row is None:
            return None
        return {**_EXACT.decode(row[0]), "previous_hash": row[1], "hash": row[2]}

    def records(self, since: str | None = None, until: str | None = None,
                ruleset: str | None = None) -> Iterator[tuple[dict[str, Any], RulesetBundle]]:
        """Each record (received in [since, until), of ``ruleset``), with its ruleset's texts."""
        query = ("SELECT d.record, r.main, r.files, r.digest FROM decisions d "
                 "JOIN rulesets r ON r.digest = d.digest WHERE 1 = 1")
        arguments: list[Any] = []
        for clause, value in (("d.received >= ?", since), ("d.received < ?", until),
                              ("d.ruleset = ?", ruleset)):
            if value is not None:
                query += f" AND {clause}"
                arguments.append(value)
        for body, main, files, digest in self._connection.execute(query + " ORDER BY d.seq",
                                                                  arguments):
            pairs = tuple(tuple(pair) for pair in msgspec.json.decode(files))
            yield _EXACT.decode(body), RulesetBundle(main, pairs, digest)

    def verify_chain(self) -> tuple[int, ChainBreak | None]:
        """How many records were checked, and the first break in the chain (None: intact)."""
        previous, count = GENESIS, 0
        for seq, identifier, body, previous_hash, stored in self._connection.execute(
                "SELECT seq, decision_id, record, previous_hash, hash FROM decisions "
                "ORDER BY seq"):
            count += 1
            if previous_hash != previous:
                return count, ChainBreak(seq, identifier, "the chain breaks before it: the record "
                                         "before it was removed or replaced, or it was inserted")
            if chain_hash(previous_hash, body.encode()) != stored:
                return count, ChainBreak(seq, identifier, "it was altered")
            previous = stored
        return count, None


def chain_hash(previous: str, body: bytes) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + body).hexdigest()
