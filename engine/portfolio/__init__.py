"""Portfolio runs: a whole book of customers through one ruleset, with budgets.

    from engine.portfolio import BatchOptions, run_batch
    summary = run_batch("rulesets/limit_review.rules", "book.csv", BatchOptions(out="out.jsonl"))

``run_batch`` also takes a loaded Ruleset and any iterable of facts objects instead of a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from engine.portfolio.runner import BatchOptions, BatchRun, default_jobs
from engine.portfolio.summary import Summary
from engine.ruleset import Ruleset, load

__all__ = ["BatchOptions", "Summary", "default_jobs", "run_batch"]


def run_batch(ruleset: Ruleset | str | Path, source: str | Path | Iterable[Any],
              options: BatchOptions, root: str | Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> Summary:
    """Decide every row of ``source`` (a JSONL, CSV or Parquet path, `-` for standard input,
    or an iterable of facts objects) with ``ruleset`` (a path, loaded inside ``root``, or a
    loaded Ruleset), apply the budgets and write ``options.out`` and the errors file. Worker
    processes (``options.jobs``) get the ruleset as texts and compile it once each; an
    iterable source is decided in this process."""
    if not isinstance(ruleset, Ruleset):
        ruleset = load(ruleset, root)
    run = BatchRun(ruleset, options, progress)
    return run.run(str(source) if isinstance(source, str | Path) else source)
