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

__all__ = ["BatchOptions", "Summary", "default_jobs", "run_batch"]


def run_batch(ruleset: Any, source: str | Path | Iterable[Any], options: BatchOptions,
              root: str | Path | None = None,
              progress: Callable[[int, int], None] | None = None,
              ruleset_path: str | Path | None = None) -> Summary:
    """Decide every row of ``source`` (a JSONL, CSV or Parquet path, `-` for standard input,
    or an iterable of facts objects) with ``ruleset`` (a path, or a loaded Ruleset with the
    ``ruleset_path`` it came from), apply the budgets and write ``options.out`` and the errors
    file. Worker processes (``options.jobs``) load the ruleset from its path, so a Ruleset
    made from text in memory, or an iterable source, runs in this process."""
    from engine.ruleset import Ruleset, load

    if not isinstance(ruleset, Ruleset):
        ruleset_path = ruleset
        ruleset = load(ruleset, root)
    run = BatchRun(ruleset, options, progress)
    path = None if ruleset_path is None else str(ruleset_path)
    if isinstance(source, str | Path):
        return run.run(str(source), path, None if root is None else str(root))
    return run.run(source)
