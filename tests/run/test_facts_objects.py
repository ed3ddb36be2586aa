"""Python objects in facts (what `decide` and `decide_batch` take from a caller's code): each is
read exactly as its plain Python counterpart, or refused as a FactsError naming its path, never
an uncaught exception and never a silently wrong decision."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import engine
from tests.helpers import FIXTURES

RULESET = engine.load(FIXTURES / "hostile_books" / "book.rules")
AS_OF = "2026-12-15"


def facts(**fields: Any) -> dict[str, Any]:
    return {"c": {"id": "a", "limit": 100, "segment": "retail", **fields}}


def outcome(value: dict[str, Any]) -> Any:
    """(action, kept_limit, reasons) of the decision, or the FactsError's problems; the same
    from `decide`, `decide(reference=True)` and `decide_batch`."""
    results = []
    for run in (lambda: RULESET.decide(value, as_of=AS_OF),
                lambda: RULESET.decide(value, as_of=AS_OF, reference=True),
                lambda: _raise(RULESET.decide_batch([value], as_of=AS_OF)[0])):
        try:
            decision = run()
            results.append((decision.decision["action"], decision.decision["kept_limit"],
                            [reason["code"] for reason in decision.reasons]))
        except engine.FactsError as error:
            results.append(error.problems)
    assert results[0] == results[1] == results[2]
    return results[0]


def _raise(item: Any) -> Any:
    if isinstance(item, Exception):
        raise item
    return item


TIMESTAMPS = {"datetime": datetime.datetime(2026, 12, 15),
              "datetime UTC": datetime.datetime(2026, 12, 15, tzinfo=datetime.UTC)}
try:  # pandas comes with the Spark extra, which `make test` installs
    import pandas as pd

    TIMESTAMPS |= {"pandas": pd.Timestamp("2026-12-15"),
                   "pandas Shanghai": pd.Timestamp("2026-12-01 10:30", tz="Asia/Shanghai")}
except ImportError:
    pass


@pytest.mark.parametrize("value", list(TIMESTAMPS.values()), ids=list(TIMESTAMPS))
def test_a_timestamp_for_a_date_field_is_refused_with_its_path(value: Any) -> None:
    [problem] = outcome(facts(review_on=value))
    assert problem == (f"c.review_on: expected a date (YYYY-MM-DD), got the timestamp "
                       f"{value.isoformat()}: a date field takes dates; convert the column to "
                       "dates")


class Day(datetime.date):
    def __eq__(self, other: object) -> bool:  # rigged: equal to everything
        return True

    __hash__ = datetime.date.__hash__


def test_a_date_subclass_is_read_as_its_plain_date() -> None:
    assert outcome(facts(review_on=Day(2026, 12, 15))) == ("review", Decimal(100), ["R01"])
    assert outcome(facts(review_on=Day(2026, 11, 1))) == ("overdue", Decimal(100), ["R02"])


@pytest.mark.parametrize("text", ["2015-W01-1", "2026-349", "20261215", "٢٠٢٦-١٢-١٥",
                                  "２０２６-１２-１５", "2026-12-15T00:00"])
def test_only_yyyy_mm_dd_of_ascii_digits_is_a_date(text: str) -> None:
    [problem] = outcome(facts(review_on=text))
    assert problem.startswith("c.review_on: expected a date (YYYY-MM-DD), got ")


@pytest.mark.parametrize("value, read", [
    (np.float64(0.1), Decimal("0.1")), (np.int64(250), Decimal(250)),
    (np.int32(7), Decimal(7)), (np.uint8(9), Decimal(9))],
    ids=["float64", "int64", "int32", "uint8"])
def test_numpy_numbers_are_read_as_their_python_counterparts(value: Any, read: Decimal) -> None:
    assert outcome(facts(limit=value)) == ("hold", read, [])


@pytest.mark.parametrize("value, shown", [
    (np.float32(0.1), "float32"), (np.bool_(True), "bool"), (np.float64("nan"), "the binary float nan")])
def test_numpy_values_that_are_no_exact_number_are_refused(value: Any, shown: str) -> None:
    assert outcome(facts(limit=value)) == [f"c.limit: expected money, got {shown}"]


class Sly(str):
    def __eq__(self, other: object) -> bool:  # rigged: equal to everything
        return True

    def __hash__(self) -> int:
        return hash("retail")


def test_a_str_subclass_with_a_rigged_eq_is_taken_as_its_plain_text() -> None:
    assert outcome(facts(segment=Sly("nonsense"))) == [
        'c.segment: expected one of "retail", "business", got "nonsense"']
    decision = RULESET.decide(facts(segment=Sly("retail"), note=Sly("hi")), as_of=AS_OF)
    assert type(decision.decision["note"]) is str and decision.decision["note"] == "hi"


def test_a_text_with_a_lone_surrogate_is_refused_with_its_path() -> None:
    assert outcome(facts(note="ab\udc80")) == [
        'c.note: "ab\\udc80" holds a lone surrogate, which is no character']


CROSS_SELL = engine.load(FIXTURES.parent.parent / "rulesets" / "cross_sell.rules")


def cross_sell_facts(**customer: Any) -> dict[str, Any]:
    return {"event": {"kind": "card_payment", "merchant_category": "car_dealer", "amount": 9000,
                      "date": "2026-12-10"},
            "customer": {"days_past_due": 0, "marketing_opt_out": False, "consents": [],
                         "contacts": [], **customer}}


def test_problems_are_listed_up_to_a_hundred_then_counted() -> None:
    bad = [{"date": "soon", "channel": "fax"}] * 60  # two problems each
    with pytest.raises(engine.FactsError) as raised:
        CROSS_SELL.decide(cross_sell_facts(contacts=bad), as_of="2026-12-15")
    problems = raised.value.problems
    assert len(problems) == 101
    assert problems[:2] == ['customer.contacts[0].date: expected a date (YYYY-MM-DD), got "soon"',
                            'customer.contacts[0].channel: expected one of "app", "sms", "call", '
                            'got "fax"']
    assert problems[-1] == "… and 20 more problems"


@pytest.mark.parametrize("items", [100_001, 5_000_000])
def test_a_facts_list_longer_than_a_hundred_thousand_items_is_refused_at_once(items: int) -> None:
    facts = cross_sell_facts(consents=["x"] * items if items < 200_000 else [1] * items)
    for decide in (CROSS_SELL.decide, lambda f, as_of: _raise(
            CROSS_SELL.decide_batch([f], as_of=as_of)[0])):
        with pytest.raises(engine.FactsError) as raised:
            decide(facts, as_of="2026-12-15")
        assert raised.value.problems == [
            "customer.consents: a list of more than 100,000 items; a facts list holds at most "
            "100,000"]


def test_a_huge_unknown_key_is_shortened_in_its_path() -> None:
    with pytest.raises(engine.FactsError) as raised:
        RULESET.decide({"c": {"id": "a", "limit": 1, "segment": "retail", "\x1b" * 5 + "k" * 10**6: 1}},
                       as_of=AS_OF)
    [problem] = raised.value.problems
    assert problem == "c." + "\\u001b" * 5 + "k" * 30 + "…: unknown field"
