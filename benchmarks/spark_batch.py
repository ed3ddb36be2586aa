"""Spark runs against `tenet batch --jobs 2` on the same Parquet book of the limit review (its
increase budget binds): rows per second of each whole command, the fixed cost of a Spark run,
and what a row costs inside an executor.

- whole commands: `tenet batch --jobs 2` and `tenet batch --engine spark --master local[2]`,
  each a fresh process (Spark's includes starting its JVM);
- in one process, on a warm local[2] session: the start of the session; a run of a tiny book
  (what any run costs, whatever its size); the full run; and the deciding stage alone (read,
  decide, count), whose time over the rows, times the 2 executor cores, is a row's cost in an
  executor, to set against a row's cost in a local worker (`tenet batch --jobs 1`).

Spark on one machine is slower than the local engine; what it buys is more machines.

    python benchmarks/spark_batch.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from batch import RULESET, run, write_book  # noqa: E402

import engine  # noqa: E402
from engine import spark as tenet_spark  # noqa: E402

AS_OF = datetime.date(2026, 12, 15)


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rows", type=int, default=1_000_000)
    options.add_argument("--repeat", type=int, default=3)
    arguments = options.parse_args()
    rows = arguments.rows
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _, book = write_book(folder, rows, jsonl=False)
        _, tiny = write_book(folder, 100, jsonl=False)
        print(f"{rows:,} rows, Parquet in and out")

        local1, _ = run(book, folder / "local1.parquet", 1)
        local2, peak2 = run(book, folder / "local2.parquet", 2)
        spark_command, peak_spark = run(book, folder / "spark-command", 0, "--engine", "spark",
                                        "--master", "local[2]")
        print(f"  tenet batch --jobs 1          {rows / local1:9,.0f} rows/s ({local1:6.1f} s)")
        print(f"  tenet batch --jobs 2          {rows / local2:9,.0f} rows/s ({local2:6.1f} s), "
              f"peak RSS {peak2:5.0f} MB")
        print(f"  tenet batch --engine spark    {rows / spark_command:9,.0f} rows/s "
              f"({spark_command:6.1f} s), peak RSS of the largest Python process "
              f"{peak_spark:5.0f} MB")

        start = seconds(lambda: tenet_spark.session("local[2]"))
        ruleset = engine.load(RULESET)
        output = iter(range(10**6))

        def whole(path: Path) -> None:
            number = next(output)
            tenet_spark.run_files(ruleset, str(path), str(folder / f"o{number}"),
                                  str(folder / f"e{number}"), AS_OF, None)

        fixed = statistics.median(seconds(lambda: whole(tiny)) for _ in range(arguments.repeat))
        full = statistics.median(seconds(lambda: whole(book)) for _ in range(arguments.repeat))
        stage = statistics.median(seconds(lambda: decide_only(ruleset, book))
                                  for _ in range(arguments.repeat))
        executor = stage * 2 / rows * 1e6
        print(f"  Spark session start           {start:6.1f} s")
        print(f"  a run of 100 rows (warm)      {fixed:6.1f} s   the fixed cost of any run")
        print(f"  the full run (warm)           {full:6.1f} s   {rows / full:9,.0f} rows/s")
        print(f"  deciding stage alone          {stage:6.1f} s   {executor:5.1f} µs a row in an "
              f"executor core (target 15 µs); {local1 / rows * 1e6:5.1f} µs a row in "
              "`tenet batch --jobs 1` (whole command)")


def decide_only(ruleset, book: Path) -> None:
    """Read, decide and count the decided rows: the stage that more executors divide."""
    from pyspark.sql import functions as F

    from engine.spark import columns as c
    from engine.spark.driver import SparkRun, read_book

    spark = tenet_spark.session()
    rows, source, header = read_book(spark, str(book))
    decided, _ = SparkRun(spark, ruleset, AS_OF, None).decided(rows, source, False, header)
    decided.where(F.col(c.SUMMARY).isNull()).count()


if __name__ == "__main__":
    main()
