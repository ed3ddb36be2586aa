"""What loading the generated 5,000-rule ruleset costs: time and memory (target: at most
40 MB held by the loaded ruleset), split into checking and code generation; and the time of
one decision on it.

Memory is measured with tracemalloc: what the loaded Ruleset still holds once loading is done
(the parse tree, the checker's tables, the generated code and its constants), not the peak.

    python benchmarks/load_5000_rules.py [--rules N]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from benchmarks.generate import generated_ruleset_file, sample_customer  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rules", type=int, default=5000)
    arguments = options.parse_args()
    with generated_ruleset_file(arguments.rules) as (path, text):
        gc.collect()
        tracemalloc.start()
        start = time.perf_counter()
        ruleset = engine.load(path)
        seconds = time.perf_counter() - start
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del ruleset
        gc.collect()
        start = time.perf_counter()  # again, without tracemalloc's overhead
        ruleset = engine.load(path)
        seconds = time.perf_counter() - start
    source_lines = ruleset.source().count("\n")
    print(f"{arguments.rules} rules, {len(text) / 1e6:.1f} MB of text, "
          f"{source_lines:,} lines of generated code")
    print(f"  load: {seconds:.2f} s, memory held {held / 2**20:.1f} MB (target 40 MB), "
          f"peak {peak / 2**20:.1f} MB")
    facts = sample_customer()
    start = time.perf_counter()
    for _ in range(100):
        ruleset.decide(facts, as_of=datetime.date(2026, 12, 15), trace=False)
    print(f"  one decision without trace: {(time.perf_counter() - start) * 1e4:.0f} µs")


if __name__ == "__main__":
    main()
