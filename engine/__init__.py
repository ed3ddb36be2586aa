"""Tenet: a rules engine for credit decisions about existing customers.

    import engine
    ruleset = engine.load("rulesets/limit_review.rules")
    decision = ruleset.decide({"customer": {...}}, as_of=datetime.date(2026, 12, 15))
    print(decision.decision, decision.reasons, decision.to_json())

Portfolio runs: ``engine.batch`` (``engine.portfolio.run_batch``) on this machine,
``engine.spark.decide`` on Spark (with the extra `tenet[spark]`).

The API names are loaded on first use, so that tools needing only the front end (`tenet check`,
`tenet fmt`) do not pay for the evaluator's imports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Decision", "DecisionConflict", "FactsError", "OutsideWindow", "Ruleset",
           "RulesetError", "TenetError", "UnknownRule", "batch", "load", "load_text"]
_ERRORS = ("DecisionConflict", "FactsError", "OutsideWindow", "RulesetError", "TenetError",
           "UnknownRule")


def __getattr__(name: str) -> Any:
    if name == "__version__":  # the one version number: pyproject.toml's, as installed
        from importlib.metadata import version

        return version("tenet")
    if name == "batch":  # portfolio runs: engine.batch(ruleset, source, BatchOptions(out=...))
        from engine.portfolio import run_batch

        return run_batch
    if name in _ERRORS:
        from engine import exceptions

        return getattr(exceptions, name)
    if name in __all__:
        from engine import ruleset

        return getattr(ruleset, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
