"""Portfolio runs on Spark equal `tenet batch`: row for row, error for error, in the summary,
budgets included, whatever the partitioning; numbers exact; the ruleset's digest on every row.

One local[2] Spark session serves the module. Without pyspark the module is skipped, except in
CI (CI=true), where `.ci/run` installs the extra and a skip would hide a failure.
"""

from __future__ import annotations

import datetime
import json
import os
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.portfolio import BatchOptions, run_batch
from engine.portfolio.formats import text_of
from engine.portfolio.summary import json_text
from tests.helpers import FIXTURES, ROOT
from tests.strategies import facts_strategy

if os.environ.get("CI") != "true":
    pytest.importorskip("pyspark", reason="pip install 'tenet[spark]' to run the Spark tests")
    pytest.importorskip("pandas", reason="pip install 'tenet[spark]' to run the Spark tests")

from engine import spark as tenet_spark  # noqa: E402

BOOK_RULES = FIXTURES / "spark" / "book.rules"
LIMIT_REVIEW = ROOT / "rulesets" / "limit_review.rules"
DEMO_BOOK = ROOT / "rulesets" / "facts" / "book.csv"
AS_OF = datetime.date(2026, 12, 15)
SPLITS = {"default": None, "a few": "16k", "many": "2k"}  # spark.sql.files.maxPartitionBytes


@pytest.fixture
def split(spark: Any, request: Any) -> Any:
    """Files read in the given split size (so one file is read by several tasks)."""
    size = SPLITS[request.param]
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    if size is not None:
        spark.conf.set(key, size)
        spark.conf.set("spark.sql.files.openCostInBytes", "0")
    yield request.param
    spark.conf.set(key, before)
    spark.conf.unset("spark.sql.files.openCostInBytes")


# ------------------------------------------------------------------------------- helpers


def local_run(ruleset: Path, book: Path, tmp: Path, id_field: str | None = "c.id",
              as_of: datetime.date = AS_OF) -> tuple[list[dict], list[dict], dict]:
    out = tmp / "local.parquet"
    summary = run_batch(str(ruleset), str(book), BatchOptions(
        out=str(out), errors=str(tmp / "local.errors.jsonl"), as_of=as_of, jobs=1,
        id_field=id_field))
    errors = [json.loads(line) for line in (tmp / "local.errors.jsonl").read_text().splitlines()]
    return [_texts(row) for row in pq.read_table(out).to_pylist()], errors, summary.to_data()


def spark_run(ruleset: Path, book: Path, tmp: Path, id_field: str | None = "c.id",
              as_of: datetime.date = AS_OF) -> tuple[list[dict], list[dict], dict]:
    out, errors = tmp / "spark.parquet", tmp / "spark.errors.parquet"
    summary = tenet_spark.run_files(str(ruleset), str(book), str(out), str(errors), as_of,
                                    id_field)
    digest = engine.load(ruleset).info.digest
    return (as_local(read_folder(out), digest),
            [{key: value for key, value in row.items() if value is not None}
             for row in as_local(read_folder(errors), digest)], summary.to_data())


def read_folder(path: Path) -> list[dict]:
    return sorted(pq.read_table(path).to_pylist(), key=lambda row: row["row"])


def as_local(rows: list[dict], digest: str) -> list[dict]:
    """Spark rows as `tenet batch` writes Parquet, the decimals as exact texts to compare; the
    digest (which `tenet batch` writes once, in the summary of the run) checked and dropped."""
    local = []
    for row in rows:
        assert row.pop("ruleset_digest") == digest
        local.append(_texts(row))
    return local


def _texts(row: dict) -> dict:
    """A row with its decimals as their exact texts (both engines write decimal(38, 18))."""
    return {key: text_of(value) if isinstance(value, Decimal) else value
            for key, value in row.items()}


def assert_same(spark_result: tuple, local_result: tuple) -> None:
    spark_rows, spark_errors, spark_summary = spark_result
    local_rows, local_errors, local_summary = local_result
    # every input row exactly once: decided or refused
    numbers = sorted(row["row"] for row in [*spark_rows, *spark_errors])
    assert numbers == list(range(1, spark_summary["rows"] + 1))
    assert spark_rows == local_rows
    assert spark_errors == local_errors
    assert spark_summary == local_summary


# ------------------------------------------------------------------------------- books


def make_book(rows: int, seed: int) -> list[dict[str, Any]]:
    """A book for book.rules: ties and missing ranks, missing totals, conflicts (odd `base`),
    amounts with up to 6 decimals; about one row in twelve has a bad value."""
    rng = random.Random(seed)
    book = []
    for number in range(1, rows + 1):
        c: dict[str, Any] = {
            "id": f"r{number:05d}", "vip": rng.random() < 0.4, "base": rng.choice([0, 2, 4, 3]),
            "ask": rng.choice([None, Decimal(rng.randint(-100, 5_500_000)).scaleb(-rng.randint(0, 6)),
                               Decimal(rng.randint(100, 9000))]),
            "fee": rng.choice([None, Decimal(0), Decimal(rng.randint(0, 500))]),
            "score": rng.choice([None, Decimal(rng.randint(1, 5)) * 10,
                                 Decimal(rng.randint(0, 10**6)).scaleb(-3)]),
            "since": rng.choice([None, datetime.date(2000, 1, 1)
                                 + datetime.timedelta(days=rng.randint(0, 9000))]),
        }
        if rng.random() < 1 / 12:
            c[rng.choice(["ask", "score", "base"])] = rng.choice(["ten", "1,5", "NaN", "1e999"])
        book.append({"c": {k: v for k, v in c.items() if v is not None}})
    return book


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


COLUMNS = ["id", "ask", "fee", "score", "since", "vip", "base"]


def write_jsonl(book: list[dict], path: Path, broken: dict[int, str]) -> None:
    lines = [_json(row) for row in book]
    for index, line in sorted(broken.items()):
        lines.insert(index, line)
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")


def _json(row: dict) -> str:
    """JSON with numbers as numbers (exactly their text) and dates as texts."""
    parts = []
    for key, value in row["c"].items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, Decimal | int):
            text = str(value)
        else:
            text = json.dumps(str(value))
        parts.append(f'"{key}": {text}')
    return '{"c": {' + ", ".join(parts) + "}}"


def write_csv(book: list[dict], folder: Path, files: int, broken: dict[int, str]) -> list[Path]:
    """The book as ``files`` CSV files, each with the header, rows in book order; ``broken``
    lines inserted before the row of the given index."""
    lines = [",".join(cell(row["c"].get(name)) for name in COLUMNS) for row in book]
    for index, line in sorted(broken.items()):
        lines.insert(index, line)
    header = ",".join(f"c.{name}" for name in COLUMNS)
    size = -(-len(lines) // files)
    paths = []
    for part in range(files):
        path = folder / f"part-{part:03d}.csv"
        path.write_text("\n".join([header, *lines[part * size:(part + 1) * size]]) + "\n",
                        encoding="utf-8")
        paths.append(path)
    return paths


def write_parquet(book: list[dict], path: Path) -> None:
    """Typed columns where the values allow it: decimals, dates, booleans; `ask`, `score` and
    `base` as text, which may hold a bad value."""
    columns = {
        "c.id": pa.array([row["c"]["id"] for row in book]),
        "c.ask": pa.array([_maybe_text(row["c"].get("ask")) for row in book], pa.string()),
        "c.fee": pa.array([row["c"].get("fee") for row in book], pa.decimal128(20, 0)),
        "c.score": pa.array([_maybe_text(row["c"].get("score")) for row in book], pa.string()),
        "c.since": pa.array([row["c"].get("since") for row in book], pa.date32()),
        "c.vip": pa.array([row["c"]["vip"] for row in book], pa.bool_()),
        "c.base": pa.array([_maybe_text(row["c"].get("base")) for row in book], pa.string()),
    }
    pq.write_table(pa.table(columns), path, row_group_size=97)


def _maybe_text(value: Any) -> str | None:
    return None if value is None else str(value)


# ------------------------------------------------------------------------------- equality


@pytest.mark.parametrize("split", ["default", "many"], indirect=True)
def test_the_demo_portfolio_decides_as_tenet_batch_does(split: str, tmp_path: Path) -> None:
    local = local_run(LIMIT_REVIEW, DEMO_BOOK, tmp_path, "customer.customer_id")
    result = spark_run(LIMIT_REVIEW, DEMO_BOOK, tmp_path, "customer.customer_id")
    assert_same(result, local)
    assert len(result[0]) == 1000
    assert result[2]["budgets"]["increase_budget"]["overridden"] == 61


@pytest.mark.parametrize("split", ["default", "a few", "many"], indirect=True)
def test_a_generated_csv_book_in_three_files_with_budgets_bad_rows_and_conflicts(
        split: str, tmp_path: Path) -> None:
    book = make_book(1500, seed=len(split))
    broken = {7: "r-broken,1", 400: "r-long,1,2,3,4,5,6,7,8", 1499: "x"}
    folder = tmp_path / "book"
    folder.mkdir()
    paths = write_csv(book, folder, 3, broken)
    whole = tmp_path / "whole.csv"
    whole.write_text(paths[0].read_text() + "".join(
        p.read_text().split("\n", 1)[1] for p in paths[1:]))
    local = local_run(BOOK_RULES, whole, tmp_path)
    result = spark_run(BOOK_RULES, folder, tmp_path)
    assert_same(result, local)
    kinds = {error["kind"] for error in result[1]}
    assert kinds == {"unreadable", "facts", "conflict"}
    budgets = result[2]["budgets"]
    assert budgets["increases"]["overridden"] > 0 and budgets["seniority"]["overridden"] > 0


@pytest.mark.parametrize("split", ["default", "many"], indirect=True)
def test_a_generated_jsonl_book_with_unreadable_lines(split: str, tmp_path: Path) -> None:
    book = make_book(900, seed=11)
    path = tmp_path / "book.jsonl"
    write_jsonl(book, path, {0: "{not json", 300: '{"c": {"id": "dup", "id": "dup"}}',
                             500: "   "})
    assert_same(spark_run(BOOK_RULES, path, tmp_path), local_run(BOOK_RULES, path, tmp_path))


@pytest.mark.parametrize("split", ["default", "many"], indirect=True)
def test_a_generated_parquet_book_with_typed_and_text_columns(split: str, tmp_path: Path) -> None:
    path = tmp_path / "book.parquet"
    write_parquet(make_book(1200, seed=5), path)
    assert_same(spark_run(BOOK_RULES, path, tmp_path), local_run(BOOK_RULES, path, tmp_path))


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_a_dataframe_in_any_partitioning_decides_in_the_order_of_its_order_column(
        spark: Any, partitions: int, tmp_path: Path) -> None:
    path = tmp_path / "book.parquet"
    write_parquet(make_book(800, seed=3), path)
    local = local_run(BOOK_RULES, path, tmp_path)
    frame = spark.read.parquet(str(path))
    # a column that orders the book and is no facts field (it is left out of the facts)
    frame = frame.withColumn("seq", frame["`c.id`"]).repartition(partitions)
    result = tenet_spark.run(frame, BOOK_RULES, AS_OF, id_col="c.id", order_col="seq")
    rows = sorted((row.asDict(recursive=True) for row in result.decisions.collect()),
                  key=lambda row: row["row"])
    digest = engine.load(BOOK_RULES).info.digest
    decided = as_local([row for row in rows if row["error"] is None], digest)
    errors = [{"row": row["row"], "id": row["id"], **row["error"]}
              for row in rows if row["error"] is not None]
    assert [{k: v for k, v in row.items() if k != "error"} for row in decided] == local[0]
    assert errors == local[1]
    assert result.summary.to_data() == local[2]


@pytest.mark.parametrize("path", [*sorted(ROOT.joinpath("rulesets").glob("*.rules")),
                                  BOOK_RULES], ids=lambda path: path.stem)
def test_any_book_decides_on_spark_as_in_tenet_batch(spark: Any, path: Path,
                                                     tmp_path_factory: Any) -> None:
    """Random books of every ruleset's facts (lists, records, missing values, anything the
    schema allows), as JSONL: Spark equals `tenet batch`."""
    ruleset = engine.load(path)
    as_of = ruleset.window.start if ruleset.window else AS_OF
    encode = msgspec.json.Encoder(decimal_format="number").encode

    @settings(deadline=None, max_examples=3, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(facts_strategy(ruleset), min_size=1, max_size=40))
    def check(book: list[dict]) -> None:
        tmp = tmp_path_factory.mktemp("book")
        (tmp / "book.jsonl").write_bytes(b"".join(encode(facts) + b"\n" for facts in book))
        assert_same(spark_run(path, tmp / "book.jsonl", tmp, None, as_of),
                    local_run(path, tmp / "book.jsonl", tmp, None, as_of))

    check()


# ------------------------------------------------------------------------------- exactness


def test_decimals_survive_exactly_and_a_value_too_wide_is_that_rows_error(
        spark: Any, tmp_path: Path) -> None:
    asks = ["0.000000000000000001", "4999.999999999999999999", "12345678901234567.25",
            "0.0000000000000000001"]
    frame = spark.createDataFrame(pa.table({
        "c.id": [f"x{i}" for i in range(len(asks))],
        "c.ask": pa.array([Decimal(ask) for ask in asks], pa.decimal128(38, 19)),
        "c.fee": pa.array([0] * len(asks), pa.int64()), "c.vip": [False] * len(asks),
        "c.base": pa.array([0] * len(asks), pa.int64())}))
    rows = sorted(tenet_spark.decide(frame, BOOK_RULES, AS_OF, "c.id", "c.id").collect(),
                  key=lambda row: row["row"])
    assert [row["granted"] for row in rows[:2]] == [Decimal("1E-18"),
                                                    Decimal("4999.999999999999999999")]
    # capped at 5,000: the cap's bound is what is written
    assert rows[2]["granted"] == Decimal(5000) and rows[2]["reasons"] == ["UP", "CAP"]
    assert rows[3]["granted"] is None and rows[3]["error"]["kind"] == "decimal"
    assert rows[3]["error"]["problems"] == [
        "output `granted` = 1E-19 does not fit a decimal(38,18) column; the value is exact "
        "and is not rounded (a smaller scale, or `round` in the ruleset, makes it fit)"]
    digest = engine.load(BOOK_RULES).info.digest
    assert {row["ruleset_digest"] for row in rows} == {digest}


# ------------------------------------------------------------------------------- the command


def test_tenet_batch_engine_spark_writes_parquet_folders_and_the_summary(tmp_path: Path) -> None:
    """The command as a user runs it: its own Spark session (local[2]), the demo book."""
    import subprocess
    import sys

    out, summary = tmp_path / "decisions", tmp_path / "summary.json"
    command = [sys.executable, str(ROOT / "cli.py"), "batch", str(LIMIT_REVIEW), "--facts",
               str(DEMO_BOOK), "--out", str(out), "--as-of", "2026-12-15", "--id",
               "customer.customer_id", "--engine", "spark", "--master", "local[2]",
               "--summary", str(summary)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("Portfolio 1,000 rows: 1,000 decided → ")
    assert "WARN" not in done.stderr and "Traceback" not in done.stderr
    local = local_run(LIMIT_REVIEW, DEMO_BOOK, tmp_path, "customer.customer_id")
    digest = engine.load(LIMIT_REVIEW).info.digest
    assert as_local(read_folder(out), digest) == local[0]
    assert read_folder(tmp_path / "decisions.errors.parquet") == []
    written = json.loads(summary.read_text(), parse_float=Decimal)
    assert (written.pop("ruleset")["digest"], written.pop("as_of"), written.pop("book")) == (
        digest, "2026-12-15", str(DEMO_BOOK))
    assert written.pop("finished_at").endswith("+00:00")
    assert json_text(written) == json_text(local[2])
    # run again: Spark's own output folder is replaced
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0


def test_csv_files_of_one_book_must_share_their_header(spark: Any, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    folder.mkdir()
    write_csv(make_book(10, seed=1), folder, 2, {})
    second = folder / "part-001.csv"
    second.write_text(second.read_text().replace("c.score", "c.scores", 1))
    with pytest.raises(Exception) as raised:
        tenet_spark.run_files(str(BOOK_RULES), str(folder), str(tmp_path / "out"),
                              str(tmp_path / "errors"), AS_OF, None)
    from engine.spark.driver import spark_failure

    assert spark_failure(raised.value) == (
        f"file:{second}: its header `c.id,c.ask,c.fee,c.scores,c.since,c.vip,c.base` differs "
        "from the first file's `c.id,c.ask,c.fee,c.score,c.since,c.vip,c.base`; the CSV files "
        "of one book must have the same columns")


def test_an_output_folder_spark_did_not_write_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="is a folder that Spark did not write"):
        tenet_spark.run_files(str(BOOK_RULES), str(DEMO_BOOK), str(tmp_path / "mine"),
                              str(tmp_path / "errors"), AS_OF, None)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# ------------------------------------------------------------------------------- the API


def test_budgets_need_an_order_column_that_orders(spark: Any) -> None:
    frame = spark.createDataFrame(pa.table({"c.id": ["a", "b", "b"], "c.vip": [True] * 3,
                                            "c.base": pa.array([0] * 3, pa.int64())}))
    with pytest.raises(ValueError, match="has budgets, which rank ties by the book's order"):
        tenet_spark.decide(frame, BOOK_RULES, AS_OF)
    with pytest.raises(ValueError, match=r"`c.id` must be unique and never null, and it is "
                                         r"'b' in 2 rows"):
        tenet_spark.decide(frame, BOOK_RULES, AS_OF, order_col="c.id")
    with pytest.raises(ValueError, match="order_col: the DataFrame has no column `seq`"):
        tenet_spark.decide(frame, BOOK_RULES, AS_OF, order_col="seq")


def test_without_budgets_rows_are_numbered_in_partition_order(spark: Any) -> None:
    ruleset = engine.load(ROOT / "rulesets" / "cross_sell.rules")
    assert not ruleset.check.program.symbols.budgets
    frame = spark.createDataFrame(pa.table({"event.kind": ["login"] * 3})).coalesce(1)
    rows = tenet_spark.decide(frame, ruleset, AS_OF).orderBy("row").collect()
    assert [row["row"] for row in rows] == [1, 2, 3]
    assert [row["error"]["kind"] for row in rows] == ["facts"] * 3
    assert rows[0]["error"]["problems"][0].startswith("event.merchant_category: ")


def test_an_empty_book_gives_empty_folders_and_an_empty_summary(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(f"c.{name}" for name in COLUMNS) + "\n")
    result = spark_run(BOOK_RULES, path, tmp_path)
    assert result[:2] == ([], [])
    assert result == local_run(BOOK_RULES, path, tmp_path)
    assert result[2]["budgets"]["increases"] == {
        "when_full": "skip", "candidates": 0, "kept": 0, "overridden": 0, "asked": 0,
        "used": 0, "limit": 60000, "last_kept": None, "first_refused": None}


def test_a_spark_submit_job_decides_as_tenet_batch_does(tmp_path: Path) -> None:
    """docs/examples/spark_job.py, submitted as a cluster job would be (here to local[2])."""
    import subprocess
    import sys

    book = tmp_path / "book.parquet"
    pq.write_table(_demo_parquet(), book)
    local = local_run(LIMIT_REVIEW, book, tmp_path, "customer.customer_id")
    submit = Path(sys.executable).with_name("spark-submit")
    done = subprocess.run(
        [str(submit), "--master", "local[2]", "--conf", f"spark.pyspark.python={sys.executable}",
         str(ROOT / "docs" / "examples" / "spark_job.py"), str(LIMIT_REVIEW), str(book),
         str(tmp_path / "decisions"), "2026-12-15"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "1000 rows: 1000 decided, 0 errors"
    rows = read_folder(tmp_path / "decisions")
    digest = engine.load(LIMIT_REVIEW).info.digest
    assert [row.pop("error") for row in rows] == [None] * 1000
    assert as_local(rows, digest) == local[0]


def _demo_parquet() -> pa.Table:
    """The demo book as Parquet, every column as text (read by the schema, as CSV is), named
    `customer.field`."""
    import pyarrow.csv as pa_csv

    names = DEMO_BOOK.read_text().split("\n", 1)[0].split(",")
    table = pa_csv.read_csv(DEMO_BOOK, convert_options=pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True))
    return table.rename_columns([f"customer.{name}" for name in names])
