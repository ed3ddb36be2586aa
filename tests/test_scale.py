"""The work stays linear in the size of the input: each case is timed at n and at 4n in the same
run, and 4n may take at most 10 times as long (linear is 4x; the quadratic cases the security
probe found were 16x and worse). Not a speed target: a shape check, with the best of three
runs against a noisy machine."""

from __future__ import annotations

import datetime
import gc
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

import engine
from engine.pipeline import check_text
from engine.syntax.formatter import format_text


def best_seconds(function: Callable[[], object]) -> float:
    timings = []
    for _ in range(3):
        gc.collect()  # so that a collection of earlier garbage does not land in the timing
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def comment_then_error(n: int) -> str:
    return "ruleset r\n# " + "x" * (20_000 * n) + "\nlet = \n"


def long_text(n: int) -> str:
    return 'ruleset r\nlet s = "' + "a\\\"" * (200_000 * n) + '"\n'


def many_rules(n: int) -> str:
    rules = "\n".join(f"rule R{i} when c.a > {i} and c.b < {i * 2} then set out = {i} reason X end"
                      for i in range(150 * n))
    return ("ruleset r\nfacts c\n  a: integer\n  b: integer\nend\nreasons\n  X \"x\"\nend\n"
            "outputs\n  out: integer combine max default 0\nend\n" + rules + "\n")


def unique_conflicts(n: int) -> str:
    rules = "\n".join(
        f"rule R{i} when " + " or ".join(f"c.a = {i * 40 + j}" for j in range(40))
        + f" then set out = {i} end" for i in range(10 * n))
    return ("ruleset r\nfacts c\n  a: integer\nend\noutputs\n  out: integer combine unique\nend\n"
            + rules + "\n")


@pytest.mark.parametrize("make", [comment_then_error, long_text, many_rules, unique_conflicts],
                         ids=lambda f: f.__name__)
def test_check_and_fmt_stay_linear(make: Callable[[int], str]) -> None:
    small, large = make(1), make(4)
    check_text(small, "warm.rules")
    ratio = best_seconds(lambda: check_text(large, "x.rules")) / best_seconds(
        lambda: check_text(small, "x.rules"))
    assert ratio < 10, f"check: 4x the input took {ratio:.1f}x the time"
    if not check_text(small, "x.rules").has_errors:
        ratio = best_seconds(lambda: format_text(large)) / best_seconds(lambda: format_text(small))
        assert ratio < 10, f"fmt: 4x the input took {ratio:.1f}x the time"


def test_facts_and_decisions_stay_linear() -> None:
    ruleset = engine.load_text(
        "ruleset r\nfacts c\n  loans: list of loan\n  note: text\nend\ntype loan\n"
        "  amount: money\n  dpd: integer\nend\noutputs\n  loaned: money default 0\nend\n"
        "rule A when (count of l in c.loans where l.dpd > 30) < 5 then\n"
        "  set loaned = sum of l.amount for l in c.loans\nend\n")

    def facts(n: int) -> dict:
        return {"c": {"loans": [{"amount": Decimal("10.5"), "dpd": i % 40}
                                for i in range(5_000 * n)], "note": "x" * (100_000 * n)}}

    small, large = facts(1), facts(4)
    as_of = datetime.date(2026, 12, 1)
    for trace in (False, True):
        def decide(given: dict, trace: bool = trace) -> str:
            return ruleset.decide(given, as_of=as_of, trace=trace).to_json()

        ratio = best_seconds(lambda: decide(large)) / best_seconds(lambda: decide(small))
        assert ratio < 10, f"decide (trace={trace}): 4x the facts took {ratio:.1f}x the time"
    bad_small, bad_large = ({"c": {**f["c"], "note": 1}} for f in (small, large))

    def refused(given: dict) -> None:
        with pytest.raises(engine.FactsError):
            ruleset.decide(given, as_of=as_of)

    ratio = best_seconds(lambda: refused(bad_large)) / best_seconds(lambda: refused(bad_small))
    assert ratio < 10, f"facts errors: 4x the facts took {ratio:.1f}x the time"
