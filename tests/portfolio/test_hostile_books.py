"""Odd but ordinary books decide exactly, or are refused with a reason, on both engines.

Each case is a book a real user or tool writes (Excel's "CSV UTF-8" with a byte order mark, a
Parquet timestamp column for a date, a folder of Parquet files whose columns differ, a JSON
line with a carriage return inside it, a column named twice) run through `tenet batch` as a
user runs it, with `--engine local` and, where the case applies, `--engine spark` (local[2]).
Both must give the same decisions and errors; none may bend a decision with exit status 0.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import engine as engine_module
from tests.helpers import ENGINES, FIXTURES, run_book

RULES = FIXTURES / "hostile_books" / "book.rules"



def batch(engine: str, book: Path, tmp: Path, request: Any) -> tuple[int, list, list, str]:
    return run_book(engine, RULES, book, tmp, request)


def decided_rows(rows: list[dict]) -> list[tuple]:
    return [(row["row"], row["id"], row["action"], row["kept_limit"], row["reasons"])
            for row in rows]


HEADER = "c.id,c.limit,c.past_due,c.review_on,c.segment"
ROWS = ("a,1000000000000000.01,0,2026-12-15,retail\r\n"
        "b,99999999999999999999,,2026-11-30,business\r\n"
        "c,0.1,2,,retail\r\n")
EXACT = [(1, "a", "review", "1000000000000000.01", ["R01"]),
         (2, "b", "overdue", "99999999999999999999", ["R02"]),
         (3, "c", "freeze", "0.1", ["F01"])]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("start", [b"\xef\xbb\xbf", b"\n", b"\r\n\r\n"],
                         ids=["byte order mark", "a blank line", "two blank CRLF lines"])
def test_a_csv_whose_header_looks_odd_is_still_read_by_the_schema(
        engine: str, start: bytes, tmp_path: Path, request: Any) -> None:
    book = tmp_path / "book.csv"
    book.write_bytes(start + (HEADER + "\r\n" + ROWS).encode("utf-8"))
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert (code, decided_rows(decided), refused) == (0, EXACT, [])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("timestamp", [pa.timestamp("us"), pa.timestamp("us", tz="UTC"),
                                       pa.timestamp("s", tz="Europe/Berlin")],
                         ids=["naive", "UTC", "Berlin"])
def test_a_parquet_timestamp_for_a_date_field_is_refused_with_its_path(
        engine: str, timestamp: pa.DataType, tmp_path: Path, request: Any) -> None:
    book = tmp_path / "book.parquet"
    midnight = datetime.datetime(2026, 12, 15)
    pq.write_table(pa.table({
        "c.id": ["a", "b"], "c.limit": ["10", "20"], "c.segment": ["retail", "retail"],
        "c.review_on": pa.array([midnight, None], timestamp)}), book)
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert code == 1
    assert decided_rows(decided) == [(2, "b", "hold", "20", [])]
    [(row, kind, [problem])] = refused
    assert (row, kind) == (1, "facts")
    assert problem.startswith("c.review_on: expected a date (YYYY-MM-DD), got the timestamp "
                              "2026-12-1")
    assert problem.endswith(": a date field takes dates; convert the column to dates")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_carriage_return_inside_a_json_line_splits_no_row(
        engine: str, tmp_path: Path, request: Any) -> None:
    book = tmp_path / "book.jsonl"
    book.write_bytes(b'{"c": {"id": "a", "limit": 5,\r "segment": "retail"}}\n'
                     b'{"c": {"id": "b", "limit": 6, "segment": "retail", "past_due": 1}}\r\n'
                     b'not json\n'
                     b'{"c": {"id": "d", "limit": 7, "segment": "retail"}}\n')
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert code == 1
    assert decided_rows(decided) == [(1, "a", "hold", "5", []), (2, "b", "freeze", "6", ["F01"]),
                                     (4, "d", "hold", "7", [])]
    assert [(row, kind) for row, kind, _ in refused] == [(3, "unreadable")]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_column_named_twice_is_a_usage_error(engine: str, kind: str, tmp_path: Path,
                                               request: Any) -> None:
    book = tmp_path / f"book.{kind}"
    if kind == "csv":
        book.write_text("c.id,c.limit,c.segment,c.limit\na,1,retail,2\n", encoding="utf-8")
    else:
        table = pa.Table.from_arrays([pa.array(["a"]), pa.array(["1"]), pa.array(["retail"]),
                                      pa.array(["2"])],
                                     names=["c.id", "c.limit", "c.segment", "c.limit"])
        pq.write_table(table, book)
    code, _, _, output = batch(engine, book, tmp_path, request)
    assert code == 2
    assert "Traceback" not in output
    assert "`c.limit`" in output and ("more than once" in output or "twice" in output
                                      or "duplicate" in output.lower())


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ending", ["", "\n"], ids=["no final newline", "a final newline"])
def test_a_csv_with_only_its_header_is_an_empty_book(engine: str, ending: str, tmp_path: Path,
                                                      request: Any) -> None:
    book = tmp_path / "book.csv"
    book.write_text(HEADER + ending, encoding="utf-8")
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert (code, decided, refused) == (0, [], [])


def test_spark_refuses_a_parquet_folder_whose_files_have_different_columns(
        spark: Any, tmp_path: Path, request: Any) -> None:
    folder = tmp_path / "book"
    folder.mkdir()
    pq.write_table(pa.table({"c.id": ["a"], "c.limit": ["1"], "c.segment": ["retail"]}),
                   folder / "part-0.parquet")
    pq.write_table(pa.table({"c.id": ["b"], "c.limit": ["1"], "c.segment": ["retail"],
                             "c.past_due": pa.array([3], pa.int64())}),
                   folder / "part-1.parquet")
    code, _, _, output = batch("spark", folder, tmp_path, request)
    assert code == 2
    assert " ".join(output.split()) == (
        f"error: the Parquet files of the book disagree: {folder / 'part-0.parquet'} has no "
        f"`c.past_due`, {folder / 'part-1.parquet'} has `c.past_due` as int64; the files of "
        "one book must have the same columns")


def test_spark_reads_a_csv_folder_whose_first_file_is_empty(spark: Any, tmp_path: Path,
                                                            request: Any) -> None:
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "part-0.csv").write_text("", encoding="utf-8")
    (folder / "part-1.csv").write_bytes(b"\xef\xbb\xbf" + (HEADER + "\r\n" + ROWS).encode())
    (folder / "part-2.csv").write_text(HEADER + "\nd,5,,,retail\n", encoding="utf-8")
    code, decided, refused, printed = batch("spark", folder, tmp_path, request)
    assert (code, refused) == (0, []), printed
    assert decided_rows(decided) == [*EXACT, (4, "d", "hold", "5", [])]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lone_surrogate_refuses_its_row_only(engine: str, tmp_path: Path,
                                               request: Any) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text('{"c": {"id": "a\\ud800", "limit": 5, "segment": "retail"}}\n'
                    '{"c": {"id": "b", "limit": 6, "segment": "retail", "note": "\\udfffx"}}\n'
                    '{"c": {"id": "c\\ud83d\\ude00", "limit": 7, "segment": "retail"}}\n',
                    encoding="utf-8")
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert code == 1
    assert decided_rows(decided) == [(3, "c\U0001f600", "hold", "7", [])]
    assert refused == [
        (1, "unreadable", ["the text at `c.id` holds a lone surrogate (a `\\ud800`…`\\udfff` "
                           "escape without its pair), which is no character"]),
        (2, "unreadable", ["the text at `c.note` holds a lone surrogate (a `\\ud800`…`\\udfff` "
                           "escape without its pair), which is no character"])]


def test_spark_names_a_parquet_file_that_breaks_while_the_book_is_read(
        spark: Any, tmp_path: Path, request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.spark as spark_run

    folder = tmp_path / "book"
    folder.mkdir()
    for part in range(2):
        pq.write_table(pa.table({"c.id": [f"r{part}"] * 100, "c.limit": ["1"] * 100,
                                 "c.segment": ["retail"] * 100}), folder / f"part-{part}.parquet")
    read_book = spark_run.read_book

    def truncated_after_reading(session: Any, path: str) -> Any:
        found = read_book(session, path)
        broken = folder / "part-1.parquet"
        broken.write_bytes(broken.read_bytes()[:300])  # as another job rewrites it
        return found

    monkeypatch.setattr(spark_run, "read_book", truncated_after_reading)
    code, _, _, output = batch("spark", folder, tmp_path, request)
    assert code == 2
    assert " ".join(output.split()).startswith(
        f"error: Spark: Encountered error while reading file file://{folder}/part-1.parquet: "
        f"file:{folder}/part-1.parquet is not a Parquet file")


def test_spark_refuses_a_truncated_parquet_file_before_reading_the_book(
        tmp_path: Path, request: Any) -> None:
    book = tmp_path / "book.parquet"
    pq.write_table(pa.table({"c.id": ["a"] * 100, "c.limit": ["1"] * 100,
                             "c.segment": ["retail"] * 100}), book)
    book.write_bytes(book.read_bytes()[:-20])
    code, _, _, output = batch("spark", book, tmp_path, request)
    assert code == 2
    assert " ".join(output.split()).startswith(f"error: {book}: cannot be read as Parquet:")


class Py4JJavaError(Exception):
    """What pyspark raises when a Python worker fails (its text, shortened)."""


Py4JJavaError.__module__ = "py4j.protocol"


def test_an_executor_without_tenet_is_told_how_to_get_it() -> None:
    from engine.spark.driver import spark_failure

    error = Py4JJavaError(
        "An error occurred while calling o71.collectToPython.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage "
        "2.0 failed 4 times\n"
        "org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n"
        '  File "/usr/lib/spark/python/lib/pyspark.zip/pyspark/serializers.py", line 193, in '
        "_read_with_length\n"
        "ModuleNotFoundError: No module named 'engine'\n"
        "\tat org.apache.spark.api.python.BasePythonRunner$ReaderIterator.handlePythonException")
    assert spark_failure(error) == (
        "No module named 'engine': Tenet must be installed in the Python the executors run "
        "(pip install tenet there), and Spark pointed at it with PYSPARK_PYTHON or "
        "spark.pyspark.python")


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_numbers_are_ascii_digits_only(engine: str, tmp_path: Path, request: Any) -> None:
    book = tmp_path / "book.csv"
    book.write_text(f"{HEADER}\na,1_000,,,retail\nb,١٢٣,,,retail\nc,１２３,,,retail\n"
                    "d, 12.50 ,,,retail\ne,NaN,,,retail\nf,-1e3,,,retail\n", encoding="utf-8")
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert code == 1
    assert decided_rows(decided) == [(4, "d", "hold", "12.5", []), (6, "f", "hold", "0", [])]
    assert refused == [(1, "facts", ['c.limit: expected money, got "1_000"']),
                       (2, "facts", ['c.limit: expected money, got "١٢٣"']),
                       (3, "facts", ['c.limit: expected money, got "１２３"']),
                       (5, "facts", ['c.limit: expected money, got "NaN"'])]


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_text_in_any_arrow_encoding_is_read_by_the_schema(
        engine: str, tmp_path: Path, request: Any) -> None:
    book = tmp_path / "book.parquet"
    pq.write_table(pa.table({
        "c.id": ["a", "b"],
        "c.limit": pa.array(["0.10", "7"]).dictionary_encode(),
        "c.past_due": pa.array(["0", "3"], pa.large_string()),
        "c.segment": pa.array(["retail", "business"]).dictionary_encode()}), book)
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert (code, refused) == (0, [])
    assert decided_rows(decided) == [(1, "a", "hold", "0.1", []),
                                     (2, "b", "freeze", "7", ["F01"])]


def test_a_string_view_column_is_read_as_text(tmp_path: Path) -> None:
    from engine.portfolio.formats import Chunk, RowReader

    reader = RowReader(engine_module.load(RULES).check.program.symbols)
    batch_ = pa.record_batch({"c.id": pa.array(["a"], pa.string_view()),
                              "c.limit": pa.array(["12.30"], pa.string_view()),
                              "c.segment": pa.array(["retail"], pa.string_view())})
    [(number, facts, problem)] = list(reader.rows(Chunk(1, batch=batch_)))
    assert (number, problem) == (1, None)
    assert facts == {"c": {"id": "a", "limit": Decimal("12.30"), "segment": "retail"}}


@pytest.mark.parametrize("engine", ENGINES)
def test_float32_money_is_refused_rather_than_widened(engine: str, tmp_path: Path,
                                                      request: Any) -> None:
    book = tmp_path / "book.parquet"
    pq.write_table(pa.table({"c.id": ["a"], "c.limit": pa.array([0.1], pa.float32()),
                             "c.segment": ["retail"]}), book)
    code, _, _, output = batch(engine, book, tmp_path, request)
    assert code == 2
    assert ("column `c.limit` holds 32-bit floats, which cannot say a money such as 0.1 exactly: "
            "write it as decimals, text or 64-bit floats") in " ".join(output.split())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_csv_row_with_the_wrong_number_of_cells_keeps_its_id(engine: str, tmp_path: Path,
                                                                request: Any) -> None:
    book = tmp_path / "book.csv"
    book.write_text(f"{HEADER}\nx1,5,,,retail,extra\nx2,6\nx3,7,,,retail\n", encoding="utf-8")
    code, decided, refused, _ = batch(engine, book, tmp_path, request)
    assert code == 1
    assert decided_rows(decided) == [(3, "x3", "hold", "7", [])]
    assert refused == [(1, "unreadable", ["the row has 6 cells, the header 5"]),
                       (2, "unreadable", ["the row has 2 cells, the header 5"])]
    errors = tmp_path / ("errors" if engine == "spark" else "errors.jsonl")
    ids = ([row["id"] for row in pq.read_table(errors).to_pylist()] if engine == "spark" else
           [json.loads(line)["id"] for line in errors.read_text().splitlines()])
    assert sorted(ids) == ["x1", "x2"]
