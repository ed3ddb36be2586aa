"""Write book.csv: a sample portfolio of 1,000 existing customers for limit_review.rules.

The mix is illustrative: mostly retail internet-credit and card customers, some micro
businesses with stock purchases; a share in arrears or with falling scores; enough strong
payers that the quarterly increase budget (5,000,000) binds. Deterministic:

    python rulesets/facts/make_book.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

COLUMNS = ["customer_id", "segment", "product", "current_limit", "balance", "months_on_book",
           "behavior_score", "score_drop_3m", "max_dpd_12m", "current_dpd", "monthly_income",
           "monthly_debt_payments", "months_since_last_increase", "monthly_purchases",
           "turnover_days", "other_lenders_credit"]


def customer(rng: random.Random, number: int) -> dict[str, object]:
    micro = rng.random() < 0.25
    limit = rng.choice([50_000, 80_000, 120_000, 150_000, 300_000 if micro else 180_000])
    usage = rng.choice([0.3, 0.85, 0.9, 0.95])
    return {
        "customer_id": f"C{number:06d}",
        "segment": "micro_business" if micro else "retail",
        "product": "business_line" if micro else rng.choice(["internet_personal", "card"]),
        "current_limit": limit,
        "balance": f"{limit * usage:.2f}",
        "months_on_book": rng.choice([3, 8, 18, 36, 60]),
        "behavior_score": rng.randint(690, 820),
        "score_drop_3m": rng.choice([0, 0, 0, 10, 60]),
        "max_dpd_12m": rng.choice([0] * 8 + [5, 35, 75]),
        "current_dpd": rng.choice([0] * 19 + [12]),
        "monthly_income": "" if rng.random() < 0.05 else rng.choice([8_000, 15_000, 30_000, 60_000]),
        "monthly_debt_payments": rng.choice([0, 1_500, 4_000, 9_000]),
        "months_since_last_increase": "" if rng.random() < 0.3 else rng.randint(1, 30),
        "monthly_purchases": rng.choice([40_000, 90_000, 150_000]) if micro else "",
        "turnover_days": rng.choice([15, 30, 45]) if micro else "",
        "other_lenders_credit": rng.choice([0, 0, 20_000, 100_000]),
    }


def main() -> None:
    rng = random.Random(20261215)
    path = Path(__file__).with_name("book.csv")
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for number in range(1, 1001):
            writer.writerow(customer(rng, number))


if __name__ == "__main__":
    main()
