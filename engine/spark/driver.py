"""The driver's side of a Spark run: read, decide in the executors, number, budget, hand over.

1. Every row is decided in the executors (``tasks.DecideRows``) and the result is persisted,
   so nothing is decided twice. Each task also reports how many rows each of its groups (file
   splits, or partitions) held; in book order those counts number every row, as `tenet batch`
   numbers them.
2. Each budget in declared order: its candidates are sorted by Spark on (missing rank last,
   rank, row); only (row, rank, amount) streams to the driver (`toLocalIterator`), which keeps them
   while they fit (``Allocation.offer``, the same code as a local run) and holds the row numbers
   of those it overrides, 8 bytes each. A later budget sees the rows earlier ones overrode
   evaluated again, in the executors.
3. The overridden rows are made again in the executors with the `else` actions, and replace
   their first decision.
"""

from __future__ import annotations

import datetime
import pickle
import re
from array import array
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from engine.portfolio.budgets import Allocation
from engine.portfolio.formats import FormatError, csv_columns, distinct_columns, format_of
from engine.portfolio.summary import Summary
from engine.ruleset import Ruleset
from engine.spark import columns as c
from engine.spark.tasks import (
    APPLIED,
    REVALUED,
    DecideRows,
    OverrideRows,
    Plan,
    RevalueRows,
)

BASE = "__tenet_base"


class RowsAllocation(Allocation):
    """An allocation that keeps only the numbers of the rows it overrides."""

    def __init__(self, name: str, limit: Any, stop_when_full: bool) -> None:
        super().__init__(name, limit, stop_when_full,
                         overridden=array("q"))  # type: ignore[arg-type]

    def _override(self, row: int, rank: Any) -> None:
        self.overridden.append(row)  # type: ignore[attr-defined]


def quoted(name: str) -> Any:
    """The column named ``name`` (which may hold dots, as `customer.score` does)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


class SparkRun:
    """One book through one ruleset on Spark; ``summary`` counts what `tenet batch` counts."""

    def __init__(self, spark: Any, ruleset: Ruleset, as_of: datetime.date | str | None,
                 id_field: str | None, scale: int = c.DEFAULT_SCALE) -> None:
        self.spark, self.ruleset = spark, ruleset
        self.as_of = ruleset.as_of_date(as_of)
        self.id_field, self.scale = id_field, scale
        self.layout = c.Layout(ruleset, id_field is not None, scale)
        self.summary = Summary(ruleset)
        self.budgets = ruleset.budgets
        self.persisted: list[Any] = []

    def decide(self, rows: Any, source: str, by_partition: bool,
               header: bytes | None = None) -> Any:
        """Every row decided, numbered and budgeted: a DataFrame with `row`, `id` (with an id
        field), a column per output, `offers`, `reasons`, `error` (kind and problems, for a
        row that could not be decided) and `ruleset_digest`."""
        from pyspark.sql import functions as F

        decided, plan = self.decided(rows, source, by_partition, header)
        decided = self._persist(decided)
        bases = self._bases(decided.where(F.col(c.SUMMARY).isNotNull()).select(c.SUMMARY))
        numbered = (decided.where(F.col(c.SUMMARY).isNull()).drop("row")
                    .join(F.broadcast(bases), [c.FILE, c.BLOCK])
                    .withColumn("row", F.col(c.LOCAL) + F.col(BASE))
                    .select(*self.layout.schema.names))
        if self.budgets:
            numbered = self._apply_budgets(numbered, plan)
        return self._handed_over(numbered)

    def decided(self, rows: Any, source: str, by_partition: bool,
                header: bytes | None = None) -> tuple[Any, Plan]:
        """The deciding stage: each row decided in an executor and numbered within its group,
        and each task's summary row (``decide`` goes on from there)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        names = tuple(name for name in rows.columns if name not in (c.FILE, c.BLOCK))
        if source == "columns":
            rows = rows.select(*(quoted(name).alias(f"__tenet_column_{index}")
                                 for index, name in enumerate(names)),
                               *(name for name in rows.columns if name in (c.FILE, c.BLOCK)))
        plan = Plan(self.ruleset.bundle(), self.as_of, self.id_field, source, by_partition,
                    header, self.scale, names)
        schema = from_arrow_schema(self.layout.schema)
        return rows.mapInArrow(DecideRows(plan), schema), plan

    def close(self) -> None:
        """Free what the run persisted (the DataFrame it returned is computed again if used)."""
        for frame in self.persisted:
            frame.unpersist()
        self.persisted = []

    def _persist(self, frame: Any) -> Any:
        from pyspark import StorageLevel

        frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
        self.persisted.append(frame)
        return frame

    def _add_summaries(self, frame: Any) -> dict[tuple[str, int], int]:
        """Add the tasks' counts (their summary rows) to the summary; the rows of each group."""
        groups: dict[tuple[str, int], int] = {}
        for (data,) in frame.collect():
            state, counts = pickle.loads(data)  # written by this run's tasks
            self.summary.add_state(state)
            for group, rows in counts.items():
                groups[group] = groups.get(group, 0) + rows
        return groups

    def _bases(self, summaries: Any) -> Any:
        """How many rows of the book come before each group: files in the order of their
        paths, and splits in file order; partitions in order."""
        groups = self._add_summaries(summaries)
        bases, before = [], 0
        for (file, block), rows in sorted(groups.items()):
            bases.append((file, block, before))
            before += rows
        return self.spark.createDataFrame(
            bases, f"{c.FILE} string, {c.BLOCK} long, {BASE} long")

    # -- budgets

    def _apply_budgets(self, numbered: Any, plan: Plan) -> Any:
        from pyspark.sql import functions as F
        from pyspark.sql.pandas.types import from_arrow_schema

        states = numbered.where(F.col(c.STATE).isNotNull())
        applied = None
        for index, budget in enumerate(self.budgets):
            if applied is None:
                values = states.select("row", F.col(c.among(index)).alias("among"),
                                       F.col(c.rank(index)).alias("rank"),
                                       F.col(c.total(index)).alias("total"))
            else:
                values = states.join(applied, "row", "left").mapInArrow(
                    RevalueRows(plan, index), from_arrow_schema(REVALUED))
            rank = F.col("rank").desc() if budget.descending else F.col("rank").asc()
            ranked = (values.where(F.col("among")).orderBy(F.col("rank").isNull(), rank, "row")
                      .select("row", "rank", "total"))
            limit = self.ruleset.budget_limit(budget, self.as_of)
            allocation = RowsAllocation(budget.name.name, limit, budget.stops_when_full)
            for row, key, amount in ranked.toLocalIterator(prefetchPartitions=True):
                allocation.offer(row, c.rank_of_key(key),
                                 None if amount is None else Decimal(amount))
            self.summary.budgets.append(allocation)
            applied = self._applied()
        if applied is None:
            return numbered
        changed = self._persist(numbered.join(applied, "row").mapInArrow(
            OverrideRows(plan), from_arrow_schema(self.layout.schema)))
        self._add_summaries(changed.where(F.col(c.SUMMARY).isNotNull()).select(c.SUMMARY))
        return (numbered.join(applied, "row", "left_anti")
                .unionByName(changed.where(F.col(c.SUMMARY).isNull())))

    def _applied(self) -> Any:
        """Each overridden row with the budgets (by index, in order) that overrode it."""
        from pyspark.sql import functions as F

        rows = [pa.array(a.overridden, pa.int64()) for a in self.summary.budgets]
        table = pa.table({"row": pa.concat_arrays(rows), "budget": pa.concat_arrays(
            [pa.array([index] * len(part), pa.int32()) for index, part in enumerate(rows)])})
        return (self.spark.createDataFrame(table).groupBy("row")
                .agg(F.sort_array(F.collect_list("budget")).alias(APPLIED)))

    def _handed_over(self, numbered: Any) -> Any:
        from pyspark.sql import functions as F

        error = F.when(F.col(c.ERROR_KIND).isNotNull(), F.struct(
            F.col(c.ERROR_KIND).alias("kind"), F.col(c.ERROR_PROBLEMS).alias("problems")))
        columns = [F.col(name) for name in self.layout.decision_columns]
        return numbered.select(*columns[:-1], error.alias("error"), columns[-1])


# ------------------------------------------------------------------------------- files


def read_book(spark: Any, path: str) -> tuple[Any, str, bytes | None]:
    """The rows of a Parquet, CSV or JSONL file or folder of files, each with its file and the
    offset of its split (the book's order); the kind of rows; the CSV header line."""
    from pyspark.sql import functions as F

    kind = book_format(path)
    place = [F.col("_metadata.file_path").alias(c.FILE),
             F.col("_metadata.file_block_start").alias(c.BLOCK)]
    if kind == "parquet":
        # Files on this machine that disagree are refused first; merged, so that a book
        # elsewhere loses no file's column either.
        same_parquet_columns(path)
        frame = spark.read.option("mergeSchema", "true").parquet(path)
        return frame.select("*", *place), "columns", None
    # Lines as bytes, split at "\n" only, exactly as `tenet batch` reads them (Spark's default
    # would split at a lone "\r" too, which JSON allows as whitespace).
    rows = spark.read.option("lineSep", "\n").text(path).select(
        F.col("value").cast("binary").alias("line"), *place)
    if kind == "jsonl":
        return rows, "jsonl", None
    header = None
    for file in sorted(rows.inputFiles()):
        first = (spark.read.option("lineSep", "\n").text(file)
                 .where(~F.col("value").isin("", "\r")).first())
        if first is not None:
            header = first[0].encode("utf-8")
            break
    if not header:
        raise FormatError(f"{path}: the CSV has no header line")
    csv_columns(header)  # a repeated column is refused before any row is read
    return rows, "csv", header


def same_parquet_columns(path: str) -> None:
    """Refuses a book on this machine whose Parquet files do not have the same columns of the
    same types, or name a column twice, naming the files: a column only some files hold would
    be read as missing in the others."""
    book = Path(path)
    if "://" in path or not book.exists():
        return
    files = sorted(file for file in book.rglob("*.parquet") if not any(
        part.startswith((".", "_")) for part in file.relative_to(book).parts)
    ) if book.is_dir() else [book]
    first = None
    for file in files:
        try:
            schema = pq.read_schema(file)
        except (OSError, pa.ArrowException) as error:
            raise FormatError(f"{file}: cannot be read as Parquet: {error}") from None
        distinct_columns(schema.names, f"{file}: the Parquet file")
        columns = dict(zip(schema.names, schema.types, strict=True))
        if first is None:
            first = (file, columns)
            continue
        differ = sorted(set(columns.items()) ^ set(first[1].items()), key=str)
        if differ:
            name = differ[0][0]
            held = [f"`{name}` as {cols[name]}" if name in cols else f"no `{name}`"
                    for cols in (first[1], columns)]
            raise FormatError(
                f"the Parquet files of the book disagree: {first[0]} has {held[0]}, {file} has "
                f"{held[1]}; the files of one book must have the same columns")


def book_format(path: str) -> str:
    """The format of a book: by its extension, or for a folder without one, by its files'."""
    try:
        return format_of(path)
    except FormatError:
        folder = Path(path)
        if not folder.is_dir():
            raise
        kinds = {format_of(str(file)) for file in folder.iterdir()
                 if file.is_file() and not file.name.startswith((".", "_"))
                 and file.suffix.lower() in (".parquet", ".csv", ".jsonl", ".ndjson")}
        if len(kinds) != 1:
            raise FormatError(f"{path}: a folder of .parquet, .csv or .jsonl files of one "
                              "kind is needed") from None
        return kinds.pop()


def spark_failure(error: BaseException) -> str | None:
    """What a failed Spark job says, without stack traces: the error an executor's Python
    raised, or else Spark's own message with its root cause (which names a file that could not
    be read, and why); None for an error that is not Spark's."""
    if type(error).__module__.split(".")[0] not in ("pyspark", "py4j"):
        return None
    text = str(error)
    raised = re.findall(r"^[\w.]*(?:Error|Exception): (.+)$", text, re.MULTILINE)
    if "Traceback" in text and raised:
        return _with_hint(raised[-1])
    spark = re.search(r"^: [\w.$]+: (?:\[[\w.]+\] )?(.+?)(?:\s+SQLSTATE: \w+)?$", text,
                      re.MULTILINE)
    if spark is None:
        return text.strip().splitlines()[0] if text.strip() else type(error).__name__
    causes = re.findall(r"^Caused by: [\w.$]+: (.+)$", text, re.MULTILINE)
    message = spark.group(1).strip().rstrip(".")
    return f"{message}: {causes[-1].strip()}" if causes else message


def _with_hint(message: str) -> str:
    if "No module named 'engine'" in message:
        return (f"{message}: Tenet must be installed in the Python the executors run (pip "
                "install tenet there), and Spark pointed at it with PYSPARK_PYTHON or "
                "spark.pyspark.python")
    return message
