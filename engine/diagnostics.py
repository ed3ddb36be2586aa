"""One diagnostic type for every pass, and its plain-text rendering.

A diagnostic has a stable code (see ``engine.codes``), a severity, a message (lowercase start, no
final period, user text in backticks), an optional help line and a source span.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(slots=True, order=True, unsafe_hash=True)
class Span:
    """A source range: 1-based line and column of the first character and of the one past the
    last (``end_column`` is exclusive). It compares and sorts by file, then position.

    Never assign to a span's fields: it is not frozen only because the parser makes one per
    node and per name, and a frozen dataclass is made four times slower."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of ``other``."""
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # nothing wrong: something the user should know (an analysis incomplete)


@dataclass(frozen=True, slots=True)
class Fix:
    """What mends a mistake: ``text`` in place of ``span`` (which may be wider than the
    diagnostic's own span: the whole of `1,000`, where the diagnostic marks the comma)."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding of any pass, anchored at ``span``; ``fix`` when the help names the exact
    replacement (an editor offers it as a quick fix)."""

    code: str
    severity: Severity
    message: str
    span: Span
    help: str | None = field(default=None)
    fix: Fix | None = field(default=None, compare=False)

    @property
    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A `did you mean …?` help line when a candidate is close enough to ``name``."""
    # Short names (codes such as `R2`, two-character Chinese names) differ by a larger share.
    cutoff = 0.5 if len(name) <= 3 else 0.6
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=cutoff)
    return f"did you mean `{matches[0]}`?" if matches else None


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics by file and position, each reported once."""
    unique = {(d.code, d.message, d.span): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: d.sort_key)
