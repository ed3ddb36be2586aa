"""Why a rule did not decide: what stopped it, by how much, and what would have changed it.

``explain`` reads one decision made by the reference evaluator (its trace and every value it
computed) and answers for one rule:

- it fired and was used: which proposals made the outputs;
- it fired but was overridden: which rule's proposal won each output, under which policy;
- it did not fire: each part of its condition that was false or unknown, with its operand values
  and, for numbers and dates, the margin to flip it; for `and` only the parts that failed, for
  `or` why each alternative failed; for `all`/`any` the elements that failed; missing values named
  down to the facts they come from; a boolean let opened to its definition;
- for every table the condition reads (directly or through lets): the rows that matched and the
  nearest row that would have given another value, cell by cell.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.check import types as t
from engine.run.reference.interpreter import Env
from engine.run.reference.procedure import Decider, Outcome
from engine.run.runtime import CONTEXT, normalize
from engine.run.shown import percentage, show
from engine.run.trace import OutputEvent, RuleEvent
from engine.syntax import ast
from engine.syntax.formatter import cell_text
from engine.syntax.unparse import unparse

_COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
LISTED_ELEMENTS = 10


@dataclass
class Finding:
    """A part of the condition that was not true, in words; ``margin`` is the distance to flip
    it for numbers (a Decimal) and dates (days); ``parts`` explain it further."""

    expr: str
    value: Any  # False, or None for unknown
    text: str
    margin: Any = None
    parts: list[Finding] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        data = {"expr": self.expr, "value": self.value, "text": self.text}
        if self.margin is not None:
            data["margin"] = normalize(self.margin)
        if self.parts:
            data["parts"] = [part.to_data() for part in self.parts]
        return data


@dataclass
class TableFinding:
    """A table the rule depends on: the rows that matched, and the nearest row with another
    value (``differences``: why each of its cells did not match)."""

    table: str
    value: Any
    matched_rows: list[int]
    nearest_row: int | None = None
    nearest_value: Any = None
    differences: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {"table": self.table, "value": normalize(self.value),
                "matched_rows": self.matched_rows, "nearest_row": self.nearest_row,
                "nearest_value": normalize(self.nearest_value), "differences": self.differences}


@dataclass
class WhyNot:
    rule: str
    label: str | None
    status: str  # "used", "overridden", "not matched" or "unknown"
    summary: str
    findings: list[Finding] = field(default_factory=list)
    tables: list[TableFinding] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {"rule": self.rule, "label": self.label, "status": self.status,
                "summary": self.summary, "findings": [f.to_data() for f in self.findings],
                "tables": [t.to_data() for t in self.tables], "overrides": self.overrides}


def explain(decider: Decider, outcome: Outcome, as_of: datetime.date, rule_name: str) -> WhyNot:
    """``outcome``: a traced decision of ``decider`` (the reference evaluator) on ``as_of``.
    Margins are computed in Tenet's own decimal context, whatever the caller's is."""
    with decimal.localcontext(CONTEXT):
        return _explain(decider, outcome, as_of, rule_name)


def _explain(decider: Decider, outcome: Outcome, as_of: datetime.date, rule_name: str) -> WhyNot:
    rule = decider.symbols.rules[rule_name]
    event = next(e for e in outcome.trace if isinstance(e, RuleEvent) and e.name == rule_name)
    env = Env(dict(outcome.values), as_of)
    why = WhyNot(rule_name, rule.label, "used" if event.status == "fired" else event.status, "")
    if event.status == "fired":
        used = [f"{p.output} = {show(p.value)}" for p in event.proposals if p.used]
        why.summary = ("it fired and was used" + (f": {', '.join(used)}" if used else "")
                       + (f"; reasons {', '.join(event.reasons)}" if event.reasons else ""))
        why.overrides = _overrides(decider, outcome, rule_name)  # proposals that lost, if any
        return why
    if event.status == "overridden":
        why.summary = "it fired, but none of its proposals was used"
        why.overrides = _overrides(decider, outcome, rule_name)
        return why
    why.summary = ("its condition is unknown (a value it needs is missing)"
                   if event.status == "unknown" else "its condition is false")
    explainer = _ConditionExplainer(decider, env)
    why.findings = explainer.findings(rule.condition)
    why.tables = [explainer.table(name) for name in explainer.tables_read(rule.condition)]
    return why


def _overrides(decider: Decider, outcome: Outcome, rule_name: str) -> list[str]:
    rules = decider.symbols.rules
    lines = []
    for event in outcome.trace:
        if not isinstance(event, OutputEvent):
            continue
        winners = ", ".join(f"rule {p.rule}" + (f" (priority {rules[p.rule].priority})"
                                                 if rules[p.rule].priority else "")
                            for p in event.proposals if p.used) or "no rule"
        for proposal in event.proposals:
            if proposal.rule == rule_name and not proposal.used:
                lines.append(f"its {proposal.action} {event.name} = {show(proposal.value)} was "
                             f"not used: {event.name} is `combine {event.policy}`, which chose "
                             f"{show(event.combined)}, proposed by {winners}")
    return lines


class _ConditionExplainer:
    def __init__(self, decider: Decider, env: Env) -> None:
        self.decider, self.env = decider, env
        self.symbols = decider.symbols
        self.evaluator = decider.evaluator

    def value(self, expr: ast.Expr) -> Any:
        return self.evaluator.value(expr, self.env)

    def findings(self, expr: ast.Expr) -> list[Finding]:
        """What in ``expr`` is not true; nothing when it is true."""
        value = self.value(expr)
        if value is True:
            return []
        if isinstance(expr, ast.Binary) and expr.op == "and":
            return self.findings(expr.left) + self.findings(expr.right)
        return [self.finding(expr, value)]

    def finding(self, expr: ast.Expr, value: Any) -> Finding:
        text = unparse(expr)
        state = "unknown" if value is None else "false"
        head = f"`{text}` is {state}"
        if value is None and not isinstance(expr, ast.Binary | ast.Quantifier | ast.Name):
            return Finding(text, value, f"{head}: {self.missing_text(expr)}")
        if isinstance(expr, ast.Binary) and expr.op == "or":
            return Finding(text, value, f"{head}: no alternative holds",
                           parts=self.findings(expr.left) + self.findings(expr.right))
        if isinstance(expr, ast.Binary) and expr.op in _COMPARISONS:
            return self.comparison(expr, head, value)
        if isinstance(expr, ast.Between):
            return self.between(expr, head)
        if isinstance(expr, ast.IsMissing):
            operand = unparse(expr.value)
            shown = show(self.value(expr.value))
            return Finding(text, value, f"{head}: {operand} is "
                                        f"{'missing' if expr.negated else shown}")
        if isinstance(expr, ast.In):
            return Finding(text, value, f"{head}: {unparse(expr.value)} is "
                                        f"{show(self.value(expr.value))}")
        if isinstance(expr, ast.Quantifier):
            return self.quantifier(expr, head, value)
        if isinstance(expr, ast.Unary) and expr.op == "not":
            return Finding(text, value, f"{head}: {unparse(expr.operand)} is true")
        if isinstance(expr, ast.Name) and expr.name in self.symbols.lets:
            definition = self.symbols.lets[expr.name].value
            return Finding(text, value, f"{head}: let {expr.name} = {unparse(definition)}",
                           parts=self.findings(definition))
        if value is None:
            return Finding(text, value, f"{head}: {self.missing_text(expr)}")
        return Finding(text, value, head)

    # -- comparisons

    def comparison(self, expr: ast.Binary, head: str, value: Any) -> Finding:
        subject, op, other = expr.left, expr.op, expr.right
        if isinstance(subject, ast.Literal) and not isinstance(other, ast.Literal):
            subject, op, other = other, _FLIPPED[op], subject
        mine, theirs = self.value(subject), self.value(other)
        text = unparse(expr)
        if value is None:
            return Finding(text, value, f"{head}: {self.missing_text(expr)}")
        unit = self.unit(subject, other)
        needs = (f"{unparse(subject)} is {_show(mine, unit)}; the rule needs {op} "
                 f"{self.shown(other)}")
        margin, words = _margin(op, mine, theirs, unit)
        return Finding(text, value, f"{head}: {needs}" + (f": {words}" if words else ""),
                       margin=margin)

    def between(self, expr: ast.Between, head: str) -> Finding:
        mine = self.value(expr.value)
        low, high = self.value(expr.low), self.value(expr.high)
        unit = self.unit(expr.value, expr.low)
        needs = (f"{unparse(expr.value)} is {_show(mine, unit)}; the rule needs between "
                 f"{self.shown(expr.low)} and {self.shown(expr.high)}")
        op, bound = (">=", low) if mine < low else ("<=", high)
        margin, words = _margin(op, mine, bound, unit)
        return Finding(unparse(expr), False, f"{head}: {needs}: {words}", margin=margin)

    def unit(self, subject: ast.Expr, bound: ast.Expr | None) -> str:
        """How margins are counted: "percent" against a percentage, "whole" for integers
        (which pass a strict bound by 1: `> 720` is 9 short of 712), else plain."""
        if isinstance(bound, ast.Literal) and bound.kind == "percent":
            return "percent"
        if isinstance(subject, ast.Aggregate) and subject.kind == "count":
            return "whole"
        if isinstance(subject, ast.FieldAccess) and isinstance(subject.target, ast.Name):
            declared = self.symbols.record_fields(subject.target.name).get(subject.field.name)
            if declared is not None and self.symbols.resolve_type(declared.type) == t.INTEGER:
                return "whole"
        return ""

    def shown(self, expr: ast.Expr) -> str:
        """A literal as written, anything else with its value."""
        if isinstance(expr, ast.Literal):
            return unparse(expr)
        return f"{unparse(expr)} ({show(self.value(expr))})"

    # -- all / any

    def quantifier(self, expr: ast.Quantifier, head: str, value: Any) -> Finding:
        items = self.value(expr.source)
        source = unparse(expr.source)
        if items is None:
            return Finding(unparse(expr), value, f"{head}: {source} is missing")
        results = self._element_results(expr, items)
        if expr.kind == "any":
            unknown = [i for i, result in enumerate(results, 1) if result is None]
            if not items:
                text = f"{head}: {source} is empty"
            else:
                text = (f"{head}: none of the {len(items)} elements of {source} satisfies "
                        f"`{unparse(expr.condition)}`")
                if unknown:
                    text += f" (unknown for element{_numbers(unknown)})"
            return Finding(unparse(expr), value, text)
        failed = [i for i, result in enumerate(results, 1) if result is False]
        unknown = [i for i, result in enumerate(results, 1) if result is None]
        parts = []
        if failed:
            shown = "; ".join(show(items[i - 1]) for i in failed[:3])
            parts.append(f"element{_numbers(failed)} of {source} ({shown}"
                         f"{'; …' if len(failed) > 3 else ''}) "
                         f"{'does' if len(failed) == 1 else 'do'} not satisfy "
                         f"`{unparse(expr.condition)}`")
        if unknown:
            parts.append(f"it is unknown for element{_numbers(unknown)}")
        return Finding(unparse(expr), value, f"{head}: " + "; ".join(parts))

    def _element_results(self, expr: ast.Quantifier, items: Any) -> list[Any]:
        values, name = self.env.values, expr.variable.name
        saved = values.get(name)
        try:
            results = []
            for item in items:
                values[name] = item
                results.append(self.value(expr.condition))
            return results
        finally:
            values[name] = saved

    # -- missing values

    def missing_text(self, expr: ast.Expr) -> str:
        sentences = self.missing_sources(expr, set()) or ["a value it needs is missing"]
        return "; ".join(dict.fromkeys(sentences))

    def missing_sources(self, expr: ast.Expr, seen: set[str]) -> list[str]:
        """The innermost missing values ``expr`` reads, as sentences: facts, or lets followed
        to their definitions; a computation that is missing although its inputs are not (a
        division by zero, say) is named itself."""
        if self.value(expr) is not None:
            return []
        if isinstance(expr, ast.Name) and expr.name in self.symbols.lets and expr.name not in seen:
            seen.add(expr.name)
            inner = self.missing_sources(self.symbols.lets[expr.name].value, seen)
            because = f" because {' and '.join(inner)}" if inner else ""
            return [f"{expr.name} is missing{because}"]
        if isinstance(expr, ast.Name | ast.FieldAccess | ast.Literal | ast.Aggregate
                      | ast.Quantifier):
            return [f"{unparse(expr)} is missing"]
        found = [source for child in ast.children(expr) if isinstance(child, ast.Expr)
                 for source in self.missing_sources(child, seen)]
        return found or [f"{unparse(expr)} is missing"]

    # -- tables

    def tables_read(self, expr: ast.Expr) -> list[str]:
        """The tables ``expr`` reads, directly or through lets, in the order first met."""
        found: dict[str, None] = {}
        seen: set[str] = set()
        work = [expr]
        while work:
            for node in ast.walk(work.pop(0)):
                if not isinstance(node, ast.Name) or node.name in seen:
                    continue
                seen.add(node.name)
                if node.name in self.symbols.tables:
                    found[node.name] = None
                elif node.name in self.symbols.lets:
                    work.append(self.symbols.lets[node.name].value)
        return list(found)

    def table(self, name: str) -> TableFinding:
        table = self.symbols.tables[name]
        inputs = [self.value(column) for column in table.inputs]
        current = self.env.values.get(name)
        failing = [[(column, cell, value) for column, cell, value
                    in zip(table.inputs, row.cells, inputs, strict=False)
                    if not self.decider.cell_matches(cell, value, self.env)]
                   for row in table.rows]
        finding = TableFinding(name, current, [i for i, f in enumerate(failing, 1) if not f])
        others = [(len(cells), index) for index, cells in enumerate(failing)
                  if cells and self.value(table.rows[index].result) != current]
        if not others:
            return finding
        _, index = min(others)
        finding.nearest_row = index + 1
        finding.nearest_value = self.value(table.rows[index].result)
        finding.differences = [self.cell_difference(column, cell, value, index + 1)
                               for column, cell, value in failing[index]]
        return finding

    def cell_difference(self, column: ast.Expr, cell: ast.Cell, value: Any, row: int) -> str:
        bound = cell.value if isinstance(cell, ast.CompareTest) else \
            cell.low if isinstance(cell, ast.IntervalTest) else None
        unit = self.unit(column, bound)
        text = f"{unparse(column)} is {_show(value, unit)}; row {row} needs {cell_text(cell)}"
        if value is None:
            return text
        words = None
        if isinstance(cell, ast.CompareTest):
            _, words = _margin(cell.op, value, self.value(cell.value), unit)
        elif isinstance(cell, ast.IntervalTest):
            low, high = self.value(cell.low), self.value(cell.high)
            if low is not None and value < low or (value == low and not cell.low_closed):
                _, words = _margin(">=" if cell.low_closed else ">", value, low, unit)
            elif high is not None:
                _, words = _margin("<=" if cell.high_closed else "<", value, high, unit)
        return text + (f": {words}" if words else "")


def _margin(op: str, mine: Any, theirs: Any, unit: str) -> tuple[Any, str | None]:
    """How far ``mine`` is from satisfying `mine OP theirs`, for numbers and dates, in words."""
    if isinstance(mine, datetime.date) and isinstance(theirs, datetime.date):
        gap, unit = Decimal((theirs - mine).days), "days"
    elif isinstance(mine, Decimal) and isinstance(theirs, Decimal):
        gap = normalize(theirs - mine)
    else:
        return None, None
    if op in ("<=", "<"):
        gap = -gap
    if op in (">", "<") and unit in ("whole", "days"):
        gap, op = gap + 1, op + "="
    if op == "=":
        gap = abs(gap)
    if op in (">", "<") and gap == 0:
        return gap, f"it is at the bound and must {'exceed' if op == '>' else 'fall below'} it"
    words = {">=": "short", ">": "short, and must exceed it", "<=": "over",
             "<": "over, and must fall below it", "=": "apart"}.get(op)
    if words is None:
        return None, "they are equal"
    return gap, f"{_show_margin(gap, unit)} {words}"


def _show(value: Any, unit: str) -> str:
    if unit == "percent" and isinstance(value, Decimal):
        return percentage(value)
    return show(value)


def _show_margin(gap: Decimal, unit: str) -> str:
    if unit == "percent":
        points = CONTEXT.multiply(gap, 100).quantize(Decimal("0.1"), None, CONTEXT)
        return f"{points} percentage point{'' if points == 1 else 's'}"
    if unit == "days":
        return f"{gap} day{'' if gap == 1 else 's'}"
    return show(gap)


def _numbers(indexes: list[int]) -> str:
    shown = ", ".join(map(str, indexes[:LISTED_ELEMENTS]))
    more = len(indexes) - LISTED_ELEMENTS
    return ("s " if len(indexes) > 1 else " ") + shown + (f" and {more} more" if more > 0 else "")
