"""One decision: Tenet against a hand-written Python function of the same rules.

The ruleset is benchmarks/limit_review_20.rules (20 rules and a decision table). The baseline
below implements the same rules by hand, with the same exact Decimal arithmetic, the same
combine policies, cap and reason order; before timing, both decide a sample portfolio and must
agree on every output and reason. Prints the median time per decision and the ratios
(targets: at most 1.5x without trace, 2x with the trace recorded).

    python benchmarks/decide.py [--customers N] [--repeat K]
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from benchmarks.timing import interleaved_medians  # noqa: E402

RULESET = Path(__file__).resolve().parent / "limit_review_20.rules"
AS_OF = datetime.date(2026, 12, 15)
ACTION_ORDER = ("decrease", "hold", "increase")


# Constants built once, as generated code builds them when a ruleset loads.
ZERO, ONE, POINT_FOUR, POINT_SEVEN, POINT_EIGHT, POINT_THREE, POINT_TWO = (
    Decimal(0), Decimal(1), Decimal("0.4"), Decimal("0.7"), Decimal("0.8"), Decimal("0.3"),
    Decimal("0.2"))
FACTOR_HIGH, FACTOR_MID, FACTOR_LOW, FACTOR_NONE, MICRO_FACTOR = (
    Decimal("1.5"), Decimal("1.2"), Decimal("1.1"), Decimal("1.0"), Decimal("1.3"))
HUNDRED, CAP = Decimal(100), Decimal(200_000)
FIELDS = {"segment", "current_limit", "balance", "months_on_book", "behavior_score",
          "max_dpd_12m", "monthly_income", "monthly_debt_payments", "months_since_increase",
          "fraud_flag"}


def money(value: object) -> Decimal:
    if type(value) is int:
        return Decimal(value)
    if type(value) is not Decimal or not value.is_finite():
        raise ValueError(f"expected money, got {value!r}")
    return value


def integer(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def hand_written_validated(facts: dict) -> tuple[dict, list[str]]:
    """The baseline with the checks a careful hand-written service makes of its input."""
    if type(facts) is not dict or facts.keys() != {"customer"}:
        raise ValueError("expected {customer: ...}")
    c = facts["customer"]
    if type(c) is not dict or not c.keys() <= FIELDS:
        raise ValueError("unknown fields")
    if c["segment"] not in ("retail", "micro_business") or type(c["fraud_flag"]) is not bool:
        raise ValueError("bad segment or flag")
    income = c.get("monthly_income")
    return decide_by_hand(
        c["segment"], money(c["current_limit"]), money(c["balance"]),
        integer(c["months_on_book"]), integer(c["behavior_score"]), integer(c["max_dpd_12m"]),
        None if income is None else money(income), money(c["monthly_debt_payments"]),
        integer(c["months_since_increase"]), c["fraud_flag"])


def hand_written(facts: dict) -> tuple[dict, list[str]]:
    """The baseline trusting its input."""
    c = facts["customer"]
    income = c.get("monthly_income")
    return decide_by_hand(
        c["segment"], Decimal(c["current_limit"]), Decimal(c["balance"]), c["months_on_book"],
        c["behavior_score"], c["max_dpd_12m"], None if income is None else Decimal(income),
        Decimal(c["monthly_debt_payments"]), c["months_since_increase"], c["fraud_flag"])


def decide_by_hand(segment, limit, balance, months, score, dpd, income, debt,
                   months_since_increase, fraud) -> tuple[dict, list[str]]:
    """The rules of limit_review_20.rules, written by hand."""
    utilization = ZERO if limit == 0 else balance / limit
    dti = None if income is None or income == 0 else debt / income
    if score >= 750:
        factor = FACTOR_HIGH if utilization >= POINT_EIGHT else FACTOR_MID
    elif 700 <= score < 750:
        factor = FACTOR_LOW
    else:
        factor = FACTOR_NONE

    # (rule, action proposal, new_limit proposal) in priority-then-position order.
    fired = []
    if dpd > 60:
        fired.append(("D01", "decrease", balance))
    if fraud:
        fired.append(("D03", "decrease", ZERO))
    if dpd > 30:
        fired.append(("D02", "hold", None))
    if dti is not None and dti > POINT_FOUR:
        fired.append(("H01", "hold", None))
    if income is None:
        fired.append(("H02", "hold", None))
    if months_since_increase < 6:
        fired.append(("H03", "hold", None))
    if months < 6:
        fired.append(("H04", "hold", None))
    if score < 600:
        fired.append(("H05", "hold", None))
    if factor > 1 and dpd == 0 and dti is not None and dti <= POINT_FOUR:
        fired.append(("I01", "increase", (limit * factor / HUNDRED).to_integral_value(
            rounding=decimal.ROUND_FLOOR) * HUNDRED))
    if segment == "micro_business" and utilization >= POINT_SEVEN and dpd == 0:
        fired.append(("I02", "increase", (limit * MICRO_FACTOR / HUNDRED).to_integral_value(
            rounding=decimal.ROUND_FLOOR) * HUNDRED))

    actions = [a for _, a, _ in fired]
    action = min(actions, key=ACTION_ORDER.index) if actions else "hold"
    limits = [n for _, _, n in fired if n is not None]
    new_limit = min(limits) if limits else limit
    reasons = [rule for rule, a, n in fired
               if (actions and a == action) or (n is not None and n == new_limit)]
    before = new_limit
    if action == "increase" and new_limit > CAP:
        new_limit = CAP
    if new_limit == CAP and new_limit != before:
        reasons.append("C01")

    points = 0
    points += 3 if score >= 800 else 0
    points += 2 if score >= 750 else 0
    points += 2 if months >= 24 else 0
    points += 1 if months >= 60 else 0
    points += 1 if POINT_THREE <= utilization <= POINT_SEVEN else 0
    points += 2 if dpd == 0 else 0
    points += 1 if dti is not None and dti < POINT_TWO else 0
    points += 1 if segment == "retail" and balance > 5000 else 0
    points -= 2 if dpd > 0 else 0
    points -= 10 if fraud else 0
    return {"action": action, "new_limit": new_limit, "score_points": Decimal(points)}, reasons


def portfolio(size: int) -> list[dict]:
    rng = random.Random(20261215)
    customers = []
    for _ in range(size):
        limit = rng.choice([0, 5_000, 10_000, 50_000, 150_000])
        customers.append({"customer": {
            "segment": rng.choice(["retail", "micro_business"]),
            "current_limit": limit,
            "balance": Decimal(rng.randint(0, max(limit, 1) * 100)) / 100,
            "months_on_book": rng.randint(0, 120),
            "behavior_score": rng.randint(450, 850),
            "max_dpd_12m": rng.choice([0, 0, 0, 5, 31, 61, 90]),
            "monthly_income": rng.choice([None, 0, 3_000, 8_000, 20_000]),
            "monthly_debt_payments": rng.randint(0, 6_000),
            "months_since_increase": rng.randint(0, 24),
            "fraud_flag": rng.random() < 0.02,
        }})
    return customers


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--customers", type=int, default=2000)
    options.add_argument("--repeat", type=int, default=7)
    arguments = options.parse_args()

    ruleset = engine.load(RULESET)
    customers = portfolio(arguments.customers)
    for facts in customers:  # the baselines must be the same rules
        decision = ruleset.decide(facts, as_of=AS_OF, trace=False)
        for baseline in (hand_written, hand_written_validated):
            outputs, reasons = baseline(facts)
            assert decision.decision == outputs, (facts, decision.decision, outputs)
            assert [r["code"] for r in decision.reasons] == reasons, (facts, decision.reasons)
    as_json = [json.loads(json.dumps(c, default=float)) for c in customers]  # floats, as json.load
    assert ruleset.decide(as_json[0], as_of=AS_OF).decision == \
        ruleset.decide(customers[0], as_of=AS_OF).decision

    def passes(function, items: list):
        def one_pass() -> None:
            for item in items:
                function(item)
        return one_pass

    decisions = [ruleset.decide(f, as_of=AS_OF, trace=False) for f in customers]
    traced_decisions = [ruleset.decide(f, as_of=AS_OF, trace=True) for f in customers]
    timed = interleaved_medians({
        "baseline": passes(hand_written, customers),
        "validated": passes(hand_written_validated, customers),
        "untraced": passes(lambda f: ruleset.decide(f, as_of=AS_OF, trace=False), customers),
        "traced": passes(lambda f: ruleset.decide(f, as_of=AS_OF, trace=True), customers),
        "read_trace": passes(lambda f: ruleset.decide(f, as_of=AS_OF, trace=True).trace,
                             customers),
        "batch": lambda: ruleset.decide_batch(customers, as_of=AS_OF),
        "to_json": passes(lambda d: d.to_json(), decisions),
        "to_json_traced": passes(lambda d: d.to_json(), traced_decisions),
    }, arguments.repeat)
    per_call = {name: seconds / len(customers) for name, seconds in timed.items()}
    baseline, validated = per_call["baseline"], per_call["validated"]

    def line(label: str, seconds: float, target: str = "") -> None:
        print(f"  {label:34s} {seconds * 1e6:8.1f} µs   {seconds / baseline:5.2f}x baseline   "
              f"{seconds / validated:5.2f}x validating baseline  {target}")

    print(f"{arguments.customers} customers, median of {arguments.repeat} interleaved runs, "
          "per decision:")
    line("hand-written Python", baseline)
    line("hand-written, validating its input", validated)
    line("tenet, trace off", per_call["untraced"], "(target 1.5x)")
    line("tenet, trace recorded", per_call["traced"], "(target 2x)")
    line("tenet, trace recorded and built", per_call["read_trace"])
    line("tenet decide_batch", per_call["batch"],
         f"({1 / per_call['batch']:,.0f} decisions/s; target 60,000)")
    print(f"  Decision.to_json: {per_call['to_json'] * 1e6:.1f} µs without trace, "
          f"{per_call['to_json_traced'] * 1e6:.1f} µs with trace")


if __name__ == "__main__":
    main()
