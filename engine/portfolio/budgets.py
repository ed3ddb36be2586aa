"""Budgets over a whole portfolio (LANGUAGE.md §8).

The decisions for which `among` holds are taken in `rank by` order (a missing rank last, ties
by input order); each is kept while the running total of `total` over the kept ones stays
within the limit, and the others get the budget's `else` actions. Only (row, rank, amount) of
each candidate is held in memory; the result does not depend on how the rows were split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class Allocation:
    """What one budget did: the rows it overrode (with their rank position and the running
    total they met), and its totals."""

    name: str
    limit: Any
    candidates: int = 0
    kept: int = 0
    used: Any = Decimal(0)
    overridden: dict[int, tuple[int, Any, Any]] = field(default_factory=dict)
    # row -> (1-based position in rank order, rank value, running total before it)


def allocate(name: str, limit: Any, descending: bool,
             candidates: list[tuple[int, Any, Any]]) -> Allocation:
    """``candidates`` are (row, rank, amount) in input order."""
    ranked = [c for c in candidates if c[1] is not None]
    # Python's sort is stable, also with reverse=True: ties keep input order.
    ranked.sort(key=lambda candidate: candidate[1], reverse=descending)
    ranked += [c for c in candidates if c[1] is None]
    result = Allocation(name, limit, candidates=len(candidates))
    running = Decimal(0)
    for position, (row, rank, amount) in enumerate(ranked, start=1):
        if amount is not None and limit is not None and running + amount <= limit:
            running += amount
            result.kept += 1
        else:
            result.overridden[row] = (position, rank, running)
    result.used = running
    return result
