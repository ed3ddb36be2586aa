"""The parts of Spark runs that need no Spark: rank keys that sort as ranks do, the columns'
exactness, and the messages when Spark cannot run."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import engine
from cli import main
from engine.spark.columns import Layout, Unfit, rank_key
from engine.spark.session import SparkUnavailable, require_pyspark, session
from tests.helpers import ROOT

numbers = st.decimals(allow_nan=False, allow_infinity=False, places=None,
                      min_value=Decimal("-1E+40"), max_value=Decimal("1E+40")) | st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**34), 10**34), st.integers(-40, 40))


@given(numbers, numbers)
def test_rank_keys_sort_as_the_numbers_do(a: Decimal, b: Decimal) -> None:
    assert (rank_key(a) < rank_key(b)) == (a < b)
    assert (rank_key(a) == rank_key(b)) == (a == b)


@given(st.dates(), st.dates())
def test_rank_keys_sort_as_the_dates_do(a: datetime.date, b: datetime.date) -> None:
    assert (rank_key(a) < rank_key(b)) == (a < b)


def test_rank_keys_of_one_number_written_differently_are_equal() -> None:
    assert rank_key(Decimal("1.50")) == rank_key(Decimal("1.5")) == rank_key(Decimal("15E-1"))
    assert rank_key(Decimal("-0")) == rank_key(0) == b"\x01"
    assert rank_key(None) is None


def record(new_limit: Decimal) -> dict:
    """A decided row's record, as `tenet batch` makes it for Parquet."""
    return {"row": 1, "id": None, "decision": {"action": "increase", "new_limit": new_limit},
            "reasons": ["I01"], "offers": []}


@given(st.integers(-(10**20) + 1, 10**20 - 1), st.integers(0, 18))
def test_money_with_up_to_the_scale_digits_after_the_point_fits_exactly(
        digits: int, places: int) -> None:
    layout = Layout(engine.load(ROOT / "rulesets" / "limit_review.rules"), False)
    value = Decimal(digits).scaleb(-places)
    assert layout.cells(record(value))["new_limit"] == value


def test_money_beyond_the_scale_or_38_digits_is_refused_not_rounded() -> None:
    layout = Layout(engine.load(ROOT / "rulesets" / "limit_review.rules"), False, scale=2)
    for value in (Decimal("0.001"), Decimal("1E+36"), Decimal("-1E+36")):
        with pytest.raises(Unfit, match=r"output `new_limit` = .* does not fit a "
                                        r"decimal\(38,2\) column"):
            layout.cells(record(value))
    assert layout.cells(record(Decimal("12.30")))[
        "new_limit"] == Decimal("12.3")


def test_without_pyspark_the_message_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(SparkUnavailable) as raised:
        require_pyspark()
    assert str(raised.value) == ("Spark runs need pyspark and pandas, and pyspark is not "
                                 "installed: pip install 'tenet[spark]'")
    result = CliRunner().invoke(main, [
        "batch", str(ROOT / "rulesets" / "limit_review.rules"), "--facts",
        str(ROOT / "rulesets" / "facts" / "book.csv"), "--out", "never", "--engine", "spark"])
    assert result.exit_code == 2
    assert result.output == ("error: Spark runs need pyspark and pandas, and pyspark is not "
                             "installed: pip install 'tenet[spark]'\n")


def test_without_java_the_message_says_what_to_install(monkeypatch) -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("pandas")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SparkUnavailable, match=r"Spark needs Java 17 or later, and no `java` "
                                               r"was found: install a JDK"):
        session("local[1]")


def test_options_of_one_engine_are_refused_with_the_other() -> None:
    ruleset = str(ROOT / "rulesets" / "limit_review.rules")
    book = str(ROOT / "rulesets" / "facts" / "book.csv")
    cases = {
        ("--engine", "spark", "--out", "o", "--trace"):
            "--trace: not with --engine spark (Spark's executors decide and write Parquet; "
            "traces are for JSONL output)",
        ("--engine", "spark", "--out", "o", "--csv-formulas"):
            "--csv-formulas: not with --engine spark",
        ("--engine", "spark", "--out", "o", "--jobs", "2", "--trace"):
            "--jobs and --trace: not with --engine spark",
        ("--engine", "spark", "--out", "o.csv"):
            "--engine spark writes OUT as a folder of Parquet files",
        ("--engine", "spark", "--out", "-"): "--engine spark reads and writes files and folders",
        ("--out", "o.csv", "--master", "local[2]"): "--master goes with --engine spark",
        ("--out", "o.csv", "--scale", "2"): "--scale goes with Parquet output",
    }
    for options, message in cases.items():
        result = CliRunner().invoke(main, ["batch", ruleset, "--facts", book, *options])
        assert result.exit_code == 2, options
        assert message in " ".join(result.output.split()), (options, result.output)


def test_the_book_is_never_the_output_folder(tmp_path) -> None:
    from engine.spark import run_files

    book = tmp_path / "book"
    book.mkdir()
    (book / "_SUCCESS").write_text("")  # a book another Spark job wrote
    with pytest.raises(ValueError, match=r"the book \(--facts\) and OUT \(--out\) are the same "
                                         "file"):
        run_files(str(ROOT / "rulesets" / "limit_review.rules"), str(book), str(book),
                  str(tmp_path / "errors"), None, None)
    assert (book / "_SUCCESS").exists()


def test_what_travels_to_the_executors_is_data_not_code() -> None:
    """The callable mapInArrow ships is pickled as its class's name and a plan of texts."""
    cloudpickle = pytest.importorskip("pyspark.cloudpickle")
    from engine.spark.tasks import DecideRows, Plan

    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    plan = Plan(ruleset.bundle(), datetime.date(2026, 12, 15), None, "columns", True)
    shipped = cloudpickle.dumps(DecideRows(plan))
    assert b"CodeType" not in shipped and b"_make_function" not in shipped
    assert b"engine.spark.tasks" in shipped and b"DecideRows" in shipped
    assert ruleset.bundle().files[0][1].encode("utf-8") in shipped  # the ruleset as its text
    assert ruleset.compiled.source().encode("utf-8")[:200] not in shipped


def test_a_rank_key_gives_back_its_rank() -> None:
    from engine.spark.columns import rank_of_key

    ranks = [Decimal("-12.5"), Decimal("-0.001"), Decimal(0), Decimal("0.25"), Decimal(7),
             Decimal("1234567.890"), datetime.date(2026, 12, 15), None]
    for rank in ranks:
        back = rank_of_key(rank_key(rank))
        assert back == rank and (rank is None or type(back) is type(rank)), rank
