"""Portfolio runs: rows per second of `tenet batch` on the limit-review ruleset (JSONL to JSONL
and Parquet to Parquet, one and two jobs), and the peak memory at 100k and 1M rows (target: at
least 60,000 rows/s per job, close to linear in jobs, flat memory).

The book is generated like rulesets/facts/book.csv (the increase budget binds). Each run is a
`tenet batch` process; its wall time and peak RSS (the largest of its processes) are measured.

    python benchmarks/batch.py [--rows 1000000] [--small 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "rulesets" / "facts"))

from make_book import customer  # noqa: E402

RULESET = ROOT / "rulesets" / "limit_review.rules"
MONEY = {"current_limit", "balance", "monthly_income", "monthly_debt_payments",
         "monthly_purchases", "other_lenders_credit"}


def write_book(folder: Path, rows: int, jsonl: bool = True) -> tuple[Path | None, Path]:
    """The book as JSONL (unless ``jsonl`` is false) and as Parquet."""
    rng = random.Random(7)
    parquet = folder / f"book-{rows}.parquet"
    lines = folder / f"book-{rows}.jsonl" if jsonl else None
    batch: list[dict] = []
    writer = None
    with lines.open("w", encoding="utf-8") if lines else contextlib.nullcontext() as out:
        for number in range(1, rows + 1):
            row = {key: value for key, value in customer(rng, number).items() if value != ""}
            if out is not None:
                out.write(json.dumps({"customer": {**row, "balance": float(row["balance"])}})
                          + "\n")
            batch.append({f"customer.{key}": Decimal(str(value)) if key in MONEY else value
                          for key, value in row.items()})
            if len(batch) == 50_000 or number == rows:
                table = pa.Table.from_pylist(batch, schema=_schema())
                writer = writer or pq.ParquetWriter(parquet, table.schema)
                writer.write_table(table)
                batch = []
    writer.close()
    return lines, parquet


def _schema() -> pa.Schema:
    money = pa.decimal128(18, 2)
    fields = [("customer_id", pa.string()), ("segment", pa.string()), ("product", pa.string()),
              ("current_limit", money), ("balance", money), ("months_on_book", pa.int64()),
              ("behavior_score", pa.int64()), ("score_drop_3m", pa.int64()),
              ("max_dpd_12m", pa.int64()), ("current_dpd", pa.int64()),
              ("monthly_income", money), ("monthly_debt_payments", money),
              ("months_since_last_increase", pa.int64()), ("monthly_purchases", money),
              ("turnover_days", pa.int64()), ("other_lenders_credit", money)]
    return pa.schema([(f"customer.{name}", type_) for name, type_ in fields])


def run(book: Path, out: Path, jobs: int, *more: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `tenet batch` process tree, measured by a fresh
    wrapper process whose only children are this run's (ru_maxrss: the largest of them).
    ``more`` are further options; `--jobs 0` leaves --jobs out."""
    measure = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
               "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
               "print(time.perf_counter() - start, "
               "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, str(ROOT / "cli.py"), "batch",
         str(RULESET), "--facts", str(book), "--out", str(out), "--as-of", "2026-12-15",
         *(["--jobs", str(jobs)] if jobs else []), "--quiet", *more],
        check=True, capture_output=True, text=True)
    seconds, peak = result.stdout.split()
    return float(seconds), int(peak) / 1024


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rows", type=int, default=1_000_000)
    options.add_argument("--small", type=int, default=100_000)
    arguments = options.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for rows in (arguments.small, arguments.rows):
            jsonl, parquet = write_book(folder, rows)
            print(f"{rows:,} rows")
            for book, suffix in ((jsonl, ".jsonl"), (parquet, ".parquet")):
                one_job = 0.0
                for jobs in (1, 2):
                    seconds, peak = run(book, folder / f"out{suffix}", jobs)
                    speed = rows / seconds
                    target = ("target 100,000 rows/s" if jobs == 1 else
                              f"{speed / one_job:.2f}x one job, target 1.8x")
                    one_job = one_job or speed
                    print(f"  {suffix[1:]:8s} jobs {jobs}: {speed:9,.0f} rows/s "
                          f"({seconds:6.1f} s), peak RSS of the largest process {peak:6.0f} MB"
                          f"   ({target})")


if __name__ == "__main__":
    main()
