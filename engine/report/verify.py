"""`tenet verify`'s results for a person (text) and for tools (JSON)."""

from __future__ import annotations

from typing import Any

import msgspec
from rich.console import Console
from rich.markup import escape

from engine.run.runtime import normalize
from engine.syntax.source import escape_unprintable
from engine.verify.prover import INTERNAL, PROVED, SKIPPED, UNKNOWN, VIOLATED, Result, Side

_MARK = {PROVED: ("✓", "green"), VIOLATED: ("✗", "red"), UNKNOWN: ("?", "yellow"),
         SKIPPED: ("-", "dim"), INTERNAL: ("!", "bold red")}


def _shown(value: Any) -> str:
    return escape(escape_unprintable(_ENCODER.encode(normalize(value)).decode("utf-8")))


def _text(text: str) -> str:
    """A ruleset's own words (labels, names, paths) as the terminal shows them, never as
    markup or control sequences."""
    return escape(escape_unprintable(text))


# Decimals as JSON numbers with every digit, as the decisions' JSON writes them.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def _status_text(result: Result) -> tuple[str, str]:
    if result.status == VIOLATED and result.kind == "baseline":
        return "≠", "differs"
    if result.status == PROVED and result.kind == "baseline":
        return "=", "same"
    if result.status == VIOLATED and result.warning:
        return "!", "warning"
    mark, _ = _MARK[result.status]
    return mark, result.status


def print_results(console: Console, ruleset: str, results: list[Result]) -> None:
    """One line per claim with its result and time; a witness below each violation."""
    console.print(f"[bold]{_text(ruleset)}[/bold]")
    for result in results:
        mark, status = _status_text(result)
        colour = ("yellow" if result.warning or result.kind == "baseline" and
                  result.status == VIOLATED else _MARK[result.status][1])
        title = f"  {_text(result.title)}" if result.title else ""
        bound = (f" (lists up to {result.list_bound} elements)"
                 if result.list_bound is not None else "")
        console.print(f"  [{colour}]{mark} {status:<9}[/{colour}] {_text(result.name)}{title}"
                      f"[dim]{bound} {result.seconds:.2f} s[/dim]")
        if result.cause:
            console.print(f"      [dim]{_text(result.cause)}[/dim]")
        if result.witness is not None:
            _print_witness(console, result)


def _print_witness(console: Console, result: Result) -> None:
    witness = result.witness
    console.print(f"      as of {witness.as_of}, facts {_shown(witness.decision.facts)}",
                  soft_wrap=True)
    _print_side(console, "decision" if witness.baseline is None else "this ruleset",
                witness.decision)
    if witness.baseline is not None:
        if witness.baseline.facts != witness.decision.facts:
            console.print(f"      baseline's facts {_shown(witness.baseline.facts)}",
                          soft_wrap=True)
        _print_side(console, "baseline", witness.baseline)
    for text, value in witness.shown:
        console.print(f"      [dim]{_text(text)} =[/dim] {_shown(value)}")


def _print_side(console: Console, label: str, side: Side) -> None:
    if side.refused is not None or side.conflict is not None:
        what = "refused" if side.refused is not None else "conflict"
        console.print(f"      {label}: {what}: {_text(side.refused or side.conflict)}")
        return
    console.print(f"      {label}: {_shown(side.outputs)}, reasons {_shown(side.reasons)}",
                  soft_wrap=True)


def summary_line(results: list[Result]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        _, status = _status_text(result)
        counts[status] = counts.get(status, 0) + 1
    order = ["proved", "violated", "unknown", "internal error", "warning", "differs", "same",
             "skipped"]
    return ", ".join(f"{counts[s]} {s}" for s in order if s in counts) or "nothing to verify"


def results_json(results: list[Result]) -> str:
    encoded = _ENCODER.encode([normalize(r.to_data()) for r in results])
    return msgspec.json.format(encoded, indent=2).decode("utf-8")
