"""The decision procedure of LANGUAGE.md §5–§9 as z3 terms over symbolic facts.

Over the facts of a ``FactsSpace`` (``engine.verify.facts``), ``Encoder`` walks a checked ruleset
in the checker's dependency order exactly as the reference evaluator does
(``engine.run.reference.procedure``), but with symbolic values: lets and tables, each rule's
firing condition, each output combined from its proposals by its policy, caps, offers with their
`requires`, and reasons. What the engine would refuse as a conflict becomes a condition too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import z3

from engine.check import types as t
from engine.check.checker import (
    BASELINE_NAME,
    COLLECTING,
    REASONS_NAME,
    CheckedProgram,
    rank_order,
    table_result_type,
)
from engine.check.symbols import OFFERS_OUTPUT
from engine.run.reference.procedure import caps_by_output, rule_order
from engine.syntax import ast
from engine.verify import symbolic as s
from engine.verify.facts import FactsSpace
from engine.verify.symbolic import FALSE, TRUE, RecordValue, Scalar, Slots, Truth, Unsupported, Value

# ----------------------------------------------------------------------------------- decisions


@dataclass
class Proposal:
    rule: str
    fired: z3.BoolRef
    value: Value
    used: z3.BoolRef = FALSE


@dataclass
class SymbolicDecision:
    """One ruleset's decision as terms: outputs, reasons and offers, when it is a conflict, and
    for each rule whether it fired and which of its proposals were used."""

    outputs: dict[str, Value]
    reasons: Slots
    offers: Slots
    conflicts: list[z3.BoolRef]  # each a way the decision can be a conflict
    fired: dict[str, z3.BoolRef]
    used: dict[str, list[tuple[str, z3.BoolRef]]]  # rule -> (output, used) per proposal
    values: dict[str, Value] = field(default_factory=dict)

    @property
    def conflict(self) -> z3.BoolRef:
        return z3.Or(FALSE, *self.conflicts)

    def as_record(self) -> RecordValue:
        """The decision as `baseline.` reads it."""
        fields = dict(self.outputs)
        fields[REASONS_NAME] = self.reasons
        fields[OFFERS_OUTPUT] = self.offers
        return RecordValue(TRUE, fields)


class Encoder:
    """A checked ruleset's decisions over a facts space."""

    def __init__(self, program: CheckedProgram, space: FactsSpace) -> None:
        self.program = program
        self.symbols = program.symbols
        self.space = space
        symbols = program.symbols
        self.rule_order, _ = rule_order(symbols)
        self.caps = caps_by_output(symbols)
        effective = symbols.effective
        space.window(effective.start if effective else None, effective.until if effective else None)

    # -- the procedure

    def decide(self) -> SymbolicDecision:
        env: dict[str, Value] = {name: self.space.block(self.symbols, name)
                                 for name in self.symbols.facts}
        self.conflicts: list[z3.BoolRef] = []
        proposals: dict[str, list[Proposal]] = {}
        fired: dict[str, z3.BoolRef] = {}
        codes: dict[str, list[tuple[z3.BoolRef, str]]] = {}  # rule -> (given if fired, code)
        cap_reasons: list[tuple[int, z3.BoolRef, str]] = []
        for kind, name in self.program.order:
            if kind == "let":
                env[name] = self.value(self.symbols.lets[name].value, env)
            elif kind == "table":
                env[name] = self._table(self.symbols.tables[name], env)
            elif kind == "rule":
                self._rule(self.symbols.rules[name], env, fired, proposals, codes)
            elif name == OFFERS_OUTPUT:
                env[name] = self._offers(proposals.get(OFFERS_OUTPUT, []), env, codes)
            else:
                env[name] = self._output(name, proposals.get(name, []), env, cap_reasons)
        if OFFERS_OUTPUT not in env:
            env[OFFERS_OUTPUT] = Slots(TRUE, ())
        used: dict[str, list[tuple[str, z3.BoolRef]]] = {}
        for output, made in proposals.items():
            for proposal in made:
                used.setdefault(proposal.rule, []).append((output, proposal.used))
        reasons = self._reasons(fired, used, codes, cap_reasons)
        outputs = {name: env[name] for name in self.program.output_types}
        return SymbolicDecision(outputs, reasons, env[OFFERS_OUTPUT], self.conflicts, fired,
                                used, env)

    def _rule(self, rule: ast.RuleDecl, env: dict[str, Value], fired: dict[str, z3.BoolRef],
              proposals: dict[str, list[Proposal]],
              codes: dict[str, list[tuple[z3.BoolRef, str]]]) -> None:
        name = rule.name.name
        when = self._truth(rule.condition, env).true
        fired[name] = when
        codes[name] = []
        for action in rule.actions:
            if isinstance(action, ast.ReasonAction):
                codes[name].append((TRUE, action.code.name))
            elif isinstance(action, ast.OfferAction):
                offer = self.symbols.offers[action.offer.name]
                fields: dict[str, Value] = {"name": s.text(offer.name.name)}
                fields["amount"] = (self.value(action.amount, env) if action.amount is not None
                                    else s.missing_number())
                fields["partner"] = (s.text(offer.partner) if offer.partner is not None
                                     else Scalar(FALSE, z3.StringVal(""), "text"))
                proposals.setdefault(OFFERS_OUTPUT, []).append(
                    Proposal(name, when, RecordValue(TRUE, fields)))
            else:
                target = action.output.name
                type_ = self.program.output_types.get(target, t.UNKNOWN)
                if isinstance(action, ast.AddAction) and isinstance(type_, t.ListOf):
                    type_ = type_.element
                value = _coerce(self.value(action.value, env), type_)
                proposals.setdefault(target, []).append(Proposal(name, when, value))

    def _output(self, name: str, made: list[Proposal], env: dict[str, Value],
                cap_reasons: list[tuple[int, z3.BoolRef, str]]) -> Value:
        policy = self.program.policies[name]
        type_ = self.program.output_types[name]
        declaration = self.symbols.outputs[name]
        if declaration.default is not None:
            default = _coerce(self.value(declaration.default, env), type_)
        else:
            default = _empty(policy, type_)
        if made:
            combined = self._combine(policy, type_, made)
            any_fired = z3.Or(*[p.fired for p in made])
            combined = s.choose(any_fired, combined, _like(combined, default))
        else:
            combined = default
        value = self._caps(name, combined, env, cap_reasons)
        if type_ == t.INTEGER and isinstance(value, Scalar) and not _whole(value.term, {}):
            self.conflicts.append(z3.And(value.defined, z3.Not(z3.IsInt(value.term))))
        return value

    def _combine(self, policy: str, type_: t.Type, made: list[Proposal]) -> Value:
        """The final value of ``made`` under ``policy`` (as ``Decider._combine``), setting each
        proposal's ``used`` and recording conflicts."""
        fired = [p.fired for p in made]
        if policy in ("first", "unique", "any"):
            before = FALSE
            for proposal in made:
                proposal.used = proposal.fired if policy == "any" else z3.And(proposal.fired,
                                                                               z3.Not(before))
                before = z3.Or(before, proposal.fired)
            if policy == "unique":
                self.conflicts.append(z3.Sum([z3.If(f, 1, 0) for f in fired]) >= 2)
            elif policy == "any":
                pairs = [z3.And(a.fired, b.fired, z3.Not(s.same(a.value, b.value)))
                         for i, a in enumerate(made) for b in made[i + 1:]]
                if pairs:
                    self.conflicts.append(z3.Or(*pairs))
            return _first(made)
        if policy == "priority":
            order = rank_order(self.symbols, type_) if not isinstance(type_, t.ListOf) else None
            chosen = _first(made)
            best = z3.IntVal(_ranks(order))
            for proposal in made:
                index = _rank(proposal.value, order)
                better = z3.And(proposal.fired, index < best)
                best = z3.If(better, index, best)
                chosen = s.choose(better, proposal.value, chosen)
            for proposal in made:
                proposal.used = z3.And(proposal.fired, s.same(proposal.value, chosen))
            return chosen
        if policy in ("min", "max"):
            chosen = _first(made)
            seen = FALSE
            all_there = TRUE
            for proposal in made:
                value = proposal.value
                better = _less(value, chosen) if policy == "min" else _less(chosen, value)
                take = z3.And(proposal.fired, z3.Or(z3.Not(seen), better))
                chosen = s.choose(take, value, chosen)
                seen = z3.Or(seen, proposal.fired)
                all_there = z3.And(all_there, z3.Implies(proposal.fired, value.defined))
            chosen = _with_defined(chosen, all_there)
            for proposal in made:
                proposal.used = z3.And(proposal.fired, s.same(proposal.value, chosen))
            return chosen
        for proposal in made:
            proposal.used = proposal.fired
        if policy == "sum":
            terms = [z3.If(p.fired, _real(p.value), 0) for p in made]
            defined = z3.And(*[z3.Implies(p.fired, p.value.defined) for p in made])
            return Scalar(defined, z3.Sum(terms), "number")
        if policy == "count":
            return Scalar(TRUE, z3.ToReal(z3.Sum([z3.If(f, 1, 0) for f in fired])), "number")
        slots = tuple((p.fired, p.value) for p in made)
        order = rank_order(self.symbols, type_) if policy == "output order" else None
        if order is not None:
            slots = tuple((z3.And(present, _rank(value, order) == index), value)
                          for index in range(_ranks(order)) for present, value in slots)
        items = Slots(TRUE, slots)
        if isinstance(type_, t.ListOf) and type_.is_set:
            items = s.deduplicated(items)
        return items

    def _caps(self, name: str, combined: Value, env: dict[str, Value],
              cap_reasons: list[tuple[int, z3.BoolRef, str]]) -> Value:
        if not isinstance(combined, Scalar):
            return combined
        value = combined
        bound_by: list[tuple[ast.CapDecl, z3.BoolRef, Scalar]] = []
        for cap in self.caps.get(name, ()):
            applies = TRUE if cap.condition is None else self._truth(cap.condition, env).true
            limit = self.value(cap.limit, env)
            applies = z3.And(applies, limit.defined, value.defined)
            binds = _less(limit, value) if cap.bound == "most" else _less(value, limit)
            value = s.choose(z3.And(applies, binds), _with_defined(limit, value.defined), value)
            bound_by.append((cap, applies, limit))
        for cap, applies, limit in bound_by:
            if cap.reason is not None:
                given = z3.And(applies, s.equal(value, limit), z3.Not(s.equal(value, combined)))
                cap_reasons.append((self.symbols.caps.index(cap), given, cap.reason.name))
        return value

    def _offers(self, made: list[Proposal], env: dict[str, Value],
                codes: dict[str, list[tuple[z3.BoolRef, str]]]) -> Slots:
        slots = []
        for proposal in made:
            proposal.used = proposal.fired
            offer = self.symbols.offers[proposal.value.fields["name"].term.as_string()]
            allowed = TRUE if offer.requires is None else self._truth(offer.requires, env).true
            slots.append((z3.And(proposal.fired, allowed), proposal.value))
            if offer.else_reason is not None:
                codes[proposal.rule].append((z3.Not(allowed), offer.else_reason.name))
        return Slots(TRUE, tuple(slots))

    def _reasons(self, fired: dict[str, z3.BoolRef], used: dict[str, list[tuple[str, z3.BoolRef]]],
                 codes: dict[str, list[tuple[z3.BoolRef, str]]],
                 cap_reasons: list[tuple[int, z3.BoolRef, str]]) -> Slots:
        given: list[tuple[z3.BoolRef, str]] = []
        for rule in self.rule_order:
            name = rule.name.name
            uses = used.get(name, [])
            counted = z3.And(fired[name], z3.Or(*[u for _, u in uses]) if uses else TRUE)
            given.extend((z3.And(counted, condition), code) for condition, code in codes[name])
        given.extend((condition, code) for _, condition, code in sorted(cap_reasons,
                                                                         key=lambda c: c[0]))
        slots = []
        already: dict[str, z3.BoolRef] = {}
        for condition, code in given:
            earlier = already.get(code, FALSE)
            slots.append((z3.And(condition, z3.Not(earlier)), s.text(code)))
            already[code] = z3.Or(earlier, condition)
        return Slots(TRUE, tuple(slots))

    # -- tables

    def _table(self, table: ast.TableDecl, env: dict[str, Value]) -> Value:
        inputs = [self.value(column, env) for column in table.inputs]
        policy = table.policy.name if table.policy is not None else "unique"
        type_ = table_result_type(self.symbols, table, policy)
        element = type_.element if policy in COLLECTING and isinstance(type_, t.ListOf) else type_
        made = []
        for index, row in enumerate(table.rows):
            matches = z3.And(TRUE, *[self._cell(cell, value, env)
                                     for cell, value in zip(row.cells, inputs, strict=False)])
            made.append(Proposal(f"row {index + 1}", matches,
                                 _coerce(self.value(row.result, env), element)))
        otherwise = (_coerce(self.value(table.otherwise, env), type_)
                     if table.otherwise is not None else _empty(policy, type_))
        if not made:
            return otherwise
        combined = self._combine(policy, type_, made)
        return s.choose(z3.Or(*[p.fired for p in made]), combined, _like(combined, otherwise))

    def _cell(self, cell: ast.Cell, value: Value, env: dict[str, Value]) -> z3.BoolRef:
        if isinstance(cell, ast.AnyCell):
            return TRUE
        if isinstance(cell, ast.MissingCell):
            return z3.Not(value.defined)
        if isinstance(cell, ast.NotCell):
            return z3.And(value.defined, z3.Not(self._cell(cell.cell, value, env)))
        if isinstance(cell, ast.Alternatives):
            return z3.Or(*[self._cell(test, value, env) for test in cell.tests])
        if isinstance(cell, ast.IntervalTest):
            low, high = self.value(cell.low, env), self.value(cell.high, env)
            above = _compare(">=" if cell.low_closed else ">", value, low).true
            below = _compare("<=" if cell.high_closed else "<", value, high).true
            return z3.And(above, below)
        op = cell.op if isinstance(cell, ast.CompareTest) else "="
        return _compare(op, value, self.value(cell.value, env)).true

    # -- expressions

    def _truth(self, expr: ast.Expr, env: dict[str, Value]) -> Truth:
        value = self.value(expr, env)
        if not isinstance(value, Truth):
            raise Unsupported("a condition that is not true or false")
        return value

    def value(self, expr: ast.Expr, env: dict[str, Value]) -> Value:
        return getattr(self, "_" + type(expr).__name__)(expr, env)

    def _Literal(self, expr: ast.Literal, env):
        if expr.kind in ("number", "percent"):
            return s.number(expr.value)
        if expr.kind == "text":
            return s.text(expr.value)
        if expr.kind == "boolean":
            return s.known(expr.value)
        return s.date_constant(expr.value)

    def _Name(self, expr: ast.Name, env):
        if expr.name not in env:
            raise Unsupported(f"the name `{expr.name}`")
        return env[expr.name]

    def _Today(self, expr, env):
        return self.space.today

    def _FieldAccess(self, expr: ast.FieldAccess, env):
        record = self.value(expr.target, env)
        if not isinstance(record, RecordValue):
            raise Unsupported(f"`.{expr.field.name}` on a value that is not a record")
        found = record.fields.get(expr.field.name)
        if found is None:
            raise Unsupported(f"the field `{expr.field.name}`")
        return _with_defined(found, record.defined)

    def _Unary(self, expr: ast.Unary, env):
        operand = self.value(expr.operand, env)
        if expr.op == "not":
            return Truth(operand.false, operand.true)
        return Scalar(operand.defined, -_real(operand), "number")

    def _Binary(self, expr: ast.Binary, env):
        left, right = self.value(expr.left, env), self.value(expr.right, env)
        op = expr.op
        if op == "and":
            return Truth(z3.And(left.true, right.true), z3.Or(left.false, right.false))
        if op == "or":
            return Truth(z3.Or(left.true, right.true), z3.And(left.false, right.false))
        if op in ("+", "-", "*", "/"):
            a, b = _real(left), _real(right)
            defined = z3.And(left.defined, right.defined)
            if op == "/":
                return Scalar(z3.And(defined, b != 0), a / b, "number")
            return Scalar(defined, a + b if op == "+" else a - b if op == "-" else a * b, "number")
        return _compare(op, left, right)

    def _Between(self, expr: ast.Between, env):
        value, low, high = (self.value(e, env) for e in (expr.value, expr.low, expr.high))
        defined = z3.And(value.defined, low.defined, high.defined)
        return s.truth_of(z3.And(_compare("<=", low, value).true,
                                 _compare("<=", value, high).true), defined)

    def _In(self, expr: ast.In, env):
        value, collection = self.value(expr.value, env), self.value(expr.collection, env)
        if not isinstance(collection, Slots):
            raise Unsupported("`in` on a value that is not a list")
        found = s.contains(collection, value)
        return s.truth_of(z3.Not(found) if expr.negated else found,
                          z3.And(value.defined, collection.defined))

    def _IsMissing(self, expr: ast.IsMissing, env):
        there = self.value(expr.value, env).defined
        return s.truth_of(there if expr.negated else z3.Not(there))

    def _If(self, expr: ast.If, env):
        condition = self._truth(expr.condition, env)
        then, otherwise = self.value(expr.then_value, env), self.value(expr.else_value, env)
        if isinstance(then, Truth):
            return Truth(z3.Or(z3.And(condition.true, then.true),
                               z3.And(condition.false, otherwise.true)),
                         z3.Or(z3.And(condition.true, then.false),
                               z3.And(condition.false, otherwise.false)))
        chosen = s.choose(condition.true, then, _like(then, otherwise))
        return _with_defined(chosen, condition.defined)

    def _Call(self, expr: ast.Call, env):
        name = expr.function.name
        arguments = [self.value(a, env) for a in expr.arguments]
        defined = z3.And(TRUE, *[a.defined for a in arguments])
        if name in ("min", "max"):
            chosen = arguments[0]
            for candidate in arguments[1:]:
                better = _less(candidate, chosen) if name == "min" else _less(chosen, candidate)
                chosen = s.choose(better, candidate, chosen)
            return _with_defined(chosen, defined)
        if name == "abs":
            value = _real(arguments[0])
            return Scalar(defined, z3.If(value < 0, -value, value), "number")
        if name == "round":
            places = _constant(expr.arguments[1]) if len(expr.arguments) > 1 else 0
            if places is None:
                raise Unsupported("`round` with a number of places that is not a constant")
            return Scalar(defined, _round_half_even(_real(arguments[0]), int(places)), "number")
        if name in ("round_down", "round_up"):
            value, step = _real(arguments[0]), _real(arguments[1])
            sign = 1 if name == "round_down" else -1
            stepped = sign * z3.ToReal(z3.ToInt(sign * value / step)) * step
            return Scalar(defined, z3.If(step == 0, value, stepped), "number")
        if name == "days_between":
            return Scalar(defined, z3.ToReal(arguments[1].term - arguments[0].term), "number")
        if name == "months_between":
            return Scalar(defined, z3.ToReal(s.months_between(arguments[0], arguments[1])),
                          "number")
        if name == "length":
            return Scalar(defined, z3.ToReal(s.length(arguments[0])), "number")
        raise Unsupported(f"the function `{name}`")

    def _ListLiteral(self, expr: ast.ListLiteral, env):
        return Slots(TRUE, tuple((TRUE, self.value(item, env)) for item in expr.items))

    def _RecordLiteral(self, expr: ast.RecordLiteral, env):
        return RecordValue(TRUE, {e.field.name: self.value(e.value, env) for e in expr.entries})

    def _elements(self, expr: ast.Aggregate | ast.Quantifier, env) -> list[tuple[z3.BoolRef, dict]]:
        """(present, environment with the variable bound) for each slot of the source list."""
        items = self.value(expr.source, env)
        if not isinstance(items, Slots):
            raise Unsupported("an aggregate over a value that is not a list")
        return [(z3.And(items.defined, present), {**env, expr.variable.name: element})
                for present, element in items.slots]

    def _Aggregate(self, expr: ast.Aggregate, env):
        kept = []
        for present, inner in self._elements(expr, env):
            keep = present if expr.condition is None else z3.And(
                present, self._truth(expr.condition, inner).true)
            kept.append((keep, None if expr.value is None else self.value(expr.value, inner)))
        count = z3.Sum([z3.If(k, 1, 0) for k, _ in kept] + [z3.IntVal(0)])
        if expr.kind == "count":
            return Scalar(TRUE, z3.ToReal(count), "number")
        all_there = z3.And(TRUE, *[z3.Implies(k, v.defined) for k, v in kept])
        if expr.kind in ("sum", "average"):
            total = z3.Sum([z3.If(k, _real(v), 0) for k, v in kept] + [z3.RealVal(0)])
            if expr.kind == "sum":
                return Scalar(all_there, total, "number")
            return Scalar(z3.And(all_there, count > 0), total / z3.ToReal(count), "number")
        if not kept:
            return s.missing_number()
        chosen, seen = kept[0][1], FALSE
        for keep, value in kept:
            better = _less(value, chosen) if expr.kind == "min" else _less(chosen, value)
            chosen = s.choose(z3.And(keep, z3.Or(z3.Not(seen), better)), value, chosen)
            seen = z3.Or(seen, keep)
        return _with_defined(chosen, z3.And(all_there, seen))

    def _Quantifier(self, expr: ast.Quantifier, env):
        results = [(present, self._truth(expr.condition, inner))
                   for present, inner in self._elements(expr, env)]
        if expr.kind == "any":
            true = z3.Or(FALSE, *[z3.And(p, c.true) for p, c in results])
            return Truth(true, z3.And(TRUE, *[z3.Implies(p, c.false) for p, c in results]))
        false = z3.Or(FALSE, *[z3.And(p, c.false) for p, c in results])
        return Truth(z3.And(TRUE, *[z3.Implies(p, c.true) for p, c in results]), false)


# --------------------------------------------------------------------------------- helpers


def property_env(decision: SymbolicDecision, baseline: SymbolicDecision | None) -> dict:
    """What a property reads: the decision's values, `reasons`, `offers` and `baseline`."""
    env = dict(decision.values)
    env[REASONS_NAME] = decision.reasons
    env[OFFERS_OUTPUT] = decision.offers
    if baseline is not None:
        env[BASELINE_NAME] = baseline.as_record()
    return env


def facts_only(env: dict[str, Value], facts: Iterable[str]) -> dict[str, Value]:
    """``env`` with every value but the facts missing: a conflict leaves nothing decided, so a
    property's `when` is judged on the facts (and `today`) alone (docs/language.md)."""
    kept = set(facts)
    return {name: value if name in kept else _with_defined(value, FALSE)
            for name, value in env.items()}


def _coerce(value: Value, type_: t.Type) -> Value:
    if isinstance(type_, t.ListOf) and isinstance(value, Slots):
        return Slots(value.defined, tuple((p, _coerce(e, type_.element)) for p, e in value.slots),
                     value.is_set)
    return s.coerced(value, type_, type_.values if isinstance(type_, t.Enum) else None)


def _empty(policy: str, type_: t.Type) -> Value:
    """What an output or table is with no proposal and no default (LANGUAGE.md §5, §9)."""
    if policy == "count":
        return s.number(0)
    if policy in COLLECTING:
        return Slots(TRUE, ())
    if type_ == t.BOOLEAN:
        return s.MISSING_TRUTH
    if isinstance(type_, t.Enum):
        return Scalar(FALSE, z3.IntVal(0), "enum", type_.values)
    if type_ == t.TEXT:
        return Scalar(FALSE, z3.StringVal(""), "text")
    if type_ == t.DATE:
        zero = z3.IntVal(1)
        return s.date_value(zero, zero, zero, defined=FALSE)
    if isinstance(type_, t.ListOf):
        return Slots(FALSE, ())
    return s.missing_number()


def _like(model: Value, value: Value) -> Value:
    """``value`` shaped as ``model`` so that ``choose`` can pick between them (an empty list
    beside a list of elements, a missing number beside a date, …)."""
    if isinstance(model, Slots) and isinstance(value, Slots) and not value.slots and model.slots:
        filler = model.slots[0][1]
        return Slots(value.defined, tuple((FALSE, filler) for _ in model.slots), model.is_set)
    if isinstance(model, Scalar) and isinstance(value, Scalar) and model.kind != value.kind:
        if not _is_missing_constant(value):
            return value
        return Scalar(FALSE, model.term, model.kind, model.values, model.parts)
    if isinstance(model, Truth) and not isinstance(value, Truth):
        return s.MISSING_TRUTH
    if isinstance(model, RecordValue):  # a row of a table with several results
        given = value.fields if isinstance(value, RecordValue) else {}
        defined = value.defined if isinstance(value, RecordValue) else FALSE
        return RecordValue(defined, {
            name: _like(field, given[name]) if name in given else _with_defined(field, FALSE)
            for name, field in model.fields.items()})
    return value


def _is_missing_constant(value: Scalar) -> bool:
    return z3.is_false(value.defined)


def _with_defined(value: Value, condition: z3.BoolRef) -> Value:
    """``value`` where ``condition`` holds, missing elsewhere."""
    if z3.is_true(condition):
        return value
    if isinstance(value, Truth):
        return Truth(z3.And(condition, value.true), z3.And(condition, value.false))
    if isinstance(value, Scalar):
        return Scalar(z3.And(condition, value.defined), value.term, value.kind, value.values,
                      value.parts)
    if isinstance(value, Slots):
        return Slots(z3.And(condition, value.defined), value.slots, value.is_set)
    return RecordValue(z3.And(condition, value.defined), value.fields)


def _real(value: Value) -> z3.ArithRef:
    if not isinstance(value, Scalar) or value.kind != "number":
        raise Unsupported("arithmetic on a value that is not a number")
    return z3.ToReal(value.term) if value.term.is_int() else value.term


def _less(a: Value, b: Value) -> z3.BoolRef:
    if not isinstance(a, Scalar) or a.kind not in ("number", "date"):
        raise Unsupported("an order on values that are not numbers or dates")
    if a.kind == "date":
        return a.term < b.term
    return _real(a) < _real(b)


def _compare(op: str, left: Value, right: Value) -> Truth:
    defined = z3.And(left.defined, right.defined)
    if op in ("=", "!="):
        equal = s.equal(left, right)
        return s.truth_of(equal if op == "=" else z3.Not(equal), defined)
    if op in ("<", ">"):
        holds = _less(left, right) if op == "<" else _less(right, left)
    else:
        strictly = _less(right, left) if op == "<=" else _less(left, right)
        holds = z3.Not(strictly)
    return s.truth_of(holds, defined)


def _enum_rank(value: Value, values: tuple[str, ...]) -> z3.ArithRef:
    """A `one of` value's place in ``values``; missing (and foreign values) rank last."""
    if isinstance(value, Scalar) and value.kind == "enum" and value.values == values:
        return z3.If(value.defined, value.term, len(values))
    text = s.as_text(value) if isinstance(value, Scalar) else None
    if text is None or text.kind != "text":
        raise Unsupported("`combine priority` over values that are not `one of`")
    rank = z3.IntVal(len(values))
    for index in range(len(values) - 1, -1, -1):
        rank = z3.If(z3.And(text.defined, text.term == z3.StringVal(values[index])), index, rank)
    return rank


def _ranks(order: dict | tuple | None) -> int:
    """How many ranks ``order`` (``rank_order``'s) gives, the last for unranked values."""
    if order is None:
        return 1
    if isinstance(order, dict):
        return len(order) + 1
    size = 1
    for _, ranks in order:
        size *= len(ranks) + 1
    return size


def _rank(value: Value, order: dict | tuple | None) -> z3.ArithRef:
    """A proposal's rank as ``runtime.rank`` gives it, a record's ranked fields folded into
    one number (the first field the most significant)."""
    if order is None:
        return z3.IntVal(0)
    if isinstance(order, dict):
        return _enum_rank(value, tuple(order))
    if not isinstance(value, RecordValue):
        raise Unsupported("`combine priority` over values that are not records")
    total, weight = z3.IntVal(0), 1
    for name, ranks in reversed(order):
        field = _with_defined(value.fields[name], value.defined)
        total = total + _enum_rank(field, tuple(ranks)) * weight
        weight *= len(ranks) + 1
    return total


def _first(made: list[Proposal]) -> Value:
    """The first fired proposal's value (the last's when none fired: the caller then uses the
    default)."""
    chosen = made[-1].value
    for proposal in reversed(made[:-1]):
        chosen = s.choose(proposal.fired, proposal.value, _like(proposal.value, chosen))
    return chosen


def _whole(term: z3.ExprRef, known: dict[int, bool]) -> bool:
    """Whether ``term`` is a whole number by its construction (integer facts, whole constants,
    and sums, products and choices of them), so that an `integer` output needs no check the
    solver finds hard (whole-number reasoning beside division and products)."""
    key = term.get_id()
    if key in known:
        return known[key]
    if z3.is_int(term) or z3.is_int_value(term):
        result = True
    elif z3.is_rational_value(term):
        result = term.denominator_as_long() == 1
    elif z3.is_to_real(term):
        result = True
    elif z3.is_app_of(term, z3.Z3_OP_ITE):
        result = _whole(term.arg(1), known) and _whole(term.arg(2), known)
    elif any(z3.is_app_of(term, op) for op in (z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_MUL,
                                                   z3.Z3_OP_UMINUS)):
        result = all(_whole(term.arg(i), known) for i in range(term.num_args()))
    else:
        result = False
    known[key] = result
    return result


def _constant(expr: ast.Expr) -> Decimal | None:
    if isinstance(expr, ast.Literal) and isinstance(expr.value, Decimal):
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-":
        inner = _constant(expr.operand)
        return None if inner is None else -inner
    return None


def _round_half_even(value: z3.ArithRef, places: int) -> z3.ArithRef:
    scale = z3.RealVal(Fraction(10) ** places)
    shifted = value * scale
    floor = z3.ToInt(shifted)
    rest = shifted - z3.ToReal(floor)
    half = z3.RealVal(Fraction(1, 2))
    up = z3.Or(rest > half, z3.And(rest == half, floor % 2 == 1))
    return z3.ToReal(z3.If(up, floor + 1, floor)) / scale
