"""Champion/challenger: what a rule change does to the book.

Both rulesets decide the same portfolio (``tenet batch``'s runner, budgets applied in each); the
two outputs are then read side by side, row by row, for the migration matrix of every `one of`
output they share, the change of every money output they share, and the customers who moved.
Reasons, rules and budgets come from the two runs' summaries. A row that only one ruleset could
decide is counted and listed, never dropped.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from engine.check import types as t
from engine.check.symbols import OFFERS_OUTPUT
from engine.portfolio import run_batch
from engine.portfolio.formats import RowReader, read_chunks
from engine.portfolio.runner import BatchOptions
from engine.ruleset import Ruleset, load
from engine.run.runtime import normalize
from engine.run.trace import OutputEvent
from engine.syntax import ast

SIDES = ("champion", "challenger")
EXAMPLES_PER_CELL = 3
LISTED_ONE_SIDED = 100
HISTOGRAM_BINS = 20


@dataclass
class DiffOptions:
    as_of: Any = None
    id_field: str | None = None
    jobs: int = 1
    root: str | Path | None = None


def diff_books(champion: str | Path, challenger: str | Path, book: str | Path,
               options: DiffOptions, loaded: tuple[Ruleset, Ruleset] | None = None) -> dict[str, Any]:
    """The report, as data (``engine.report.diff`` renders it). ``loaded``: the two rulesets when the
    caller already loaded them from ``champion`` and ``challenger``."""
    rulesets = list(loaded or (load(champion, options.root), load(challenger, options.root)))
    with tempfile.TemporaryDirectory(prefix="tenet-diff-") as folder:
        runs = []
        for side, ruleset in zip(SIDES, rulesets, strict=True):
            out = Path(folder) / f"{side}.jsonl"
            summary = run_batch(ruleset, str(book), BatchOptions(
                out=str(out), errors=str(out.with_suffix(".errors.jsonl")), as_of=options.as_of,
                jobs=options.jobs, id_field=options.id_field))
            runs.append((out, summary.to_data()))
        report = _Comparison(rulesets, options).compare(runs)
    report["examples"] = _explain_examples(rulesets, book, report, options)
    sides = {side: {"path": str(path), "ruleset": ruleset.name, "version": ruleset.version,
                    "digest": ruleset.info.digest}
             for side, path, ruleset in zip(SIDES, (champion, challenger),
                                            rulesets, strict=True)}
    as_of = rulesets[0].as_of_date(options.as_of).isoformat()
    return {**sides, "book": str(book), "as_of": as_of, "headline": _headline(report),
            **report}


def compare_decided(rulesets: tuple[Ruleset, Ruleset],
                    runs: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """The report's comparison (rows, matrices, money, reasons, rules, budgets and its
    headline) of two sides already decided elsewhere: each a JSONL file of records in
    `tenet batch`'s form (``row``, ``id``, ``decision``, ``reasons``) beside its
    ``.errors.jsonl`` (``row``, ``id``, ``problems``), with its summary's ``rows``, ``reasons``,
    ``rules`` and ``budgets``. `tenet replay --against` compares recorded decisions so."""
    report = _Comparison(list(rulesets), DiffOptions()).compare(runs)
    return {"headline": _headline(report), **report}


def _headline(report: dict[str, Any]) -> list[str]:
    """What a risk committee reads first, in a few sentences: how many customers each output
    changes for, the change of each money total, and the budgets' use."""
    both = report["decided_by_both"]
    changed = [f"{name} for {sum(c['count'] for c in m['cells'] if c['changed']):,}"
               + (" customers" if index == 0 else "")
               for index, (name, m) in enumerate(report["matrices"].items())]
    changed += [f"{name} for {m['up'] + m['down']:,} ({m['up']:,} up, {m['down']:,} down)"
                for name, m in report["money"].items()]
    lines = [f"Of {report['rows']:,} customers, {both:,} were decided by both rulesets"
             + (f"; the challenger changes {', '.join(changed)}." if changed else ".")]
    for name, money in report["money"].items():
        lines.append(f"The total of {name} goes from {money['champion_total']:,} to "
                     f"{money['challenger_total']:,} ({money['difference']:+,}).")
    budgets = report["budgets"]
    used = [f"{name} {budget_use(budgets['champion'].get(name))} → "
            f"{budget_use(budgets['challenger'].get(name))}"
            for name in dict.fromkeys([*budgets["champion"], *budgets["challenger"]])]
    if used:
        lines.append(f"Budgets used: {'; '.join(used)}.")
    return lines


def budget_use(budget: dict[str, Any] | None, absent: str = "none", of: str = " of ") -> str:
    """A budget's use against its limit (`5,000,000 of 6,000,000`), or ``absent``."""
    if budget is None:
        return absent
    limit = "missing" if budget["limit"] is None else f"{budget['limit']:,}"
    return f"{budget['used']:,}{of}{limit}"


class _Comparison:
    def __init__(self, rulesets: list[Any], options: DiffOptions) -> None:
        self.rulesets, self.options = rulesets, options
        types = [ruleset.check.program.output_types for ruleset in rulesets]
        shared = [name for name in types[0] if name in types[1] and name != OFFERS_OUTPUT]
        self.enums = [name for name in shared if isinstance(types[0][name], t.Enum)
                      and isinstance(types[1][name], t.Enum)]
        self.money = [name for name in shared if types[0][name] == t.MONEY == types[1][name]]

    def compare(self, runs: list[tuple[Path, dict]]) -> dict[str, Any]:
        (champion_out, champion), (challenger_out, challenger) = runs
        matrices = {name: Counter() for name in self.enums}
        money = {name: {"champion": Decimal(0), "challenger": Decimal(0), "up": 0, "down": 0,
                        "same": 0, "changes": []} for name in self.money}
        cells: dict[str, dict[tuple, list]] = {name: {} for name in self.enums}
        one_sided: list[dict[str, Any]] = []
        one_sided_count = both_refused = both = 0
        for row, left, right in _side_by_side(champion_out, challenger_out):
            if left.get("decision") is None and right.get("decision") is None:
                both_refused += 1
                continue
            if left.get("decision") is None or right.get("decision") is None:
                one_sided_count += 1
                if len(one_sided) < LISTED_ONE_SIDED:
                    refused = left if left.get("decision") is None else right
                    one_sided.append({"row": row, "id": left.get("id") or right.get("id"),
                                      "refused_by": "champion" if refused is left
                                      else "challenger", "problems": refused["problems"]})
                continue
            both += 1
            for name in self.enums:
                pair = (left["decision"].get(name), right["decision"].get(name))
                matrices[name][pair] += 1
                if pair[0] != pair[1]:
                    listed = cells[name].setdefault(pair, [])
                    if len(listed) < EXAMPLES_PER_CELL:
                        listed.append({"row": row, "id": left.get("id"),
                                       "champion_reasons": _codes(left),
                                       "challenger_reasons": _codes(right)})
            for name in self.money:
                before, after = left["decision"].get(name), right["decision"].get(name)
                entry = money[name]
                entry["champion"] += before or 0
                entry["challenger"] += after or 0
                if before is None or after is None or before == after:
                    entry["same"] += 1
                    continue
                entry["up" if after > before else "down"] += 1
                entry["changes"].append(Decimal(after) - Decimal(before))
        return {
            "rows": champion["rows"], "decided_by_both": both, "refused_by_both": both_refused,
            "decided_by_one_only": {"count": one_sided_count, "rows": one_sided},
            "matrices": {name: self._matrix(name, counts, cells[name], both)
                         for name, counts in matrices.items()},
            "money": {name: self._money(entry) for name, entry in money.items()},
            "reasons": _shift(champion["reasons"], challenger["reasons"],
                              [ruleset.reasons for ruleset in self.rulesets]),
            "rules": _rules(champion["rules"], challenger["rules"],
                            [_labels(ruleset) for ruleset in self.rulesets]),
            "budgets": {"champion": champion["budgets"], "challenger": challenger["budgets"]},
        }

    def _matrix(self, name: str, counts: Counter, cells: dict, total: int) -> dict[str, Any]:
        """The values that occur (in the order each ruleset declares them) and the cells."""
        occurring = [{pair[side] for pair in counts} for side in (0, 1)]
        values = [[value for value in ruleset.check.program.output_types[name].values
                   if value in occurring[side]] for side, ruleset in enumerate(self.rulesets)]
        return {"champion_values": values[0], "challenger_values": values[1],
                "cells": [{"champion": a, "challenger": b, "count": n,
                           "share": normalize(Decimal(n) / total) if total else 0,
                           "changed": a != b, "examples": cells.get((a, b), [])}
                          for (a, b), n in sorted(counts.items(), key=lambda i: -i[1])]}

    @staticmethod
    def _money(entry: dict[str, Any]) -> dict[str, Any]:
        changes = entry["changes"]
        return {"champion_total": normalize(entry["champion"]),
                "challenger_total": normalize(entry["challenger"]),
                "difference": normalize(entry["challenger"] - entry["champion"]),
                "up": entry["up"], "down": entry["down"], "same": entry["same"],
                "histogram": histogram(changes)}


def _codes(record: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in record["reasons"]]


def _side_by_side(champion: Path, challenger: Path) -> Iterator[tuple[int, dict, dict]]:
    """(row, champion's record, challenger's record): each a decision or a refusal."""
    sides = [_rows(champion), _rows(challenger)]
    for left, right in zip(*sides, strict=True):
        yield left[0], left[1], right[1]


def _rows(out: Path) -> Iterator[tuple[int, dict]]:
    decided, refused = _records(out), _records(out.with_suffix(".errors.jsonl"))
    next_decided, next_refused = next(decided, None), next(refused, None)
    while next_decided is not None or next_refused is not None:
        if next_refused is None or (next_decided is not None
                                    and next_decided["row"] < next_refused["row"]):
            yield next_decided["row"], next_decided
            next_decided = next(decided, None)
        else:
            yield next_refused["row"], next_refused
            next_refused = next(refused, None)


def _records(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line, parse_float=Decimal)


def histogram(changes: list[Decimal]) -> dict[str, Any]:
    """Bins of a round width over the customers whose value changed (`same` counts the others,
    who would otherwise be one bar hiding the rest)."""
    if not changes:
        return {"edges": [], "counts": [], "closed": "left"}
    low, high = min(changes), max(changes)
    width = _round_width((high - low) / HISTOGRAM_BINS)
    start = (low / width).to_integral_value(rounding=ROUND_FLOOR) * width
    bins = int((high - start) // width) + 1
    counts = [0] * bins
    for change in changes:
        counts[int((change - start) // width)] += 1
    # A bin holds its lower edge and not its upper one: [low..high), as the language writes it.
    return {"edges": [normalize(start + width * i) for i in range(bins + 1)], "counts": counts,
            "closed": "left"}


def _round_width(least: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least ``least``."""
    if least <= 0:
        return Decimal(1)
    power = Decimal(10) ** (least.adjusted())
    return next(step * power for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5),
                                          Decimal(10)) if step * power >= least)


def _shift(before: dict[str, int], after: dict[str, int],
           texts: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each reason's counts under both, with its text (the challenger's, and the champion's
    too when it differs: the customer is told something else)."""
    codes = dict.fromkeys([*before, *after])
    rows = []
    for code in codes:
        old, new = texts[0].get(code), texts[1].get(code)
        row = {"code": code, "text": new if new is not None else old,
               "champion": before.get(code, 0), "challenger": after.get(code, 0),
               "shift": after.get(code, 0) - before.get(code, 0),
               "text_changed": old is not None and new is not None and old != new}
        if row["text_changed"]:
            row["champion_text"] = old
        rows.append(row)
    return rows


def _labels(ruleset: Ruleset) -> dict[str, str | None]:
    return {name: rule.label for name, rule in ruleset.check.program.symbols.rules.items()}


def _rules(before: dict[str, dict], after: dict[str, dict],
           labels: list[dict[str, str | None]]) -> list[dict[str, Any]]:
    names = dict.fromkeys([*before, *after])
    return [{"rule": name, "label": labels[1].get(name) or labels[0].get(name),
             "champion": before[name]["fired"] if name in before else None,
             "challenger": after[name]["fired"] if name in after else None,
             "status": "new" if name not in before else "removed" if name not in after
             else "changed" if before[name]["fired"] != after[name]["fired"] else "same"}
            for name in names]


def _explain_examples(rulesets: list[Any], book: str | Path, report: dict[str, Any],
                      options: DiffOptions) -> list[dict[str, Any]]:
    """For each example customer of a changed cell: the rules whose proposals made the output
    under each ruleset (or the budget that overrode it), and the reasons."""
    wanted = sorted(((name, cell["champion"], cell["challenger"], example["row"]), cell, example)
                    for name, matrix in report["matrices"].items() for cell in matrix["cells"]
                    for example in cell["examples"])
    if not wanted:
        return []
    rows = {key[3] for key, _, _ in wanted}
    facts = [_facts_of_rows(ruleset, book, rows) for ruleset in rulesets]
    examples = []
    for (name, _, _, number), cell, example in wanted:
        entry = {"row": number, "id": example["id"], "output": name,
                 "champion": cell["champion"], "challenger": cell["challenger"]}
        for side, ruleset, side_facts in zip(SIDES, rulesets, facts, strict=True):
            decision = ruleset.decide(side_facts[number], as_of=options.as_of, trace=True)
            if decision.decision.get(name) != cell[side]:
                rules = [f"budget {budget}" for budget in _budgets_setting(ruleset, name)]
            else:
                rules = [proposal.rule for event in decision.trace
                         if isinstance(event, OutputEvent) and event.name == name
                         for proposal in event.proposals if proposal.used] or ["the default"]
            entry[f"{side}_rules"] = rules
            entry[f"{side}_reasons"] = example[f"{side}_reasons"]
        examples.append(entry)
    return examples


def _facts_of_rows(ruleset: Ruleset, book: str | Path, rows: set[int]) -> dict[int, Any]:
    """The facts of the given rows as ``ruleset`` reads them (the two schemas may differ)."""
    found: dict[int, Any] = {}
    reader = RowReader(ruleset.check.program.symbols)
    for chunk in read_chunks(str(book), 2_000):
        found.update((number, facts) for number, facts, _ in reader.rows(chunk) if number in rows)
        if len(found) == len(rows):
            break
    return found


def _budgets_setting(ruleset: Ruleset, output: str) -> list[str]:
    """The budgets whose `else` sets ``output``: one of them overrode a decision whose value
    differs from the one decided customer by customer."""
    return [name for name, budget in ruleset.check.program.symbols.budgets.items()
            if any(isinstance(action, ast.SetAction) and action.output.name == output
                   for action in budget.otherwise)]
