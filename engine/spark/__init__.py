"""Portfolio runs on Apache Spark: the same decisions, budgets and errors as `tenet batch`.

    from engine import spark as tenet_spark
    decisions = tenet_spark.decide(df, "rulesets/limit_review.rules", as_of="2026-12-15",
                                   id_col="customer.customer_id", order_col="customer.customer_id")

``df`` has a column per facts field, named as in `tenet batch` CSV and Parquet input
(`customer.credit_score`, or `credit_score` when the ruleset has one facts block). The result
has a row per input row: `row` (1-based, in book order), `id`, a column per output, `offers`,
`reasons`, `error` (null, or the kind and problems of a row that could not be decided) and
`ruleset_digest`. `tenet batch --engine spark` does the same for files. See docs/spark.md.

Needs the extra: pip install 'tenet[spark]' (pyspark and pandas), and Java 17 or later.
"""

from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.portfolio.destinations import check_destinations
from engine.portfolio.summary import Summary, json_text, summary_document
from engine.ruleset import Ruleset, load
from engine.spark.columns import DEFAULT_SCALE
from engine.spark.driver import SparkRun, quoted, read_book
from engine.spark.session import SparkUnavailable, session
from engine.syntax.source import write_atomically

__all__ = ["DEFAULT_SCALE", "SparkResult", "SparkUnavailable", "decide", "run", "run_files",
           "session"]


@dataclass
class SparkResult:
    decisions: Any  # a pyspark DataFrame
    summary: Summary


def decide(df: Any, ruleset: Ruleset | str | Path, as_of: datetime.date | str | None = None,
           id_col: str | None = None, order_col: str | None = None,
           scale: int = DEFAULT_SCALE) -> Any:
    """Decide every row of the Spark DataFrame ``df`` with ``ruleset`` (a path or a loaded
    Ruleset), budgets applied; see the module's doc for the columns. ``id_col`` names the facts
    column to copy into `id`. ``order_col`` gives the book's order (unique, never null): the
    rows are numbered in it and budgets rank ties by it; it is required when the ruleset has
    budgets. Without it the rows are numbered in the DataFrame's partition order. Money and
    numbers are Spark decimals with ``scale`` digits after the point; a value that does not
    fit exactly is its row's error. Runs the Spark jobs that budgets need before returning."""
    return run(df, ruleset, as_of, id_col, order_col, scale).decisions


def run(df: Any, ruleset: Ruleset | str | Path, as_of: datetime.date | str | None = None,
        id_col: str | None = None, order_col: str | None = None,
        scale: int = DEFAULT_SCALE) -> SparkResult:
    """``decide``, with the summary `tenet batch` gives (its counts need a Spark job)."""
    ruleset = _loaded(ruleset)
    symbols = ruleset.check.program.symbols
    if ruleset.budgets and order_col is None:
        raise ValueError(f"ruleset `{ruleset.name}` has budgets, which rank ties by the book's "
                         "order: name the column that orders the book with order_col")
    columns = set(df.columns)
    for name, role in ((id_col, "id_col"), (order_col, "order_col")):
        if name is not None and name not in columns:
            raise ValueError(f"{role}: the DataFrame has no column `{name}`")
    if order_col is not None:
        _check_order(df, order_col)
        df = df.orderBy(quoted(order_col))
        if _facts_path(order_col, symbols) is None:
            df = df.drop(quoted(order_col))
    id_field = None
    if id_col is not None:
        id_field = _facts_path(id_col, symbols)
        if id_field is None:
            raise ValueError(f"id_col: `{id_col}` is not a facts column of ruleset "
                             f"`{ruleset.name}`")
    spark_run = SparkRun(df.sparkSession, ruleset, as_of, id_field, scale)
    decisions = spark_run.decide(df, "columns", by_partition=True)
    return SparkResult(decisions, spark_run.summary)


def run_files(ruleset: Ruleset | str | Path, facts: str, out: str, errors: str, as_of: datetime.date | None,
              id_field: str | None, master: str | None = None,
              scale: int = DEFAULT_SCALE, summary: str | None = None) -> Summary:
    """`tenet batch --engine spark`: the book at ``facts`` (a Parquet, CSV or JSONL file, or a
    folder of them, read in the order of the files' names), the decisions written as a Parquet
    folder at ``out``, the rows that could not be decided as one at ``errors``, and the
    summary as JSON at ``summary``. As locally, every path is checked before anything is read,
    and OUT is written last (the previous OUT removed first), so that when OUT is complete
    (Spark's `_SUCCESS` in it) the errors and summary beside it are from the same run."""
    check_destinations(facts, out, errors, summary, folders=True)
    for folder in (out, errors):
        _check_output_folder(folder)
    spark = session(master)  # first: it says what is missing when pyspark is
    from pyspark.sql import functions as F

    rows, source, header = read_book(spark, facts)
    spark_run = SparkRun(spark, _loaded(ruleset), as_of, id_field, scale)
    try:
        decisions = spark_run.decide(rows, source, by_partition=False, header=header)
        refused = F.col("error").isNotNull()
        if Path(out).exists():
            shutil.rmtree(out)  # Spark's own output (checked above)
        decisions.where(refused).select(
            "row", *(["id"] if id_field else []), F.col("error.kind").alias("kind"),
            F.col("error.problems").alias("problems"), "ruleset_digest",
        ).write.mode("overwrite").parquet(errors)
        if summary is not None:
            document = summary_document(spark_run.summary, spark_run.ruleset, spark_run.as_of,
                                        facts)
            write_atomically(Path(summary), json_text(document), through_links=False)
        decisions.where(~refused).drop("error").write.mode("overwrite").parquet(out)
    finally:
        spark_run.close()
    return spark_run.summary


def _loaded(ruleset: Ruleset | str | Path) -> Ruleset:
    return ruleset if isinstance(ruleset, Ruleset) else load(ruleset)


def _facts_path(column: str, symbols: Any) -> str | None:
    """The facts path of a column named as in `tenet batch` input, or None."""
    block, _, field = column.rpartition(".")
    if not block and len(symbols.facts) == 1:
        block = next(iter(symbols.facts))
    if block in symbols.facts and field in symbols.record_fields(block):
        return f"{block}.{field}"
    return None


def _check_order(df: Any, order_col: str) -> None:
    """The order column must order the book: ties or nulls would make budgets depend on how
    Spark happened to split it."""
    from pyspark.sql import functions as F

    clash = (df.groupBy(quoted(order_col).alias("value")).count()
             .where((F.col("count") > 1) | F.col("value").isNull()).first())
    if clash is not None:
        what = "is null" if clash["value"] is None else f"is {clash['value']!r}"
        raise ValueError(f"order_col: `{order_col}` must be unique and never null, and it "
                         f"{what} in {clash['count']} rows")


def _check_output_folder(path: str) -> None:
    """Spark replaces an output folder: only one that Spark wrote (or an empty one)."""
    folder = Path(path)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ValueError(f"{path} is a file; Spark writes a folder of Parquet files there")
    if any(folder.iterdir()) and not (folder / "_SUCCESS").exists():
        raise ValueError(f"{path} is a folder that Spark did not write; name a new folder (it "
                         "would be replaced)")
    if not any(folder.iterdir()):
        shutil.rmtree(folder)
