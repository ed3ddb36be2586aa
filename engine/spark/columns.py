"""The columns of a Spark run: decisions as Arrow record batches, exact, and sortable rank keys.

Outputs become one column each: money and number as Spark decimals (38 digits, ``scale`` of them
after the point), integers as decimals without fraction, dates, booleans, texts, and lists as
arrays of their values' text (as in `tenet batch` Parquet output). A value that a column cannot
hold exactly is never rounded: the row becomes an error that says which output and why.

Budgets are allocated in `rank by` order, and Spark sorts: a rank (a number or a date) travels as
a byte string whose unsigned order is the rank's order, for any Decimal, however long.
"""

from __future__ import annotations

import datetime
import struct
from decimal import Decimal
from typing import Any

import pyarrow as pa

from engine.check.symbols import OFFERS_OUTPUT
from engine.portfolio.formats import (  # noqa: F401 (Unfit: raised by cells)
    DEFAULT_SCALE,
    TableCells,
    Unfit,
    cell_columns,
)
from engine.ruleset import Ruleset

# Internal columns, dropped before the decisions are handed over.
FILE, BLOCK, LOCAL = "__tenet_file", "__tenet_block", "__tenet_local"
STATE, SUMMARY = "__tenet_state", "__tenet_summary"
ERROR_KIND, ERROR_PROBLEMS = "__tenet_error_kind", "__tenet_error_problems"
DIGEST = "ruleset_digest"


def among(index: int) -> str:
    return f"__tenet_among_{index}"


def rank(index: int) -> str:
    return f"__tenet_rank_{index}"


def total(index: int) -> str:
    return f"__tenet_total_{index}"


class Layout:
    """The record batches a Spark run's tasks write, for one ruleset: the decision columns of
    `tenet batch`'s Parquet output (``TableCells``), and the run's own."""

    def __init__(self, ruleset: Ruleset, with_id: bool, scale: int = DEFAULT_SCALE) -> None:
        output_types = ruleset.check.program.output_types
        self.with_id = with_id
        self.budgets = len(ruleset.budgets)
        self.digest = ruleset.info.digest
        self.table = TableCells("parquet", cell_columns(ruleset.check.program), with_id,
                                OFFERS_OUTPUT in output_types,
                                neutralise=False, scale=scale)
        # A decided row's cells: its place in its group (LOCAL) first, as `row` is in OUT.
        self.decided_names = [LOCAL, *self.table.schema.names[1:]]
        names = pa.list_(pa.string())
        # `row` is numbered once every task has counted its rows; until then a row is known by
        # its place in its group (a file split, or a partition): FILE, BLOCK, LOCAL.
        fields = [pa.field("row", pa.int64()), pa.field(FILE, pa.string()),
                  pa.field(BLOCK, pa.int64()), pa.field(LOCAL, pa.int64()),
                  *list(self.table.schema)[1:], pa.field(ERROR_KIND, pa.string()),
                  pa.field(ERROR_PROBLEMS, names), pa.field(DIGEST, pa.string()),
                  pa.field(STATE, pa.binary())]
        for index in range(self.budgets):
            fields += [pa.field(among(index), pa.bool_()), pa.field(rank(index), pa.binary()),
                       pa.field(total(index), pa.string())]
        fields.append(pa.field(SUMMARY, pa.binary()))
        self.schema = pa.schema(fields)
        self.decision_columns = ["row", *self.table.schema.names[1:], DIGEST]

    def cells(self, record: dict[str, Any]) -> dict[str, Any]:
        """The output columns of a decided row's record (see ``engine.portfolio.runner``);
        raises Unfit for a value its column cannot hold exactly."""
        return dict(zip(self.decided_names[1:], self.table.row(record)[1:], strict=True))

    def batch(self, rows: list[dict[str, Any]], decided: list[list[Any]] = (),
              common: dict[str, Any] | None = None) -> pa.RecordBatch:
        """A record batch of the ``decided`` rows, given as ``TableCells`` rows (with their
        place in their group first) whose other columns are ``common``, then of ``rows``
        (column -> value; absent columns are null)."""
        columns = dict(zip(self.decided_names, map(list, zip(*decided, strict=True)),
                           strict=True)) if decided else {}
        common = common or {}
        for name in self.schema.names:
            columns.setdefault(name, [common.get(name)] * len(decided))
            columns[name] += [row.get(name) for row in rows]
        return pa.RecordBatch.from_arrays(
            [pa.array(columns[field.name], type=field.type) for field in self.schema],
            schema=self.schema)


def rank_key(value: Any) -> bytes | None:
    """A byte string whose unsigned order is the order of ranks (numbers, or dates)."""
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return b"\x03" + struct.pack(">I", value.toordinal())
    number = Decimal(value)
    if not number:
        return b"\x01"  # zero: after every negative number, before every positive one
    sign, digits, exponent = number.as_tuple()
    while len(digits) > 1 and digits[-1] == 0:  # the same number, written one way
        digits, exponent = digits[:-1], exponent + 1
    magnitude = exponent + len(digits) - 1 + 2**31  # the scientific exponent, made unsigned
    if not sign:
        return b"\x02" + struct.pack(">I", magnitude) + bytes(0x30 + d for d in digits)
    # Negative: larger magnitudes sort first, and a shorter digit string (-1.2 against -1.23)
    # last, which the closing 0xff gives after the inverted digits.
    return (b"\x00" + struct.pack(">I", 2**32 - 1 - magnitude)
            + bytes(0xFF - 0x30 - d for d in digits) + b"\xff")


def rank_of_key(key: bytes | None) -> Any:
    """The rank a ``rank_key`` was made of (a number as a Decimal, or a date)."""
    if key is None:
        return None
    kind, body = key[0], key[1:]
    if kind == 3:
        return datetime.date.fromordinal(struct.unpack(">I", body[:4])[0])
    if kind == 1:
        return Decimal(0)
    magnitude = struct.unpack(">I", body[:4])[0]
    if kind == 2:
        digits = tuple(b - 0x30 for b in body[4:])
        return Decimal((0, digits, magnitude - 2**31 - len(digits) + 1))
    digits = tuple(0xFF - 0x30 - b for b in body[4:-1])
    magnitude = 2**32 - 1 - magnitude
    return Decimal((1, digits, magnitude - 2**31 - len(digits) + 1))
