"""Every error Tenet raises to a caller, under one base: ``except engine.TenetError`` catches
each of them, and each is also the built-in kind it has always been (a ``ValueError`` where a
value was wrong), so existing handlers keep working."""

from __future__ import annotations

from typing import Any

MAX_PROBLEMS = 100  # listed per facts value; the rest are counted


class TenetError(Exception):
    """The base of every error Tenet raises to a caller."""


class RulesetError(TenetError):
    """The ruleset has errors; ``diagnostics`` holds all of them, ``result`` the whole
    ``engine.pipeline.CheckResult``."""

    def __init__(self, result: Any) -> None:  # a CheckResult, of the higher pipeline layer
        self.result = result
        self.diagnostics = [d for d in result.diagnostics if d.severity.value == "error"]
        lines = [f"{d.span.file}:{d.span.line}:{d.span.column}: {d.code} {d.message}"
                 for d in self.diagnostics]
        super().__init__(f"the ruleset has {len(lines)} error(s):\n" + "\n".join(lines))


class UnknownRule(TenetError, ValueError):
    """``why_not`` names no rule of the ruleset."""


class OutsideWindow(TenetError):
    """The as-of date is outside the ruleset's `effective … until …` window."""


class DecisionConflict(TenetError):
    """A `unique` or `any` output (or table) got proposals it cannot combine."""


class FactsError(TenetError):
    """The facts do not fit the schema; ``problems`` lists each one with its path (the first
    ``MAX_PROBLEMS``, then how many more there are)."""

    def __init__(self, problems: list[str]) -> None:
        if len(problems) > MAX_PROBLEMS:
            problems = [*problems[:MAX_PROBLEMS],
                        f"… and {len(problems) - MAX_PROBLEMS:,} more problems"]
        super().__init__("the facts do not fit the ruleset's schema:\n" +
                         "\n".join(f"  {p}" for p in problems))
        self.problems = problems


class FactsJsonError(TenetError, ValueError):
    """Facts text that is not a JSON value Tenet reads; ``where`` is `:line:col` or empty."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


class BookError(TenetError, ValueError):
    """A usage error about a portfolio run's files: their format, columns, or where the run
    writes (``engine.portfolio``)."""


class SparkUnavailable(TenetError):
    """pyspark, pandas or Java is missing, or Spark did not start."""
