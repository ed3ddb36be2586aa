"""The `tenet` command line: arguments, rendering and exit status. The work is in `engine`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from engine.codes import CODES
from engine.console import print_diagnostics, print_explanation, print_summary
from engine.diagnostics import Severity, sort_diagnostics
from engine.pipeline import check_files, find_rule_files
from engine.report import to_github, to_json, to_sarif

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="tenet")
def main() -> None:
    """Tenet: a rules engine for credit decisions about existing customers.

    Rulesets are `.rules` files; see docs/language.md for the language.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True,
              help="text for people; json, github (workflow annotations) or sarif for tools.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
def check(paths: tuple[Path, ...], output_format: str, strict: bool) -> None:
    """Parse, type-check and lint rulesets.

    PATHS are `.rules` files or folders, searched recursively for `*.rules`. A file without a
    `ruleset` header that another file includes is checked as part of that file.

    Exit status: 0 no errors (warnings allowed unless --strict), 1 findings, 2 usage error.
    """
    try:
        files = find_rule_files(list(paths))
    except FileNotFoundError as missing:
        raise click.UsageError(f"no such file or folder: {missing}") from None
    try:
        results = check_files(files)
    except OSError as error:
        raise click.UsageError(f"cannot read {error.filename}: {error.strerror}") from None
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


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain a diagnostic code, e.g. `tenet explain E402`."""
    code = code.upper()
    if code not in CODES:
        raise click.UsageError(f"unknown code `{code}`; codes are {', '.join(sorted(CODES))}")
    print_explanation(Console(highlight=False), code)


if __name__ == "__main__":
    main()
