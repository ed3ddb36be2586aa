"""`tenet batch`: a whole portfolio through one ruleset, with budgets, nothing lost.

The input is cut into chunks; worker processes (or this process, with one job) read and decide
each chunk with the ruleset's generated batch function (Parquet and CSV column by column), and
the chunks come back in input order, so the output does not depend on the number of jobs or the
chunk size. Every row ends up either decided (in OUT) or refused (in the errors file, with why).
A worker encodes the decided rows that no budget can change as they are written (JSONL lines,
or a batch of CSV or Parquet cells); only the budgets' candidates come back as Python objects.
Without budgets, the encoded rows are written as they come. With budgets, they wait in a
temporary file and the candidates in another, while only (row, rank, amount) of each candidate
is kept in memory; each budget is allocated in turn over the whole book's candidates
(LANGUAGE.md §8), and a last pass merges each chunk's rows with its candidates, the budgets
applied, and writes them.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import decimal
import gc
import itertools
import os
import pickle
import signal
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from engine.check.symbols import OFFERS_OUTPUT
from engine.exceptions import DecisionConflict, FactsError
from engine.portfolio.budgets import Allocation, Candidates, allocate
from engine.portfolio.destinations import AtomicFile, check_destinations, commit_together
from engine.portfolio.formats import (
    DEFAULT_SCALE,
    Chunk,
    Encoded,
    JsonlWriter,
    LineEncoder,
    RowReader,
    TableCells,
    TableWriter,
    Unfit,
    cell_columns,
    format_of,
    read_chunks,
    value_of_path,
)
from engine.portfolio.summary import Summary, json_text, summary_document
from engine.ruleset import Ruleset, RulesetBundle, load_bundle
from engine.run.runtime import normalize
from engine.syntax import ast

CHUNK_ROWS = 2_000


@dataclass
class BatchOptions:
    out: str
    errors: str | None = None  # default: OUT with `.errors.jsonl`
    as_of: datetime.date | None = None
    jobs: int = 1
    id_field: str | None = None
    trace: bool = False
    chunk_rows: int = CHUNK_ROWS
    summary: str | None = None  # also write the summary there, as JSON, with the outputs
    csv_neutralise: bool = True  # CSV text cells that would be formulas get a leading '
    scale: int = DEFAULT_SCALE  # Parquet: digits after the point of money and number columns

    @property
    def errors_path(self) -> str:
        if self.errors is not None:
            return self.errors
        if self.out == "-":
            return "tenet-batch.errors.jsonl"
        return str(Path(self.out).with_suffix(".errors.jsonl"))


# A decided row, as plain tuples travel fastest between processes and through the spill file:
# (row, id, record, outputs, reasons, budgets, fields, trace, uses), where ``record`` is the row as
# written (JSON bytes, or a dict of cells for CSV and Parquet) when no budget changes it (for a
# row that is no budget's candidate, the fields after ``outputs`` are None),
# ``reasons`` pairs each code with what each of its givers owed it to, ``budgets`` holds per
# budget (among, total, rank, else values), ``fields`` the facts' values when a second
# budget may need them, and ``uses`` each rule whose proposals were used, with the outputs they
# went to (a budget that overrides them all takes the rule's use away). A refused row:
# (row, id, kind, problems).
Decided = tuple
Refused = tuple
ROW, ID, RECORD, OUTPUTS, REASONS, BUDGETS, FIELDS, TRACE, USES = range(9)


@dataclass
class ChunkResult:
    decided: list[Decided]  # once ``ChunkDecider.encoded`` has run, only the budgets' candidates
    refused: list[Refused]
    counters: list[int]
    counts: Summary  # what the chunk's decisions give, before budgets
    written: Encoded | None = None  # the decided rows no budget can change, as they are written


# ------------------------------------------------------------------------------- deciding


class ChunkDecider:
    """Decides the rows of chunks with one ruleset (in a worker process, or here), and writes
    each decided row as it will be written unless a budget changes it."""

    def __init__(self, ruleset: Ruleset, as_of: datetime.date, options: BatchOptions,
                 keep_fields: bool) -> None:
        self.ruleset, self.as_of, self.id_field = ruleset, as_of, options.id_field
        self.trace, self.keep_fields = options.trace, keep_fields
        self.records = Records(ruleset, as_of, options)
        self.encoder = record_encoder(ruleset, options)
        self.reader = RowReader(ruleset.check.program.symbols)
        generated = ruleset.compiled
        self.decide = generated.decide_batch
        meta = generated.metadata
        self.slots_of = [info.slots for info in meta.rules]
        self.slot_outputs = [slot.output for slot in meta.slots]
        self.slot_rules = [slot.rule for slot in meta.slots]
        self.cap_outputs = [cap.output for cap in meta.caps]

    def rows_of(self, chunk: Chunk) -> ChunkResult:
        ruleset = self.ruleset
        read = self.reader.columns(chunk, ruleset.compiled.fields, ruleset.column_checks,
                                   self.id_field)
        if read is None:
            return self.rows_one_by_one(chunk)
        result = self._result()
        refused, identities = read.refused, read.identities
        for offset, fields in enumerate(read.fields):
            number = chunk.first + offset
            if offset in refused:
                row = self.row(number, self.reader.row_facts(chunk, offset), None,
                               result.counters, result.counts)
            else:
                row = self.decided(number, identities[offset], fields,
                                   partial(self.reader.row_facts, chunk, offset),
                                   result.counters, result.counts)
            (result.refused if len(row) == 4 else result.decided).append(row)
        return result

    def facts_rows(self, items: Iterable[tuple[int, Any]]) -> ChunkResult:
        return self._decide_all((number, facts, None) for number, facts in items)

    def encoded(self, result: ChunkResult) -> ChunkResult:
        """``result`` with the rows no budget can change encoded as they are written (most rows
        of a book: they then travel and wait as bytes, not as Python objects), leaving only the
        budgets' candidates in ``decided``. A row with a value its Parquet column cannot hold
        exactly is refused instead, and counted so."""
        candidates, plain = [], []
        for row in result.decided:
            (plain if row[BUDGETS] is None else candidates).append(row)
        written, unfit = self.encoder.encode([(row[ROW], row[RECORD]) for row in plain])
        if unfit:
            records = {row[ROW]: row for row in plain}
            for number, problem in unfit:
                result.refused.append(_refused_unfit(result.counts, records[number][RECORD],
                                                     problem))
            result.refused.sort(key=lambda row: row[0])
        result.decided, result.written = candidates, written
        return result

    def _result(self) -> ChunkResult:
        return ChunkResult([], [], [0] * self.ruleset.compiled.counters, Summary(self.ruleset))

    def rows_one_by_one(self, chunk: Chunk) -> ChunkResult:
        """The chunk decided with a facts object made for each row (``rows_of`` reads Arrow
        chunks column by column, and must give the same)."""
        return self._decide_all(self.reader.rows(chunk))

    def _decide_all(self, rows: Iterable[tuple[int, Any, str | None]]) -> ChunkResult:
        result = self._result()
        for number, facts, problem in rows:
            row = self.row(number, facts, problem, result.counters, result.counts)
            (result.refused if len(row) == 4 else result.decided).append(row)
        return result

    def row(self, number: int, facts: Any, problem: str | None, counters: list[int],
            counts: Summary) -> Decided | Refused:
        identity = value_of_path(facts, self.id_field)
        if problem is not None:
            return number, identity, "unreadable", [problem]
        try:
            fields = self.ruleset.fields(facts)
        except FactsError as error:
            return number, identity, "facts", error.problems
        return self.decided(number, identity, fields, lambda: facts, counters, counts)

    def decided(self, number: int, identity: str | None, fields: tuple[Any, ...],
                facts: Callable[[], Any], counters: list[int],
                counts: Summary) -> Decided | Refused:
        """The row of valid facts whose field values are ``fields``; ``facts`` gives the
        facts themselves, which only a trace and the reference evaluator read."""
        try:
            outputs, codes, givers, used, budgets = self.decide(fields, self.as_of, counters)
            candidate = any(values[0] is True for values in budgets)
            # Who gave each reason matters only if a budget may override the row.
            reasons = self._reasons(codes, givers, used) if candidate else None
            trace = self._trace(facts()) if self.trace else None
        except DecisionConflict as conflict:
            return number, identity, "conflict", [str(conflict)]
        except decimal.DecimalException:
            outputs, reasons, budgets, trace = self._by_reference(facts())
            used = ()  # the reference evaluator's uses are not known: none can be taken away
            candidate = any(values[0] is True for values in budgets)
        codes = list(dict.fromkeys(codes)) if reasons is None else [c for c, _ in reasons]
        counts.count_decision(outputs, codes)
        record = self.records.record(number, identity, outputs, codes, trace)
        if not candidate:
            # No budget can change it: only its record travels on (most rows of a book).
            return number, identity, record, None, None, None, None, None, None
        return (number, identity, record, outputs, reasons, budgets,
                fields if self.keep_fields else None, trace, self._uses(used))

    def _uses(self, used: Any) -> tuple[tuple[int, frozenset[str]], ...]:
        """Each rule whose proposals were used, with the outputs they were used for."""
        if not used:
            return ()
        uses: dict[int, set[str]] = {}  # slots are numbered in rule order: so are these
        for slot in itertools.compress(range(len(used)), used):
            uses.setdefault(self.slot_rules[slot], set()).add(self.slot_outputs[slot])
        return tuple((rule, frozenset(outputs)) for rule, outputs in uses.items())

    def _reasons(self, codes: list[str], givers: list[int],
                 used: list[bool]) -> list[tuple[str, list[frozenset[str]]]]:
        """Each code once, in order, with what each of its givers owed it to: the outputs of
        the rule's used proposals (empty when it proposes nothing), or the cap's output."""
        owed: dict[str, list[frozenset[str]]] = {}
        for code, giver in zip(codes, givers, strict=True):
            if giver >= 0:
                outputs = frozenset(self.slot_outputs[s] for s in self.slots_of[giver] if used[s])
            else:
                outputs = frozenset([self.cap_outputs[-1 - giver]])
            owed.setdefault(code, []).append(outputs)
        return list(owed.items())

    def _trace(self, facts: Any) -> list[dict[str, Any]]:
        decision = self.ruleset.decide(facts, as_of=self.as_of, trace=True)
        return [event.to_data() for event in decision.trace
                if not (event.to_data().get("event") == "note"
                        and "applies to portfolio runs only" in event.to_data()["message"])]

    def _by_reference(self, facts: Any) -> tuple[dict, list, tuple, list | None]:
        """A decision whose arithmetic left the decimal range: the reference evaluator makes
        those values missing; its reasons cannot be withdrawn by a budget (their givers are
        not known), and its budget values are computed on its final values."""
        ruleset = self.ruleset
        outcome = ruleset.reference_outcome(ruleset.schema.validate(facts), self.as_of)
        reasons = [(code, [frozenset()]) for code in outcome.reasons]
        budgets = ruleset.budget_values(outcome.values, self.as_of)
        trace = self._trace(facts) if self.trace else None
        return outcome.outputs, reasons, budgets, trace


def collect_rarely() -> None:
    """For a process that decides a book: a book makes millions of short-lived containers,
    and the cyclic collector's passes, over everything loaded too (the ruleset's syntax tree,
    the libraries), took a fifth of a run. What exists now is frozen out of its passes, and it
    runs a hundred times less often. Deciding makes no reference cycles; the collector still
    runs, so memory stays bounded if something does."""
    gc.freeze()
    gc.set_threshold(70_000, 10, 10)


_WORKER: ChunkDecider | None = None


def _start_worker(parent: int, bundle: RulesetBundle, as_of: datetime.date,
                  options: BatchOptions, keep_fields: bool) -> None:
    """Each worker process compiles the ruleset once, from the texts it was shipped as (as a
    Spark executor does), and checks that it is the ruleset the run started with."""
    global _WORKER
    _end_with_parent(parent)
    _WORKER = ChunkDecider(load_bundle(bundle), as_of, options, keep_fields)
    collect_rarely()


def _end_with_parent(parent: int) -> None:
    """On Linux, have the kernel stop this worker when ``parent``, the process that started
    it, dies, even by SIGKILL, which leaves it no chance to stop its workers (they would wait
    for work forever: the other workers hold the queue open)."""
    # The parent handles Ctrl-C (sent to every process of the terminal) and stops its workers;
    # a SIGTERM ends a worker at once, whatever handler it inherited.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the call
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _decide_in_worker(chunk: Chunk) -> ChunkResult:
    assert _WORKER is not None
    return _WORKER.encoded(_WORKER.rows_of(chunk))


def _in_order(chunks: Iterator[Chunk], jobs: int, decider: ChunkDecider,
              worker_arguments: tuple) -> Iterator[ChunkResult]:
    """The results of the chunks, in input order; with several jobs, a bounded window of
    chunks is in flight, so memory stays flat whatever the size of the input."""
    if jobs <= 1:
        for chunk in chunks:
            yield decider.encoded(decider.rows_of(chunk))
        return
    with ProcessPoolExecutor(jobs, initializer=_start_worker,
                             initargs=(os.getpid(), *worker_arguments)) as pool:
        window: deque[Future] = deque()
        for chunk in chunks:
            window.append(pool.submit(_decide_in_worker, chunk))
            if len(window) >= 2 * jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


# ------------------------------------------------------------------------------- the run


class Records:
    """A decided row as written: a JSON line, or the cells of a CSV or Parquet row."""

    def __init__(self, ruleset: Ruleset, as_of: datetime.date, options: BatchOptions) -> None:
        self.kind = format_of(options.out)
        self.with_id = options.id_field is not None
        self.head = {"ruleset": ruleset.info.as_data(), "as_of": as_of.isoformat()}
        self.texts = ruleset.reasons
        self.encode = msgspec.json.Encoder(decimal_format="number").encode

    def record(self, row: int, identity: str | None, outputs: dict[str, Any], codes: list[str],
               trace: list[dict[str, Any]] | None) -> bytes | dict[str, Any]:
        if self.kind != "jsonl":
            offers = outputs.get(OFFERS_OUTPUT) or ()
            return {"row": row, "id": identity, "decision": outputs, "reasons": codes,
                    "offers": [offer["name"] for offer in offers]}
        record: dict[str, Any] = {"row": row}
        if self.with_id:
            record["id"] = identity
        record |= self.head
        record["decision"] = normalize(outputs)
        record["reasons"] = [{"code": code, "text": self.texts[code]} for code in codes]
        if trace is not None:
            record["trace"] = trace
        return self.encode(record) + b"\n"


class BatchRun:
    """One portfolio run: decide, allocate the budgets, write."""

    def __init__(self, ruleset: Ruleset, options: BatchOptions,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.ruleset, self.options = ruleset, options
        self.progress = progress or (lambda rows, errors: None)
        self.as_of = ruleset.as_of_date(options.as_of)
        self.budgets = ruleset.budgets
        self.summary = Summary(ruleset)
        self.records = Records(ruleset, self.as_of, options)
        self.encoder = record_encoder(ruleset, options)
        self.overrides = Overrides(ruleset, self.as_of, self.records, self.summary)

    def run(self, source: str | Iterable[Any]) -> Summary:
        options = self.options
        keep_fields = len(self.budgets) > 1
        decider = ChunkDecider(self.ruleset, self.as_of, options, keep_fields)
        if isinstance(source, str):
            results = _in_order(read_chunks(source, options.chunk_rows), options.jobs, decider,
                                (self.ruleset.bundle(), self.as_of, options, keep_fields))
        else:
            results = (decider.encoded(decider.facts_rows(part))
                       for part in _numbered_parts(source, options.chunk_rows))
        check_destinations(source if isinstance(source, str) else None, options.out,
                           options.errors_path, options.summary)
        out = self._writer(options.out)
        errors = JsonlWriter(options.errors_path)
        complete = False
        try:
            # With budgets, each chunk's written rows wait in one file and its candidates in
            # another, which each budget reads again.
            with tempfile.TemporaryFile(prefix="tenet-batch-") as written, \
                    tempfile.TemporaryFile(prefix="tenet-batch-") as candidates:
                for result in results:
                    self.summary.merge(result)
                    if self.budgets:
                        pickle.dump(result.written, written, protocol=pickle.HIGHEST_PROTOCOL)
                        pickle.dump(result.decided, candidates,
                                    protocol=pickle.HIGHEST_PROTOCOL)
                    else:
                        out.write_encoded(result.written)
                    for row in result.refused:
                        errors.write(_refused_record(row))
                    self.progress(self.summary.rows, self.summary.errors)
                if self.budgets:
                    self._apply_budgets(written, candidates, out, errors)
            complete = True
        finally:
            out.close(complete)
            errors.close(complete)
            files = [errors.file]
            if complete and options.summary is not None:
                files.append(_summary_file(options.summary, summary_document(
                    self.summary, self.ruleset, self.as_of,
                    source if isinstance(source, str) else None)))
            if complete:
                commit_together(out.file, files)
            for file in (*files, out.file):
                file.discard()
        return self.summary

    def _writer(self, path: str) -> Any:
        encoder = self.encoder
        return JsonlWriter(path) if isinstance(encoder, LineEncoder) else TableWriter(path,
                                                                                    encoder)

    # -- budgets

    def _apply_budgets(self, written_file: Any, candidates_file: Any, out: Any,
                       errors: Any) -> None:
        """Each budget in declared order over the whole book's candidates, each seeing the
        decisions as the budgets before it left them; then each chunk's written rows and its
        candidates, with every override, are merged and written."""
        allocations = self.summary.budgets
        for index, budget in enumerate(self.budgets):
            candidates = Candidates()
            for row in itertools.chain.from_iterable(_spilled(candidates_file)):
                applied = _applied(allocations, row[ROW])
                if applied:  # changed by an earlier budget: evaluate again
                    among, total, rank, _ = self.overrides.revalued(row, applied, index)
                else:
                    among, total, rank, _ = row[BUDGETS][index]
                if among is True:
                    candidates.add(row[ROW], rank, total)
            limit = self.ruleset.budget_limit(budget, self.as_of)
            allocations.append(allocate(budget.name.name, limit, budget.descending, candidates,
                                        budget.stops_when_full))
            del candidates
        # A candidate refused for a value its column cannot hold goes to the errors after
        # the rows refused while deciding: its value is known only once the budgets applied.
        for written, rows in zip(_spilled(written_file), _spilled(candidates_file), strict=True):
            records = {}
            for row in rows:
                applied = _applied(allocations, row[ROW])
                records[row[ROW]] = self.overrides.record(row, applied) if applied \
                    else row[RECORD]
            encoded, unfit = self.encoder.encode(list(records.items()))
            out.write_encoded(written.merged(encoded))
            for number, problem in unfit:
                errors.write(_refused_record(_refused_unfit(self.summary, records[number],
                                                            problem)))


class Overrides:
    """What the budgets that overrode a decided row make of it (LANGUAGE.md §8): the same in
    this process and on a Spark executor."""

    def __init__(self, ruleset: Ruleset, as_of: datetime.date, records: Records,
                 summary: Summary) -> None:
        self.ruleset, self.as_of, self.records, self.summary = ruleset, as_of, records, summary
        self.budgets = ruleset.budgets
        # Per budget: the outputs its `else` sets, and the reasons it gives.
        self.targets = [[a.output.name for a in budget.otherwise if isinstance(a, ast.SetAction)]
                        for budget in self.budgets]
        self.codes = [[a.code.name for a in budget.otherwise if isinstance(a, ast.ReasonAction)]
                      for budget in self.budgets]

    def record(self, row: Decided, applied: dict[int, tuple]) -> bytes | dict[str, Any]:
        """The record of a row that budgets overrode: their `else` outputs, the reasons owed
        only to overridden outputs withdrawn, each budget's reason last, and (traced) a note
        of which budget, the row's rank and the running total."""
        outputs = self.outputs(row, applied)
        order = sorted(applied)
        changed = {name for index in order for name in self.targets[index]}
        codes = [code for code, owed in row[REASONS]
                 if not all(givers and givers <= changed for givers in owed)]
        for index in order:
            codes += self.codes[index]
        codes = list(dict.fromkeys(codes))
        self.summary.recount(row[OUTPUTS], [code for code, _ in row[REASONS]], outputs, codes)
        self.summary.take_uses(rule for rule, given in row[USES] or () if given <= changed)
        trace = None if row[TRACE] is None else row[TRACE] + [
            self._note(index, *applied[index]) for index in order]
        return self.records.record(row[ROW], row[ID], outputs, codes, trace)

    def _note(self, index: int, position: int, rank: Any, running: Any) -> dict[str, str]:
        """The trace's note of a budget that overrode a row."""
        budget = self.budgets[index]
        room = ("left no room for this decision or an earlier one, and the budget stops when "
                "full" if budget.stops_when_full else "left no room for this decision")
        return {"event": "note", "message": (
            f"budget `{budget.name.name}`: ranked {position} (rank {_shown(rank)}); the "
            f"running total {_shown(running)} {room}, so its `else` actions apply")}

    def revalued(self, row: Decided, applied: dict[int, tuple], index: int) -> tuple:
        """The budget values of a row that earlier budgets overrode, on its changed outputs."""
        outputs = self.outputs(row, applied)
        outcome = self.ruleset.reference_outcome(self.ruleset.facts_of(row[FIELDS] or ()),
                                                 self.as_of)
        return self.ruleset.budget_values({**outcome.values, **outputs}, self.as_of)[index]

    def outputs(self, row: Decided, applied: dict[int, tuple]) -> dict[str, Any]:
        """The row's outputs after the `else` actions of the budgets that overrode it, in
        order; each budget's values are those of the decision as the budgets before it left
        it."""
        outputs = dict(row[OUTPUTS])
        for index in sorted(applied):
            earlier = {i: entry for i, entry in applied.items() if i < index}
            values = (self.revalued(row, earlier, index) if earlier else row[BUDGETS][index])[3]
            outputs.update(zip(self.targets[index], values, strict=True))
        return outputs


def _applied(allocations: list[Allocation], row: int) -> dict[int, tuple]:
    """The budgets (by index) that overrode ``row``, with where it stood in each."""
    return {index: allocation.overridden[row] for index, allocation in enumerate(allocations)
            if row in allocation.overridden}


def _shown(value: Any) -> str:
    value = normalize(value)
    return "missing" if value is None else str(value)


def _summary_file(path: str, document: dict[str, Any]) -> AtomicFile:
    file = AtomicFile(path)
    with open(file.temporary, "w", encoding="utf-8") as stream:
        stream.write(json_text(document))
    return file


def _refused_record(row: Refused) -> dict[str, Any]:
    number, identity, kind, problems = row
    record: dict[str, Any] = {"row": number}
    if identity is not None:
        record["id"] = identity
    record |= {"kind": kind, "problems": problems}
    return record


def _spilled(spill: Any) -> Iterator[Any]:
    """What each chunk spilled so far, in order."""
    spill.flush()
    spill.seek(0)
    while True:
        try:
            yield pickle.load(spill)  # our own temporary file, written by this run
        except EOFError:
            return


def record_encoder(ruleset: Ruleset, options: BatchOptions) -> LineEncoder | TableCells:
    """How the decided rows are written in OUT's format."""
    kind = format_of(options.out)
    if kind == "jsonl":
        return LineEncoder()
    program = ruleset.check.program
    return TableCells(kind, cell_columns(program), options.id_field is not None,
                      OFFERS_OUTPUT in program.output_types, options.csv_neutralise,
                      options.scale)


def _refused_unfit(summary: Summary, record: dict[str, Any], problem: Unfit) -> Refused:
    """A decided row whose values its columns cannot hold: refused, and counted so."""
    summary.count_decision(record["decision"], record["reasons"], -1)
    summary.errors += 1
    return record["row"], record["id"], "decimal", [str(problem)]


def _numbered_parts(source: Iterable[Any], size: int) -> Iterator[list[tuple[int, Any]]]:
    part: list[tuple[int, Any]] = []
    for number, facts in enumerate(source, start=1):
        part.append((number, facts))
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)
