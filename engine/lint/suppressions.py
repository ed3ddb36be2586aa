"""Suppression comments: `# tenet: ignore[W207]` on a finding's line, or on the first line of
the declaration it is in, drops that finding of the static analysis."""

from __future__ import annotations

import re

from engine.diagnostics import Diagnostic, Severity
from engine.syntax.loader import SourceSet
from engine.syntax.source import split_lines

_IGNORE = re.compile(r"#\s*tenet:\s*ignore\[([A-Z0-9,\s]+)\]")


def unsuppressed(diagnostics: list[Diagnostic], sources: SourceSet) -> list[Diagnostic]:
    """Drop the findings of the static analysis (warnings, notes, E6xx) that
    `# tenet: ignore[CODE]` suppresses: on the finding's own line, or on the first line of the
    declaration it is in (where `tenet fmt` puts the comment of a one-line rule it splits).
    Errors of the language itself cannot be suppressed."""
    kept = []
    lines_of: dict[str, list[str]] = {}
    starts_of: dict[str, list[tuple[int, int]]] = {}
    for diagnostic in diagnostics:
        suppressible = diagnostic.severity is not Severity.ERROR or diagnostic.code.startswith("E6")
        if not suppressible:
            kept.append(diagnostic)
            continue
        file, number = diagnostic.span.file, diagnostic.span.line
        if file not in lines_of:
            lines_of[file] = split_lines(sources.sources.get(file, ""))
            starts_of[file] = sorted((d.span.line, d.span.end_line) for module in sources.modules
                                     if module.path == file for d in module.declarations)
        lines = lines_of[file]
        candidates = [number] + [start for start, end in starts_of[file] if start <= number <= end]
        codes = set()
        for line in candidates:
            for match in _IGNORE.finditer(lines[line - 1] if 0 < line <= len(lines) else ""):
                codes |= {c.strip() for c in match.group(1).split(",")}
        if diagnostic.code not in codes:
            kept.append(diagnostic)
    return kept
