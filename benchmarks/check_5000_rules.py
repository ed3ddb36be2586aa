"""How long `tenet check` (with lint) and `tenet fmt` take on a generated 5,000-rule ruleset
(target: under 2 seconds each).

Prints the median of several runs of the in-process check (parse + check + lint), split into
its passes, of the formatter, and the wall time of the `tenet check` command including
interpreter start-up.

    python benchmarks/check_5000_rules.py [--rules N] [--runs K]
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import subprocess
import sys
import tokenize
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generated_ruleset_file  # noqa: E402
from benchmarks.timing import median_seconds  # noqa: E402
from engine.check.checker import check_modules  # noqa: E402
from engine.lint import lint  # noqa: E402
from engine.pipeline import check_files, check_path, find_rule_files  # noqa: E402
from engine.syntax.formatter import format_text  # noqa: E402
from engine.syntax.lalr import _SCAN  # noqa: E402
from engine.syntax.parser import no_cyclic_gc, parse_module  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rules", type=int, default=5000)
    options.add_argument("--runs", type=int, default=5)
    arguments = options.parse_args()

    with generated_ruleset_file(arguments.rules) as (path, text):
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
        cli = str(Path(__file__).resolve().parent.parent / "cli.py")
        command = median_seconds(lambda: subprocess.run(
            [sys.executable, cli, "check", "--no-cache", str(path)], capture_output=True,
            check=False), max(1, arguments.runs // 2))
        files = find_rule_files([path])
        check_files(files, use_cache=True)  # fills the cache
        cached = median_seconds(lambda: check_files(files, use_cache=True), arguments.runs)
        cached_command = median_seconds(lambda: subprocess.run(
            [sys.executable, cli, "check", str(path)], capture_output=True, check=False),
            max(1, arguments.runs // 2))
    tokens = sum(1 for m in _SCAN.finditer(text) if m.lastgroup not in ("space", "newline"))
    python = _python_source()
    python_tokens = sum(1 for t in tokenize.generate_tokens(io.StringIO(python).readline)
                        if t.type not in _LAYOUT)
    # The comparison is of the parsers alone: both run with the cyclic collector paused, and
    # the collection that follows (of every object either parser made) is left out of both.
    with no_cyclic_gc():
        python_parse = median_seconds(lambda: ast.parse(python), arguments.runs)
        parse_alone = median_seconds(lambda: parse_module(text, "generated.rules"),
                                     arguments.runs)
    ours, theirs = parse_alone / tokens * 1e6, python_parse / python_tokens * 1e6

    lines = text.count("\n")
    print(f"ruleset: {arguments.rules} rules, {lines} lines, {len(text) / 1e6:.1f} MB")
    print(f"parse  (median of {arguments.runs}): {parse:.3f} s")
    print(f"check  (median of {arguments.runs}): {check:.3f} s")
    print(f"lint   (median of {arguments.runs}): {linting:.3f} s")
    print(f"parse + check + lint, in process:  {total:.3f} s   (target < 2 s)")
    print(f"fmt, in process:                   {formatting:.3f} s   (target < 2 s)")
    print(f"`tenet check --no-cache` command, wall: {command:.3f} s (includes Python start-up)")
    print(f"cached re-check: {cached:.3f} s in process, {cached_command:.3f} s as a command "
          "(target < 0.3 s)")
    print(f"parse alone (no collection afterwards): {parse_alone:.3f} s")
    print(f"parse: {ours:.2f} µs per token ({tokens:,} tokens); Python's ast.parse on "
          f"{len(python) / 1e6:.1f} MB of Python: {theirs:.2f} µs per token; ratio "
          f"{ours / theirs:.1f}x (target at most 3x)")


_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}


def _python_source() -> str:
    """About 1 MB of Python: the standard library's own modules, in name order."""
    text = ""
    for path in sorted(Path(os.__file__).parent.glob("*.py")):
        text += path.read_text(encoding="utf-8") + "\n"
        if len(text) > 1_000_000:
            break
    return text


if __name__ == "__main__":
    main()
