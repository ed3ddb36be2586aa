"""`tenet replay`: every recorded decision made again from the stored ruleset texts, the
recorded facts and as-of date, and compared with what was recorded (issue 22); or, with
``against``, a challenger run over the recorded decisions, reported as `tenet diff` reports a
book (the live book as the test book)."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from engine.exceptions import TenetError
from engine.portfolio.diff import SIDES, compare_decided
from engine.ruleset import Ruleset, RulesetBundle, load_bundle
from engine.serve.audit import AuditStore, canonical, decided_parts

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
    ruleset = _version(loaded, bundle)
    try:
        if isinstance(ruleset, TenetError):
            raise ruleset
        audited = ruleset.decide_audited(record["facts"], record["as_of"])
    except (TenetError, ValueError) as error:
        return {"error": f"{type(error).__name__}: {error}"}
    parts = decided_parts(audited)
    return {key: parts[key] for key in COMPARED}


def _version(loaded: dict[str, Ruleset | TenetError], bundle: RulesetBundle
             ) -> Ruleset | TenetError:
    """The ruleset version of ``bundle``, loaded once per digest (or why it cannot be)."""
    if bundle.digest not in loaded:
        try:
            loaded[bundle.digest] = load_bundle(bundle)
        except TenetError as error:
            loaded[bundle.digest] = error
    return loaded[bundle.digest]


def against(store: AuditStore, challenger: Ruleset, challenger_path: str,
            since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """`tenet diff`'s report with the recorded decisions of ``challenger``'s ruleset as the
    champion (as they were made, by whichever version was in effect) and ``challenger``
    deciding each recorded customer on its recorded as-of date. The champion's types, labels
    and reason texts are those of the latest version recorded."""
    encode = msgspec.json.Encoder(decimal_format="number").encode
    loaded: dict[str, Ruleset | TenetError] = {}
    counts = {side: {"reasons": Counter(), "fired": Counter(), "used": Counter()}
              for side in SIDES}
    latest: Ruleset | None = None
    rows = 0
    with tempfile.TemporaryDirectory(prefix="tenet-replay-") as folder:
        outs = {side: Path(folder) / f"{side}.jsonl" for side in SIDES}
        files = {side: (outs[side].open("wb"), outs[side].with_suffix(".errors.jsonl").open("wb"))
                 for side in SIDES}
        for record, bundle in store.records(since, until, challenger.name):
            rows += 1
            identifier = record["decision_id"]
            version = _version(loaded, bundle)
            if isinstance(version, Ruleset):
                latest = version
            sides = {"champion": (record, None), "challenger": _challenged(challenger, record)}
            for side, (decided, refused) in sides.items():
                decisions, errors = files[side]
                if decided is None:
                    errors.write(encode({"row": rows, "id": identifier,
                                         "problems": [refused["error"]]}) + b"\n")
                    continue
                tally = counts[side]
                tally["reasons"].update(decided["reasons"])
                tally["fired"].update(decided["rules_fired"])
                tally["used"].update(decided["rules_used"])
                decisions.write(encode({"row": rows, "id": identifier,
                                        "decision": decided["decision"],
                                        "reasons": [{"code": code}
                                                    for code in decided["reasons"]]}) + b"\n")
        for decisions, errors in files.values():
            decisions.close()
            errors.close()
        if latest is None:
            raise ValueError(f"no recorded decision of ruleset `{challenger.name}` to compare "
                             "with" + (" in those dates" if since or until else ""))
        rulesets = (latest, challenger)
        runs = [(outs[side], _summary(rows, counts[side], ruleset))
                for side, ruleset in zip(SIDES, rulesets, strict=True)]
        report = compare_decided(rulesets, runs)
    sides = {side: {"path": path, "ruleset": ruleset.name, "version": ruleset.version,
                    "digest": ruleset.info.digest}
             for side, path, ruleset in zip(SIDES, (f"recorded in {store.url}", challenger_path),
                                            rulesets, strict=True)}
    return {**sides, "book": f"the decisions recorded in {store.url}",
            "as_of": "each decision's own date", **report, "examples": []}


def _challenged(challenger: Ruleset, record: dict[str, Any]) -> tuple[dict | None, dict | None]:
    """The challenger's decision on a recorded customer, in the record's form, or its error."""
    try:
        audited = challenger.decide_audited(record["facts"], record["as_of"])
    except (TenetError, ValueError) as error:
        return None, {"error": str(error)}
    return decided_parts(audited), None


def _summary(rows: int, counts: dict[str, Counter], ruleset: Ruleset) -> dict[str, Any]:
    """The parts of a `tenet batch` summary the comparison reads. A live service applies no
    portfolio budgets."""
    names = dict.fromkeys([*ruleset.check.program.symbols.rules, *counts["fired"]])
    return {"rows": rows, "reasons": dict(counts["reasons"].most_common()), "budgets": {},
            "rules": {name: {"fired": counts["fired"][name], "used": counts["used"][name]}
                      for name in names}}
