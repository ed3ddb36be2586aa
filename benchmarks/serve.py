"""How fast `tenet serve` decides with its audit record on (targets from issue 22): at least
1,000 decisions/s and a p99 latency under 20 ms at 500 requests/s, on SQLite and on PostgreSQL;
`tenet replay` at least 20,000 decisions/s. The same service without the audit record is
measured beside them, in the same run, for the ratio.

The load comes from this process, on 127.0.0.1, over keep-alive connections (asyncio, one
prepared request per customer): closed-loop for throughput (CONNECTIONS requests in flight), and
open-loop at a fixed rate for latency, each latency counted from the moment its request was due
(so a stalled server cannot hide its queue). The server and the load share the machine's cores.

    python benchmarks/serve.py [--seconds S] [--rate R] [--workers N] [--replay N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from benchmarks.timing import percentile  # noqa: E402
from engine.serve.app import create_app  # noqa: E402
from engine.serve.audit import AuditStore  # noqa: E402
from engine.serve.catalog import Catalog  # noqa: E402
from engine.serve.replay import replay  # noqa: E402
from tests.serve.harness import (  # noqa: E402
    Connection,
    PostgresCluster,
    ServiceProcess,
    post_all,
    prepared_post,
)

CONNECTIONS = 16
CUSTOMERS = 1_000


def requests(port: int) -> list[bytes]:
    """One POST per customer: the strong payer of the limit review, balances varied."""
    facts = json.loads((ROOT / "rulesets/facts/limit_review_strong_payer.json").read_text())
    prepared = []
    for index in range(CUSTOMERS):
        facts["customer"]["balance"] = 1_000 + index * 149
        prepared.append(prepared_post(port, "/v1/rulesets/limit_review/decisions",
                                      {"facts": facts, "as_of": "2026-12-15"}))
    return prepared


async def closed_loop(port: int, seconds: float) -> tuple[float, int]:
    """Decisions per second with CONNECTIONS requests always in flight; and the non-200s."""
    prepared = requests(port)
    deadline = time.perf_counter() + seconds
    counts = {"ok": 0, "bad": 0}

    async def client(offset: int) -> None:
        connection = await Connection.open(port)
        index = offset
        while time.perf_counter() < deadline:
            status, _ = await connection.ask(prepared[index % CUSTOMERS])
            counts["ok" if status == 200 else "bad"] += 1
            index += CONNECTIONS
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CONNECTIONS)))
    return counts["ok"] / (time.perf_counter() - started), counts["bad"]


async def open_loop(port: int, rate: int, seconds: float) -> tuple[list[float], int]:
    """Latencies (seconds, from when each request was due) at ``rate`` requests/s."""
    prepared = requests(port)
    idle: list[Connection] = [await Connection.open(port) for _ in range(CONNECTIONS)]
    latencies: list[float] = []
    bad = 0

    async def one(index: int, due: float) -> None:
        nonlocal bad
        connection = idle.pop() if idle else await Connection.open(port)
        status, _ = await connection.ask(prepared[index % CUSTOMERS])
        latencies.append(time.perf_counter() - due)
        bad += status != 200
        idle.append(connection)

    start = time.perf_counter() + 0.05
    tasks = []
    for index in range(int(rate * seconds)):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    return latencies, bad


def measure(label: str, service: ServiceProcess, seconds: float, rate: int) -> None:
    port = int(service.url.rsplit(":", 1)[1])
    asyncio.run(closed_loop(port, 1.0))  # warm-up
    throughput, bad = asyncio.run(closed_loop(port, seconds))
    latencies, late_bad = asyncio.run(open_loop(port, rate, seconds))
    print(f"  {label:<28} {throughput:>7,.0f} decisions/s (target ≥ 1,000)   at {rate}/s: "
          f"p50 {statistics.median(latencies) * 1e3:5.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1e3:5.1f} ms (target < 20)"
          + (f"   {bad + late_bad} answers not 200" if bad + late_bad else ""))


def replay_speed(db: str, count: int) -> None:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "replay", "--db", db],
                            capture_output=True, text=True)
    command = time.perf_counter() - started
    store = AuditStore(db, create=False)
    started = time.perf_counter()
    report = replay(store)
    inside = time.perf_counter() - started
    store.close()
    print(f"  tenet replay of {count:,} recorded decisions (target ≥ 20,000/s): "
          f"{count / inside:,.0f}/s, {count / command:,.0f}/s with the command's start-up; "
          f"{report.identical:,} identical; {result.stdout.strip().splitlines()[-1]}")


def record(db: str, count: int) -> None:
    """``count`` decisions in the audit database, through the service."""
    service = ServiceProcess(ROOT / "rulesets", "--db", db)
    try:
        service.wait_ready()
        port = int(service.url.rsplit(":", 1)[1])
        prepared = requests(port)
        post_all(port, [prepared[index % CUSTOMERS] for index in range(count)])
    finally:
        service.stop()


class Unaudited:
    """The baseline's store: records nothing, answers at once."""

    def submit(self, ruleset, record) -> Future:
        done: Future = Future()
        done.set_result(None)
        return done

    def close(self) -> None:
        pass


def serve_unaudited(folder: Path) -> None:
    """The service as `tenet serve` runs it with one worker, without the audit record."""
    config = uvicorn.Config(create_app(Catalog.load(folder), Unaudited()), host="127.0.0.1",
                            port=0, log_level="warning")
    listening = config.bind_socket()
    print(f"serving on http://127.0.0.1:{listening.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[listening])


def main() -> None:
    if sys.argv[1:3] and sys.argv[1] == "--unaudited":
        serve_unaudited(Path(sys.argv[2]))
        return
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=8.0)
    options.add_argument("--rate", type=int, default=500)
    options.add_argument("--workers", type=int, default=1)
    options.add_argument("--replay", type=int, default=30_000)
    arguments = options.parse_args()
    workers = ["--workers", str(arguments.workers)]
    print(f"tenet serve rulesets/ ({arguments.workers} worker(s)), POST limit_review decisions, "
          f"{CONNECTIONS} connections, {arguments.seconds:g} s per figure")
    with tempfile.TemporaryDirectory() as folder:
        cluster = PostgresCluster()
        cluster.start()
        try:
            databases = [("audit on SQLite", str(Path(folder) / "audit.db")),
                         ("audit on PostgreSQL", cluster.database())]
            for label, db in [*databases, ("no audit (for the ratio)", None)]:
                service = (ServiceProcess(ROOT / "rulesets", "--db", db, *workers) if db
                           else ServiceProcess(ROOT / "rulesets", program=[
                               sys.executable, __file__, "--unaudited"]))
                try:
                    service.wait_ready()
                    measure(label, service, arguments.seconds, arguments.rate)
                finally:
                    service.stop()
            replayed = str(Path(folder) / "replay.db")
            record(replayed, arguments.replay)
            replay_speed(replayed, arguments.replay)
        finally:
            cluster.remove()


if __name__ == "__main__":
    main()
