"""Code generation: a checked ruleset becomes Python functions that decide: a plain one, one
that records what the trace needs (built on first use), and one for portfolio runs.

The functions evaluate lets, tables, rules, outputs with their caps, offers and reasons in the
checker's dependency order, exactly as ``engine.run.reference.procedure`` does with the reference interpreter
(the tests hold them to the same decisions and traces). They are fast because everything that
can be decided when the ruleset loads is: each fact field is a local variable, each expression
a sequence of assignments to temporaries with its operators inlined (``engine.run.codegen.expressions``),
missing-value checks only where the checker's types say a value can be missing, constants
built once.

Safety: no text of the ruleset ever becomes source code. Every name, text and number from the
ruleset lives in a constants table that the code refers to by engine-chosen names (`k12`);
locals are engine-chosen too (`t7`, `v3`); the namespace has no builtins but the few the code
uses. Nested expressions are flattened into temporaries, and the branches of `if` run under
guard flags rather than nested blocks, so no ruleset can reach Python's nesting limits.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.check import types as t
from engine.check.checker import CheckedProgram
from engine.check.symbols import OFFERS_OUTPUT
from engine.run.codegen.expressions import BUILTINS, Operand
from engine.run.codegen.facts import BUILTINS as VALIDATION_BUILTINS
from engine.run.codegen.facts import ValidatorGenerator
from engine.run.codegen.support import (
    CAP_APPLIED,
    CAP_BOUND_MISSING,
    CAP_CONDITION_FALSE,
    CAP_NOT_BINDING,
    CAP_VALUE_MISSING,
    LET,
    OFFER,
    OUTPUT,
    RULE,
    CapInfo,
    OfferInfo,
    RuleInfo,
    SlotInfo,
    TraceMetadata,
)
from engine.run.codegen.tables import TableEmitter
from engine.run.trace import budget_note
from engine.syntax import ast

_NOT_CONSTANT = object()


class GeneratedRuleset:
    """The generated functions of one ruleset, and what reading their results needs.

    ``decide`` takes the facts' field values (in the order of ``fields``) and the as-of date
    and returns ({output: value}, reason codes). ``decide_traced`` also returns what the trace
    is built from; it is generated the first time it is needed, since most callers of a large
    ruleset never ask for traces and each function of a 5,000-rule ruleset takes a second and
    megabytes to compile."""

    def __init__(self, program: CheckedProgram) -> None:
        self._generator = _Generator(program)
        self.fields: tuple[tuple[str, str], ...] = self._generator.fields
        self.decide = self._compile(traced=False)
        self.metadata: TraceMetadata = self._generator.metadata()
        self.counters: int = self._generator.counters
        self._traced: Any = None
        self._batch: Any = None
        self._lock = threading.Lock()

    @property
    def decide_traced(self) -> Any:
        if self._traced is None:
            with self._lock:
                if self._traced is None:
                    self._traced = self._compile(traced=True)
        return self._traced

    @property
    def decide_batch(self) -> Any:
        if self._batch is None:
            with self._lock:
                if self._batch is None:
                    self._batch = self._compile(traced=False, batch=True)
        return self._batch

    def source(self) -> str:
        """Both functions as Python text, then the constants they refer to (for debugging)."""
        generator = self._generator
        constants = "\n".join(f"# k{i} = {value!r}" for i, value in enumerate(generator.constants))
        return "\n\n".join([generator.function(traced=False), generator.function(traced=True),
                            "# constants\n" + constants]) + "\n"

    def _compile(self, traced: bool, batch: bool = False) -> Any:
        generator = self._generator
        source = generator.function(traced, batch)
        generator.forget()
        namespace: dict[str, Any] = {"__builtins__": dict(BUILTINS) if traced or batch
                                     else dict(BUILTINS) | VALIDATION_BUILTINS}
        namespace.update(generator.globals())
        namespace.update(generator.validator.globals())
        code = compile(source, f"<tenet ruleset {generator.ruleset_name!r}>", "exec")
        exec(code, namespace)  # engine-chosen names only: see the module docstring
        return namespace["decide_batch" if batch else "decide_traced" if traced else "decide"]


def generate(program: CheckedProgram) -> GeneratedRuleset:
    """The decision functions of a checked program."""
    return GeneratedRuleset(program)


class _Generator(TableEmitter):
    """The decision procedure: lets, tables, rules, outputs with their caps, offers and
    reasons in the checker's dependency order."""

    def __init__(self, program: CheckedProgram) -> None:
        super().__init__()
        self.program = program
        self.symbols = symbols = program.symbols
        self.ruleset_name = symbols.header.name.name if symbols.header else "ruleset"
        self.fields = tuple((block, name) for block in symbols.facts
                            for name in symbols.record_fields(block))
        self._field_locals = {key: f"f{index}" for index, key in enumerate(self.fields)}
        self.validator = ValidatorGenerator(symbols)
        self.validation = self.validator.checks(self.fields, list(self._field_locals.values()))
        position = {name: index for index, name in enumerate(symbols.rules)}
        self.rule_order = sorted(symbols.rules.values(),
                                 key=lambda r: (-r.priority, position[r.name.name]))
        self.rule_index = {rule.name.name: index for index, rule in enumerate(self.rule_order)}
        # Proposing actions ("slots"), numbered in priority-then-position order of their rules.
        self.slots: list[SlotInfo] = []
        self.slot_values: list[ast.Expr | ast.OfferAction] = []
        self.rule_slots: dict[int, list[int]] = {}
        for index, rule in enumerate(self.rule_order):
            for action in rule.actions:
                if isinstance(action, ast.ReasonAction):
                    continue
                if isinstance(action, ast.OfferAction):
                    slot = SlotInfo(index, "offer", OFFERS_OUTPUT)
                    self.slot_values.append(action)
                else:
                    kind = "add" if isinstance(action, ast.AddAction) else "set"
                    slot = SlotInfo(index, kind, action.output.name)
                    self.slot_values.append(action.value)
                self.rule_slots.setdefault(index, []).append(len(self.slots))
                self.slots.append(slot)
        self.caps_of: dict[str, list[int]] = {}
        for index, cap in enumerate(symbols.caps):
            self.caps_of.setdefault(cap.output.name, []).append(index)
        for indexes in self.caps_of.values():  # ceilings first, then floors, in declared order
            indexes.sort(key=lambda i: symbols.caps[i].bound == "least")
        self.facts_fields = {
            key: Operand(local, symbols.record_fields(key[0])[key[1]].optional)
            for key, local in self._field_locals.items()}
        # Rules making offers that can be withheld with a reason collect those reasons.
        self.withheld = {
            self.slots[slot].rule: f"w{self.slots[slot].rule}"
            for slot, action in enumerate(self.slot_values)
            if isinstance(action, ast.OfferAction)
            and symbols.offers[action.offer.name].requires is not None
            and symbols.offers[action.offer.name].else_reason is not None}
        self.lets = list(symbols.lets)
        # Counters of the batch function: rules fired, rules used, then each table's rows.
        self.table_counters: dict[str, int] = {}
        offset = 2 * len(self.rule_order)
        for name, table in symbols.tables.items():
            self.table_counters[name] = offset
            offset += len(table.rows)
        self.counters = offset
        self.tables = list(symbols.tables)
        self.outputs = [name for name in program.output_types if name != OFFERS_OUTPUT]

    def function(self, traced: bool, batch: bool = False) -> str:
        """The source of `decide`, of `decide_traced` (``traced``), or of `decide_batch`
        (``batch``: it also returns who gave each reason, the used flags and every budget's
        values, and counts rules and table rows in ``C``, for portfolio runs)."""
        self.traced, self.batch = traced, batch
        self.start()
        self.cap_reasons: list[tuple[int, str, str, str, str]] = []
        self.fired: dict[int, str] = {}  # rule -> the local (or constant) telling it fired
        self.proposal: dict[int, Operand] = {}  # slot -> its value, read only if it fired
        name = "decide_batch" if batch else "decide_traced" if traced else "decide"
        lines = [f"def {name}(V, today, C):" if batch else f"def {name}(V, today):"]
        unpack = f"({''.join(local + ', ' for local in self._field_locals.values())}) = V"
        if not batch and not traced:
            # The plain function also takes the facts themselves and checks them on the way
            # (None: facts that the fast checks do not accept, for the caller to validate).
            lines += ["    if type(V) is dict:", "        facts = V",
                      *("        " + line for line in self.validation), "    else:",
                      "        " + (unpack if self.fields else "pass")]
        elif self.fields:
            lines.append("    " + unpack)
        self.emit(f"U = [False] * {len(self.slots)}")
        self.emit("R = []")
        if batch:
            self.emit("G = []")
        for withheld in self.withheld.values():
            self.emit(f"{withheld} = []")
        if traced:
            self.emit("E = []")
            self.emit("N = []")
        for kind, item in self.program.order:
            if kind == "let":
                self.let(item)
            elif kind == "table":
                self.table(item)
            elif kind == "rule":
                self.rule(item)
            elif item == OFFERS_OUTPUT:
                self.offers()
            else:
                self.output(item)
        self.reasons()
        outputs = ", ".join(f"{self.constant(name)}: {self.scope[name].code}"
                            for name in self.program.output_types)
        if batch:
            self.emit(f"return {{{outputs}}}, R, G, U, {self.budget_values()}")
        else:
            self.emit(f"return {{{outputs}}}, R" + (", E, N, U" if traced else ""))
        function = "\n".join(lines + self.lines)
        if batch or traced:
            return function
        return "\n\n".join([*self.validator.bodies, function])

    def forget(self) -> None:
        """Drop the state of the last function generated (its lines, scope and proposals):
        on a large ruleset it holds megabytes that the compiled function does not need."""
        self.lines, self.scope, self.proposal, self.fired = [], {}, {}, {}

    def let(self, name: str) -> None:
        value = self.expr(self.symbols.lets[name].value)
        if not value.code.startswith(("t", "v")):  # a constant, or a name used elsewhere
            local = self.temporary("v")
            self.emit(f"{local} = {value.code}")
            value = Operand(local, value.nullable)
        self.scope[name] = value
        local = value.code
        if self.traced:
            self.emit(f"E.append(({LET}, {self.lets.index(name)}, {local}))")

    def rule(self, name: str) -> None:
        index = self.rule_index[name]
        rule = self.rule_order[index]
        condition = self.materialize(self.expr(rule.condition))
        if condition.nullable:
            fired = f"r{index}"
            self.emit(f"{fired} = {condition.code} is True")
        else:
            fired = condition.code  # true or false already
        self.fired[index] = fired
        if self.batch:
            self.emit(f"if {fired}: C[{index}] += 1")
        slots = self.rule_slots.get(index, [])
        with self.guarded(fired):
            for slot in slots:
                action = self.slot_values[slot]
                if isinstance(action, ast.OfferAction):
                    self.proposal[slot] = self._offer_value(action)
                else:
                    self.proposal[slot] = self.materialize(self.expr(action))
        if self.traced:
            values = "".join(f"{self.proposal[s].code}, " for s in slots)
            self.emit(f"E.append(({RULE}, {index}, {condition.code}, ({values}) if {fired} "
                      "else None))")

    def _offer_value(self, action: ast.OfferAction) -> Operand:
        offer = self.symbols.offers[action.offer.name]
        entries = [(self.constant("name"), Operand(self.constant(offer.name.name), False))]
        if action.amount is not None:
            entries.append((self.constant("amount"), self.expr(action.amount)))
        if offer.partner is not None:
            entries.append((self.constant("partner"), Operand(self.constant(offer.partner), False)))
        result = self.temporary()
        self.emit(f"{result} = {{{', '.join(f'{k}: {v.code}' for k, v in entries)}}}")
        return Operand(result, False)

    def _proposals(self, output: str) -> list[int]:
        return [slot for slot, info in enumerate(self.slots) if info.output == output]

    def output(self, name: str) -> None:
        declaration = self.symbols.outputs[name]
        policy = self.program.policies[name]
        type_ = self.program.output_types[name]
        slots = self._proposals(name)
        combined, found = self.temporary("o"), self.temporary("h")
        proposals = self.temporary("P")
        what = f"output `{name}`"
        inline = (policy in ("first", "unique", "min", "max", "sum", "count")
                  or policy == "priority" and isinstance(type_, t.Enum))
        if inline:
            nullable = self._combine_inline(policy, slots, combined, found, what, type_)
        else:
            self._proposal_list(proposals, slots)
            self.emit(f"{combined} = None")
            self.emit(f"{found} = bool({proposals})")
            self.emit(f"if {found}: {combined} = " + self._combine_call(
                policy, proposals, "U", what, self._rule_labels(), type_))
            nullable = True
        nullable = self._fallback(combined, found, declaration.default, policy) or nullable
        value = self.temporary("v")
        self.emit(f"{value} = {combined}")
        caps = [self.cap(index, value, combined) for index in self.caps_of.get(name, [])]
        if type_ == t.INTEGER:  # the test inline: most values pass, and a call costs more
            self.emit(f"if {value} is not None and {value} != to_integral({value}): "
                      f"check_whole({self.constant(name)}, {value})")
        self.scope[name] = Operand(value, nullable)
        if self.traced:
            recorded = "".join(f"({status}, {limit}), " for status, limit in caps)
            self.emit(f"E.append(({OUTPUT}, {self.outputs.index(name)}, {combined}, {value}, "
                      f"({recorded})))")

    def _rule_labels(self) -> tuple[str, ...]:
        return tuple(f"rule `{self.rule_order[slot.rule].name.name}`" for slot in self.slots)

    def _proposal_list(self, proposals: str, slots: list[int]) -> list[str]:
        """Emit the list of (slot, value) of the proposals made, in order."""
        self.emit(f"{proposals} = []")
        for slot in slots:
            self.emit(f"if {self.fired[self.slots[slot].rule]}: "
                      f"{proposals}.append(({slot}, {self.proposal[slot].code}))")

    def _combine_inline(self, policy: str, slots: list[int], combined: str, found: str,
                        what: str, type_: t.Type) -> bool:
        """Combine the proposals to an output without building a list (the plain function
        only); returns whether the result can be missing."""
        self.emit(f"{combined} = None")
        self.emit(f"{found} = False")
        made = [(slot, self.fired[self.slots[slot].rule], self.proposal[slot]) for slot in slots]
        nullable = any(value.nullable for _, _, value in made)
        if policy == "unique":
            count = self.temporary("n")
            self.emit(f"{count} = 0")
            for _, fired, _ in made:
                self.emit(f"if {fired}: {count} += 1")
            conflict = self.temporary("P")
            saved, self.lines = self.lines, []
            self._proposal_list(conflict, slots)
            self.emit(f"{self._combine_call(policy, conflict, 'None', what, self._rule_labels(), type_)}")
            block, self.lines = self.lines, saved
            self.emit_block([f"if {count} > 1:", *("    " + line.strip() for line in block)])
        if policy in ("first", "unique"):
            for slot, fired, value in made:
                self.emit(f"if not {found} and {fired}: {combined} = {value.code}; "
                          f"U[{slot}] = True; {found} = True")
            return nullable
        if policy == "priority":
            order = {v: i for i, v in enumerate(type_.values)}
            table, best = self.constant(order), self.temporary("b")
            self.emit(f"{best} = {len(order) + 1}")
            for _, fired, value in made:
                constant = self._constant_value(value)
                rank = (order.get(constant, len(order)) if constant is not _NOT_CONSTANT
                        else f"{table}.get({value.code}, {len(order)})")
                self.emit(f"if {fired} and {rank} < {best}: {best} = {rank}; "
                          f"{combined} = {value.code}; {found} = True")
        elif policy in ("min", "max"):
            missing = self.temporary("z")
            self.emit(f"{missing} = False")
            better = "<" if policy == "min" else ">"
            for _, fired, value in made:
                lines = [f"if {fired}:"]
                if value.nullable:
                    lines += [f"    if {value.code} is None: {missing} = True",
                              f"    elif {combined} is None or {value.code} {better} {combined}: "
                              f"{combined} = {value.code}"]
                else:
                    lines.append(f"    if {combined} is None or {value.code} {better} {combined}: "
                                 f"{combined} = {value.code}")
                lines.append(f"    {found} = True")
                self.emit_block(lines)
            self.emit(f"if {missing}: {combined} = None")
        elif policy == "sum":
            self.emit(f"{combined} = ZERO")
            for slot, fired, value in made:
                total = (f"None if {combined} is None or {value.code} is None else "
                         if value.nullable else f"None if {combined} is None else "
                         if nullable else "")
                self.emit(f"if {fired}: {combined} = {total}ctx_add({combined}, {value.code}); "
                          f"U[{slot}] = True; {found} = True")
            return nullable
        else:  # count
            count = self.temporary("n")
            self.emit(f"{count} = 0")
            for slot, fired, _ in made:
                self.emit(f"if {fired}: {count} += 1; U[{slot}] = True; {found} = True")
            self.emit(f"if {found}: {combined} = Decimal({count})")
            return False
        for slot, fired, value in made:  # priority, min, max: the proposals equal to the result
            self.emit(f"if {fired}: U[{slot}] = {value.code} == {combined}")
        return nullable

    def _constant_value(self, operand: Operand) -> Any:
        if operand.code.startswith("k") and operand.code[1:].isdigit():
            return self.constants[int(operand.code[1:])]
        return _NOT_CONSTANT

    def cap(self, index: int, value: str, combined: str) -> tuple[str, str]:
        """Emit one cap; returns the locals of its status and limit."""
        cap = self.symbols.caps[index]
        status, limit = self.temporary("cs"), self.temporary("cl")
        self.emit(f"{status} = {CAP_CONDITION_FALSE}")
        # A constant bound is shown even when the cap's condition is not true.
        constant = cap.limit.value if isinstance(cap.limit, ast.Literal) else None
        self.emit(f"{limit} = {self.constant(constant)}")
        test = "True"
        if cap.condition is not None:
            condition = self.expr(cap.condition)
            test = f"{condition.code} is True" if condition.nullable else condition.code
        with self.guarded(test):
            bound = self.expr(cap.limit)
            self.emit(f"{limit} = {bound.code}")
            where = f"cap on `{cap.output.name}` skipped"
            compare = ">" if cap.bound == "most" else "<"
            lines = [f"if {limit} is None or {value} is None:",
                     f"    {status} = {CAP_BOUND_MISSING} if {limit} is None else "
                     f"{CAP_VALUE_MISSING}"]
            if self.traced:
                lines.append(f"    N.append({self.constant(where + ': its bound is missing')} "
                             f"if {limit} is None else "
                             f"{self.constant(where + ': the value is missing')})")
            lines += [f"elif {value} {compare} {limit}:",
                      f"    {value} = {limit}",
                      f"    {status} = {CAP_APPLIED}",
                      "else:",
                      f"    {status} = {CAP_NOT_BINDING}"]
            self.emit_block(lines)
        if cap.reason is not None:
            self.cap_reasons.append((index, status, limit, value, combined))
        return status, limit

    def offers(self) -> None:
        kept = self.temporary("O")
        self.emit(f"{kept} = []")
        for slot in self._proposals(OFFERS_OUTPUT):
            rule = self.slots[slot].rule
            action = self.slot_values[slot]
            offer = self.symbols.offers[action.offer.name]
            with self.guarded(self.fired[rule]):
                self.emit(f"U[{slot}] = True")
                if offer.requires is None:
                    self.emit(f"{kept}.append({self.proposal[slot].code})")
                    requires = Operand("None", True)
                else:
                    requires = self.materialize(self.expr(offer.requires))
                    self.emit(f"if {requires.code} is True: "
                              f"{kept}.append({self.proposal[slot].code})")
                    if offer.else_reason is not None:
                        self.emit(f"if {requires.code} is not True: "
                                  f"{self.withheld[rule]}.append"
                                  f"({self.constant(offer.else_reason.name)})")
                if self.traced:
                    self.emit(f"E.append(({OFFER}, {slot}, {requires.code}))")
        value = self.temporary("v")
        self.emit(f"{value} = tuple({kept})")
        self.scope[OFFERS_OUTPUT] = Operand(value, False)

    def reasons(self) -> None:
        """A rule's reasons when it fired and a proposal of it was used (or it proposes
        nothing), in priority-then-position order; then the caps'. The batch function also
        records who gave each code (a rule's index, or -1 - a cap's), for budgets to withdraw,
        and counts the rules that were used."""
        batch = self.batch
        for index, rule in enumerate(self.rule_order):
            codes = tuple(a.code.name for a in rule.actions if isinstance(a, ast.ReasonAction))
            withheld = self.withheld.get(index)
            if not codes and withheld is None and not batch:
                continue
            slots = self.rule_slots.get(index, [])
            test = self.fired[index]
            if slots and not any(self.slots[s].kind == "offer" for s in slots):
                test += " and (" + " or ".join(f"U[{s}]" for s in slots) + ")"
            if batch:
                self.emit(f"if {test}: C[{len(self.rule_order) + index}] += 1")
            if codes:
                givers = f"; G.extend({self.constant((index,) * len(codes))})" if batch else ""
                self.emit(f"if {test}: R.extend({self.constant(codes)}){givers}")
            if withheld is not None:
                givers = f"; G.extend([{index}] * len({withheld}))" if batch else ""
                self.emit(f"if {test}: R.extend({withheld}){givers}")
        # A cap's reason is given when the final value equals its bound and the cap changed it.
        for index, status, limit, value, combined in sorted(self.cap_reasons):
            code = self.constant(self.symbols.caps[index].reason.name)
            givers = f"; G.append({-1 - index})" if batch else ""
            self.emit(f"if {status} >= {CAP_APPLIED} and {value} == {limit} and "
                      f"{value} != {combined}: R.append({code}){givers}")
        if not batch and self._reasons_can_repeat():
            self.emit("R = list(dict.fromkeys(R))")

    def _reasons_can_repeat(self) -> bool:
        """Whether a code can be given twice: each rule's and cap's codes are given at most
        once per decision, so only a code written in two places (or an offer's withheld
        reason, known only when deciding) can repeat."""
        written = [a.code.name for rule in self.rule_order for a in rule.actions
                   if isinstance(a, ast.ReasonAction)]
        written += [self.symbols.caps[index].reason.name for index, *_ in self.cap_reasons]
        return bool(self.withheld) or len(written) != len(set(written))

    def budget_values(self) -> str:
        """A tuple with, for each budget in declared order, (among, total, rank, the values of
        its `else` set actions), evaluated on the decision as it stands."""
        budgets = []
        for budget in self.symbols.budgets.values():
            among = self.materialize(self.expr(budget.among)).code if budget.among else "True"
            total = self.materialize(self.expr(budget.total)).code
            rank = self.materialize(self.expr(budget.rank_by)).code if budget.rank_by else "None"
            sets = [self.materialize(self.expr(action.value)).code for action in budget.otherwise
                    if isinstance(action, ast.SetAction)]
            budgets.append(f"({among}, {total}, {rank}, ({''.join(v + ', ' for v in sets)}))")
        return f"({''.join(b + ', ' for b in budgets)})"

    def metadata(self) -> TraceMetadata:
        symbols = self.symbols
        rules = [RuleInfo(rule.name.name, rule.label, rule.condition,
                          tuple(self.rule_slots.get(index, [])),
                          tuple(a.code.name for a in rule.actions
                                if isinstance(a, ast.ReasonAction)))
                 for index, rule in enumerate(self.rule_order)]
        offer_slots = {}
        for slot, value in enumerate(self.slot_values):
            if isinstance(value, ast.OfferAction):
                offer = symbols.offers[value.offer.name]
                offer_slots[slot] = OfferInfo(
                    offer.name.name, offer.requires,
                    offer.else_reason.name if offer.else_reason is not None else None)
        return TraceMetadata(
            lets=self.lets, let_values=[symbols.lets[name].value for name in self.lets],
            tables=[(name, table.policy.name if table.policy is not None else "unique")
                    for name, table in symbols.tables.items()],
            rules=rules, slots=self.slots,
            outputs=[(name, self.program.policies[name], tuple(self.caps_of.get(name, [])))
                     for name in self.outputs],
            caps=[CapInfo(cap.bound, cap.reason.name if cap.reason is not None else None,
                          cap.output.name) for cap in symbols.caps],
            offer_slots=offer_slots,
            budget_notes=[budget_note(name, budget.stops_when_full)
                          for name, budget in symbols.budgets.items()],
            fields=self.fields)

