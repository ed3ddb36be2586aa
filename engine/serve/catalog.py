"""The rulesets a service decides with: a folder's versions, each in effect over its window.

Loading refuses anything a risk officer would not sign off: a ruleset with errors (E213, two
versions in effect on one day, included), an example that fails, or a property that is not
proved (unless ``allow_unproved``). A request names a ruleset and an as-of date; ``pick`` gives
the version whose `effective … until` window holds that date.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from engine.diagnostics import Severity
from engine.pipeline import check_files, find_rule_files
from engine.ruleset import Ruleset
from engine.run.examples import run_example
from engine.verify import verify
from engine.verify.prover import PROVED, SKIPPED


class CatalogError(Exception):
    """The folder cannot be served; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class UnknownRuleset(LookupError):
    pass


class NoVersionInEffect(LookupError):
    pass


@dataclass
class Catalog:
    """The versions of each ruleset, by name, in the order of their windows."""

    folder: Path
    versions: dict[str, list[Ruleset]] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path, allow_unproved: bool = False) -> Catalog:
        """Every ruleset directly in ``folder`` (a challenger kept in a subfolder is not
        served), checked, its examples run and its properties proved."""
        files = [f for f in find_rule_files([folder]) if f.path.parent == folder]
        if not files:
            raise CatalogError([f"{folder}: no `.rules` files"])
        problems: list[str] = []
        catalog = cls(folder)
        for result in check_files(files):
            problems += [f"{d.span.file}:{d.span.line}:{d.span.column}: {d.code} {d.message}"
                         for d in result.diagnostics if d.severity is Severity.ERROR]
            if result.has_errors or result.program is None:
                continue
            ruleset = Ruleset(result)
            problems += _unready(ruleset, allow_unproved)
            catalog.versions.setdefault(ruleset.name, []).append(ruleset)
        for name, versions in catalog.versions.items():
            undated = [v for v in versions if v.window is None]
            if undated and len(versions) > 1:
                problems.append(f"ruleset `{name}` has {len(versions)} versions and "
                                f"{len(undated)} of them no `effective` window: a service could "
                                "not tell which decides")
            versions.sort(key=lambda v: v.window.start if v.window else datetime.date.min)
        if problems:
            raise CatalogError(problems)
        return catalog

    def pick(self, name: str, as_of: datetime.date) -> Ruleset:
        versions = self.versions.get(name)
        if versions is None:
            raise UnknownRuleset(name)
        for version in versions:
            window = version.window
            if window is None or window.start <= as_of and (window.until is None
                                                             or as_of < window.until):
                return version
        windows = "; ".join(_window(v) for v in versions)
        raise NoVersionInEffect(f"no version of ruleset `{name}` is in effect on {as_of} "
                                f"(its versions: {windows})")


def _window(ruleset: Ruleset) -> str:
    window = ruleset.window
    until = f" until {window.until}" if window.until else " on"
    return f"{ruleset.version or 'unversioned'} from {window.start}{until}"


def _unready(ruleset: Ruleset, allow_unproved: bool) -> list[str]:
    """Why ``ruleset`` must not be served: failing examples, properties not proved."""
    where = ruleset.check.sources.modules[0].path
    problems = []
    for example in ruleset.examples:
        outcome = run_example(ruleset, example)
        if outcome.failures:
            problems.append(f"{where}:{example.span.line}: example \"{example.name}\" fails: "
                            f"{outcome.failures[0]}")
    if not allow_unproved:
        for result in verify(ruleset):
            if result.kind == "property" and result.status not in (PROVED, SKIPPED):
                problems.append(f"{where}:{result.span.line}: property `{result.name}` is "
                                f"{result.status} (serve with --allow-unproved to relax this)")
    return problems
