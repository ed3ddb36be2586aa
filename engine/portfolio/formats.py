"""Reading portfolios and writing their decisions: JSONL, CSV and Parquet, by file extension.

Reading is split in two so that the parsing runs in the worker processes: the main process cuts
the input into chunks of raw rows (JSONL lines, or Arrow record batches read by pyarrow), and
``RowReader.rows`` turns raw rows into facts in a worker. Numbers are never binary floats: CSV
cells are read as text and converted by the schema's types; JSON numbers become Decimals.
Writers write to a temporary file in the target folder; the run commits its outputs together
(``engine.portfolio.destinations``), so an output file appears complete or not at all.
"""

from __future__ import annotations

import csv
import datetime
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import IO, Any

import msgspec
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from engine.check import types as t
from engine.check.checker import CheckedProgram
from engine.check.symbols import OFFERS_OUTPUT, Symbols
from engine.exceptions import BookError, FactsJsonError
from engine.portfolio.destinations import AtomicFile
from engine.run.codegen.facts import DECIMALS
from engine.run.facts import DIGITS, parse_facts_json
from engine.run.runtime import normalize
from engine.syntax.source import escape_unprintable

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


class FormatError(BookError):
    """A usage error about a file: its format, its columns."""


def format_of(path: str) -> str:
    if path == "-":
        return "jsonl"
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise FormatError(f"{path}: unknown format; use .jsonl, .ndjson, .csv or .parquet "
                          "(or - for JSONL on standard input and output)")
    return found


# ----------------------------------------------------------------------------------- reading


@dataclass
class Chunk:
    """Raw rows: JSONL lines, or the rows of a record batch; ``first`` is the first row's
    1-based number, ``broken`` the CSV rows pyarrow could not split (number -> why, and the
    row's cells as far as they go, named by the header, so that its id can be told)."""

    first: int
    lines: list[bytes] | None = None
    batch: pa.RecordBatch | None = None
    broken: dict[int, tuple[str, dict[str, str]]] | None = None

    def __len__(self) -> int:
        if self.lines is not None:
            return len(self.lines)
        return self.batch.num_rows + len(self.broken or {})


def read_chunks(path: str, chunk_rows: int) -> Iterator[Chunk]:
    """The input in chunks of about ``chunk_rows`` rows, in order."""
    kind = format_of(path)
    if kind == "jsonl":
        yield from _jsonl_chunks(path, chunk_rows)
    elif kind == "csv":
        yield from _csv_chunks(path, chunk_rows)
    else:
        book = pq.ParquetFile(path)
        distinct_columns(book.schema_arrow.names, f"{path}: the Parquet file")
        first = 1
        for batch in book.iter_batches(batch_size=chunk_rows):
            yield Chunk(first, batch=batch)
            first += batch.num_rows


def _jsonl_chunks(path: str, chunk_rows: int) -> Iterator[Chunk]:
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    try:
        first, lines = 1, []
        for line in stream:
            if not line.strip():
                continue  # blank lines are not rows
            lines.append(line)
            if len(lines) == chunk_rows:
                yield Chunk(first, lines=lines)
                first, lines = first + len(lines), []
        if lines:
            yield Chunk(first, lines=lines)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _csv_chunks(path: str, chunk_rows: int) -> Iterator[Chunk]:
    yield from csv_chunks(path, csv_columns(path), chunk_rows)


def csv_chunks(source: Any, header: list[str], chunk_rows: int, first: int = 1) -> Iterator[Chunk]:
    """CSV (a path, or a pyarrow stream holding the header line and then rows) through
    pyarrow, every column as text, the first row numbered ``first``. ``header`` must be what
    ``csv_columns`` read from the same text. A row with the wrong number of cells is set aside
    with its number (pyarrow reports it while it parses the block holding it, before it hands
    that block over), and the run goes on. Empty lines are no rows."""
    pending: dict[int, str] = {}  # data row number -> why it could not be read

    def refuse(row: Any) -> str:
        # pyarrow numbers the rows from the header (1), empty lines left out.
        cells = next(csv.reader([row.text]), [])
        pending[first + row.number - 2] = (
            f"the row has {row.actual_columns} cells, the header {row.expected_columns}",
            {name: cell for name, cell in zip(header, cells, strict=False) if cell})
        return "skip"

    try:
        reader = pa_csv.open_csv(
            source, read_options=pa_csv.ReadOptions(use_threads=False, block_size=1 << 20),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=refuse),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as error:
        if _EMPTY in str(error):
            return  # the header line without a line break after it: no rows
        raise
    guessed = [f.name for f in reader.schema if not pa.types.is_string(f.type)]
    if reader.schema.names != header or guessed:
        # Never reached while ``header`` comes from ``csv_columns``: a column whose type
        # pyarrow guessed would read numbers through binary floats.
        raise FormatError(f"the CSV's columns {reader.schema.names} are not the header read "
                          f"before ({header})")
    number = first  # the next data row
    for batch in reader:
        for start in range(0, batch.num_rows, chunk_rows):
            part = batch.slice(start, chunk_rows)
            broken, chunk_first, valid = {}, number, part.num_rows
            while valid:
                if number in pending:
                    broken[number] = pending.pop(number)
                else:
                    valid -= 1
                number += 1
            yield Chunk(chunk_first, batch=part, broken=broken)
    if pending:  # broken rows after the last good one
        empty = pa.RecordBatch.from_pylist([], schema=pa.schema([(n, pa.string()) for n in header]))
        yield Chunk(number, batch=empty, broken=dict(sorted(pending.items())))


def csv_columns(source: str | bytes) -> list[str]:
    """The column names of CSV text (a path, or the bytes of its header line), read by pyarrow
    itself, so that they are the names pyarrow gives the columns when it reads the rows: a
    UTF-8 byte order mark and leading empty lines are skipped as pyarrow skips them. A name
    given twice is a FormatError."""
    stream = pa.BufferReader(source + b"\n") if isinstance(source, bytes) else source
    where = "" if isinstance(source, bytes) else f"{source}: "
    try:
        reader = pa_csv.open_csv(
            stream, read_options=pa_csv.ReadOptions(use_threads=False, block_size=1 << 20),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=lambda row: "skip"))
    except pa.ArrowInvalid as error:
        if _EMPTY in str(error):
            # pyarrow reads no header that is the whole file, without a line break after it.
            text = source if isinstance(source, bytes) else _start_of(source)
            if text.strip() and not isinstance(source, bytes):
                return csv_columns(text)
            raise FormatError(f"{where}the CSV has no header line") from None
        raise FormatError(f"{where}the CSV's header cannot be read: {error}") from None
    names = reader.schema.names
    reader.close()
    distinct_columns(names, f"{where}the CSV")
    return names


_EMPTY = "Empty CSV file"  # what pyarrow says of a file with no line break


def _start_of(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read(1 << 20)


def distinct_columns(names: list[str], what: str) -> None:
    """A FormatError when a column name is given twice: which cell would count is not clear."""
    repeated = [name for index, name in enumerate(names) if name in names[:index]]
    if repeated:
        places = [str(index + 1) for index, name in enumerate(names) if name == repeated[0]]
        raise FormatError(f"{what} names column `{escape_unprintable(repeated[0])}` more than "
                          f"once (columns {' and '.join(places)}); each field needs one column")


@dataclass
class Columns:
    """A chunk read column by column (``RowReader.columns``)."""

    fields: list[tuple[Any, ...]]  # per row; a refused row's are not to be used
    refused: set[int]  # offsets of the rows to read the slow way
    identities: list[str | None]


class RowReader:
    """Turns raw rows into facts for one ruleset: CSV and Parquet columns are `block.field`
    (or `field` when there is one facts block), CSV cells converted by the field's type."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols
        self.blocks = list(symbols.facts)
        self._plans: dict[pa.Schema, Any] = {}

    def rows(self, chunk: Chunk) -> Iterator[tuple[int, Any, str | None]]:
        """(row number, facts, None) or (row number, None, why the row cannot be read)."""
        if chunk.lines is not None:
            for offset, line in enumerate(chunk.lines):
                try:
                    text = line.decode("utf-8").rstrip("\r\n")
                    yield chunk.first + offset, parse_facts_json(text), None
                except UnicodeDecodeError:
                    yield chunk.first + offset, None, "the line is not UTF-8 text"
                except FactsJsonError as error:
                    column = f" (column {error.where.rsplit(':', 1)[1]})" if error.where else ""
                    yield chunk.first + offset, None, f"{error}{column}"
            return
        records = chunk.batch.to_pylist()
        broken = chunk.broken or {}
        plan = self._plan_of(chunk.batch.schema)
        number, index = chunk.first, 0
        while index < len(records) or number in broken:
            if number in broken:
                problem, cells = broken[number]
                yield number, self._record_facts(cells, plan)[0], problem
            else:
                facts, problem = self._record_facts(records[index], plan)
                yield number, facts, problem
                index += 1
            number += 1

    def columns(self, chunk: Chunk, fields: tuple[tuple[str, str], ...],
                checks: tuple[Callable[[list, set[int]], list], ...],
                id_field: str | None) -> Columns | None:
        """The rows of a chunk of Arrow columns read column by column, with no facts object
        per row: per row the values of ``fields`` as the ruleset's validation gives them (its
        ``column_checks``), and the rows those checks refused, which ``row_facts`` reads
        the slow way. None for a chunk to read row by row (JSONL, broken CSV rows, columns
        that do not name fields, an id path that is not a column)."""
        batch = chunk.batch
        if batch is None or chunk.broken:
            return None
        plan = self._plan_of(batch.schema)
        if isinstance(plan, str):
            return None
        read_values: dict[tuple[str, str], list[Any]] = {}
        arrow_types: dict[tuple[str, str], pa.DataType] = {}  # of the columns read as they are
        for column, block, field, read in plan:
            values = column_values(batch.column(column))
            if read is not None:
                values = [None if value is None else read(value) for value in values]
            else:
                arrow_types[block, field] = batch.schema.field(column).type
            read_values[block, field] = values
        rows = batch.num_rows
        identities: list[str | None] = [None] * rows
        if id_field is not None:
            block, _, field = id_field.partition(".")
            if "." in field or not field:
                return None
            identities = [identity_text(value) for value in read_values.get((block, field),
                                                                              identities)]
        refused: set[int] = set()
        for key, values in read_values.items():
            if key not in fields:  # not a field: a row with a value there is not valid facts
                refused.update(index for index, value in enumerate(values) if value is not None)
        missing = [None] * rows
        checked = []
        for key, check in zip(fields, checks, strict=True):
            values = read_values.get(key, missing)
            trusted = self._trusted(key, arrow_types.get(key), values, refused)
            checked.append(check(values, refused) if trusted is None else trusted)
        return Columns(list(zip(*checked, strict=True)) if checked else [()] * rows, refused,
                       identities)

    def _trusted(self, key: tuple[str, str], kind: pa.DataType | None, values: list[Any],
                 refused: set[int]) -> list[Any] | None:
        """A column's values as the facts checks would leave them, when its Arrow type alone
        shows that the checks accept every value in it but nulls (whose rows, for a required
        field, go in ``refused``); None when each value must be checked."""
        if kind is None:
            return None
        declaration = self.symbols.record_fields(key[0])[key[1]]
        type_ = self.symbols.resolve_type(declaration.type)
        if type_ in _NUMBERS and pa.types.is_integer(kind):
            # int64 and narrower: always within the 34 digits facts may have.
            trusted = [None if value is None else DECIMALS[value] for value in values]
        elif type_ in _NUMBERS and pa.types.is_decimal128(kind) and (
                kind.precision <= DIGITS and kind.precision - kind.scale <= DIGITS
                and kind.scale <= DIGITS and (type_ != t.INTEGER or kind.scale <= 0)):
            trusted = values  # exact, in range, and whole where they must be
        elif (type_ == t.BOOLEAN and pa.types.is_boolean(kind)
              or type_ == t.DATE and pa.types.is_date32(kind)
              or type_ == t.TEXT and _is_text(kind)  # Arrow text is UTF-8: no lone surrogate
              or isinstance(type_, t.Enum) and _is_text(kind)
              and set(values) - {None} <= set(type_.values)):
            trusted = values
        else:
            return None
        if not declaration.optional and None in values:
            refused.update(index for index, value in enumerate(values) if value is None)
        return trusted

    def row_facts(self, chunk: Chunk, offset: int) -> Any:
        """The facts of one row of a chunk of Arrow columns, as ``rows`` reads them."""
        plan = self._plan_of(chunk.batch.schema)
        return self._record_facts(chunk.batch.slice(offset, 1).to_pylist()[0], plan)[0]

    def _plan_of(self, schema: pa.Schema) -> list[tuple[str, str, str, Any]] | str:
        # Once a chunk: hashing an Arrow schema costs as much as reading a row.
        plan = self._plans.get(schema)
        if plan is None:
            plan = self._plans[schema] = self._plan(schema)
        return plan

    def _record_facts(self, record: dict[str, Any], plan: list | str) -> tuple[Any, str | None]:
        if isinstance(plan, str):
            return None, plan
        facts: dict[str, dict[str, Any]] = {block: {} for block in self.blocks}
        for column, block, field, read in plan:
            value = record.get(column)  # a broken row has only the cells it had
            if value is None:
                continue  # an empty cell is missing
            facts[block][field] = value if read is None else read(value)
        return facts, None

    def _plan(self, schema: pa.Schema) -> list[tuple[str, str, str, Any]] | str:
        """Per column: its facts block, field, and how to read a text cell by the field's type
        (None: the cell as it is, when the column is not text, or the field unknown or text;
        validation judges it)."""
        plan = []
        for column in schema.names:
            block, _, field = column.rpartition(".")
            if not block and len(self.blocks) == 1:
                block = self.blocks[0]
            if block not in self.blocks:
                return (f"column `{column}`: name columns `block.field`, with a facts block of "
                        f"the ruleset ({', '.join(self.blocks)})")
            declaration = self.symbols.record_fields(block).get(field)
            kind = schema.field(column).type
            type_ = None if declaration is None else self.symbols.resolve_type(declaration.type)
            if type_ in _NUMBERS and (pa.types.is_float16(kind) or pa.types.is_float32(kind)):
                raise FormatError(
                    f"column `{escape_unprintable(column)}` holds {kind.bit_width}-bit floats, "
                    f"which cannot "
                    f"say a {type_.describe()} such as 0.1 exactly: write it as decimals, text "
                    "or 64-bit floats")
            read = _TEXT_READERS.get(type_) if _is_text(kind) else None
            plan.append((column, block, field, read))
        return plan


def column_values(column: pa.Array) -> list[Any]:
    """The values of an Arrow column as ``to_pylist`` gives them. A decimal column is read by
    its unscaled integers: pyarrow makes each Decimal through its text, at 0.6 µs a value."""
    kind = column.type
    if not pa.types.is_decimal128(kind):
        return column.to_pylist()
    import numpy as np  # here: 60 ms to import, and only a decimal column needs it

    start, count = column.offset, len(column)
    words = np.frombuffer(column.buffers()[1], dtype="<i8", count=2 * (start + count))
    low = words[2 * start::2]
    if kind.precision <= 18:  # the low word, signed, is the whole integer
        unscaled = low.tolist()
    else:
        high = words[2 * start + 1::2].tolist()
        unscaled = [(upper << 64) + (lower & _LOW_WORD)
                    for upper, lower in zip(high, low.tolist(), strict=True)]
    exponent = -kind.scale
    values = [Decimal(number).scaleb(exponent, _EXACT) for number in unscaled]  # never rounds
    if column.null_count:
        for index, null in enumerate(column.is_null().to_pylist()):
            if null:
                values[index] = None
    return values


_LOW_WORD = (1 << 64) - 1


def _is_text(kind: pa.DataType) -> bool:
    """Whether a column holds text, however Arrow stores it."""
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_string_view(kind))


# A CSV cell by its field's type: numbers exactly from their text, booleans from `true`/`false`;
# anything else, or a cell that does not read, stays text for validation to judge (and report).

# A number as a CSV cell writes it: ASCII digits only (Python's Decimal would also take `1_000`,
# Arabic-Indic or full-width digits), an optional sign, point and exponent.
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text: str) -> Any:
    stripped = text.strip()
    if _NUMBER_TEXT.fullmatch(stripped) is None:
        return text
    try:
        return Decimal(stripped)
    except InvalidOperation:  # an exponent too large for Decimal
        return text


def _integer(text: str) -> Any:
    number = _number(text)
    if isinstance(number, Decimal) and number.is_finite() and (
            number == number.to_integral_value()):
        return int(number) if abs(number) < 10**34 else number
    return number


def _boolean(text: str) -> Any:
    return {"true": True, "false": False}.get(text.strip().lower(), text)


_TEXT_READERS = {t.INTEGER: _integer, t.NUMBER: _number, t.MONEY: _number, t.BOOLEAN: _boolean}
_NUMBERS = (t.INTEGER, t.NUMBER, t.MONEY)


def value_of_path(facts: Any, path: str | None) -> str | None:
    """The value at a facts path such as `customer.customer_id`, as text, when there is one."""
    if path is None or not isinstance(facts, dict):
        return None
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return identity_text(value)


def identity_text(value: Any) -> str | None:
    """A row's id as text, from the value its id field holds."""
    if value is None or isinstance(value, dict | list):
        return None
    return str(normalize(value)) if isinstance(value, Decimal) else str(value)


# ----------------------------------------------------------------------------------- writing


@dataclass
class Encoded:
    """Decided rows as they are written, in row order: JSONL lines, or a record batch of CSV or
    Parquet cells (whose `row` column numbers them)."""

    rows: list[int]
    lines: list[bytes] | None = None
    batch: pa.RecordBatch | None = None

    def merged(self, other: Encoded) -> Encoded:
        """These rows and ``other``'s, in row order."""
        if not other.rows:
            return self
        if self.lines is not None:
            ordered = sorted(zip([*self.rows, *other.rows], [*self.lines, *other.lines],
                                 strict=True))
            return Encoded([row for row, _ in ordered], [line for _, line in ordered])
        table = pa.Table.from_batches([self.batch, other.batch]).sort_by("row")
        batch = table.combine_chunks().to_batches()[0]
        return Encoded(batch.column("row").to_pylist(), batch=batch)


class LineEncoder:
    """JSONL: a decided row's record is its line already."""

    def encode(self, records: list[tuple[int, bytes]]) -> tuple[Encoded, list[tuple[int, Unfit]]]:
        return Encoded([row for row, _ in records], [line for _, line in records]), []


class JsonlWriter:
    def __init__(self, path: str) -> None:
        self.file = AtomicFile(path)
        self.stream: IO[bytes] = (sys.stdout.buffer if path == "-"
                                  else open(self.file.temporary, "wb"))  # noqa: SIM115
        self.encoder = msgspec.json.Encoder(decimal_format="number")

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(self.encoder.encode(record) + b"\n")

    def write_encoded(self, encoded: Encoded) -> None:
        """Decided rows encoded already (in a worker)."""
        self.stream.write(b"".join(encoded.lines or ()))

    def close(self, complete: bool) -> None:
        """Finish writing; ``self.file`` is then committed or discarded."""
        if self.stream is sys.stdout.buffer:
            self.stream.flush()
            return
        self.stream.close()


PRECISION = 38  # the widest decimal of Parquet readers (Spark, DuckDB, pandas' Arrow types)
DEFAULT_SCALE = 18  # digits after the point of money and number columns, unless told
_EXACT = Context(prec=200)  # wide enough for any value the engine makes (34 digits, exponents ±1E6)


class Unfit(Exception):
    """A value that its decimal column cannot hold exactly."""


def decimal_cell(name: str, value: Any, scale: int) -> Decimal:
    """``value`` for a decimal(PRECISION, ``scale``) column, exactly; Unfit when it needs more
    digits after the point or more than PRECISION in all (it is never rounded)."""
    number = value if type(value) is Decimal else Decimal(value)
    # Below 10 ** (PRECISION - scale) in magnitude, a value fits when it is whole (most amounts:
    # the quick test) or when it is unchanged at ``scale`` digits after the point.
    if number.adjusted() < PRECISION - scale and (
            number == number.to_integral_value()
            or number == number.quantize(_quantum(scale), context=_EXACT)):
        return number
    raise Unfit(f"output `{name}` = {normalize(number)} does not fit a decimal("
                f"{PRECISION},{scale}) column; the value is exact and is not rounded "
                "(a smaller scale, or `round` in the ruleset, makes it fit)")


@cache
def _quantum(scale: int) -> Decimal:
    return Decimal(1).scaleb(-scale)


class TableCells:
    """The cells of decided rows in CSV or Parquet: a column per output, then `offers` (names)
    and `reasons` (codes).

    In CSV a number is its exact text. In Parquet money and number are decimal(38, ``scale``)
    columns and integers decimal(38, 0), so that a reader sums them without a cast; a value its
    column cannot hold exactly makes its row Unfit."""

    def __init__(self, kind: str, outputs: dict[str, t.Type], with_id: bool,
                 with_offers: bool, neutralise: bool = True, scale: int = DEFAULT_SCALE) -> None:
        self.kind, self.with_id, self.with_offers, self.scale = kind, with_id, with_offers, scale
        # Text cells of CSV that a spreadsheet would run as a formula (OWASP's rule); numbers
        # are ours and never are one.
        self.safe = neutralised if kind == "csv" and neutralise else _as_it_is
        fields = [pa.field("row", pa.int64())]
        if with_id:
            fields.append(pa.field("id", pa.string()))
        for name, type_ in outputs.items():
            fields.append(pa.field(name, self._arrow_type(type_)))
        if with_offers:
            fields.append(pa.field("offers", self._list_type()))
        fields.append(pa.field("reasons", self._list_type()))
        self.schema = pa.schema(fields)
        # How each output's value becomes its cell, decided once for the run; a record's field
        # (`terms.rate`, see ``cell_columns``) is read inside the output's value.
        self.cells = [(name.split(".")[0], tuple(name.split(".")[1:]),
                       self._cell_function(name, type_)) for name, type_ in outputs.items()]

    def encode(self, records: list[tuple[int, dict[str, Any]]]
               ) -> tuple[Encoded, list[tuple[int, Unfit]]]:
        """The rows of ``records`` (row, record: row, id, the outputs' values, offers' names
        and reason codes), and the rows left out as Unfit."""
        rows, numbers, unfit = [], [], []
        for number, record in records:
            try:
                rows.append(self.row(record))
            except Unfit as problem:
                unfit.append((number, problem))
            else:
                numbers.append(number)
        columns = zip(*rows, strict=True) if rows else ([] for _ in self.schema)
        arrays = [pa.array(list(column), field.type)
                  for column, field in zip(columns, self.schema, strict=True)]
        return Encoded(numbers, batch=pa.RecordBatch.from_arrays(arrays, schema=self.schema)
                       ), unfit

    def row(self, record: dict[str, Any]) -> list[Any]:
        """A record's cells, in the columns' order; Unfit for a value its column cannot hold."""
        safe = self.safe
        decision = record["decision"]
        cells = [record["row"]]
        if self.with_id:
            cells.append(safe(record.get("id")))
        cells += [cell(decision.get(name) if not inside else _inside(decision.get(name), inside))
                  for name, inside, cell in self.cells]
        if self.with_offers:
            cells.append(safe(self._names(record["offers"])))
        cells.append(safe(self._names(record["reasons"])))
        return cells

    def _list_type(self) -> pa.DataType:
        return pa.string() if self.kind == "csv" else pa.list_(pa.string())

    def _arrow_type(self, type_: t.Type) -> pa.DataType:
        if type_ == t.BOOLEAN:
            return pa.bool_()
        if type_ == t.DATE:
            return pa.date32()
        if isinstance(type_, t.ListOf):
            return self._list_type()
        if self.kind == "parquet" and type_ in _NUMBERS:
            return pa.decimal128(PRECISION, 0 if type_ == t.INTEGER else self.scale)
        return pa.string()  # texts, and CSV's numbers as their exact text

    def _names(self, names: list[str]) -> Any:
        return ";".join(names) if self.kind == "csv" else list(names)

    def _cell_function(self, name: str, type_: t.Type) -> Callable[[Any], Any]:
        """The function from an output's value (None: missing) to its cell."""
        if type_ in (t.BOOLEAN, t.DATE):
            return _as_it_is
        if self.kind == "parquet" and type_ in _NUMBERS:
            scale = 0 if type_ == t.INTEGER else self.scale
            return lambda value: None if value is None else decimal_cell(name, value, scale)
        safe, csv = (_as_it_is if type_ in _NUMBERS else self.safe), self.kind == "csv"
        if isinstance(type_, t.ListOf):
            def listed(value: Any) -> Any:
                if value is None:
                    return None
                texts = [text_of(item) for item in value]
                return safe(";".join(texts)) if csv else texts
            return listed
        return lambda value: None if value is None else safe(text_of(value))


class TableWriter:
    """A CSV or Parquet file of ``TableCells``' batches, written in groups of exactly
    ``GROUP`` rows (a Parquet row group each): the file is the same whatever batches made it."""

    GROUP = 10_000

    def __init__(self, path: str, cells: TableCells) -> None:
        self.kind, self.schema = cells.kind, cells.schema
        self.file = AtomicFile(path)
        self.pending: list[pa.RecordBatch] = []
        self.held = 0  # rows pending
        self.writer: Any = None

    def write_encoded(self, encoded: Encoded) -> None:
        self.pending.append(encoded.batch)
        self.held += encoded.batch.num_rows
        while self.held >= self.GROUP:
            self._flush(self.GROUP)

    def _flush(self, rows: int) -> None:
        held = pa.Table.from_batches(self.pending, schema=self.schema)
        self.pending = held.slice(rows).combine_chunks().to_batches()
        self.held = held.num_rows - rows
        if self.writer is None:
            self.writer = (pa_csv.CSVWriter(self.file.temporary, self.schema)
                           if self.kind == "csv" else pq.ParquetWriter(self.file.temporary,
                                                                        self.schema))
        self.writer.write_table(held.slice(0, rows).combine_chunks())

    def close(self, complete: bool) -> None:
        """Finish writing (the rows still held, when ``complete``); ``self.file`` is then
        committed or discarded."""
        if complete and (self.held or self.writer is None):  # a file of no rows has columns
            self._flush(self.held)
        if self.writer is not None:
            self.writer.close()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: Any) -> Any:
    """A CSV text cell that a spreadsheet would read as a formula (it starts with `=`, `+`,
    `-`, `@`, a tab or a carriage return) with a `'` before it, which spreadsheets show as
    text; any other cell as it is."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def _as_it_is(cell: Any) -> Any:
    return cell


def text_of(value: Any) -> str:
    """A value as the text a CSV or Parquet cell holds."""
    value = normalize(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a record: an element of a list of rows
        return "{" + ", ".join(f"{key}: {text_of(item)}" for key, item in value.items()) + "}"
    return str(value)


def _inside(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def cell_columns(program: CheckedProgram) -> dict[str, t.Type]:
    """The columns of decided rows in CSV and Parquet: an output each, and a record output (a
    table with several results, published) a column per field, `terms.rate`."""
    symbols = program.symbols

    def columns(name: str, type_: t.Type, depth: int = 0) -> dict[str, t.Type]:
        if isinstance(type_, t.Record) and depth < 4:
            return {column: found for field, field_type in symbols.field_types(type_.name).items()
                    for column, found in columns(f"{name}.{field}", field_type, depth + 1).items()}
        return {name: type_}

    found: dict[str, t.Type] = {}
    for name, type_ in program.output_types.items():
        if name != OFFERS_OUTPUT:
            found |= columns(name, type_)
    return found
