"""Generate large, realistic rulesets for benchmarks."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HEADER = '''ruleset generated "A generated ruleset for benchmarks"
version "bench"

facts customer
  segment: one of "retail", "micro_business", "sme"
  current_limit: money
  balance: money
  months_on_book: integer
  behavior_score: integer
  max_dpd_12m: integer
  monthly_income: money optional
  monthly_debt_payments: money
  utilization_target: number
  opened: date
  consents: set of text
  loans: list of loan
end

type loan
  amount: money
  dpd: integer
end

outputs
  action: one of "decrease", "hold", "increase" combine priority default "hold"
  new_limit: money combine min default customer.current_limit
  score_points: integer combine sum default 0
  flags: list of text
end

let utilization = if customer.current_limit = 0 then 0 else customer.balance / customer.current_limit
let dti = customer.monthly_debt_payments / customer.monthly_income
let worst_loan_dpd = max of l.dpd for l in customer.loans

table band
  | customer.behavior_score | utilization | band |
  | >= 750                  | >= 80%      | 3    |
  | >= 750                  | < 80%       | 2    |
  | [650..750)              | -           | 1    |
  otherwise 0
end
'''

CONDITIONS = [
    "customer.behavior_score >= {n}",
    "customer.max_dpd_12m > {d}",
    "utilization > {p}%",
    "dti <= {p}%",
    'customer.segment = "{seg}"',
    "customer.months_on_book between {d} and {n}",
    "band >= {b}",
    "customer.balance > {m}",
    '"share_{d}" in customer.consents',
    "(count of l in customer.loans where l.dpd > {d}) > 1",
    "worst_loan_dpd is missing",
    "days_between(customer.opened, today) > {n}",
]
ACTIONS = [
    'set action = "{act}"',
    "set new_limit = round_down(customer.current_limit * 1.{d}, 100)",
    "set score_points = {d}",
    'add "flag_{d}" to flags',
]


def generate_ruleset(rules: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    reasons = "\n".join(f'  R{i:03d} "Reason number {i}"' for i in range(100))
    parts = [HEADER, f"reasons\n{reasons}\nend\n"]
    for index in range(rules):
        def fill(template: str) -> str:
            return template.format(
                n=rng.randint(500, 900), d=rng.randint(0, 90), p=rng.randint(10, 95),
                seg=rng.choice(["retail", "micro_business", "sme"]), b=rng.randint(0, 3),
                m=rng.randint(1, 500) * 1000, act=rng.choice(["decrease", "hold", "increase"]))
        conditions = [fill(rng.choice(CONDITIONS)) for _ in range(rng.randint(1, 3))]
        joiner = rng.choice([" and ", " or "])
        actions = [fill(rng.choice(ACTIONS)) for _ in range(rng.randint(1, 2))]
        parts.append(
            f'rule G{index:05d} "Generated rule {index}"\n'
            f"  priority {rng.randint(0, 100)}\n"
            f"  when {joiner.join(conditions)}\n"
            "  then\n" + "".join(f"    {a}\n" for a in actions)
            + f"    reason R{index % 100:03d}\nend\n")
    return "\n".join(parts)


def sample_customer() -> dict:
    """Facts for the schema of ``generate_ruleset``."""
    from decimal import Decimal

    return {"customer": {
        "segment": "retail", "current_limit": 20_000, "balance": Decimal("12500.50"),
        "months_on_book": 30, "behavior_score": 720, "max_dpd_12m": 0, "monthly_income": 9_000,
        "monthly_debt_payments": 1_200, "utilization_target": Decimal("0.6"),
        "opened": "2022-03-01", "consents": ["share_3"], "loans": [{"amount": 5_000, "dpd": 0}],
    }}


@contextmanager
def generated_ruleset_file(rules: int) -> Iterator[tuple[Path, str]]:
    """The generated ruleset written to a temporary file, with the parser already built (once
    per process, as in the CLI): (path, text)."""
    from engine.syntax.grammar import grammar

    text = generate_ruleset(rules)
    grammar()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.rules"
        path.write_text(text, encoding="utf-8")
        yield path, text
