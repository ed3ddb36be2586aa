"""The audit store's databases in tests: a SQLite file, and a real PostgreSQL server of the
tests' own (Debian's package: `initdb` and `pg_ctl` in a temporary folder, on 127.0.0.1, run as
the `postgres` user when the tests run as root, since PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import psycopg


def _binaries() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian keeps them off PATH)."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PostgresCluster:
    """A throwaway cluster: ``start``, ``stop`` (also to make the server refuse writes), a new
    empty database per test by ``database``, and ``remove``."""

    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            raise FileNotFoundError("PostgreSQL's server is not installed (Debian: apt-get "
                                    "install postgresql; .ci/run does it)")
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="tenet-pg-"))
        self.data = self.folder / "data"
        self.user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.user:
            shutil.chown(self.folder, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._run("initdb", "-D", str(self.data), "-U", "tenet", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        self.count = 0

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run([*self.user, str(self.binaries / program), *arguments], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                        "-c max_connections=60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://tenet@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database's URL."""
        self.count += 1
        name = f"audit_{self.count}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def execute(url: str, statement: str, *arguments) -> list[tuple]:
    """Run one statement on the database at ``url`` behind the store's back (to tamper with
    it), committed; ``?`` marks the arguments on either database."""
    if url.startswith("postgresql://"):
        with psycopg.connect(url, autocommit=True) as connection:
            cursor = connection.execute(statement.replace("?", "%s"), arguments)
            return cursor.fetchall() if cursor.description else []
    connection = sqlite3.connect(url)
    try:
        rows = connection.execute(statement, arguments).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()
