"""Property: a chunk of Arrow columns (Parquet, CSV, a Spark batch) read column by column gives
exactly what reading it row by row gives: the same records, refusals with the same problems,
the same counts. Columns are drawn for the repository rulesets' fields in every Arrow type a
book may use for them, right and wrong, with nulls, missing columns and unknown ones."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import engine
from engine.check import types as t
from engine.portfolio.formats import Chunk, column_values
from engine.portfolio.runner import BatchOptions, ChunkDecider
from tests.helpers import ROOT
from tests.run.test_facts_fast_path import value

RULESETS = sorted(ROOT.joinpath("rulesets").glob("*.rules"))
AS_OF = datetime.date(2026, 12, 15)

NUMBER_TEXTS = st.sampled_from(["12.50", " 7 ", "-0", "1e3", "1E+40", "abc", "1_000", "٣", "",
                                "0.000001", "99999999999999999999999999999999999"])


@st.composite
def decimal_column(draw, rows: int, widest: int, largest_scale: int, nulls: bool) -> pa.Array:
    # The widths around the 34 digits facts may have come up often.
    precision = draw(st.integers(1, widest) | st.sampled_from(sorted({min(widest, 34), widest})))
    scale = draw(st.integers(0, min(precision, largest_scale)))
    largest = 10**precision - 1
    number = st.integers(-largest, largest) | st.sampled_from([largest, -largest])
    numbers = draw(st.lists(st.none() | number if nulls else number, min_size=rows,
                            max_size=rows))
    values = [None if n is None else Decimal(f"{n}E{-scale}") for n in numbers]
    return pa.array(values, pa.decimal128(precision, scale))


def column(draw, symbols: Any, type_: t.Type, rows: int, fit: bool, optional: bool
           ) -> pa.Array:
    """A column for a field of ``type_``: of a fitting Arrow type with valid values when
    ``fit`` (so that whole rows are valid and decided), else anything."""
    null = (0.2 if optional else 0) if fit else 0.3

    def cells(strategy: st.SearchStrategy) -> list:
        return [None if draw(st.floats(0, 1)) < null else draw(strategy) for _ in range(rows)]

    def kind(fitting: list[str], wild: list[str]) -> str:
        return draw(st.sampled_from(fitting if fit else fitting + wild))

    if type_ in (t.INTEGER, t.NUMBER, t.MONEY):
        chosen = kind(["int", "decimal", "text"], ["float", "bool", "huge"])
        if chosen == "decimal":
            return draw(decimal_column(rows, 30 if fit else 38,
                                       0 if fit and type_ == t.INTEGER else 12, null > 0))
        if chosen in ("int", "huge"):
            numbers = st.integers(-10_000, 10_000) if chosen == "int" else st.integers(
                -2**63, 2**63 - 1)
            return pa.array(cells(numbers), pa.int64())
        if chosen == "float":
            return pa.array(cells(st.floats(allow_nan=True, allow_infinity=True)), pa.float64())
        if chosen == "bool":
            return pa.array(cells(st.booleans()), pa.bool_())
        texts = st.sampled_from(["12", " 7 ", "-0", "1e3"] + (
            [] if type_ == t.INTEGER else ["250.50"])) if fit else NUMBER_TEXTS
        return pa.array(cells(texts), pa.string())
    if type_ == t.BOOLEAN:
        chosen = kind(["bool", "text"], ["int", "wrong text"])
        if chosen == "bool":
            return pa.array(cells(st.booleans()), pa.bool_())
        if chosen == "int":
            return pa.array(cells(st.integers(0, 2)), pa.int64())
        texts = ["true", " FALSE "] + (["x", "1"] if chosen == "wrong text" else [])
        return pa.array(cells(st.sampled_from(texts)), pa.string())
    if type_ == t.DATE:
        chosen = kind(["date", "text"], ["timestamp", "wrong text"])
        if chosen == "date":
            return pa.array(cells(st.dates()), pa.date32())
        if chosen == "timestamp":
            return pa.array(cells(st.datetimes()), pa.timestamp("us"))
        texts = ["2026-01-31", "1999-12-01"] + (
            ["2026-02-30", "x", "20260101"] if chosen == "wrong text" else [])
        return pa.array(cells(st.sampled_from(texts)), pa.string())
    if isinstance(type_, t.Enum):
        values = list(type_.values) + ([] if fit else ["bogus"])
        texts = pa.array(cells(st.sampled_from(values)), pa.string())
        chosen = kind(["string", "large", "dictionary"], [])
        return (texts if chosen == "string" else texts.cast(pa.large_string())
                if chosen == "large" else texts.dictionary_encode())
    if isinstance(type_, t.ListOf | t.Record):
        values = cells(value(symbols, type_))
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            assume(False)
    chosen = kind(["string", "large"], ["int"])
    if chosen == "int":
        return pa.array(cells(st.integers(-5, 5)), pa.int64())
    texts = pa.array(cells(st.text(max_size=6)), pa.string())
    return texts if chosen == "string" else texts.cast(pa.large_string())


class Fields:
    """A ruleset's symbols and fields, shown by its name in hypothesis' reports."""

    def __init__(self, ruleset: engine.Ruleset) -> None:
        self.symbols, self.fields, self.name = (ruleset.check.program.symbols,
                                                ruleset.compiled.fields, ruleset.name)

    def __repr__(self) -> str:
        return f"Fields({self.name})"


@st.composite
def book_batch(draw, of: Fields) -> pa.RecordBatch:
    """A batch of rows: all of fitting columns (with, at times, a column that names no field,
    which refuses the rows having a value there), all fitting but one wild column (so that
    whether that column's values are accepted decides), or all wild."""
    symbols, fields = of.symbols, of.fields
    rows = draw(st.integers(1, 25))
    mode = draw(st.sampled_from(["fit", "one wild", "wild"]))
    wild_one = draw(st.integers(0, len(fields) - 1)) if mode == "one wild" else None
    columns: dict[str, pa.Array] = {}
    for index, (block, name) in enumerate(fields):
        declaration = symbols.record_fields(block)[name]
        fit = mode == "fit" or mode == "one wild" and index != wild_one
        if not fit and draw(st.integers(0, 10)) == 0:
            continue  # no column for the field
        columns[f"{block}.{name}"] = column(draw, symbols,
                                            symbols.resolve_type(declaration.type), rows, fit,
                                            declaration.optional)
    if draw(st.integers(0, 3)) == 0:  # a column that is no field
        columns[f"{next(iter(symbols.facts))}.bogus"] = pa.array(
            draw(st.lists(st.none() | st.none() | st.integers(0, 9), min_size=rows,
                          max_size=rows)), pa.int64())
    if not columns:
        return pa.RecordBatch.from_pydict({"customer.nothing": pa.nulls(rows, pa.int64())})
    return pa.RecordBatch.from_pydict(columns)


def _id_field(ruleset: engine.Ruleset) -> str:
    block, name = ruleset.compiled.fields[0]
    return f"{block}.{name}"


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_a_chunk_read_by_columns_decides_as_read_by_rows(path: Path, tmp_path: Path) -> None:
    ruleset = engine.load(path)
    options = BatchOptions(out=str(tmp_path / "out.jsonl"), as_of=AS_OF,
                           id_field=_id_field(ruleset))
    decider = ChunkDecider(ruleset, AS_OF, options, keep_fields=True)

    @settings(deadline=None, max_examples=100,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(book_batch(Fields(ruleset)), st.integers(1, 5000))
    def check(batch: pa.RecordBatch, first: int) -> None:
        chunk = Chunk(first, batch=batch)
        by_columns = decider.rows_of(chunk)
        by_rows = decider.rows_one_by_one(chunk)
        assert repr(by_columns.decided) == repr(by_rows.decided)
        event(f"rows decided: {'some' if by_rows.decided else 'none'}")
        assert by_columns.refused == by_rows.refused
        assert by_columns.counters == by_rows.counters
        assert repr(by_columns.counts.state()) == repr(by_rows.counts.state())

    check()


def test_the_column_path_is_the_one_taken_for_a_clean_book(tmp_path: Path) -> None:
    """Valid facts are read by columns: no facts object is made for any row."""
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    decider = ChunkDecider(ruleset, AS_OF, BatchOptions(out=str(tmp_path / "o.jsonl")), False)
    batch = pa.RecordBatch.from_pylist([{
        "customer.segment": "retail", "customer.product": "card",
        "customer.current_limit": Decimal("5000.00"), "customer.balance": Decimal("4100.50"),
        "customer.months_on_book": 40, "customer.behavior_score": 790,
        "customer.score_drop_3m": 0, "customer.max_dpd_12m": 0, "customer.current_dpd": 0,
        "customer.monthly_income": Decimal("6000"), "customer.monthly_debt_payments": 300,
        "customer.other_lenders_credit": 0}] * 3)
    read = decider.reader.columns(Chunk(1, batch=batch), ruleset.compiled.fields,
                                  ruleset.column_checks, None)
    assert read is not None and read.refused == set()
    assert read.fields[0][:5] == (None, "retail", "card", Decimal("5000.00"),
                                  Decimal("4100.50"))
    result = decider.rows_of(Chunk(1, batch=batch))
    assert [row[0] for row in result.decided] == [1, 2, 3] and not result.refused


@pytest.mark.parametrize(("precision", "scale"), [(18, 2), (5, -2), (38, 0), (38, 10), (20, 3)])
def test_decimal_columns_read_by_their_integers_are_what_pyarrow_gives(
        precision: int, scale: int) -> None:
    largest = 10**precision - 1
    values = [Decimal(f"{n}E{-scale}") for n in (0, 1, -1, largest, -largest, 12345)]
    array = pa.array([*values, None], pa.decimal128(precision, scale))
    for part in (array, array.slice(2, 4)):
        assert [None if v is None else v.as_tuple() for v in column_values(part)] == \
            [None if v is None else v.as_tuple() for v in part.to_pylist()]


CLEAN_ROW = {
    "customer.segment": "retail", "customer.product": "card",
    "customer.current_limit": Decimal("5000.00"), "customer.balance": Decimal("4100.50"),
    "customer.months_on_book": 40, "customer.behavior_score": 790,
    "customer.score_drop_3m": 0, "customer.max_dpd_12m": 0, "customer.current_dpd": 0,
    "customer.monthly_income": Decimal("6000"), "customer.monthly_debt_payments": 300,
    "customer.other_lenders_credit": 0}


@pytest.mark.parametrize(("column", "array", "accepted"), [
    ("customer.balance", pa.array([Decimal("9" * 34)], pa.decimal128(34, 0)), True),
    ("customer.balance", pa.array([Decimal("9" * 35)], pa.decimal128(35, 0)), False),
    ("customer.balance", pa.array([Decimal("0." + "0" * 33 + "1")], pa.decimal128(34, 34)), True),
    ("customer.balance", pa.array([Decimal("1E+34")], pa.decimal128(30, -5)), False),
    ("customer.months_on_book", pa.array([Decimal("40.00")], pa.decimal128(10, 2)), True),
    ("customer.months_on_book", pa.array([Decimal("40.50")], pa.decimal128(10, 2)), False),
    ("customer.months_on_book", pa.array([2**63 - 1], pa.int64()), True),
    ("customer.months_on_book", pa.array([None], pa.int64()), False),
    ("customer.monthly_income", pa.array([None], pa.int64()), True),
    ("customer.segment", pa.array(["retail"]).dictionary_encode(), True),
    ("customer.segment", pa.array(["bogus"]).dictionary_encode(), False),
    ("customer.segment", pa.array(["retail"], pa.large_string()), True),
    ("customer.customer_id", pa.array(["C-1"]), True),
    ("customer.customer_id", pa.array([7]), False),
], ids=lambda value: str(getattr(value, "type", value)))
def test_columns_whose_arrow_type_vouches_for_them_read_as_checked_ones(
        column: str, array: pa.Array, accepted: bool, tmp_path: Path) -> None:
    """A column whose Arrow type alone shows its values valid is taken without checking each
    value: right at the edges of what facts may hold, and never beyond them."""
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    decider = ChunkDecider(ruleset, AS_OF, BatchOptions(out=str(tmp_path / "o.jsonl")), False)
    batch = pa.RecordBatch.from_pylist([CLEAN_ROW]).append_column(column, array) \
        if column not in CLEAN_ROW else pa.RecordBatch.from_pylist([CLEAN_ROW]).set_column(
            list(CLEAN_ROW).index(column), column, array)
    chunk = Chunk(1, batch=batch)
    by_columns = decider.rows_of(chunk)
    by_rows = decider.rows_one_by_one(chunk)
    assert repr(by_columns.decided) == repr(by_rows.decided)
    assert by_columns.refused == by_rows.refused
    assert bool(by_columns.decided) is accepted
