"""Budgets over a whole portfolio (LANGUAGE.md §8).

The decisions for which `among` holds are taken in `rank by` order (a missing rank last, ties
by input order); each is kept while the running total of `total` over the kept ones stays
within the limit, and the others get the budget's `else` actions: with `when full skip` (the
default) a later, smaller one may still fit; with `when full stop` none after the first that
did not fit is kept. Only (row, rank, amount) of
each candidate is held in memory; the result does not depend on how the rows were split.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.run.runtime import CONTEXT


@dataclass
class Allocation:
    """What one budget did: the rows it overrode (with their rank position and the running
    total they met), and its totals. ``offer`` takes the candidates one by one in rank order."""

    name: str
    limit: Any
    stop_when_full: bool = False  # `when full stop`: nobody after the first refused is kept
    candidates: int = 0
    kept: int = 0
    used: Any = Decimal(0)
    overridden: dict[int, tuple[int, Any, Any]] = field(default_factory=dict)
    # row -> (1-based position in rank order, rank value, running total before it)
    asked: Any = Decimal(0)  # what all candidates asked (the totals that are not missing)
    last_kept: Any = None  # the rank of the last candidate kept, and of the first refused:
    first_refused: Any = None  # the cut-off
    full: bool = False  # with `when full stop`: a candidate did not fit, so no later one is kept
    refused: int = 0

    def offer(self, row: int, rank: Any, amount: Any) -> bool:
        """Keep the next candidate in rank order if its amount still fits (and, with `when full
        stop`, no earlier one was refused); True if kept."""
        self.candidates += 1
        if amount is not None:
            self.asked = CONTEXT.add(self.asked, amount)
        if not self.full and amount is not None and self.limit is not None and (
                CONTEXT.add(self.used, amount) <= self.limit):
            self.used = CONTEXT.add(self.used, amount)
            self.kept += 1
            self.last_kept = rank
            return True
        if self.refused == 0:
            self.first_refused = rank
        self.refused += 1
        self.full = self.stop_when_full
        self._override(row, rank)
        return False

    def _override(self, row: int, rank: Any) -> None:
        self.overridden[row] = (self.candidates, rank, self.used)


class Candidates:
    """(row, rank, amount) of a budget's candidates, in input order, in compact columns: a
    book of a million rows may have hundreds of thousands of them."""

    def __init__(self) -> None:
        self.rows = array("q")
        self.ranks: list[Any] = []
        self.amounts: list[Any] = []

    def add(self, row: int, rank: Any, amount: Any) -> None:
        self.rows.append(row)
        self.ranks.append(rank)
        self.amounts.append(amount)

    def __len__(self) -> int:
        return len(self.rows)


def allocate(name: str, limit: Any, descending: bool, candidates: Candidates,
             stop_when_full: bool = False) -> Allocation:
    """Keep the candidates in rank order while the running total fits within ``limit`` (with
    ``stop_when_full``, none after the first that does not fit)."""
    ranks = candidates.ranks
    ranked = [i for i in range(len(candidates)) if ranks[i] is not None]
    # Python's sort is stable, also with reverse=True: ties keep input order.
    ranked.sort(key=ranks.__getitem__, reverse=descending)
    ranked += [i for i in range(len(candidates)) if ranks[i] is None]
    result = Allocation(name, limit, stop_when_full)
    for index in ranked:
        result.offer(candidates.rows[index], ranks[index], candidates.amounts[index])
    return result
