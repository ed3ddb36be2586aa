"""The service in tests and benchmarks: `tenet serve` as a process of its own, and the audit
store's databases: a SQLite file, and a real PostgreSQL server of the
tests' own (Debian's package: `initdb` and `pg_ctl` in a temporary folder, on 127.0.0.1, run as
the `postgres` user when the tests run as root, since PostgreSQL refuses to run as root)."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg
import uvicorn

ROOT = Path(__file__).resolve().parent.parent.parent
STRONG_PAYER = json.loads((ROOT / "rulesets/facts/limit_review_strong_payer.json").read_text())


class Server:
    """The service's application under uvicorn in a thread of the test, on a port the system
    picks; the client talks to it over 127.0.0.1."""

    def __init__(self, app) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> httpx.Client:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        return self.client

    def __exit__(self, *exc) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=20)


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


class ServiceProcess:
    """`tenet serve FOLDER --port 0 …` as its own process, as an operator starts it: ``url``
    once it listens (the line it prints names the port), ``kill`` as a crash would."""

    def __init__(self, folder: Path, *options: str, program: list[str] | None = None) -> None:
        command = ([*program, str(folder)] if program else
                   [sys.executable, str(ROOT / "cli.py"), "serve", str(folder), "--port", "0",
                    *options])
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        line = self.process.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)", line)
        if match is None:
            self.process.kill()
            raise RuntimeError(f"tenet serve did not start: {line}{self.process.stderr.read()}")
        self.url = f"http://{match[1]}:{match[2]}"

    def wait_ready(self, timeout: float = 120) -> None:
        """Until /healthz answers (every worker loads and proves the folder first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError(f"{self.url} did not answer within {timeout} s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> str:
        """Stop it as an operator would (SIGTERM) and return what it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.stderr.read()


def prepared_post(port: int, path: str, body: dict) -> bytes:
    """A whole HTTP/1.1 request, ready to send again and again."""
    data = json.dumps(body).encode()
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path.encode(), port, len(data), data))


class Connection:
    """One keep-alive connection, a request at a time: far lighter than an HTTP client, so
    that the load generator leaves the cores to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def ask(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def post_all(port: int, requests: list[bytes], connections: int = 16) -> list[tuple[int, bytes]]:
    """Send every request (``connections`` at a time) and return the answers in order."""
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(requests)

    async def client(offset: int) -> None:
        connection = await Connection.open(port)
        for index in range(offset, len(requests), connections):
            answers[index] = await connection.ask(requests[index])
        connection.close()

    async def run() -> None:
        await asyncio.gather(*(client(i) for i in range(connections)))
    asyncio.run(run())
    return answers
