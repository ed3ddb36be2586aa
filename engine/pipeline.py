"""The whole flow in one place: read → parse → check → lint (→ compile → decide in
``engine.ruleset``).

Each pass stops the pipeline when it reports errors, so a syntax error is not followed by a
cascade of type errors about the half-parsed file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.check import cache as check_cache
from engine.check.checker import CheckedProgram, check_modules
from engine.check.versions import overlapping_versions, version_of
from engine.diagnostics import Diagnostic, Severity, sort_diagnostics
from engine.lint import lint
from engine.lint.suppressions import unsuppressed
from engine.syntax.ast import RulesetHeader
from engine.syntax.loader import SourceSet, parse_text, read_bundle, read_sources
from engine.syntax.parser import no_cyclic_gc
from engine.syntax.source import RuleFile


@dataclass
class CheckResult:
    """What `tenet check` reports for one ruleset file (``program`` is None when it has
    errors, or when the findings came from the cache)."""

    sources: SourceSet
    program: CheckedProgram | None
    diagnostics: list[Diagnostic]
    cached_header: bool | None = None  # whether it has a `ruleset` header, when cached

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def check_path(path: Path, root: Path | None = None) -> CheckResult:
    """Parse and check the ruleset at ``path`` with its includes, reading only inside ``root``
    (by default the folder of ``path``)."""
    with no_cyclic_gc():
        return _check(read_sources(path, root))


def check_text(text: str, path: str = "<text>", root: Path | None = None,
               folder: Path | None = None, overlay: Mapping[Path, str] | None = None
               ) -> CheckResult:
    """Parse and check ruleset text (used by tests and tools that hold the text in memory, such
    as an editor); includes are read from ``folder`` (default: the working directory), or from
    ``overlay`` (an editor's unsaved texts, by resolved path)."""
    with no_cyclic_gc():
        return _check(parse_text(text, path, root, folder, overlay))


def check_bundle(files: dict[str, str], main: str) -> CheckResult:
    """Parse and check a ruleset shipped as texts (see ``engine.syntax.loader.read_bundle``)."""
    with no_cyclic_gc():
        return _check(read_bundle(files, main))


def _check(sources: SourceSet) -> CheckResult:
    if any(d.severity is Severity.ERROR for d in sources.diagnostics):
        return CheckResult(sources, None, sort_diagnostics(sources.diagnostics))
    program = check_modules(sources.modules)
    findings = [] if program.has_errors else lint(program)
    diagnostics = [*sources.diagnostics, *program.diagnostics, *findings]
    return CheckResult(sources, program, sort_diagnostics(unsuppressed(diagnostics, sources)))


def find_rule_files(paths: list[Path], root: Path | None = None) -> list[RuleFile]:
    """The files named, and the `*.rules` files below the folders named, each once, sorted
    within each folder, each with the folder it must stay inside: ``root`` when given, else the
    folder named or the folder of the file named. Raises FileNotFoundError for a path that does
    not exist."""
    found: dict[Path, RuleFile] = {}
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*.rules")):
                found.setdefault(file, RuleFile(file, root or path))
        elif path.is_file() or path.is_symlink():  # a broken link or loop: read() reports it
            found.setdefault(path, RuleFile(path, root or path.parent))
        else:
            raise FileNotFoundError(str(path))
    return list(found.values())


def check_files(files: list[RuleFile], use_cache: bool = False) -> list[CheckResult]:
    """Check each file as a ruleset, except files without a header that another of them
    includes: those are checked as part of the file that includes them. With ``use_cache``,
    an unchanged file's findings come from the cache (``engine.check.cache``)."""
    results = [_check_cached(file) if use_cache else check_path(file.path, file.root)
               for file in files]
    included = {module.path for result in results for module in result.sources.modules[1:]}
    results = [r for r in results if not (r.sources.root in included and _has_no_header(r))]
    _compare_versions(results)
    return results


def _compare_versions(results: list[CheckResult]) -> None:
    """Add E213 to each ruleset whose window overlaps another version's in its folder."""
    owners = []
    for result in results:
        version = version_of(result.sources.modules[0]) if result.sources.modules else None
        if version is not None:
            owners.append((version, result))
    for diagnostic in overlapping_versions([version for version, _ in owners]):
        owner = next(r for v, r in owners if v.span == diagnostic.span)
        owner.diagnostics = sort_diagnostics([*owner.diagnostics, diagnostic])


def _check_cached(file: RuleFile) -> CheckResult:
    found = check_cache.lookup(file)
    if found is not None:
        sources, diagnostics, has_header = found
        return CheckResult(sources, None, diagnostics, has_header)
    result = check_path(file.path, file.root)
    check_cache.store(file, result.sources, result.diagnostics, not _has_no_header(result))
    return result


def _has_no_header(result: CheckResult) -> bool:
    if result.cached_header is not None:
        return not result.cached_header
    modules = result.sources.modules
    return not modules or not any(isinstance(d, RulesetHeader) for d in modules[0].declarations)
