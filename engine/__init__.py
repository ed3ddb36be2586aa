"""Tenet: a rules engine for credit decisions about existing customers.

    import engine
    ruleset = engine.load("rulesets/limit_review.rules")
    decision = ruleset.decide({"customer": {...}}, as_of=datetime.date(2026, 12, 15))
    print(decision.decision, decision.reasons, decision.to_json())
"""

from engine.ruleset import (
                            Decision,
                            DecisionConflict,
                            FactsError,
                            OutsideWindow,
                            Ruleset,
                            RulesetError,
                            load,
                            load_text,
)

__all__ = ["Decision", "DecisionConflict", "FactsError", "OutsideWindow", "Ruleset",
           "RulesetError", "load", "load_text"]
