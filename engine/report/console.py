"""Terminal rendering with rich: diagnostics with their source line and caret underline.

This is the only module of the engine that imports rich; everything else returns data.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from engine.codes import CODES
from engine.diagnostics import Diagnostic, Severity
from engine.syntax.source import UNPRINTABLE, display_width, escape_unprintable, split_lines

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}


def render_diagnostic(diagnostic: Diagnostic, source: str | None) -> Text:
    """`path:line:col: CODE [severity] message`, the source line, a caret underline, the help."""
    span = diagnostic.span
    style = _STYLE[diagnostic.severity]
    text = Text()
    text.append(f"{span.file}:{span.line}:{span.column}: ", style="bold")
    text.append(f"{diagnostic.code} ", style=style)
    text.append(f"[{diagnostic.severity.value}] ", style=style)
    text.append(escape_unprintable(diagnostic.message))
    lines = split_lines(source) if source is not None else []
    if 1 <= span.line <= len(lines):
        # One replacement character each, so that the caret stays under its column.
        line = UNPRINTABLE.sub("\ufffd", lines[span.line - 1].replace("\t", " "))
        gutter = f"{span.line:>4} | "
        end = span.end_column if span.end_line == span.line else len(line) + 1
        before = line[: span.column - 1]
        marked = line[span.column - 1: max(end - 1, span.column)]
        text.append("\n" + gutter, style="dim")
        text.append(line)
        text.append("\n" + " " * (len(gutter) - 2) + "| ", style="dim")
        text.append(" " * display_width(before) + "^" * max(1, display_width(marked)), style=style)
    if diagnostic.help:
        text.append("\n  = help: ", style="bold cyan")
        text.append(escape_unprintable(diagnostic.help))
    return text


def print_diagnostics(console: Console, diagnostics: list[Diagnostic],
                      sources: dict[str, str]) -> None:
    for diagnostic in diagnostics:
        console.print(render_diagnostic(diagnostic, sources.get(diagnostic.span.file)),
                      soft_wrap=True, highlight=False)
        console.print()


def print_summary(console: Console, diagnostics: list[Diagnostic], files: int) -> None:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    notes = len(diagnostics) - errors - warnings
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if not diagnostics:
        console.print(f"[bold green]✓[/] {checked}, no problems", highlight=False)
        return
    parts = []
    if errors:
        parts.append(f"[bold red]{errors} error{'s' if errors != 1 else ''}[/]")
    if warnings:
        parts.append(f"[bold yellow]{warnings} warning{'s' if warnings != 1 else ''}[/]")
    if notes:
        parts.append(f"[bold blue]{notes} note{'s' if notes != 1 else ''}[/]")
    console.print(f"{checked}: " + ", ".join(parts), highlight=False)


def print_code_list(console: Console) -> None:
    """Every code, grouped by severity order of the catalogue, with its title."""
    for code in sorted(CODES, key=_code_order):
        info = CODES[code]
        console.print(Text.assemble((f"{code} ", "bold"), (f"{info.severity.value:8}",
                                                           _STYLE[info.severity]), info.title))


def _code_order(code: str) -> tuple[int, str]:
    return "EWIV".index(code[0]), code


def print_explanation(console: Console, code: str) -> None:
    info = CODES[code]
    console.print(f"[bold]{info.code}[/] [{_STYLE[info.severity]}]{info.severity.value}[/]: "
                  f"{info.title}", highlight=False)
    console.print(info.explanation, highlight=False)
    if info.example:
        console.print("\nFor example:", style="bold", highlight=False)
        for line in escape_unprintable(info.example).splitlines():
            console.print(f"    {line}", highlight=False, markup=False)
