"""The summary of a portfolio run: what the book got, and how the ruleset was exercised.

Rows read, decided and refused; for each `one of` output the count of each value, for each
money or number output its total; the count of each reason code; per budget its candidates,
kept and overridden rows and the amount used against the limit; per rule how often it fired
and how often it counted (a proposal used, or it proposes nothing); per table the hits of each
row. It is the coverage report of a ruleset over a real book.
"""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

import msgspec

from engine.check import types as t
from engine.portfolio.budgets import Allocation
from engine.ruleset import Ruleset
from engine.run.runtime import CONTEXT, normalize


class Summary:
    def __init__(self, ruleset: Ruleset) -> None:
        program = ruleset.check.program
        self.output_types: dict[str, t.Type] = dict(program.output_types)
        generated = ruleset.compiled
        self.rule_names = [info.name for info in generated.metadata.rules]
        self.tables = {name: len(table.rows) for name, table in program.symbols.tables.items()}
        self.counters = [0] * generated.counters
        self.rows = self.decided = self.errors = 0
        self.values: dict[str, Counter] = {name: Counter() for name, type_ in
                                           self.output_types.items()
                                           if isinstance(type_, t.Enum)}
        self.totals: dict[str, Decimal] = {name: Decimal(0) for name, type_ in
                                           self.output_types.items()
                                           if type_ in (t.MONEY, t.NUMBER, t.INTEGER)}
        self.reasons: Counter = Counter()
        self.budgets: list[Allocation] = []
        self.uses_taken: Counter = Counter()  # rule index -> rows whose use budgets took away

    def merge(self, result: Any) -> None:
        """Add what a chunk gave: its rows, its counters, its decisions' counts."""
        refused = len(result.refused)
        written = len(result.written.rows) if result.written is not None else 0
        self.add_state(result.counts.state() | {
            "rows": len(result.decided) + written + refused, "errors": refused,
            "counters": result.counters})

    def state(self) -> dict[str, Any]:
        """The counts as plain data, to travel from a Spark executor (``add_state``)."""
        return {"rows": self.rows, "decided": self.decided, "errors": self.errors,
                "counters": self.counters, "values": {k: dict(v) for k, v in self.values.items()},
                "totals": self.totals, "reasons": dict(self.reasons),
                "uses_taken": dict(self.uses_taken)}

    def add_state(self, state: dict[str, Any]) -> None:
        """Add the counts of another part of the book (``state``)."""
        self.rows += state["rows"]
        self.decided += state["decided"]
        self.errors += state["errors"]
        self.counters = [a + b for a, b in zip(self.counters, state["counters"], strict=True)]
        for name, counts in state["values"].items():
            self.values[name].update(counts)
        for name, total in state["totals"].items():
            self.totals[name] = CONTEXT.add(self.totals[name], total)
        self.reasons.update(state["reasons"])
        self.uses_taken.update(state["uses_taken"])

    def take_uses(self, rules: Any) -> None:
        """Rules (by index) whose every used proposal a budget overrode in one row."""
        self.uses_taken.update(rules)

    def count_decision(self, outputs: dict[str, Any], codes: list[str], sign: int = 1) -> None:
        self.decided += sign
        for name, counter in self.values.items():
            counter[outputs.get(name)] += sign
        # In Tenet's context, as decisions are: the host's (`decimal.getcontext()`) may round.
        add = CONTEXT.add if sign > 0 else CONTEXT.subtract
        for name in self.totals:
            value = outputs.get(name)
            if value is not None:
                self.totals[name] = add(self.totals[name], value)
        for code in codes:
            self.reasons[code] += sign

    def recount(self, before: dict[str, Any], codes_before: list[str], after: dict[str, Any],
                codes_after: list[str]) -> None:
        """A decision a budget changed: counted as it ended, not as it was first made."""
        self.count_decision(before, codes_before, -1)
        self.count_decision(after, codes_after)

    def to_data(self) -> dict[str, Any]:
        rules = len(self.rule_names)
        fired = dict(zip(self.rule_names, self.counters[:rules], strict=True))
        used = dict(zip(self.rule_names, self.counters[rules:2 * rules], strict=True))
        tables, offset = {}, 2 * rules
        for name, rows in self.tables.items():
            tables[name] = {"hits_per_row": self.counters[offset:offset + rows]}
            offset += rows
        return {
            "rows": self.rows, "decided": self.decided, "errors": self.errors,
            "outputs": {**{name: {"counts": {("missing" if v is None else str(v)): n
                                             for v, n in sorted(counter.items(), key=_by_count)
                                             if n}}
                           for name, counter in self.values.items()},
                        **{name: {"total": normalize(total)}
                           for name, total in self.totals.items()}},
            "reasons": {code: n for code, n in sorted(self.reasons.items(), key=_by_count) if n},
            "budgets": {b.name: {"when_full": "stop" if b.stop_when_full else "skip",
                                 "candidates": b.candidates, "kept": b.kept,
                                 "overridden": len(b.overridden), "asked": normalize(b.asked),
                                 "used": normalize(b.used), "limit": normalize(b.limit),
                                 "last_kept": normalize(b.last_kept),
                                 "first_refused": normalize(b.first_refused)}
                        for b in self.budgets},
            "rules": {name: {"fired": fired[name], "used": used[name],
                             **({"used_after_budgets": used[name] - self.uses_taken[index]}
                                if self.budgets else {})}
                      for index, name in enumerate(self.rule_names)},
            "never_fired": [name for name in self.rule_names if not fired[name]],
            "tables": tables,
        }


def _by_count(item: tuple[Any, int]) -> tuple[int, str]:
    return -item[1], str(item[0])


def summary_document(summary: Summary, ruleset: Ruleset, as_of: datetime.date,
                     book: str | None) -> dict[str, Any]:
    """The summary as `--summary` writes it: what it is the summary of (the ruleset with its
    version and digest, the as-of date, the book, when the run ended), then the figures."""
    return {"ruleset": ruleset.info.as_data(), "as_of": as_of.isoformat(), "book": book,
            "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            **summary.to_data()}


def json_text(data: dict[str, Any]) -> str:
    """A report as indented JSON, money as exact numbers (the stdlib would go through float)."""
    encoded = msgspec.json.Encoder(decimal_format="number").encode(data)
    return msgspec.json.format(encoded, indent=2).decode() + "\n"
