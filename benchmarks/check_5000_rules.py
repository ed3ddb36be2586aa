"""How long `tenet check` (with lint) and `tenet fmt` take on a generated 5,000-rule ruleset
(target: under 2 seconds each).

Prints the median of several runs of the in-process check (parse + check + lint), split into
its passes, of the formatter, and the wall time of the `tenet check` command including
interpreter start-up.

    python benchmarks/check_5000_rules.py [--rules N] [--runs K]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generate_ruleset  # noqa: E402
from benchmarks.timing import median_seconds  # noqa: E402
from engine.checker import check_modules  # noqa: E402
from engine.formatter import format_text  # noqa: E402
from engine.lint import lint  # noqa: E402
from engine.parser import grammar, parse_module  # noqa: E402
from engine.pipeline import check_path  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rules", type=int, default=5000)
    options.add_argument("--runs", type=int, default=5)
    arguments = options.parse_args()

    text = generate_ruleset(arguments.rules)
    grammar()  # built once per process, as in the CLI
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.rules"
        path.write_text(text, encoding="utf-8")
        result = check_path(path)
        errors = [d for d in result.diagnostics if d.severity.value == "error"]
        assert not errors, errors[:3]

        module, _ = parse_module(text, "generated.rules")
        parse = median_seconds(lambda: parse_module(text, "generated.rules"), arguments.runs)
        check = median_seconds(lambda: check_modules([module]), arguments.runs)
        program = check_modules([module])
        linting = median_seconds(lambda: lint(program), arguments.runs)
        formatting = median_seconds(lambda: format_text(text, "generated.rules"), arguments.runs)
        total = median_seconds(lambda: check_path(path), arguments.runs)
        command = median_seconds(lambda: subprocess.run(
            [sys.executable, str(Path(__file__).resolve().parent.parent / "cli.py"), "check",
             str(path)], capture_output=True, check=False), max(1, arguments.runs // 2))

    lines = text.count("\n")
    print(f"ruleset: {arguments.rules} rules, {lines} lines, {len(text) / 1e6:.1f} MB")
    print(f"parse  (median of {arguments.runs}): {parse:.3f} s")
    print(f"check  (median of {arguments.runs}): {check:.3f} s")
    print(f"lint   (median of {arguments.runs}): {linting:.3f} s")
    print(f"parse + check + lint, in process:  {total:.3f} s   (target < 2 s)")
    print(f"fmt, in process:                   {formatting:.3f} s   (target < 2 s)")
    print(f"`tenet check` command, wall: {command:.3f} s (includes Python start-up)")


if __name__ == "__main__":
    main()
