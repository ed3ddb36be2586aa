"""How long `tenet verify` takes (targets from issue 21): each property of the repository's
rulesets under 1 s, the whole `tenet verify rulesets/` under 10 s, a property over a generated
1,000-rule ruleset under 5 s, and `--baseline` equivalence of a ruleset with its own formatted
copy under 5 s. Prints medians of several runs beside each target.

    python benchmarks/verify.py [--runs K] [--rules N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from benchmarks.generate import generate_ruleset  # noqa: E402
from benchmarks.timing import median_seconds  # noqa: E402
from engine.syntax.formatter import format_text  # noqa: E402
from engine.verify import Options, verify  # noqa: E402

PROPERTY = '''
property P01 "Nobody more than 90 days past due in the last 12 months gets an increase"
  when customer.max_dpd_12m > 90
  expect action != "increase"
end
'''


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--rules", type=int, default=1000)
    arguments = options.parse_args()
    runs = arguments.runs

    print("each property of the repository's rulesets (target < 1 s each)")
    slowest = 0.0
    for path in sorted((ROOT / "rulesets").rglob("*.rules")):
        ruleset = engine.load(path)
        for name in ruleset.check.program.symbols.properties:
            seconds = median_seconds(lambda r=ruleset, n=name: verify(r, options=Options(only=n)),
                                     runs)
            slowest = max(slowest, seconds)
            print(f"  {path.relative_to(ROOT)} {name}: {seconds:.3f} s")
    print(f"  slowest: {slowest:.3f} s")

    command = [sys.executable, str(ROOT / "cli.py"), "verify", str(ROOT / "rulesets")]

    def whole() -> None:
        subprocess.run(command, check=True, capture_output=True)
    print(f"tenet verify rulesets/ (target < 10 s, with start-up): "
          f"{median_seconds(whole, runs):.2f} s")

    with tempfile.TemporaryDirectory() as folder:
        generated = Path(folder) / "generated.rules"
        generated.write_text(generate_ruleset(arguments.rules) + PROPERTY, encoding="utf-8")
        started = time.perf_counter()
        ruleset = engine.load(generated)
        loaded = time.perf_counter() - started
        seconds = median_seconds(lambda: verify(ruleset, options=Options(only="P01")), runs)
        status = verify(ruleset, options=Options(only="P01"))[0].status
        print(f"a property over a generated {arguments.rules}-rule ruleset (target < 5 s): "
              f"{seconds:.2f} s ({status}; loading took {loaded:.2f} s)")

        champion = ROOT / "rulesets" / "limit_review.rules"
        copy = Path(folder) / "limit_review.rules"
        copy.write_text(format_text(champion.read_text(encoding="utf-8")), encoding="utf-8")
        new, old = engine.load(copy), engine.load(champion)
        seconds = median_seconds(lambda: verify(new, old), runs)
        statuses = {r.name: r.status for r in verify(new, old) if r.kind == "baseline"}
        print(f"--baseline: limit_review against its formatted copy (target < 5 s): "
              f"{seconds:.2f} s, {statuses}")


if __name__ == "__main__":
    main()
