"""`tenet verify`: properties of rulesets proved with the z3 SMT solver (LANGUAGE.md §12).

``verify`` runs the prover on one ruleset (and a baseline); ``findings`` turns its results into
diagnostics, with `# tenet: ignore[V004]` honoured as for the lints.
"""

from __future__ import annotations

from engine.diagnostics import Diagnostic
from engine.lint.suppressions import unsuppressed
from engine.ruleset import Ruleset
from engine.verify.prover import Options, Prover, Result


def verify(ruleset: Ruleset, baseline: Ruleset | None = None,
           options: Options | None = None) -> list[Result]:
    """Every claim's result; a partly used rule whose finding is suppressed is left out."""
    results = Prover(ruleset, baseline, options).run()
    kept = []
    for result in results:
        diagnostic = result.diagnostic()
        if diagnostic is None or unsuppressed([diagnostic], ruleset.check.sources):
            kept.append(result)
    return kept


def findings(results: list[Result]) -> list[Diagnostic]:
    return [d for d in (r.diagnostic() for r in results) if d is not None]


__all__ = ["Options", "Result", "findings", "verify"]
