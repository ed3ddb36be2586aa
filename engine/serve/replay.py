"""`tenet replay`: every recorded decision made again from the stored ruleset texts, the
recorded facts and as-of date, and compared with what was recorded (issue 22)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.exceptions import TenetError
from engine.ruleset import Ruleset, RulesetBundle, load_bundle
from engine.run.runtime import normalize
from engine.serve.audit import AuditStore, canonical

# What must be identical: the decision, its reasons and offers, and the rules it used.
COMPARED = ("decision", "reasons", "offers", "rules_used")


@dataclass
class Difference:
    decision_id: str
    recorded: dict[str, Any]
    replayed: dict[str, Any]


@dataclass
class ReplayReport:
    replayed: int = 0
    identical: int = 0
    differences: list[Difference] = field(default_factory=list)


def replay(store: AuditStore, since: str | None = None, until: str | None = None,
           ruleset: str | None = None) -> ReplayReport:
    report = ReplayReport()
    loaded: dict[str, Ruleset | TenetError] = {}
    for record, bundle in store.records(since, until, ruleset):
        report.replayed += 1
        recorded = {key: record[key] for key in COMPARED}
        again = decide_again(loaded, bundle, record)
        if canonical(again) == canonical(recorded):
            report.identical += 1
        else:
            report.differences.append(Difference(record["decision_id"], recorded, again))
    return report


def decide_again(loaded: dict[str, Ruleset | TenetError], bundle: RulesetBundle,
                 record: dict[str, Any]) -> dict[str, Any]:
    """What a record's ruleset (loaded once per digest into ``loaded``) decides on its facts
    and as-of date: the compared parts, or the error that stopped it."""
    if bundle.digest not in loaded:
        try:
            loaded[bundle.digest] = load_bundle(bundle)
        except TenetError as error:
            loaded[bundle.digest] = error
    ruleset = loaded[bundle.digest]
    try:
        if isinstance(ruleset, TenetError):
            raise ruleset
        audited = ruleset.decide_audited(record["facts"], record["as_of"])
    except (TenetError, ValueError) as error:
        return {"error": f"{type(error).__name__}: {error}"}
    decision = normalize(audited.decision.decision)
    return {"decision": decision, "reasons": [r["code"] for r in audited.decision.reasons],
            "offers": decision.get("offers", []), "rules_used": audited.rules_used}
