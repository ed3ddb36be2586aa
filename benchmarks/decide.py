"""One decision: Tenet against a hand-written Python function of the same rules.

The ruleset is benchmarks/limit_review_20.rules (20 rules and a decision table). The baseline
below implements the same rules by hand, with the same exact Decimal arithmetic, the same
combine policies, cap and reason order; before timing, both decide a sample portfolio and must
agree on every output and reason. Prints the median time per decision and the ratios
(targets: at most 1.5x without trace, 5x with trace).

    python benchmarks/decide.py [--customers N] [--repeat K]
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from benchmarks.timing import median_seconds  # noqa: E402

RULESET = Path(__file__).resolve().parent / "limit_review_20.rules"
AS_OF = datetime.date(2026, 12, 15)
ACTION_ORDER = ("decrease", "hold", "increase")


def hand_written(facts: dict) -> tuple[dict, list[str]]:
    """The rules of limit_review_20.rules, written by hand."""
    c = facts["customer"]
    limit, balance = Decimal(c["current_limit"]), Decimal(c["balance"])
    dpd, score, months = c["max_dpd_12m"], c["behavior_score"], c["months_on_book"]
    income = c.get("monthly_income")
    income = None if income is None else Decimal(income)
    debt = Decimal(c["monthly_debt_payments"])
    utilization = Decimal(0) if limit == 0 else balance / limit
    dti = None if income is None or income == 0 else debt / income
    if score >= 750:
        factor = Decimal("1.5") if utilization >= Decimal("0.8") else Decimal("1.2")
    elif 700 <= score < 750:
        factor = Decimal("1.1")
    else:
        factor = Decimal("1.0")

    # (rule, reason, action proposal, new_limit proposal) in priority-then-position order.
    fired = []
    if dpd > 60:
        fired.append(("D01", "decrease", balance))
    if c["fraud_flag"]:
        fired.append(("D03", "decrease", Decimal(0)))
    if dpd > 30:
        fired.append(("D02", "hold", None))
    if dti is not None and dti > Decimal("0.4"):
        fired.append(("H01", "hold", None))
    if income is None:
        fired.append(("H02", "hold", None))
    if c["months_since_increase"] < 6:
        fired.append(("H03", "hold", None))
    if months < 6:
        fired.append(("H04", "hold", None))
    if score < 600:
        fired.append(("H05", "hold", None))
    if factor > 1 and dpd == 0 and dti is not None and dti <= Decimal("0.4"):
        fired.append(("I01", "increase", (limit * factor / 100).to_integral_value(
            rounding=decimal.ROUND_FLOOR) * 100))
    if c["segment"] == "micro_business" and utilization >= Decimal("0.7") and dpd == 0:
        fired.append(("I02", "increase", (limit * Decimal("1.3") / 100).to_integral_value(
            rounding=decimal.ROUND_FLOOR) * 100))

    actions = [a for _, a, _ in fired]
    action = min(actions, key=ACTION_ORDER.index) if actions else "hold"
    limits = [n for _, _, n in fired if n is not None]
    new_limit = min(limits) if limits else limit
    reasons = [rule for rule, a, n in fired
               if (actions and a == action) or (n is not None and n == new_limit)]
    before = new_limit
    if action == "increase" and new_limit > 200_000:
        new_limit = Decimal(200_000)
    if new_limit == 200_000 and new_limit != before:
        reasons.append("C01")

    points = 0
    points += 3 if score >= 800 else 0
    points += 2 if score >= 750 else 0
    points += 2 if months >= 24 else 0
    points += 1 if months >= 60 else 0
    points += 1 if Decimal("0.3") <= utilization <= Decimal("0.7") else 0
    points += 2 if dpd == 0 else 0
    points += 1 if dti is not None and dti < Decimal("0.2") else 0
    points += 1 if c["segment"] == "retail" and balance > 5000 else 0
    points -= 2 if dpd > 0 else 0
    points -= 10 if c["fraud_flag"] else 0
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


def median_per_call(function, items: list, repeat: int) -> float:
    """The median time of one call, over ``repeat`` passes through ``items``."""
    def one_pass() -> None:
        for item in items:
            function(item)
    return median_seconds(one_pass, repeat) / len(items)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--customers", type=int, default=2000)
    options.add_argument("--repeat", type=int, default=7)
    arguments = options.parse_args()

    ruleset = engine.load(RULESET)
    customers = portfolio(arguments.customers)
    for facts in customers:  # the baseline must be the same rules
        decision = ruleset.decide(facts, as_of=AS_OF, trace=False)
        outputs, reasons = hand_written(facts)
        assert decision.decision == outputs, (facts, decision.decision, outputs)
        assert [r["code"] for r in decision.reasons] == reasons, (facts, decision.reasons, reasons)

    baseline = median_per_call(hand_written, customers, arguments.repeat)
    untraced = median_per_call(lambda f: ruleset.decide(f, as_of=AS_OF, trace=False),
                               customers, arguments.repeat)
    traced = median_per_call(lambda f: ruleset.decide(f, as_of=AS_OF, trace=True),
                             customers, arguments.repeat)
    print(f"{arguments.customers} customers, median of {arguments.repeat} runs, per decision:")
    print(f"  hand-written Python:   {baseline * 1e6:8.1f} µs")
    print(f"  tenet, trace off:      {untraced * 1e6:8.1f} µs   ratio {untraced / baseline:5.1f}x"
          "  (target 1.5x)")
    print(f"  tenet, trace on:       {traced * 1e6:8.1f} µs   ratio {traced / baseline:5.1f}x"
          "  (target 5x)")


if __name__ == "__main__":
    main()
