"""Rule conditions analysed as sets of customers: conditions that can never be true, rules whose
proposals are always overridden, and two rules that can propose to a `unique` output for the
same customer.

A condition becomes a union of boxes (see ``domains``) built from comparisons of a fact, let or
output with constants, `between`, `in`, `is missing`, yes/no values, `and`, `or` and `not`.
Anything else is "not understood": it does not constrain the region, and the region is marked
inexact, so no finding ever rests on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.lint.domains import Box, ValueSet, box_intersect, box_is_empty, box_subtract, describe_witness
from engine.lint.findings import Findings, WorkLimit, dimension_of
from engine.lint.reasons import REFUSING
from engine.syntax import ast

_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_MAX_BOXES = 64
_OUT_OF_BUDGET = "<out of budget>"


@dataclass(frozen=True)
class Region:
    """The customers for whom a condition is true: a union of boxes. ``exact`` is False when
    parts of the condition were not understood (the boxes then contain the true region)."""

    boxes: tuple[Box, ...]
    exact: bool

    @property
    def is_empty(self) -> bool:
        return all(box_is_empty(box) for box in self.boxes)


_UNKNOWN = Region(({},), exact=False)
_TRUE = Region(({},), exact=True)
_FALSE = Region((), exact=True)


def region_of(expr: ast.Expr, findings: Findings) -> Region:
    if isinstance(expr, ast.Literal) and isinstance(expr.value, bool):
        return _TRUE if expr.value else _FALSE
    if isinstance(expr, ast.Binary) and expr.op in ("and", "or"):
        left, right = region_of(expr.left, findings), region_of(expr.right, findings)
        exact = left.exact and right.exact
        if expr.op == "or":
            boxes = left.boxes + right.boxes
        else:
            boxes = tuple(box for a in left.boxes for b in right.boxes
                          if not box_is_empty(box := box_intersect(a, b)))
        return Region(boxes, exact) if len(boxes) <= _MAX_BOXES else _UNKNOWN
    if isinstance(expr, ast.Unary) and expr.op == "not":
        inner = region_of(expr.operand, findings)
        if inner.exact and len(inner.boxes) == 1 and len(inner.boxes[0]) == 1:
            ((key, values),) = inner.boxes[0].items()
            return Region(({key: values.complement(with_missing=False)},), True)
        if inner.exact and not inner.boxes:
            return _TRUE
        return _UNKNOWN
    atom = _atom(expr, findings)
    return Region((atom,), True) if atom is not None else _UNKNOWN


def _atom(expr: ast.Expr, findings: Findings) -> Box | None:
    """A comparison of one input with constants, as a one-dimension box."""
    try:
        if isinstance(expr, ast.Binary) and expr.op in _FLIPPED:
            if isinstance(expr.right, ast.Literal):
                return _compare(expr.left, expr.op, expr.right.value, findings)
            if isinstance(expr.left, ast.Literal):
                return _compare(expr.right, _FLIPPED[expr.op], expr.left.value, findings)
            return None
        if isinstance(expr, ast.Between) and isinstance(expr.low, ast.Literal) and isinstance(
                expr.high, ast.Literal):
            dimension = dimension_of(expr.value, findings)
            if dimension is None or dimension.kind == "discrete":
                return None
            return {dimension.text: ValueSet.interval(dimension, expr.low.value, expr.high.value,
                                                      True, True)}
        if isinstance(expr, ast.In) and isinstance(expr.collection, ast.ListLiteral) and all(
                isinstance(item, ast.Literal) for item in expr.collection.items):
            dimension = dimension_of(expr.value, findings)
            if dimension is None:
                return None
            values = ValueSet.nothing(dimension)
            for item in expr.collection.items:
                values = values.union(ValueSet.compare(dimension, "=", item.value))
            return {dimension.text: values.complement(False) if expr.negated else values}
        if isinstance(expr, ast.IsMissing):
            dimension = dimension_of(expr.value, findings, can_be_missing=True)
            if dimension is None:
                return None
            present = ValueSet.everything(dimension, missing=False)
            return {dimension.text: present if expr.negated else ValueSet.only_missing(dimension)}
        if isinstance(expr, ast.Name | ast.FieldAccess):
            dimension = dimension_of(expr, findings)
            if dimension is not None and dimension.universe == frozenset([True, False]):
                return {dimension.text: ValueSet.compare(dimension, "=", True)}
    except ValueError:
        return None
    return None


def _compare(expr: ast.Expr, op: str, value, findings: Findings) -> Box | None:
    dimension = dimension_of(expr, findings)
    if dimension is None or (dimension.kind == "discrete" and op not in ("=", "!=")):
        return None
    if isinstance(value, bool) != (dimension.universe == frozenset([True, False])):
        return None
    return {dimension.text: ValueSet.compare(dimension, op, value)}


def contained(inner: Region, outer: Region) -> bool:
    """Every customer in ``inner`` is in ``outer`` (``outer`` must be exact)."""
    if not outer.exact:
        return False
    if len(outer.boxes) == 1:  # the common case, without splitting boxes
        (container,) = outer.boxes
        return all(_projection(box, key, values).within(values)
                   for box in inner.boxes for key, values in container.items())
    if not outer.boxes:
        return inner.is_empty
    # Quick rejection: an input that every outer box constrains must be constrained by each inner
    # box, within the union of the outer boxes' values.
    shared = set.intersection(*(set(box) for box in outer.boxes))
    for key in shared:
        allowed = outer.boxes[0][key]
        for box in outer.boxes[1:]:
            allowed = allowed.union(box[key])
        if any(not _projection(box, key, allowed).within(allowed) for box in inner.boxes):
            return False
    for box in inner.boxes:
        # Quick rejection: one customer of the inner box (inputs it leaves open are missing)
        # outside every outer box.
        point = {key: values.witness() for key, values in box.items()}
        for other in outer.boxes:
            for key, values in other.items():
                if key not in point:
                    point[key] = _projection(box, key, values).witness()
        if not any(all(values.contains(point[key]) for key, values in other.items())
                   for other in outer.boxes):
            return False
    for box in inner.boxes:
        remaining = [box]
        for other in outer.boxes:
            remaining = [piece for part in remaining for piece in box_subtract(part, other)]
        if remaining:
            return False
    return True


def _projection(box: Box, key: str, like: ValueSet) -> ValueSet:
    """The values a box allows for one input: all it can take when the box leaves it open
    (missing only if the input can be missing)."""
    if key in box:
        return box[key]
    return ValueSet.everything(like.dimension, like.dimension.can_be_missing)


# ------------------------------------------------------------------------------- lints


def lint_conditions(findings: Findings) -> None:
    symbols = findings.symbols
    regions = {name: region_of(rule.condition, findings) for name, rule in symbols.rules.items()}
    for name, rule in symbols.rules.items():
        if regions[name].is_empty:
            findings.report("W204", f"the condition of rule `{name}` can never be true",
                            rule.condition.span,
                            help="its comparisons contradict each other; the rule never fires")
    position = {name: index for index, name in enumerate(symbols.rules)}
    order = sorted(symbols.rules.values(), key=lambda r: (-r.priority, position[r.name.name]))
    proposers: dict[str, list[ast.RuleDecl]] = {}
    for rule in order:
        for target in {a.output.name for a in rule.actions if isinstance(a, ast.SetAction)}:
            proposers.setdefault(target, []).append(rule)
    _always_overridden(findings, order, proposers, regions)
    _unique_conflicts(findings, proposers, regions)
    _split_decisions(findings, order, proposers, regions)
    _reasonless_defaults(findings, regions)


def _always_overridden(findings: Findings, order: list[ast.RuleDecl],
                       proposers: dict[str, list[ast.RuleDecl]], regions: dict[str, Region]) -> None:
    policies = findings.program.policies
    rank = {rule.name.name: index for index, rule in enumerate(order)}
    indexes = {target: _ContainerIndex(rules, regions) for target, rules in proposers.items()}
    for rule in order:
        name = rule.name.name
        targets = {a.output.name for a in rule.actions if isinstance(a, ast.SetAction)}
        others = [a for a in rule.actions if isinstance(a, ast.AddAction | ast.OfferAction)]
        if not targets or others or regions[name].is_empty:
            continue
        if any(policies.get(target) != "first" for target in targets):
            continue
        winners = []
        budget = WorkLimit()
        for target in sorted(targets):
            winner = indexes[target].earliest_container(regions[name], rank[name], rank, budget)
            if winner is _OUT_OF_BUDGET:
                findings.incomplete(f"whether rule `{name}` is always overridden",
                                    rule.name.span)
            if winner is None or winner is _OUT_OF_BUDGET:
                break
            winners.append(winner)
        else:
            shown = ", ".join(f"`{w}`" for w in dict.fromkeys(winners))
            findings.report(
                "W205", f"rule `{name}` is always overridden by {shown}: whenever it fires, "
                        "an earlier rule proposes the same outputs", rule.name.span,
                help="its proposals are never used and its reasons never given; give it a "
                     "higher priority, narrow the other rule, or remove it")


class _ContainerIndex:
    """The exact regions of the rules proposing to one output, found by the inputs they
    constrain: a one-box region can only contain a box that constrains all of its inputs, so
    with thousands of rules only a few candidates are ever compared."""

    def __init__(self, rules: list[ast.RuleDecl], regions: dict[str, Region]) -> None:
        self.by_inputs: dict[frozenset[str], list[str]] = {}
        self.others: list[str] = []  # regions of several boxes (from `or`)
        self.regions = regions
        for rule in rules:
            region = regions[rule.name.name]
            if not region.exact or region.is_empty:
                continue
            if len(region.boxes) == 1:
                self.by_inputs.setdefault(frozenset(region.boxes[0]), []).append(rule.name.name)
            else:
                self.others.append(rule.name.name)

    def earliest_container(self, region: Region, before: int, rank: dict[str, int],
                           budget: WorkLimit) -> str | None:
        """The first rule ranked before ``before`` whose region contains ``region``, None, or
        _OUT_OF_BUDGET."""
        inputs = frozenset.intersection(*(frozenset(box) for box in region.boxes))
        candidates = [*self.others, *(name for key, names in self.by_inputs.items()
                                      if key <= inputs for name in names)]
        earlier = sorted((n for n in candidates if rank[n] < before), key=rank.__getitem__)
        for name in earlier:
            if not budget.spend(len(region.boxes) * len(self.regions[name].boxes)):
                return _OUT_OF_BUDGET
            if contained(region, self.regions[name]):
                return name
        return None


def _unique_conflicts(findings: Findings, proposers: dict[str, list[ast.RuleDecl]],
                      regions: dict[str, Region]) -> None:
    for output, rules in proposers.items():
        if findings.program.policies.get(output) == "unique":
            _unique_conflicts_on(findings, output, rules, regions)


def _unique_conflicts_on(findings: Findings, output: str, rules: list[ast.RuleDecl],
                         regions: dict[str, Region]) -> None:
    budget = WorkLimit()
    for later_index, later in enumerate(rules):
        for earlier in rules[:later_index]:
            first, second = regions[earlier.name.name], regions[later.name.name]
            if not (first.exact and second.exact):
                continue
            if not budget.spend(len(first.boxes) * len(second.boxes)):
                findings.incomplete(f"`combine unique` conflicts on output `{output}` (from "
                                    f"rule `{later.name.name}` on)", later.name.span)
                return
            both = next((box for box in (box_intersect(a, b) for a in first.boxes
                                         for b in second.boxes) if not box_is_empty(box)), None)
            if both is not None:
                findings.report(
                    "W206", f"rules `{earlier.name.name}` and `{later.name.name}` can both "
                            f"propose `{output}` (`combine unique`): a customer with "
                            f"{describe_witness(both)} gets no decision",
                    later.name.span,
                    help="make their conditions exclusive, or choose another policy")


def _split_decisions(findings: Findings, order: list[ast.RuleDecl],
                     proposers: dict[str, list[ast.RuleDecl]], regions: dict[str, Region]) -> None:
    """W211: a rule proposes to two outputs, and another rule that proposes to only one of them
    can win it while both fire: the decision then takes one output from each rule ("hold"
    with a raised limit). Reported with a customer for whom both fire."""
    rank = {rule.name.name: index for index, rule in enumerate(order)}
    budget = WorkLimit()
    for rule in order:
        sets = {a.output.name: a.value for a in rule.actions if isinstance(a, ast.SetAction)}
        if len(sets) < 2 or not regions[rule.name.name].exact:
            continue
        for target in sorted(sets):
            for other in proposers.get(target, []):
                kept = sorted(set(sets) - _set_outputs(other))
                if other is rule or not kept or not _wins(findings, other, rule, target, rank):
                    continue
                first, second = regions[other.name.name], regions[rule.name.name]
                if not first.exact or not budget.spend(len(first.boxes) * len(second.boxes)):
                    continue
                both = next((box for box in (box_intersect(a, b) for a in first.boxes
                                             for b in second.boxes) if not box_is_empty(box)),
                            None)
                if both is None:
                    continue
                name, winner = rule.name.name, other.name.name
                findings.report(
                    "W211", f"rule `{name}` proposes `{target}` and `{kept[0]}`, but when rule "
                            f"`{winner}` also fires (a customer with {describe_witness(both)}), "
                            f"`{target}` takes `{winner}`'s proposal while `{kept[0]}` can still "
                            f"take `{name}`'s: a split decision", rule.name.span,
                    help=f"set `{kept[0]}` in a rule of its own that reads the final `{target}` "
                         f"(`when {target} = …`), so that the two cannot disagree")
                break


def _set_outputs(rule: ast.RuleDecl) -> set[str]:
    return {a.output.name for a in rule.actions if isinstance(a, ast.SetAction)}


def _wins(findings: Findings, other: ast.RuleDecl, rule: ast.RuleDecl, output: str,
          rank: dict[str, int]) -> bool:
    """Whether ``other``'s proposal for ``output`` beats ``rule``'s when both fire: for
    `combine first` an earlier rule; for `combine priority` a literal value earlier in the
    output's `one of` list."""
    policy = findings.program.policies.get(output)
    if policy == "first":
        return rank[other.name.name] < rank[rule.name.name]
    if policy != "priority":
        return False
    values = [next(a.value for a in r.actions if isinstance(a, ast.SetAction)
                   and a.output.name == output) for r in (other, rule)]
    if not all(isinstance(v, ast.Literal) and isinstance(v.value, str) for v in values):
        return False
    order = list(findings.program.output_types[output].values)
    theirs, mine = (v.value for v in values)
    return theirs in order and mine in order and order.index(theirs) < order.index(mine)


def _reasonless_defaults(findings: Findings, regions: dict[str, Region]) -> None:
    """W212: an output whose default refuses something ("decline", "decrease", …) keeps it for a
    customer no rule gives a reason to: a customer refused is owed a reason (a default of
    "hold" keeps the terms as they are, which refuses nothing). Reported with such a
    customer, when every rule that could give a reason or change the output is understood."""
    symbols = findings.symbols
    for name, output in symbols.outputs.items():
        default = output.default
        if not (isinstance(default, ast.Literal) and default.value in REFUSING):
            continue
        covering = [rule for rule in symbols.rules.values()
                    if any(isinstance(a, ast.ReasonAction) for a in rule.actions)
                    or any(isinstance(a, ast.SetAction) and a.output.name == name
                           for a in rule.actions)]
        if any(not regions[rule.name.name].exact for rule in covering):
            continue
        remaining: list[Box] = [{}]
        budget = WorkLimit()
        for rule in covering:
            for box in regions[rule.name.name].boxes:
                if not budget.spend(len(remaining)):
                    findings.incomplete(f"whether `{name}` can keep its default without a reason",
                                        output.name.span)
                    return
                remaining = [piece for part in remaining for piece in box_subtract(part, box)]
        if remaining:
            findings.report(
                "W212", f"a customer with {describe_witness(remaining[0])} gets `{name}` = "
                        f"\"{default.value}\", its default, and no reason at all",
                output.name.span,
                help=f"add a rule that gives a reason to such customers (say, one that reads "
                     f"`when {name} = \"{default.value}\" and …`), so every adverse decision "
                     "names one")
