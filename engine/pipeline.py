"""The whole flow in one place: read → parse → check (→ compile → decide, later passes).

Each pass stops the pipeline when it reports errors, so a syntax error is not followed by a
cascade of type errors about the half-parsed file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.checker import CheckedProgram, check_modules
from engine.diagnostics import Diagnostic, Severity, sort_diagnostics
from engine.loader import SourceSet, parse_text, read_sources


@dataclass
class CheckResult:
    """What `tenet check` reports for one ruleset file."""

    sources: SourceSet
    program: CheckedProgram | None
    diagnostics: list[Diagnostic]

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def check_path(path: Path) -> CheckResult:
    """Parse and check the ruleset at ``path`` with its includes."""
    return _check(read_sources(path))


def check_text(text: str, path: str = "<text>") -> CheckResult:
    """Parse and check ruleset text (used by tests and tools that hold the text in memory)."""
    return _check(parse_text(text, path))


def _check(sources: SourceSet) -> CheckResult:
    if any(d.severity is Severity.ERROR for d in sources.diagnostics):
        return CheckResult(sources, None, sort_diagnostics(sources.diagnostics))
    program = check_modules(sources.modules)
    diagnostics = sort_diagnostics([*sources.diagnostics, *program.diagnostics])
    return CheckResult(sources, program, diagnostics)
