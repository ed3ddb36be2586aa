"""What runs inside the Spark executors: deciding, revaluing and overriding rows, batch by batch.

The callables here are handed to `mapInArrow`. They carry a ``Plan`` of plain data (the ruleset
as texts with its digest, the as-of date, …); each Python worker compiles the ruleset once, from
those texts, into the same generated decision function a local run uses, and keeps it for every
later task. No code object is ever pickled.

A task does not know how many rows come before its own, so it numbers each row by its place in
its group: a file split (file, byte offset where the split starts) for files, or the partition
for a DataFrame. The last batch a task writes is a summary row: the counts of its decisions and
how many rows each of its groups held, from which the driver numbers every row of the book.
"""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from engine.portfolio.formats import Chunk, csv_chunks, csv_columns
from engine.portfolio.runner import (
    BUDGETS,
    CHUNK_ROWS,
    RECORD,
    ROW,
    BatchOptions,
    ChunkDecider,
    ChunkResult,
    Overrides,
    collect_rarely,
)
from engine.portfolio.summary import Summary
from engine.ruleset import RulesetBundle, load_bundle
from engine.spark import columns as c
from engine.syntax.source import escape_unprintable

EMPTY = (b"", b"\r")  # an empty CSV line, which pyarrow skips (lines are split at "\n")


@dataclass(frozen=True)
class Plan:
    """What every task of a run needs to know, as plain data."""

    bundle: RulesetBundle
    as_of: datetime.date
    id_field: str | None
    source: str  # "columns" (Parquet, a DataFrame), "csv" or "jsonl" (lines)
    by_partition: bool  # rows are grouped by partition (a DataFrame), else by file split
    header: bytes | None = None  # the CSV header line every CSV file starts with
    scale: int = c.DEFAULT_SCALE
    # The facts columns' names (`customer.score`), which travel as `__tenet_column_N`: Spark
    # cannot hand a column named with a dot to mapInArrow.
    columns: tuple[str, ...] = ()


class Worker:
    """The compiled ruleset of one Python worker, for every task of a run that reaches it."""

    def __init__(self, plan: Plan) -> None:
        self.ruleset = load_bundle(plan.bundle)
        self.as_of = plan.as_of
        budgets = len(self.ruleset.budgets)
        options = BatchOptions(out="decisions.parquet", as_of=plan.as_of, id_field=plan.id_field)
        self.decider = ChunkDecider(self.ruleset, plan.as_of, options, keep_fields=budgets > 1)
        self.layout = c.Layout(self.ruleset, plan.id_field is not None, plan.scale)
        self.header = None if plan.header is None else csv_columns(plan.header)
        collect_rarely()

    def overrides(self, summary: Summary) -> Overrides:
        return Overrides(self.ruleset, self.as_of, self.decider.records, summary)


_WORKERS: dict[tuple, Worker] = {}


def worker(plan: Plan) -> Worker:
    key = (plan.bundle.digest, plan.as_of, plan.id_field, plan.header, plan.scale)
    found = _WORKERS.get(key)
    if found is None:
        found = _WORKERS[key] = Worker(plan)
    return found


# ----------------------------------------------------------------------------------- deciding


# The functions handed to mapInArrow are instances of this module's classes: Spark pickles them
# as the class's name and the plan, so no code travels, only data.


@dataclass(frozen=True)
class DecideRows:
    """The deciding stage: each row decided and numbered within its group; last, the task's
    summary row."""

    plan: Plan

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        decide = _Task(self.plan)
        for batch in batches:
            yield from decide.batch(batch)
        yield decide.summary_batch()


class _Task:
    def __init__(self, plan: Plan) -> None:
        self.plan, self.worker = plan, worker(plan)
        self.layout = self.worker.layout
        self.summary = Summary(self.worker.ruleset)
        self.counts: dict[tuple[str, int], int] = {}  # rows of each group so far

    def batch(self, batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        for group, part in self._groups(batch):
            for chunk in self._chunks(group, part):
                result = self.worker.decider.rows_of(chunk)
                self.summary.merge(result)
                yield self._encoded(group, result)

    def _groups(self, batch: pa.RecordBatch) -> Iterator[tuple[tuple[str, int], pa.RecordBatch]]:
        """The runs of rows of one group, in order (a task may read several file splits)."""
        if self.plan.by_partition:
            from pyspark import TaskContext

            yield ("", TaskContext.get().partitionId()), batch
            return
        files = batch.column(c.FILE).to_pylist()
        blocks = batch.column(c.BLOCK).to_pylist()
        data = batch.drop_columns([c.FILE, c.BLOCK])
        start = 0
        for end in range(1, len(files) + 1):
            if end == len(files) or (files[end], blocks[end]) != (files[start], blocks[start]):
                yield (files[start], blocks[start]), data.slice(start, end - start)
                start = end

    def _chunks(self, group: tuple[str, int], part: pa.RecordBatch) -> Iterator[Chunk]:
        """The rows of a run as `tenet batch` reads them, numbered within the group from 1."""
        first = self.counts.get(group, 0) + 1
        source = self.plan.source
        if source == "columns":
            self.counts[group] = first - 1 + part.num_rows
            yield Chunk(first, batch=part.rename_columns(list(self.plan.columns)))
            return
        lines = part.column(0).to_pylist()
        if source == "csv" and group[1] == 0 and group not in self.counts:
            while lines and lines[0] in EMPTY:
                lines.pop(0)  # empty lines before the header, as pyarrow skips them
            if not lines:
                return  # an empty file, or one whose header is further on in this split
            self._check_header(group[0], lines.pop(0))
        if source == "jsonl":
            lines = [line for line in lines if line.strip()]  # blank lines are not rows
        else:
            lines = [line for line in lines if line not in EMPTY]  # nor are empty CSV lines
        self.counts[group] = first - 1 + len(lines)
        if not lines:
            return
        if source == "jsonl":
            yield Chunk(first, lines=lines)
            return
        text = pa.BufferReader(b"\n".join([self.plan.header, *lines]) + b"\n")
        yield from csv_chunks(text, self.worker.header, CHUNK_ROWS, first)

    def _check_header(self, file: str, line: bytes) -> None:
        if line != self.plan.header and csv_columns(line) != self.worker.header:
            shown = [escape_unprintable(text.decode("utf-8", "replace")[:100])
                     for text in (line, self.plan.header)]
            raise ValueError(f"{file}: its header `{shown[0]}` differs from the first file's "
                             f"`{shown[1]}`; the CSV files of one book must have the same "
                             "columns")

    def _encoded(self, group: tuple[str, int], result: ChunkResult) -> pa.RecordBatch:
        """The chunk's rows: the decided rows no budget can change as plain columns, then
        the candidates (with what the budgets need) and the refused rows."""
        layout = self.layout
        place = {c.FILE: group[0], c.BLOCK: group[1], c.DIGEST: layout.digest}
        plain, rows = [], []
        for decided in result.decided:
            record = decided[RECORD]
            try:
                cells = layout.table.row(record)  # its place in its group first
            except c.Unfit as unfit:  # and so no budget's candidate
                rows.append(place | _unfit(self.summary, decided[ROW], record, unfit))
                continue
            if decided[BUDGETS] is None:
                plain.append(cells)
            else:
                rows.append(dict(zip(layout.decided_names, cells, strict=True)) | place
                            | _candidate(decided))
        for number, identity, kind, problems in result.refused:
            rows.append(place | _refused(number, identity, kind, problems))
        return layout.batch(rows, plain, place)

    def summary_batch(self) -> pa.RecordBatch:
        return self.layout.batch([{c.SUMMARY: pickle.dumps((self.summary.state(), self.counts))}])


def _refused(number: int, identity: str | None, kind: str, problems: list[str]) -> dict[str, Any]:
    return {c.LOCAL: number, "id": identity, c.ERROR_KIND: kind, c.ERROR_PROBLEMS: problems}


def _unfit(summary: Summary, number: int, record: dict[str, Any], unfit: c.Unfit
           ) -> dict[str, Any]:
    """A decision whose values its columns cannot hold: refused, and counted so."""
    summary.count_decision(record["decision"], record["reasons"], -1)
    summary.errors += 1
    return _refused(number, record["id"], "decimal", [str(unfit)])


def _candidate(decided: tuple) -> dict[str, Any]:
    """What the budgets need of a row that may be a candidate: its state (the decided row,
    without the record: `Overrides` makes a new one) and, per budget, among, rank and total."""
    cells = {c.STATE: pickle.dumps(decided[:RECORD] + (None,) + decided[RECORD + 1:],
                                   protocol=pickle.HIGHEST_PROTOCOL)}
    for index, (among, total, rank, _) in enumerate(decided[BUDGETS]):
        cells[c.among(index)] = among is True
        cells[c.rank(index)] = c.rank_key(rank)
        cells[c.total(index)] = None if total is None else str(total)
    return cells


# ------------------------------------------------------------------------------------ budgets


REVALUED = pa.schema([("row", pa.int64()), ("among", pa.bool_()), ("rank", pa.binary()),
                      ("total", pa.string())])
APPLIED = "__tenet_applied"  # the budgets (by index) that overrode a row, in order


@dataclass(frozen=True)
class RevalueRows:
    """Budget ``index``'s among, rank and total of each candidate row: as decided, or, for a
    row that earlier budgets overrode, evaluated again on its changed outputs."""

    plan: Plan
    index: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        index, this = self.index, worker(self.plan)
        overrides = this.overrides(Summary(this.ruleset))
        for batch in batches:
            out: dict[str, list] = {name: [] for name in REVALUED.names}
            for row in batch.to_pylist():
                among, rank, total = row[c.among(index)], row[c.rank(index)], row[c.total(index)]
                if row[APPLIED]:
                    state = pickle.loads(row[c.STATE])  # written by this run's decide task
                    applied = dict.fromkeys(row[APPLIED], (0, None, None))
                    among, total_value, rank_value, _ = overrides.revalued(state, applied, index)
                    among = among is True
                    rank, total = c.rank_key(rank_value), (
                        None if total_value is None else str(total_value))
                for name, value in zip(REVALUED.names, (row["row"], among, rank, total),
                                       strict=True):
                    out[name].append(value)
            yield pa.RecordBatch.from_pydict(out, schema=REVALUED)


@dataclass(frozen=True)
class OverrideRows:
    """The rows that budgets overrode, made again with the budgets' `else` actions; the last
    batch is the change to the summary's counts."""

    plan: Plan

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        this = worker(self.plan)
        summary = Summary(this.ruleset)
        overrides = this.overrides(summary)
        layout = this.layout
        for batch in batches:
            rows = []
            for row in batch.to_pylist():
                state = pickle.loads(row[c.STATE])  # written by this run's decide task
                record = overrides.record(state, dict.fromkeys(row[APPLIED], (0, None, None)))
                try:
                    cells = layout.cells(record)
                except c.Unfit as unfit:
                    cells = _unfit(summary, row[c.LOCAL], record, unfit)
                rows.append(cells | {"row": row["row"], c.DIGEST: layout.digest})
            yield layout.batch(rows)
        yield layout.batch([{c.SUMMARY: pickle.dumps((summary.state(), {}))}])
