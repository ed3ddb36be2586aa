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

Two databases: SQLite (a file; write-ahead log and `synchronous=FULL`, so a committed record
survives a crash) and PostgreSQL (``postgresql://…``, through psycopg 3). Writes are grouped:
one thread commits whatever records are waiting in one transaction, so a commit's flush to disk
is shared by every request that arrived during the last one; ``submit`` gives a future that is
done only once its record is committed. The chain's last hash is read inside each transaction,
under the database's lock (SQLite's write lock, a PostgreSQL advisory lock), so several
processes writing to one database still make one chain.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import psycopg

import engine
from engine.ruleset import Audited, Ruleset, RulesetBundle
from engine.run.runtime import normalize

GENESIS = "0" * 64  # the hash before the first record
MAX_GROUP = 512  # records committed in one transaction, at most
_PAGE = 2_000  # records read at a time

# Canonical JSON: keys sorted, Decimals as exact numbers, no spaces.
_CANONICAL = msgspec.json.Encoder(decimal_format="number", order="sorted")
_EXACT = msgspec.json.Decoder(float_hook=Decimal)  # numbers with a fraction back as Decimals


class AuditUnavailable(Exception):
    """The database cannot be reached or refuses to write (full, read-only, gone): nothing
    was recorded."""


class NotAnAuditDatabase(Exception):
    """The URL names no audit database (missing, or not one of ours)."""


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


def record_of(ruleset: Ruleset, audited: Audited, *, received: datetime.datetime,
              latency_us: int, request_id: str | None,
              identifier: str | None = None) -> dict[str, Any]:
    """The audit record of one decision."""
    return {
        "decision_id": identifier or decision_id(),
        "received": received.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "ruleset": {"name": ruleset.name, "version": ruleset.version,
                    "digest": ruleset.info.digest},
        "engine": engine.__version__,
        "as_of": audited.decision.as_of.isoformat(),
        "facts": audited.facts,
        **decided_parts(audited),
        "latency_us": latency_us,
        "request_id": request_id,
    }


def decided_parts(audited: Audited) -> dict[str, Any]:
    """What a record keeps of the decision itself: its outputs, reason codes and offers, and
    the rules that fired and were used (what replay compares)."""
    outputs = normalize(audited.decision.decision)
    return {"decision": outputs, "reasons": [reason["code"] for reason in audited.decision.reasons],
            "offers": outputs.get("offers", []), "rules_fired": audited.rules_fired,
            "rules_used": audited.rules_used}


@dataclass
class ChainBreak:
    """The first record where the chain does not hold, and how."""

    seq: int
    decision_id: str
    problem: str


def chain_hash(previous: str, body: bytes) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + body).hexdigest()


def _schema(sequence: str) -> tuple[str, ...]:
    """The tables, with ``sequence`` the database's way of numbering rows in insertion order."""
    return (
        "CREATE TABLE IF NOT EXISTS rulesets (digest TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "version TEXT, main TEXT NOT NULL, files TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS decisions (seq {sequence}, "
        "decision_id TEXT NOT NULL UNIQUE, received TEXT NOT NULL, ruleset TEXT NOT NULL, "
        "digest TEXT NOT NULL REFERENCES rulesets(digest), record TEXT NOT NULL, "
        "previous_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS decisions_received ON decisions(received)",
    )


class _Dialect:
    """What differs between the databases: connecting, the schema, locking the chain."""

    errors: tuple[type[Exception], ...]
    schema: tuple[str, ...]
    begin = "BEGIN"
    lock: str | None = None  # run first in a writing transaction, so that one writer chains
    insert_ruleset: str

    def connect(self) -> Any:
        raise NotImplementedError

    def connect_writer(self) -> Any:
        return self.connect()

    def maintain(self, stopping: threading.Event) -> None:
        """Housekeeping beside the writer, until ``stopping`` is set."""

    def sql(self, statement: str) -> str:
        return statement


class _SQLite(_Dialect):
    errors = (sqlite3.Error,)
    begin = "BEGIN IMMEDIATE"  # takes the write lock at once: the chain's last hash is ours
    insert_ruleset = ("INSERT OR IGNORE INTO rulesets (digest, name, version, main, files) "
                      "VALUES (?, ?, ?, ?, ?)")
    schema = _schema("INTEGER PRIMARY KEY AUTOINCREMENT")

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                     timeout=30)  # other processes' commits: wait for them
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    def connect_writer(self) -> sqlite3.Connection:
        # The write-ahead log is copied into the database by ``maintain``, not by the commit
        # that happens to fill it: the requests waiting on that commit would wait for the copy.
        connection = self.connect()
        connection.execute("PRAGMA wal_autocheckpoint=0")
        return connection

    def maintain(self, stopping: threading.Event) -> None:
        """Checkpoint the log every second without waiting for readers or the writer
        (PASSIVE), so that it stays small and commits stay short."""
        connection = None
        while not stopping.wait(1.0):
            try:
                connection = connection or self.connect()
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy or gone: the next second tries again
                connection = _discard(connection)
        _discard(connection)


class _PostgreSQL(_Dialect):
    lock = "SELECT pg_advisory_xact_lock(7368287)"  # 7368287: "ten" "et" in base 36, any constant
    insert_ruleset = ("INSERT INTO rulesets (digest, name, version, main, files) "
                      "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (digest) DO NOTHING")
    schema = _schema("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")

    errors = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")


def _dialect(url: str) -> _Dialect:
    if url.startswith(("postgresql://", "postgres://")):
        return _PostgreSQL(url)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    if path in ("", ":memory:") or path.startswith("file:"):
        raise NotAnAuditDatabase(f"{url}: an audit database must be a file, which outlives "
                                 "the service")
    if "://" in path:
        raise NotAnAuditDatabase(f"{url}: a database is a path, sqlite:///PATH or "
                                 "postgresql://USER@HOST/NAME")
    return _SQLite(path)


class AuditStore:
    """Decisions' audit records in SQLite or PostgreSQL, chained, committed in groups.

    ``url`` is a file path, ``sqlite:///PATH`` or ``postgresql://…``. With ``create`` the
    tables are made when missing; without, a database without them is NotAnAuditDatabase."""

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self._dialect = _dialect(url)
        if not create and isinstance(self._dialect, _SQLite) and \
                not Path(self._dialect.path).is_file():
            raise NotAnAuditDatabase(f"{url}: no such database file")
        self._prepare(create)
        self._read_lock = threading.Lock()
        self._reader: Any = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopping = threading.Event()
        self._maintainer: threading.Thread | None = None
        self._known: set[str] = set()  # digests whose texts are stored

    def _prepare(self, create: bool) -> None:
        dialect = self._dialect
        try:
            connection = dialect.connect()
        except dialect.errors as error:
            raise NotAnAuditDatabase(f"{self.url}: cannot be opened ({_first_line(error)})"
                                     ) from None
        try:
            if create:
                connection.execute(dialect.begin)
                if dialect.lock:
                    connection.execute(dialect.lock)  # two processes starting at once
                for statement in dialect.schema:
                    connection.execute(statement)
                connection.execute("COMMIT")
            connection.execute("SELECT digest, name, version, main, files FROM rulesets "
                               "WHERE 1 = 0").fetchall()
            connection.execute("SELECT seq, decision_id, record, previous_hash, hash "
                               "FROM decisions WHERE 1 = 0").fetchall()
        except dialect.errors as error:
            raise NotAnAuditDatabase(f"{self.url}: not an audit database "
                                     f"({_first_line(error)})") from None
        finally:
            connection.close()

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
            self._stopping.set()
            self._maintainer.join()
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    # -- writing

    def submit(self, ruleset: Ruleset, record: dict[str, Any]) -> Future:
        """Queue ``record`` for the chain; the future is done once it is committed (its
        exception is AuditUnavailable when it could not be)."""
        done: Future = Future()
        self._queue.put((ruleset, record, canonical(record), done))
        if self._writer is None:
            self._start_writer()
        return done

    def record(self, ruleset: Ruleset, record: dict[str, Any]) -> None:
        """Append ``record`` to the chain and return once it is committed."""
        self.submit(ruleset, record).result()

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_groups,
                                                name="tenet-audit-writer", daemon=True)
                self._writer.start()
                self._maintainer = threading.Thread(target=self._dialect.maintain,
                                                    args=(self._stopping,),
                                                    name="tenet-audit-maintainer", daemon=True)
                self._maintainer.start()

    def _write_groups(self) -> None:
        """Commit whatever is waiting, in one transaction, until ``close``."""
        connection = None
        while True:
            item = self._queue.get()
            group = []
            while item is not None:
                group.append(item)
                if len(group) == MAX_GROUP:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if group:
                try:
                    if connection is None:
                        connection = self._dialect.connect_writer()
                    self._commit(connection, group)
                except Exception as error:  # the database's refusal, or a bug: never a hang
                    connection = _discard(connection)  # the next group connects afresh
                    reason = (_first_line(error) if isinstance(error, self._dialect.errors)
                              else f"internal error: {type(error).__name__}: {error}")
                    for *_, done in group:
                        done.set_exception(AuditUnavailable(reason))
                else:
                    for *_, done in group:
                        done.set_result(None)
            if item is None:
                _discard(connection)
                return

    def _commit(self, connection: Any, group: list[tuple]) -> None:
        dialect = self._dialect
        cursor = connection.cursor()
        cursor.execute(dialect.begin)
        try:
            if dialect.lock:
                cursor.execute(dialect.lock)
            new = {}
            for ruleset, *_ in group:
                if ruleset.info.digest not in self._known:
                    new[ruleset.info.digest] = ruleset
            for ruleset in new.values():
                bundle = ruleset.bundle()
                cursor.execute(dialect.insert_ruleset, (
                    bundle.digest, ruleset.name, ruleset.version, bundle.main,
                    canonical([list(pair) for pair in bundle.files]).decode()))
            row = cursor.execute("SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1"
                                 ).fetchone()
            previous = row[0] if row else GENESIS
            rows = []
            for _, record, body, _ in group:
                hashed = chain_hash(previous, body)
                rows.append((record["decision_id"], record["received"],
                             record["ruleset"]["name"], record["ruleset"]["digest"],
                             body.decode(), previous, hashed))
                previous = hashed
            cursor.executemany(dialect.sql(
                "INSERT INTO decisions (decision_id, received, ruleset, digest, record, "
                "previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"), rows)
            cursor.execute("COMMIT")
        except BaseException:
            _rollback(cursor)
            raise
        self._known.update(new)

    # -- reading

    def _rows(self, statement: str, arguments: tuple = ()) -> list[tuple]:
        with self._read_lock:
            try:
                if self._reader is None:
                    self._reader = self._dialect.connect()
                return self._reader.execute(self._dialect.sql(statement),
                                            arguments).fetchall()
            except self._dialect.errors as error:
                self._reader = _discard(self._reader)
                raise AuditUnavailable(_first_line(error)) from None

    def get(self, identifier: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT record, previous_hash, hash FROM decisions "
                          "WHERE decision_id = ?", (identifier,))
        if not rows:
            return None
        body, previous, hashed = rows[0]
        return {**_EXACT.decode(body), "previous_hash": previous, "hash": hashed}

    def _pages(self, columns: str, where: str = "", arguments: tuple = ()) -> Iterator[tuple]:
        """Every decision row in chain order, read a page at a time."""
        last = 0
        while True:
            page = self._rows(f"SELECT d.seq, {columns} FROM decisions d WHERE d.seq > ?"
                              f"{where} ORDER BY d.seq LIMIT {_PAGE}", (last, *arguments))
            yield from page
            if len(page) < _PAGE:
                return
            last = page[-1][0]

    def records(self, since: str | None = None, until: str | None = None,
                ruleset: str | None = None) -> Iterator[tuple[dict[str, Any], RulesetBundle]]:
        """Each record (received in [since, until), of ``ruleset``), with its ruleset's texts."""
        where, arguments = "", []
        for clause, value in (("d.received >= ?", since), ("d.received < ?", until),
                              ("d.ruleset = ?", ruleset)):
            if value is not None:
                where += f" AND {clause}"
                arguments.append(value)
        bundles: dict[str, RulesetBundle] = {}
        for _, body, digest in self._pages("d.record, d.digest", where, tuple(arguments)):
            if digest not in bundles:
                bundles[digest] = self._bundle(digest)
            yield _EXACT.decode(body), bundles[digest]

    def _bundle(self, digest: str) -> RulesetBundle:
        main, files = self._rows("SELECT main, files FROM rulesets WHERE digest = ?",
                                 (digest,))[0]
        return RulesetBundle(main, tuple(tuple(pair) for pair in msgspec.json.decode(files)),
                             digest)

    def verify_chain(self, start: str = GENESIS) -> tuple[int, ChainBreak | None]:
        """How many records were checked, and the first break in the chain (None: intact).
        ``start`` is the hash the first record must follow: the last hash of the records
        archived and deleted before it, if any."""
        previous, count = start, 0
        for seq, identifier, body, previous_hash, stored in self._pages(
                "d.decision_id, d.record, d.previous_hash, d.hash"):
            count += 1
            if previous_hash != previous:
                return count, ChainBreak(seq, identifier, "the chain breaks before it: the record "
                                         "before it was removed or replaced, or it was inserted")
            if chain_hash(previous_hash, body.encode()) != stored:
                return count, ChainBreak(seq, identifier, "it was altered")
            previous = stored
        return count, None


def _rollback(cursor: Any) -> None:
    try:
        cursor.execute("ROLLBACK")
    except Exception:  # the connection is gone: nothing was committed
        pass


def _discard(connection: Any) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # closing a broken connection may fail too; it is dropped either way
            pass
    return None


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
