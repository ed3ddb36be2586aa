"""The `tenet` command line: arguments, rendering and exit status. The work is in `engine`.

`run` and `test` import the evaluator when they run, so `check` and `fmt` start faster."""

from __future__ import annotations

import contextlib
import datetime
import difflib
import io
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.console import Console
from rich.markup import escape

from engine.codes import CODES
from engine.diagnostics import Diagnostic, Severity, Span, sort_diagnostics
from engine.pipeline import check_files, find_rule_files
from engine.report.console import print_code_list, print_diagnostics, print_explanation, print_summary
from engine.report.formats import to_github, to_json, to_sarif
from engine.syntax.formatter import FormatError, format_text, same_meaning
from engine.syntax.loader import not_utf8
from engine.syntax.source import (
    RuleFile,
    SourceError,
    display_path,
    normalize_newlines,
    read_bytes,
    write_atomically,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NO_DECISION = 0, 1, 2, 3

if TYPE_CHECKING:  # loaded by the commands that decide, not by `tenet check`
    from engine.ruleset import Ruleset


def _rule_files(paths: tuple[Path, ...], root: Path | None) -> list[RuleFile]:
    """The `.rules` files named or below the folders named; a missing path is a usage error."""
    try:
        return find_rule_files(list(paths), root)
    except FileNotFoundError as missing:
        raise click.UsageError(f"no such file or folder: {missing}") from None


_allow_empty_option = click.option(
    "--allow-empty", is_flag=True,
    help="Succeed when there is nothing to check (by default a wrong path in CI must fail).")

_root_option = click.option(
    "--root", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
    metavar="FOLDER",
    help="Read rulesets and their includes only inside FOLDER (default: each folder named, or "
         "the folder of each file named).")


def _console(stderr: bool = False) -> Console:
    return Console(highlight=False, stderr=stderr, width=None if sys.stdout.isatty() else 100)


EXIT_INTERRUPTED = 128 + signal.SIGINT  # as shells report a command stopped by Ctrl-C


class _Tenet(click.Group):
    """The commands, stopped by Ctrl-C with the shell's status (130), never with 1, which says
    a batch refused rows."""

    def invoke(self, context: click.Context) -> Any:
        try:
            return super().invoke(context)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def _stopping_between_chunks() -> Iterator[None]:
    """While a batch runs, Ctrl-C and SIGTERM are noted and acted on after the chunk at hand
    (``_stop_if_asked``), where the run's clean-up can remove its temporary files: an exception
    raised by the signal itself could land in a clean-up that swallows it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _note_stop)
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        _STOPPED.clear()
        for number, handler in previous.items():
            signal.signal(number, handler)


_STOPPED: list[int] = []  # the signals noted


def _note_stop(number: int, frame: Any) -> None:
    _STOPPED.append(number)


def _stop_if_asked(rows: int = 0, errors: int = 0) -> None:
    if _STOPPED:
        if _STOPPED[0] == signal.SIGINT:
            raise KeyboardInterrupt
        sys.exit(128 + _STOPPED[0])


@click.group(cls=_Tenet, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tenet", prog_name="tenet")
def main() -> None:
    """Tenet: a rules engine for credit decisions about existing customers.

    Rulesets are `.rules` files; docs/language.md describes the language. Typical use:
    `tenet check rulesets/`, `tenet test rulesets/`, `tenet run RULESET --facts FILE.json`.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True,
              help="text for people; json, github (workflow annotations) or sarif for tools.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@_allow_empty_option
@click.option("--no-cache", is_flag=True,
              help="Check every file again, even unchanged ones (the cache is in "
                   "$XDG_CACHE_HOME/tenet or ~/.cache/tenet).")
@_root_option
def check(paths: tuple[Path, ...], output_format: str, strict: bool, allow_empty: bool,
          no_cache: bool, root: Path | None) -> None:
    """Parse, type-check and lint rulesets.

    PATHS are `.rules` files or folders, searched recursively for `*.rules`. A file without a
    `ruleset` header that another file includes is checked as part of that file.

    Exit status: 0 no errors (warnings allowed unless --strict), 1 findings, 2 usage error
    (no `.rules` file found is one, unless --allow-empty).
    """
    files = _rule_files(paths, root)
    if not files and not allow_empty:
        raise click.UsageError(f"no `.rules` files in {', '.join(map(str, paths))} "
                               "(pass --allow-empty if that is expected)")
    results = check_files(files, use_cache=not no_cache)
    diagnostics = sort_diagnostics(d for r in results for d in r.diagnostics)
    sources = {name: text for r in results for name, text in r.sources.sources.items()}
    if output_format == "json":
        click.echo(to_json(diagnostics))
    elif output_format == "github":
        if diagnostics:
            click.echo(to_github(diagnostics))
    elif output_format == "sarif":
        click.echo(to_sarif(diagnostics))
    else:
        console = Console(highlight=False)
        if not files:
            console.print("no `.rules` files found", style="yellow")
        print_diagnostics(console, diagnostics, sources)
        print_summary(console, diagnostics, len(files))
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    sys.exit(EXIT_FINDINGS if any(d.severity in failing for d in diagnostics) else EXIT_OK)


def _load_or_exit(path: Path, root: Path | None, exit_status: int = EXIT_FINDINGS):
    """The compiled ruleset; its errors are printed as `check` prints them (exit 1, or
    ``exit_status``)."""
    from engine.ruleset import RulesetError, load

    try:
        return load(path, root)
    except RulesetError as error:
        console = _console(stderr=True)
        print_diagnostics(console, error.result.diagnostics, error.result.sources.sources)
        print_summary(console, error.result.diagnostics, 1)
        sys.exit(exit_status)


class _Problem(Exception):
    """A user error of `run`: reported as text (or JSON with --format json), never a banner."""

    def __init__(self, kind: str, message: str, problems: list[str] | None = None,
                 status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.kind, self.message, self.problems, self.status = kind, message, problems, status


def _read_facts(path: Path):
    """Facts from a JSON file (`-`: standard input); a byte-order mark is accepted."""
    from engine.exceptions import FactsJsonError
    from engine.run.facts import parse_facts_json

    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise _Problem("facts", f"cannot read facts file {path}: {error}") from None
    try:
        return parse_facts_json(text)
    except FactsJsonError as error:
        raise _Problem("facts", f"{path}{error.where}: {error}") from None


def _report(problem: _Problem, output_format: str) -> None:
    if output_format == "json":
        data: dict[str, object] = {"error": problem.kind, "message": problem.message}
        if problem.problems is not None:
            data["problems"] = problem.problems
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        errors = _console(stderr=True)
        label = "no decision" if problem.kind == "conflict" else "error"
        errors.print(f"[bold red]{label}:[/] {problem.message}", soft_wrap=True, markup=True,
                     highlight=False)
        for line in problem.problems or ():
            errors.print(f"  {line}", markup=False, soft_wrap=True)
    sys.exit(problem.status)


def _iso_date(context: click.Context, parameter: click.Parameter, value: str | None):
    """An ISO date, with a message in words when it is not one."""
    if value is None:
        return None
    from engine.run.facts import iso_date

    found = iso_date(value)
    if found is None:
        detail = ""
        try:
            datetime.date.fromisoformat(value)
        except ValueError as error:  # what is wrong with it, such as a month of 13
            detail = f" ({error})"
        raise click.BadParameter(f"{value!r} is not a date of the form YYYY-MM-DD{detail}",
                                 context, parameter)
    return found


@main.command()
@click.argument("ruleset_path", metavar="RULESET", type=click.Path(path_type=Path, exists=True,
                                                                   dir_okay=False))
@click.option("--facts", "facts_path", required=True, metavar="FILE.json",
              type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
              help='Facts as JSON keyed by facts block: {"customer": {...}}; - reads standard '
                   "input.")
@click.option("--as-of", callback=_iso_date, default=None, metavar="DATE",
              help="The decision date (YYYY-MM-DD); today when omitted.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: the decision and its trace as a tree; json: data "
                                      "(errors too).")
@click.option("--no-trace", is_flag=True, help="Leave the trace out.")
@click.option("--why-not", "why_not", metavar="RULE",
              help="Also say what stopped RULE: each failing condition with its values and the "
                   "margin to flip it, the tables it depends on, or the rule that won.")
@click.option("--brief", is_flag=True,
              help="Text: the decision, its reasons and why, without the whole trace.")
@click.option("--trace", "with_trace", is_flag=True,
              help="Text, with --why-not: after the answer, the whole decision and its trace "
                   "(without it, the decision in one line above the answer).")
@_root_option
def run(ruleset_path: Path, facts_path: Path, as_of: datetime.date | None,
        output_format: str, no_trace: bool, why_not: str | None, brief: bool,
        with_trace: bool, root: Path | None) -> None:
    """Decide for one customer and explain the decision.

    Exit status: 0 decided, 1 the ruleset has errors, 2 bad facts or usage, 3 no decision for
    these facts (a `unique` or `any` conflict, which is named).
    """
    from engine.exceptions import DecisionConflict, FactsError, OutsideWindow, UnknownRule
    from engine.report.decisions import render_decision, render_decision_line
    from engine.report.why_not import render_why_not

    ruleset = _load_or_exit(ruleset_path, root)
    console = _console()
    try:
        facts = _read_facts(facts_path)
        decision = ruleset.decide(facts, as_of=as_of, trace=not no_trace, why_not=why_not)
    except UnknownRule as error:
        _report(_Problem("usage", str(error)), output_format)
    except _Problem as problem:
        _report(problem, output_format)
    except FactsError as error:
        _report(_Problem("facts", f"{facts_path}: the facts do not fit ruleset "
                                  f"`{ruleset.name}`", error.problems), output_format)
    except OutsideWindow as error:
        _report(_Problem("window", str(error)), output_format)
    except DecisionConflict as error:
        _report(_Problem("conflict", str(error), status=EXIT_NO_DECISION), output_format)
    if output_format == "json":
        click.echo(decision.to_json())
    elif decision.why_not is None:
        console.print(render_decision(decision, brief=brief))
    else:  # the answer first, under the decision in one line
        console.print(render_decision_line(decision))
        console.print()
        console.print(render_why_not(decision.why_not))
        if with_trace:
            console.print()
            console.print(render_decision(decision, brief=brief))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_allow_empty_option
@_root_option
def test(paths: tuple[Path, ...], allow_empty: bool, root: Path | None) -> None:
    """Run the `example` blocks of rulesets.

    A failure shows what was expected against what came out, and the decision's trace. Ends
    with `N passed, M failed`. Exit status: 0 all pass, 1 any failure or ruleset error, or no
    example at all (unless --allow-empty), 2 usage error (no `.rules` file found).
    """
    from engine.report.decisions import render_decision
    from engine.ruleset import Ruleset
    from engine.run.examples import run_example

    console = _console()
    passed = failed = 0
    files = _rule_files(paths, root)
    if not files and not allow_empty:
        raise click.UsageError(f"no `.rules` files in {', '.join(map(str, paths))} "
                               "(pass --allow-empty if that is expected)")
    for result in check_files(files):
        if result.has_errors or result.program is None:
            print_diagnostics(console, result.diagnostics, result.sources.sources)
            failed += 1
            continue
        ruleset = Ruleset(result)
        for example in ruleset.examples:
            outcome = run_example(ruleset, example)
            where = f"{example.span.file}:{example.span.line}"
            if outcome.passed:
                passed += 1
                console.print(f"[green]✓[/] {where} {example.name}", soft_wrap=True)
                continue
            failed += 1
            console.print(f"[bold red]✗[/] {where} {example.name}", soft_wrap=True)
            for failure in outcome.failures:
                console.print(f"    {failure}", markup=False)
            if outcome.decision is not None:
                console.print(render_decision(outcome.decision))
    console.print(f"{passed} passed, {failed} failed", highlight=False)
    if not passed and not failed and not allow_empty:
        console.print("no `example` blocks found: nothing was tested (pass --allow-empty if "
                      "that is expected)", style="yellow")
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--baseline", "baseline_path", metavar="RULESET",
              type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Compare with this ruleset: for each output both have, and for reasons and "
                   "offers, prove that no customer is decided differently or show one who is; "
                   "and check the properties that read `baseline.`.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True,
              help="text for people; json (every result), github annotations or SARIF "
                   "(the findings) for tools.")
@click.option("--timeout", type=click.FloatRange(min=0.001), default=10.0, show_default=True,
              metavar="SECONDS", help="Time the solver may take for each claim; past it the "
                                       "result is `unknown`.")
@click.option("--list-bound", type=click.IntRange(0, 20), default=3, show_default=True,
              metavar="N", help="Prove for lists of facts up to N elements (said in each result "
                                "that depends on it).")
@click.option("--property", "only", metavar="NAME", help="Verify only this property.")
@click.option("--witness-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              metavar="FOLDER", help="Write each witness as a facts file `tenet run` takes "
                                     "(FOLDER/RULESET.NAME.json; the as-of date is in the "
                                     "results).")
@_root_option
def verify(paths: tuple[Path, ...], baseline_path: Path | None, output_format: str,
           timeout: float, list_bound: int, only: str | None, witness_dir: Path | None,
           root: Path | None) -> None:
    """Prove the `property` declarations of rulesets over every customer, or show one who
    breaks them.

    Besides the properties, it proves that no facts make a decision a conflict, and warns
    (V004) where a rule can have some of its proposals used while another lost, such as a
    "hold" that still raises the limit. Each witness is a customer and an as-of date, decided
    by the engine before it is shown. `unknown` (the solver gave up) is never a pass.

    Exit status: 0 every claim proved (warnings and baseline differences allowed), 1 any
    violated, unknown or internal error, 2 usage error, a ruleset with errors, or a baseline
    that does not fit (V007).
    """
    from engine.report.verify import print_results, results_json, summary_line
    from engine.ruleset import Ruleset
    from engine.verify import Options, baseline_problems, findings
    from engine.verify import verify as verify_ruleset

    files = _rule_files(paths, root)
    if not files:
        raise click.UsageError(f"no `.rules` files in {', '.join(map(str, paths))}")
    checked = check_files(files)
    broken = [r for r in checked if r.has_errors or r.program is None]
    if broken:
        console = _console(stderr=True)
        for result in broken:
            print_diagnostics(console, result.diagnostics, result.sources.sources)
        print_summary(console, [d for r in broken for d in r.diagnostics], len(broken))
        sys.exit(EXIT_USAGE)
    baseline = _load_or_exit(baseline_path, None, EXIT_USAGE) if baseline_path else None
    rulesets = [Ruleset(result) for result in checked]
    misfits = [d for r in rulesets for d in (baseline_problems(r, baseline) if baseline else [])]
    if misfits:
        console = _console(stderr=True)
        print_diagnostics(console, misfits, {n: t for r in rulesets
                                             for n, t in r.check.sources.sources.items()})
        print_summary(console, misfits, len(rulesets))
        sys.exit(EXIT_USAGE)
    if only is not None and not any(only in r.check.program.symbols.properties for r in rulesets):
        raise click.UsageError(f"no property named `{only}` in {', '.join(map(str, paths))}")
    options = Options(timeout=timeout, list_bound=list_bound, only=only)
    console = _console()
    every = []
    for ruleset in rulesets:
        results = verify_ruleset(ruleset, baseline, options)
        every.extend(results)
        if output_format == "text":
            print_results(console, display_path(Path(ruleset.check.sources.modules[0].path)),
                          results)
        if witness_dir is not None:
            _write_witnesses(witness_dir, ruleset.name, results)
    if output_format == "json":
        click.echo(results_json(every))
    elif output_format == "github":
        text = to_github(findings(every))
        if text:
            click.echo(text)
    elif output_format == "sarif":
        click.echo(to_sarif(findings(every)))
    else:
        console.print(summary_line(every))
    sys.exit(EXIT_FINDINGS if any(r.fails for r in every) else EXIT_OK)


def _write_witnesses(folder: Path, ruleset: str, results) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        if result.witness is None:
            continue
        stem = f"{ruleset}.{result.name}".replace("/", "_").replace(" ", "_")
        sides = [("", result.witness.decision)]
        if result.witness.baseline is not None:
            sides.append((".baseline", result.witness.baseline))
        for suffix, side in sides:
            write_atomically(folder / f"{stem}{suffix}.json",
                             _facts_json(side.facts) + "\n")


def _facts_json(facts: dict) -> str:
    encoded = msgspec.json.Encoder(decimal_format="number").encode(facts)
    return msgspec.json.format(encoded, indent=2).decode("utf-8")


def _audit_store(db: str):
    """The audit database at ``db``, which must exist; a usage error otherwise."""
    from engine.serve.audit import AuditStore, NotAnAuditDatabase

    try:
        return AuditStore(db, create=False)
    except NotAnAuditDatabase as error:
        raise click.UsageError(f"--db {error}") from None


_DB_HELP = "The audit database: a SQLite file (a path or sqlite:///PATH) or postgresql://…"


@main.group()
def audit() -> None:
    """The audit records of decisions: check that none was altered."""


@audit.command("verify")
@click.option("--db", required=True, metavar="URL", help=_DB_HELP)
@click.option("--after", "start", default=None, metavar="HASH",
              help="The hash the first record follows: the last hash of records archived and "
                   "deleted before it (64 hexadecimal digits).")
def audit_verify(db: str, start: str | None) -> None:
    """Recompute the chain of audit records and report the first one that was altered,
    removed or inserted.

    Exit status: 0 the chain holds, 1 it breaks, 2 usage error.
    """
    if start is not None and not re.fullmatch(r"[0-9a-f]{64}", start):
        raise click.UsageError(f"--after {start}: a hash is 64 hexadecimal digits")
    store = _audit_store(db)
    count, broken = store.verify_chain(*(start,) if start else ())
    if broken is None:
        click.echo(f"✓ {count:,} records, the chain holds")
        sys.exit(EXIT_OK)
    click.echo(f"✗ record {broken.seq} ({broken.decision_id}): {broken.problem}; "
               f"{count - 1:,} records before it hold")
    sys.exit(EXIT_FINDINGS)


@main.command()
@click.option("--db", required=True, metavar="URL", help=_DB_HELP)
@click.option("--from", "since", callback=_iso_date, default=None, metavar="DATE",
              help="Only decisions received on or after DATE.")
@click.option("--to", "until", callback=_iso_date, default=None, metavar="DATE",
              help="Only decisions received before DATE.")
@click.option("--ruleset", "name", default=None, metavar="NAME", help="Only this ruleset's.")
@click.option("--against", "challenger_path", default=None, metavar="RULESET",
              type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Instead of replaying, decide the recorded customers with this challenger "
                   "and report what it changes, as tenet diff does (exit 0).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "html"]),
              default="text", show_default=True, help="The --against report's form.")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, metavar="FILE", help="Write the --against report to FILE.")
@_root_option
def replay(db: str, since: datetime.date | None, until: datetime.date | None,
           name: str | None, challenger_path: Path | None, output_format: str,
           out_path: Path | None, root: Path | None) -> None:
    """Decide every recorded decision again, with the ruleset text stored under its digest and
    the recorded facts and as-of date, and compare the decision, reasons, offers and rules used.

    With --against RULESET, the live book is the test book: the recorded decisions of
    RULESET's ruleset are the champion (as they were made) and RULESET decides each recorded
    customer on its recorded as-of date; the report is tenet diff's.

    Exit status: 0 all identical (or the --against report was made), 1 any difference (each
    shown with both versions), 2 usage.
    """
    if challenger_path is not None:
        _replay_against(db, challenger_path, since, until, name, output_format, out_path, root)
    if output_format != "text" or out_path is not None:
        raise click.UsageError("--format and --out are for the --against report")
    from engine.serve.audit import canonical
    from engine.serve.replay import replay as replay_store

    store = _audit_store(db)
    report = replay_store(store, since.isoformat() if since else None,
                          until.isoformat() if until else None, name)
    for difference in report.differences:
        click.echo(f"✗ {difference.decision_id}")
        click.echo(f"    recorded: {canonical(difference.recorded).decode()}")
        click.echo(f"    replayed: {canonical(difference.replayed).decode()}")
    click.echo(f"{report.replayed:,} decisions replayed: {report.identical:,} identical, "
               f"{len(report.differences):,} different")
    sys.exit(EXIT_FINDINGS if report.differences else EXIT_OK)


def _replay_against(db: str, challenger_path: Path, since: datetime.date | None,
                    until: datetime.date | None, name: str | None, output_format: str,
                    out_path: Path | None, root: Path | None) -> None:
    from engine.serve.replay import against

    if output_format == "html" and out_path is None:
        raise click.UsageError("--format html needs --out FILE.html")
    challenger = _load_or_exit(challenger_path, root, exit_status=EXIT_USAGE)
    if name is not None and name != challenger.name:
        raise click.UsageError(f"--ruleset {name}: the challenger decides ruleset "
                               f"`{challenger.name}`'s customers")
    store = _audit_store(db)
    try:
        report = against(store, challenger, str(challenger_path),
                         since.isoformat() if since else None,
                         until.isoformat() if until else None)
    except ValueError as error:
        _console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    _write_diff_report(report, output_format, out_path)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("folder", metavar="RULESETS_DIR",
                type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (only this machine by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="The port (0: one the system picks; the line printed at start names it).")
@click.option("--db", default="tenet-audit.db", show_default=True, metavar="URL",
              help=_DB_HELP + " (created when missing).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes serving requests (each loads the folder; SIGHUP to the parent "
                   "replaces them one by one).")
@click.option("--token-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=None, metavar="FILE",
              help="Require `Authorization: Bearer TOKEN` with the token in FILE; also turns "
                   "on POST /v1/admin/reload.")
@click.option("--max-body", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              metavar="BYTES", help="Refuse request bodies larger than this (413).")
@click.option("--allow-unproved", is_flag=True,
              help="Serve rulesets whose properties are not all proved.")
def serve(folder: Path, host: str, port: int, db: str, workers: int, token_file: Path | None,
          max_body: int, allow_unproved: bool) -> None:
    """Decide over HTTP with the rulesets directly in RULESETS_DIR, recording every decision
    for audit before answering it.

    Each ruleset is served only if it checks clean, its examples pass and its properties are
    proved. A request is decided by the version of the ruleset whose `effective … until`
    window holds its as-of date. POST /v1/rulesets/NAME/decisions {"facts": …, "as_of": …};
    GET /v1/rulesets, /v1/decisions/ID, /healthz, /metrics, /openapi.json.

    SIGHUP (or POST /v1/admin/reload with the token) loads the folder again: the rulesets
    served before keep serving until the new set has passed every check.

    Exit status: 2 when the folder cannot be served (the reasons are printed).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from engine.serve.app import ENVIRONMENT, Served, create_app, log_to_stderr
    from engine.serve.audit import AuditStore, NotAnAuditDatabase
    from engine.serve.catalog import Catalog, CatalogError

    load = partial(Catalog.load, folder.resolve(), allow_unproved=allow_unproved)
    try:
        catalog = load()
    except CatalogError as refused:
        for problem in refused.problems:
            click.echo(problem, err=True)
        click.echo(f"{folder}: not served ({len(refused.problems)} problem"
                   f"{'s' if len(refused.problems) != 1 else ''})", err=True)
        sys.exit(EXIT_USAGE)
    token = token_file.read_text(encoding="utf-8").strip() if token_file else None
    if token_file is not None and not token:
        raise click.UsageError(f"--token-file {token_file} is empty")
    try:
        store = AuditStore(db)  # made here, so that a bad --db stops us before serving
    except NotAnAuditDatabase as error:
        raise click.UsageError(f"--db {error}") from None
    log_to_stderr()
    options = dict(host=host, port=port, log_level="warning", timeout_worker_healthcheck=120)
    if workers == 1:
        config = uvicorn.Config(create_app(Served(catalog, load), store, token=token,
                                           max_body=max_body), **options)
    else:
        store.close()
        os.environ[ENVIRONMENT] = msgspec.json.encode({
            "folder": str(folder.resolve()), "db": db, "allow_unproved": allow_unproved,
            "token_file": str(token_file.resolve()) if token_file else None,
            "max_body": max_body}).decode()
        config = uvicorn.Config("engine.serve.app:from_environment", factory=True,
                                workers=workers, **options)
    listening = config.bind_socket()
    bound_port = listening.getsockname()[1]
    served = ", ".join(f"{name} ({len(v)} version{'s' if len(v) != 1 else ''})"
                       for name, v in catalog.versions.items())
    click.echo(f"serving {served} on http://{host}:{bound_port} "
               f"({workers} worker{'s' if workers != 1 else ''}), audit records in {db}",
               err=False)
    sys.stdout.flush()
    if workers == 1:
        uvicorn.Server(config).run(sockets=[listening])
    else:
        Multiprocess(config, sockets=[listening]).run()


@main.command()
def lsp() -> None:
    """The language server, for editors (VS Code, Neovim, Helix, Emacs…), over stdin and
    stdout: diagnostics as you type, hover, go to definition, references, completion,
    formatting, the outline, rename, quick fixes, and lenses that run examples and verify
    properties. Editors start it; README "In your editor" says how.
    """
    from engine.lsp.server import serve as serve_lsp

    serve_lsp()


@main.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 when a file would be reformatted.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Change nothing; print the changes as a unified diff (exit 1 when any).")
@_root_option
def fmt(paths: tuple[Path, ...], check_only: bool, show_diff: bool, root: Path | None) -> None:
    """Rewrite rulesets in the canonical layout, keeping every comment.

    Exit status: 0 done (or nothing to change), 1 a file would change (with --check or --diff)
    or does not parse, 2 usage error.
    """
    files = _rule_files(paths, root)
    console = _console()
    changed = failed = 0
    for file in files:
        shown = display_path(file.path)
        try:
            _, data = read_bytes(file.path, file.root, shown)
            original = data.decode("utf-8")
            formatted = format_text(original, shown)
        except SourceError as error:
            print_diagnostics(console, [Diagnostic(error.code, Severity.ERROR, error.message,
                                                   Span(shown, 1, 1, 1, 1), error.help)], {})
            failed += 1
            continue
        except UnicodeDecodeError as error:
            print_diagnostics(console, [not_utf8(shown, data, error)], {})
            failed += 1
            continue
        except FormatError as error:
            print_diagnostics(console, error.diagnostics, {shown: normalize_newlines(original)})
            failed += 1
            continue
        if formatted.encode("utf-8") == data:
            continue
        changed += 1
        if show_diff:
            click.echo("".join(difflib.unified_diff(
                original.splitlines(True), formatted.splitlines(True), shown, f"{shown} (formatted)")),
                nl=False)
        elif check_only:
            console.print(f"would reformat {shown}")
        elif not same_meaning(original, formatted):
            console.print(f"[bold red]error:[/] {shown}: the canonical layout would not read "
                          "back as the same ruleset (a formatter bug: please report it); the "
                          "file is unchanged", soft_wrap=True)
            failed += 1
            changed -= 1
            continue
        else:
            try:
                write_atomically(file.path, formatted)
            except OSError as error:
                console.print(f"[bold red]error:[/] cannot write {shown}: "
                              f"{error.strerror or error}; the file is unchanged", soft_wrap=True)
                failed += 1
                changed -= 1
                continue
            console.print(f"reformatted {shown}")
    verb = "would be reformatted" if check_only or show_diff else "reformatted"
    console.print(f"{changed} file{'s' if changed != 1 else ''} {verb}, "
                  f"{len(files) - changed - failed} unchanged"
                  + (f", {failed} with errors" if failed else ""), highlight=False)
    sys.exit(EXIT_FINDINGS if failed or (changed and (check_only or show_diff)) else EXIT_OK)


@main.command()
@click.argument("ruleset_path", metavar="RULESET", type=click.Path(path_type=Path, exists=True,
                                                                   dir_okay=False))
@click.option("--facts", "facts_path", required=True, metavar="IN",
              help="The portfolio: .jsonl/.ndjson (one facts object a line), .csv or .parquet "
                   "(a column per field, `block.field`); - for JSONL on standard input.")
@click.option("--out", "out_path", required=True, metavar="OUT",
              help="The decisions: .jsonl, .csv or .parquet; - for JSONL on standard output.")
@click.option("--errors", "errors_path", metavar="FILE",
              help="Rows that could not be decided, with why (JSONL; default OUT with "
                   ".errors.jsonl; with --engine spark a Parquet folder, default "
                   "OUT.errors.parquet).")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="DATE",
              help="The decision date (YYYY-MM-DD); today when omitted.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes (default: the number of cores).")
@click.option("--id", "id_field", metavar="FIELD",
              help="A facts path such as customer.customer_id, copied into every output and "
                   "error row.")
@click.option("--summary", "summary_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE.json", help="Also write the summary as JSON.")
@click.option("--trace", is_flag=True, help="Include each decision's trace (JSONL output).")
@click.option("--csv-formulas", "csv_formulas", is_flag=True,
              help="CSV output: write text cells as they are. By default a text cell starting "
                   "with = + - @, a tab or a carriage return gets a leading ' so that a "
                   "spreadsheet shows it instead of running it as a formula.")
@click.option("--quiet", is_flag=True, help="No progress bar; only the summary.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
              show_default=True,
              help="local: worker processes on this machine. spark: Spark executors (pip install "
                   "'tenet[spark]'; Java 17+); IN may be a folder of files, read in the order "
                   "of their names, and OUT and the errors are Parquet folders.")
@click.option("--master", metavar="URL",
              help="With --engine spark: the Spark master (local[4], spark://host:7077, yarn); "
                   "default what spark-submit set, else $SPARK_MASTER, else local[*].")
@click.option("--scale", type=click.IntRange(0, 38), default=None, metavar="N",
              help="With Parquet output (and --engine spark): the digits after the point of "
                   "the decimal columns of money and number (default 18); a value that needs "
                   "more is its row's error, never rounded.")
@_root_option
def batch(ruleset_path: Path, facts_path: str, out_path: str, errors_path: str | None,
          as_of: datetime.datetime | None, jobs: int | None, id_field: str | None,
          summary_path: Path | None, trace: bool, csv_formulas: bool, quiet: bool, engine: str,
          master: str | None, scale: int | None, root: Path | None) -> None:
    """Decide a whole portfolio, apply the budgets, and summarise.

    Every row ends up either in OUT or in the errors file. The output is the same whatever
    --jobs, and the same on Spark (--engine spark). Exit status: 0 every row decided, 1 some
    rows went to the errors file, 2 usage errors and rulesets with errors.
    """
    from engine.portfolio import BatchOptions, default_jobs, run_batch
    from engine.portfolio.formats import DEFAULT_SCALE, FormatError, format_of
    from engine.portfolio.runner import collect_rarely
    from engine.report.summary import render_summary
    from engine.ruleset import OutsideWindow

    ruleset = _load_or_exit(ruleset_path, root, exit_status=EXIT_USAGE)
    if engine == "spark":
        unused = [flag for flag, given in (("--jobs", jobs), ("--trace", trace),
                                           ("--csv-formulas", csv_formulas)) if given]
        if unused:
            raise click.UsageError(f"{' and '.join(unused)}: not with --engine spark (Spark's "
                                   "executors decide and write Parquet; traces are for JSONL "
                                   "output)")
        _batch_on_spark(ruleset, facts_path, out_path, errors_path,
                        as_of.date() if as_of else None, id_field, summary_path, master, scale)
        return
    if master is not None:
        raise click.UsageError("--master goes with --engine spark")
    try:
        for path in (facts_path, out_path):
            format_of(path)
        if scale is not None and format_of(out_path) != "parquet":
            raise click.UsageError("--scale goes with Parquet output (CSV and JSONL write "
                                   "every number exactly as text)")
        if trace and format_of(out_path) != "jsonl":
            raise click.UsageError("--trace needs JSONL output")
        if facts_path != "-" and not Path(facts_path).is_file():
            raise click.UsageError(f"no such file: {facts_path}")
    except FormatError as error:
        raise click.UsageError(str(error)) from None
    options = BatchOptions(out=out_path, errors=errors_path,
                           as_of=as_of.date() if as_of else None,
                           jobs=jobs or default_jobs(), id_field=id_field, trace=trace,
                           summary=None if summary_path is None else str(summary_path),
                           csv_neutralise=not csv_formulas,
                           scale=DEFAULT_SCALE if scale is None else scale)
    errors = _console(stderr=True)
    show_progress = not quiet and sys.stderr.isatty()
    collect_rarely()
    try:
        with _stopping_between_chunks(), _batch_progress(errors, show_progress) as progress:
            summary = run_batch(ruleset, facts_path, options, progress=progress)
    except (OSError, ValueError, OutsideWindow) as error:
        errors.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    errors.print(render_summary(summary.to_data(), options.out, options.errors_path))
    sys.exit(EXIT_FINDINGS if summary.errors else EXIT_OK)


def _batch_on_spark(ruleset: Ruleset, facts_path: str, out_path: str, errors_path: str | None,
                    as_of: datetime.date | None, id_field: str | None,
                    summary_path: Path | None, master: str | None, scale: int | None) -> None:
    from engine.exceptions import SparkUnavailable
    from engine.portfolio.formats import FormatError
    from engine.report.summary import render_summary
    from engine.ruleset import OutsideWindow
    from engine.spark import DEFAULT_SCALE, run_files
    from engine.spark.driver import book_format, spark_failure

    if "-" in (facts_path, out_path):
        raise click.UsageError("--engine spark reads and writes files and folders, not - ")
    if Path(out_path).suffix.lower() in (".csv", ".jsonl", ".ndjson"):
        raise click.UsageError("--engine spark writes OUT as a folder of Parquet files: name it "
                               "without an extension, or with .parquet")
    if not Path(facts_path).exists() and "://" not in facts_path:
        raise click.UsageError(f"no such file or folder: {facts_path}")
    try:
        book_format(facts_path)
    except FormatError as error:
        raise click.UsageError(str(error)) from None
    base = out_path[:-len(".parquet")] if out_path.lower().endswith(".parquet") else out_path
    errors_path = errors_path or f"{base.rstrip('/')}.errors.parquet"
    console = _console(stderr=True)
    try:
        summary = run_files(ruleset, facts_path, out_path, errors_path, as_of, id_field, master,
                            DEFAULT_SCALE if scale is None else scale,
                            None if summary_path is None else str(summary_path))
    except (SparkUnavailable, OSError, ValueError, OutsideWindow, FormatError) as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True, highlight=False)
        sys.exit(EXIT_USAGE)
    except Exception as error:  # a Spark job failed: say why, without the JVM's stack
        failure = spark_failure(error)
        if failure is None:
            raise
        console.print(f"[bold red]error:[/] Spark: {escape(failure)}", soft_wrap=True, highlight=False)
        sys.exit(EXIT_USAGE)
    console.print(render_summary(summary.to_data(), out_path, errors_path))
    sys.exit(EXIT_FINDINGS if summary.errors else EXIT_OK)


@main.command("diff")
@click.argument("champion_path", metavar="CHAMPION", type=click.Path(path_type=Path, exists=True,
                                                                     dir_okay=False))
@click.argument("challenger_path", metavar="CHALLENGER",
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--facts", "facts_path", required=True, metavar="BOOK",
              type=click.Path(exists=True, dir_okay=False),
              help="The portfolio both rulesets decide: .jsonl, .csv or .parquet.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="DATE",
              help="The decision date (YYYY-MM-DD); today when omitted.")
@click.option("--id", "id_field", metavar="FIELD",
              help="A facts path such as customer.customer_id naming the example customers.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "html"]),
              default="text", show_default=True,
              help="text: tables in the terminal; json: the whole report as data; html: one "
                   "self-contained page with a heat map and a histogram (needs --out).")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes for each run (default: the number of cores).")
@_root_option
def diff(champion_path: Path, challenger_path: Path, facts_path: str,
         as_of: datetime.datetime | None, id_field: str | None, output_format: str,
         out_path: Path | None, jobs: int | None, root: Path | None) -> None:
    """What replacing CHAMPION with CHALLENGER does to a book of customers.

    Both rulesets decide every row of BOOK, budgets applied in each; the report gives the
    migration matrix of every `one of` output, the change of every money output, the shift of
    reasons, rules fired and budget use, example customers for every changed cell, and the rows
    that only one of the two could decide. Exit status: 0 the report was made, 2 usage errors
    and rulesets with errors.
    """
    from engine.portfolio import default_jobs
    from engine.portfolio.diff import DiffOptions, diff_books
    from engine.portfolio.formats import FormatError, format_of
    from engine.ruleset import OutsideWindow

    if output_format == "html" and out_path is None:
        raise click.UsageError("--format html needs --out FILE.html")
    loaded = tuple(_load_or_exit(path, root, exit_status=EXIT_USAGE)
                   for path in (champion_path, challenger_path))
    try:
        format_of(facts_path)
    except FormatError as error:
        raise click.UsageError(str(error)) from None
    options = DiffOptions(as_of=as_of.date() if as_of else None, id_field=id_field,
                          jobs=jobs or default_jobs(), root=root)
    try:
        report = diff_books(champion_path, challenger_path, facts_path, options, loaded)
    except (OSError, ValueError, OutsideWindow) as error:
        _console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    _write_diff_report(report, output_format, out_path)
    sys.exit(EXIT_OK)


def _write_diff_report(report: dict, output_format: str, out_path: Path | None) -> None:
    """A champion/challenger report as text (the terminal's width, or 120 columns in a file),
    JSON or an HTML page, on stdout or in ``out_path``."""
    from engine.portfolio.summary import json_text
    from engine.report.diff import render_html, render_text

    if output_format == "text":
        console = _console() if out_path is None else Console(
            file=io.StringIO(), width=120, color_system=None)
        console.print(render_text(report))
        text = console.file.getvalue() if out_path is not None else None
    else:
        text = json_text(report) if output_format == "json" else render_html(report)
        if out_path is None:
            sys.stdout.write(text)
    if out_path is not None:
        write_atomically(out_path, text)


@contextlib.contextmanager
def _batch_progress(console: Console, shown: bool):
    """A progress bar on stderr (rows, rows/s, errors so far), or none; either way, after each
    chunk, a stop that Ctrl-C or SIGTERM asked for is made."""
    if not shown:
        yield _stop_if_asked
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.completed:,} rows"),
                  TextColumn("{task.fields[speed]}"), TextColumn("{task.fields[errors]}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("batch", total=None, speed="", errors="")
        start = time.perf_counter()

        def update(rows: int, errors: int) -> None:
            _stop_if_asked(rows, errors)
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=rows, speed=f"{rows / elapsed:,.0f} rows/s",
                       errors=f"{errors:,} errors" if errors else "")
        yield update


@main.group()
def dmn() -> None:
    """DMN in and out: make a ruleset of a DMN model's decisions, or a DMN model of a ruleset.

    docs/dmn.md explains what maps to what, what is refused and why.
    """


@dmn.command("import")
@click.argument("model_path", metavar="FILE.dmn",
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, metavar="DIR",
              help="Write the ruleset into DIR as NAME.rules (NAME from the model's name) and "
                   "print the report on standard output; without it the ruleset goes to "
                   "standard output and the report to standard error.")
@click.option("--types", "types_path", type=click.Path(path_type=Path, exists=True,
                                                       dir_okay=False),
              default=None, metavar="FILE.json",
              help='Choose what a FEEL number becomes where the model cannot tell: '
                   '{"Monthly Income": "money", "Applicant.Age": "integer"}, by input data or '
                   'decision name or Item.Component. By default a number is money when its '
                   'name or its item definition\'s says so (amount, balance, limit, income, …).')
def dmn_import(model_path: Path, out_dir: Path | None, types_path: Path | None) -> None:
    """Make a ruleset of a DMN 1.1 to 1.5 model (FILE.dmn).

    Input data become facts, item definitions types, decision tables tables (with their hit
    policy), literal expressions lets, business knowledge models inlined where they are
    invoked, and the top decisions outputs. An element Tenet cannot say exactly (a FEEL
    function it has no equivalent for, a boxed context, a Java function, …) is refused, with its
    id and the construct; the rest still imports, and the ruleset checks without errors.

    Exit status: 0 every element imported, 1 some were refused (the ruleset is still
    written), 2 usage error or not a DMN model.
    """
    from engine.dmn.importer import import_model, read_types
    from engine.dmn.model import DmnError, read_model
    from engine.report.dmn import print_import_report

    try:
        types = read_types(types_path) if types_path is not None else {}
    except (ValueError, OSError) as error:
        raise click.UsageError(f"--types {types_path}: {error}") from None
    try:
        model = read_model(model_path)
    except DmnError as error:
        _console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    imported = import_model(model, types)
    if out_dir is None:
        click.echo(imported.text, nl=False)
        print_import_report(_console(stderr=True), str(model_path), model.version, imported,
                            "standard output")
    else:
        target = out_dir / f"{imported.name}.rules"
        _write_or_exit(target, imported.text.encode("utf-8"))
        print_import_report(_console(), str(model_path), model.version, imported, str(target))
    sys.exit(EXIT_FINDINGS if imported.refused else EXIT_OK)


def _write_or_exit(path: Path, data: bytes) -> None:
    """Write a file (making its folder); one that cannot be written is a usage error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as error:
        _console(stderr=True).print(f"[bold red]error:[/] cannot write {escape(str(path))}: "
                                    f"{escape(error.strerror or str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)


@dmn.command("export")
@click.argument("ruleset_path", metavar="RULESET",
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, metavar="FILE.dmn",
              help="Write the model to FILE.dmn and the report to standard output; without it "
                   "the model goes to standard output and the report to standard error.")
@click.option("--tables-only", is_flag=True,
              help="Export what maps (facts, types, tables, lets, outputs with a default) and "
                   "leave out what has no DMN form (rules, caps, offers, budgets, reasons).")
@_root_option
def dmn_export(ruleset_path: Path, out_path: Path | None, tables_only: bool,
               root: Path | None) -> None:
    """Write a ruleset as a DMN 1.3 model, validated against DMN 1.3's XML schema.

    Facts become input data, types item definitions, tables decision tables, lets literal
    expressions, and outputs whose value is their `default` top decisions. Rules, caps,
    offers with consent, budgets and reason codes have no DMN form: they are listed, and
    nothing is written unless --tables-only says to leave them out.

    Exit status: 0 written, 1 the ruleset has errors or parts without a DMN form (without
    --tables-only), 2 usage error.
    """
    from engine.dmn.exporter import export_program, validate
    from engine.pipeline import check_path
    from engine.report.dmn import print_export_report

    result = check_path(ruleset_path, root)
    if result.has_errors or result.program is None:
        console = _console(stderr=True)
        print_diagnostics(console, result.diagnostics, result.sources.sources)
        print_summary(console, result.diagnostics, 1)
        sys.exit(EXIT_FINDINGS)
    header = result.program.symbols.header
    name = header.name.name if header is not None else ruleset_path.stem
    exported = export_program(result.program, name, header.label if header else None)
    report = _console(stderr=out_path is None)
    if exported.left_out and not tables_only:
        print_export_report(report, exported, None, tables_only)
        sys.exit(EXIT_FINDINGS)
    problems = validate(exported.xml)
    if problems:  # a fault of the exporter, not of the ruleset
        raise RuntimeError("the exported model does not validate: " + "; ".join(problems))
    if out_path is None:
        sys.stdout.buffer.write(exported.xml)
        sys.stdout.flush()
    else:
        _write_or_exit(out_path, exported.xml)
    print_export_report(report, exported, str(out_path) if out_path else None, tables_only)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("code", required=False)
def explain(code: str | None) -> None:
    """Explain a diagnostic code: what it finds, why it matters, an example.

    For example `tenet explain E601`; without a code, every code with its title.
    """
    console = Console(highlight=False)
    if code is None:
        print_code_list(console)
        return
    code = code.upper()
    if code not in CODES:
        raise click.UsageError(f"unknown code `{code}`; `tenet explain` lists them all")
    print_explanation(console, code)


if __name__ == "__main__":
    main()
