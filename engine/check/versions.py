"""Versions of one ruleset in one folder must not be in effect on the same day.

A folder may hold several versions of a ruleset: the same `ruleset NAME`, each with its
`effective … until` window, so that a service can decide each request with the version in
effect on its as-of date. Two versions whose windows overlap would leave it to guess, so that
is an error (E213) for the later one. A ruleset without an `effective` line is not dated, so
not a version. Only files in the same folder are compared: a challenger in a folder of its own
(`rulesets/challengers/`) is not a version of the champion.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import PurePath

from engine.diagnostics import Diagnostic, Severity, Span
from engine.syntax import ast


@dataclass(frozen=True)
class Version:
    """One ruleset file's name and window, [start, until) (``until`` None: no end)."""

    folder: str
    name: str
    start: datetime.date
    until: datetime.date | None
    span: Span  # the `effective` line


def version_of(module: ast.Module) -> Version | None:
    """The version a file declares: None for a file without a `ruleset` header or without an
    `effective` window (a ruleset that is not dated is not a version of anything: a folder of
    test rulesets may share a name)."""
    header = next((d for d in module.declarations if isinstance(d, ast.RulesetHeader)), None)
    effective = next((d for d in module.declarations if isinstance(d, ast.EffectiveDecl)), None)
    if header is None or effective is None:
        return None
    folder = str(PurePath(module.path).parent)
    return Version(folder, header.name.name, effective.start, effective.until, effective.span)


def overlapping_versions(versions: list[Version]) -> list[Diagnostic]:
    """E213 for each version whose window overlaps an earlier-starting one of the same
    ruleset in the same folder."""
    found = []
    groups: dict[tuple[str, str], list[Version]] = {}
    for version in versions:
        groups.setdefault((version.folder, version.name), []).append(version)
    for group in groups.values():
        group.sort(key=lambda v: (v.start, v.span))
        for index, later in enumerate(group):
            earlier = next((v for v in group[:index] if _overlap(v, later)), None)
            if earlier is None:
                continue
            found.append(Diagnostic(
                "E213", Severity.ERROR,
                f"this version of ruleset `{later.name}` ({_window(later)}) overlaps the one in "
                f"{earlier.span.file}:{earlier.span.line} ({_window(earlier)}): both would "
                f"decide from {later.start}", later.span, help=_mend(earlier, later)))
    return found


def _overlap(a: Version, b: Version) -> bool:
    """Two [start, until) windows (no `until`: no end) share a day."""
    return (a.until is None or b.start < a.until) and (b.until is None or a.start < b.until)


def _window(version: Version) -> str:
    return f"from {version.start} " + (f"until {version.until}" if version.until else "on")


def _mend(earlier: Version, later: Version) -> str:
    if earlier.start < later.start:
        return (f"end the earlier version the day this one starts: `effective {earlier.start} "
                f"until {later.start}`")
    return ("give each version a window of its own with `effective DATE until DATE`, or keep "
            "a challenger in a folder of its own")
