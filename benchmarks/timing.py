"""Timing helpers shared by the benchmarks: medians, because the machines are noisy."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(function: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls of ``function``."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def interleaved_medians(functions: dict[str, Callable[[], object]], runs: int
                        ) -> dict[str, float]:
    """The median wall time of each function over ``runs`` rounds, each round calling every
    function once in turn: a machine that slows down for a while slows every one of them, so
    their ratios hold better than when each runs its calls in a row."""
    timings: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (the nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
