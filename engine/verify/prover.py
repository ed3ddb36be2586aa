"""`tenet verify`: properties proved over every customer, or a customer who breaks them.

For each ruleset the prover encodes the decision once (``engine.verify.encoder``) and asks z3, per
claim, for facts that break it: none (`unsat`) is a proof; a model is a witness; the solver giving
up is `unknown`, never a pass. Claims are the ruleset's `property` declarations (LANGUAGE.md §12),
two built-in ones (no decision is a conflict; no decision uses part of a rule's proposals while
another part lost), and with a baseline, for each output both share and for reasons and offers,
that no customer is decided differently.

Every witness is decided by the engine before it is reported, and the engine's decision must break
the claim: if it does not, the prover is wrong, and the result says so as an internal error.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from typing import Any

import z3

from engine.check.checker import BASELINE_NAME, REASONS_NAME
from engine.check.symbols import OFFERS_OUTPUT
from engine.codes import CODES
from engine.diagnostics import Diagnostic, Severity, Span
from engine.exceptions import DecisionConflict, FactsError
from engine.lint.suppressions import unsuppressed
from engine.ruleset import Ruleset
from engine.run.reference.interpreter import Env, Interpreter
from engine.run.runtime import normalize
from engine.syntax import ast
from engine.syntax.unparse import unparse
from engine.verify import symbolic as s
from engine.verify.encoder import Encoder, facts_only, property_env
from engine.verify.facts import DEFAULT_LIST_BOUND, FactsSpace
from engine.verify.symbolic import Unsupported
from engine.verify.witness import NotDecimal, as_of_of, facts_of, simplify

DEFAULT_TIMEOUT = 10.0
MAX_PARTLY_USED = 20  # rules listed as partly used before the list stops

PROVED, VIOLATED, UNKNOWN, SKIPPED, INTERNAL = (
    "proved", "violated", "unknown", "skipped", "internal error")


@dataclass
class Side:
    """One ruleset's side of a witness: the facts it was given and what the engine decided."""

    facts: dict[str, Any]
    outputs: dict[str, Any] | None = None
    reasons: list[str] | None = None
    offers: list[Any] | None = None
    conflict: str | None = None
    refused: str | None = None  # the engine refused the facts (never for a sound witness)
    values: dict[str, Any] = field(default_factory=dict, repr=False)  # lets, tables, …

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"facts": self.facts}
        if self.refused is not None:
            data["refused"] = self.refused
        elif self.conflict is not None:
            data["conflict"] = self.conflict
        else:
            data["decision"] = self.outputs
            data["reasons"] = self.reasons
        return data


@dataclass
class Witness:
    """A customer who breaks a claim: the as-of date, the engine's decision (and the baseline's),
    and the values of the claim's parts for that customer."""

    as_of: datetime.date
    decision: Side
    baseline: Side | None = None
    shown: list[tuple[str, Any]] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"as_of": self.as_of.isoformat(), **self.decision.to_data()}
        if self.baseline is not None:
            data["baseline"] = self.baseline.to_data()
        if self.shown:
            data["values"] = {text: value for text, value in self.shown}
        return data


@dataclass
class Result:
    """One claim's result."""

    ruleset: str
    kind: str  # "property", "conflicts", "partial use", "baseline"
    name: str
    title: str
    status: str
    span: Span
    seconds: float = 0.0
    witness: Witness | None = None
    cause: str | None = None
    list_bound: int | None = None  # set when the result holds only for lists up to the bound
    warning: bool = False  # a violation that is a warning (partial use), not a failure

    @property
    def fails(self) -> bool:
        if self.status in (UNKNOWN, INTERNAL):  # unknown is never a pass
            return True
        return self.status == VIOLATED and not self.warning and self.kind != "baseline"

    @property
    def code(self) -> str | None:
        """The diagnostic code of a finding (None for a proof, a skip or an equal baseline)."""
        if self.status == INTERNAL:
            return "V006"
        if self.status == UNKNOWN:
            return "V002"
        if self.status != VIOLATED:
            return None
        return {"property": "V001", "conflicts": "V003", "partial use": "V004",
                "baseline": "V005"}[self.kind]

    def diagnostic(self) -> Diagnostic | None:
        """The finding as `tenet check` reports its own (for JSON, GitHub and SARIF)."""
        code = self.code
        if code is None:
            return None
        severity = {"V004": Severity.WARNING, "V005": Severity.INFO}.get(code, Severity.ERROR)
        what = {"property": f"property `{self.name}`", "conflicts": "no conflicts",
                "partial use": f"rule `{self.name}` is used whole or not at all",
                "baseline": f"`{self.name}` as the baseline"}[self.kind]
        message = {"V001": f"{what} is violated", "V002": f"{what} is unknown",
                   "V003": "a decision can be a conflict",
                   "V004": f"rule `{self.name}` can have some of its proposals used and others "
                           "overridden",
                   "V005": f"`{self.name}` can differ from the baseline's",
                   "V006": f"internal error of the prover on {what}"}[code]
        help_text = self.cause
        if self.witness is not None:
            facts = json.dumps(self.witness.decision.facts, default=str, ensure_ascii=False)
            help_text = (f"{self.cause}; " if self.cause else "") + (
                f"for example, as of {self.witness.as_of}: {facts}")
        return Diagnostic(code, severity, message, self.span, help_text)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ruleset": self.ruleset, "kind": self.kind, "name": self.name, "title": self.title,
            "status": self.status, "seconds": round(self.seconds, 3),
            "file": self.span.file, "line": self.span.line, "column": self.span.column}
        if self.list_bound is not None:
            data["list_bound"] = self.list_bound
        if self.cause is not None:
            data["cause"] = self.cause
        if self.witness is not None:
            data["witness"] = self.witness.to_data()
        return data


@dataclass
class Options:
    timeout: float = DEFAULT_TIMEOUT
    list_bound: int = DEFAULT_LIST_BOUND
    only: str | None = None  # one property by name


class Prover:
    """Verifies one ruleset, optionally against a baseline ruleset."""

    def __init__(self, ruleset: Ruleset, baseline: Ruleset | None = None,
                 options: Options | None = None) -> None:
        self.ruleset, self.baseline = ruleset, baseline
        self.options = options or Options()
        self.path = ruleset.check.sources.modules[0].path
        self.symbols = ruleset.check.program.symbols
        self.interpreter = Interpreter()

    def run(self) -> list[Result]:
        started = time.perf_counter()
        self.space = FactsSpace(self.options.list_bound)
        try:
            self.encoder = Encoder(self.ruleset.check.program, self.space)
            self.decision = self.encoder.decide()
            self.old = (Encoder(self.baseline.check.program, self.space).decide()
                        if self.baseline is not None else None)
        except Unsupported as problem:
            return [self._result(kind, name, title, UNKNOWN, span, started,
                                 cause=f"the prover cannot state {problem} exactly")
                    for kind, name, title, span in self._claims()]
        self.solver = z3.Solver()
        self.solver.add(*self.space.constraints)
        results = []
        if self.options.only is None:
            results.append(self._no_conflicts())
            results.extend(self._partial_use())
        for declaration in self.symbols.properties.values():
            if self.options.only in (None, declaration.name.name):
                results.append(self._property(declaration))
        if self.old is not None and self.options.only is None:
            results.extend(self._baseline_differences())
        return results

    def _claims(self):
        if self.options.only is None:
            header = self.symbols.header.name
            yield "conflicts", "no conflicts", "No decision is a conflict", header.span
        for declaration in self.symbols.properties.values():
            if self.options.only in (None, declaration.name.name):
                yield ("property", declaration.name.name, declaration.label or "",
                       declaration.name.span)

    # -- the claims

    def _no_conflicts(self) -> Result:
        started = time.perf_counter()
        conflicts = list(self.decision.conflicts)
        if self.old is not None:
            conflicts += self.old.conflicts
        title = "No decision is a conflict"
        span = self.symbols.header.name.span
        if not conflicts:
            return self._result("conflicts", "no conflicts", title, PROVED, span, started)
        return self._solve("conflicts", "no conflicts", title, span, started,
                           z3.Or(*conflicts),
                           lambda w: w.decision.conflict is not None or (
                               w.baseline is not None and w.baseline.conflict is not None))

    def _partial_use(self) -> list[Result]:
        """No decision fires a rule, uses one of its proposals and overrides another (a "hold"
        with a raised limit). One claim over every rule: each witness names the rules it shows
        partly used, which are then set aside, until no other rule can be (or the list is long
        enough). Rules where it is meant (`# tenet: ignore[V004]`) are not asked about."""
        remaining = {}
        for rule, uses in self.decision.used.items():
            if len(uses) < 2 or self._suppressed("V004", self.symbols.rules[rule].name.span):
                continue
            some = z3.Or(*[used for _, used in uses])
            lost = z3.Or(*[z3.Not(used) for _, used in uses])
            remaining[rule] = z3.And(self.decision.fired[rule], some, lost)
        if not remaining:
            return []
        checked, results = len(remaining), []
        span = self.symbols.header.name.span
        while remaining and len(results) < MAX_PARTLY_USED:
            started = time.perf_counter()
            found: list[str] = []

            def confirm(witness: Witness, found: list[str] = found) -> bool:
                found[:] = [r for r in self._partly_used_rules(witness) if r in remaining]
                return bool(found)
            other = "other " if results else ""
            title = (f"No {other}rule is partly used ({checked} rule"
                     f"{'s' if checked != 1 else ''} with several proposals)")
            result = self._solve("partial use", "partly used rules", title, span, started,
                                 z3.Or(*remaining.values()), confirm)
            if result.status != VIOLATED:
                results.append(result)
                break
            for rule in found:
                del remaining[rule]
                results.append(Result(
                    self.path, "partial use", rule, f"Rule `{rule}` is used whole or not at all",
                    VIOLATED, self.symbols.rules[rule].name.span, result.seconds,
                    witness=result.witness, warning=True))
        if remaining and results and results[-1].status == VIOLATED:
            results[-1].cause = (f"the list stops at {MAX_PARTLY_USED} rules; {len(remaining)} "
                                 "more were not asked about")
        return results

    def _suppressed(self, code: str, span: Span) -> bool:
        finding = Diagnostic(code, CODES[code].severity, "", span)
        return not unsuppressed([finding], self.ruleset.check.sources)

    def _property(self, declaration: ast.PropertyDecl) -> Result:
        started = time.perf_counter()
        name, title = declaration.name.name, declaration.label or ""
        span = declaration.name.span
        reads_baseline = any(isinstance(n, ast.Name) and n.name == BASELINE_NAME
                             for part in (declaration.condition, declaration.claim)
                             if part is not None for n in ast.walk(part))
        if reads_baseline and self.old is None:
            return self._result("property", name, title, SKIPPED, span, started,
                                cause="it reads `baseline.`: run with --baseline RULESET")
        try:
            env = property_env(self.decision, self.old)
            encoder = self.encoder
            when, on_facts = s.known(True), s.known(True)
            if declaration.condition is not None:
                when = encoder.value(declaration.condition, env)
                on_facts = encoder.value(declaration.condition,
                                         facts_only(env, self.symbols.facts))
            claim = encoder.value(declaration.claim, env)
        except Unsupported as problem:
            return self._result("property", name, title, UNKNOWN, span, started,
                                cause=f"the prover cannot state {problem} exactly")
        conflict = self.decision.conflict
        if self.old is not None:
            conflict = z3.Or(conflict, self.old.conflict)
        # A conflict decides nothing: it breaks the property unless `when` is false on the
        # facts alone.
        broken = z3.Or(z3.And(conflict, z3.Not(on_facts.false)),
                       z3.And(z3.Not(conflict), when.true, z3.Not(claim.true)))
        return self._solve("property", name, title, span, started, broken,
                           lambda w: self.breaks(declaration, w))

    def _baseline_differences(self) -> list[Result]:
        results = []
        new, old = self.decision, self.old
        shared = [name for name in new.outputs if name in old.outputs and name != OFFERS_OUTPUT]
        pairs = [(name, new.outputs[name], old.outputs[name]) for name in shared]
        pairs.append((REASONS_NAME, new.reasons, old.reasons))
        pairs.append((OFFERS_OUTPUT, new.offers, old.offers))
        clean = z3.And(z3.Not(new.conflict), z3.Not(old.conflict))
        for name, mine, theirs in pairs:
            started = time.perf_counter()
            title = f"`{name}` is the same as the baseline's for every customer"
            try:
                differs = z3.And(clean, z3.Not(s.same(mine, theirs)))
            except Unsupported as problem:
                results.append(self._result("baseline", name, title, UNKNOWN,
                                            self.symbols.header.name.span, started,
                                            cause=f"the prover cannot compare {problem}"))
                continue
            results.append(self._solve(
                "baseline", name, title, self.symbols.header.name.span, started, differs,
                lambda w, name=name: w.baseline is not None and _shown_value(
                    w.decision, name) != _shown_value(w.baseline, name)))
        return results

    # -- solving

    def _solve(self, kind: str, name: str, title: str, span: Span, started: float,
               broken: z3.BoolRef, confirm) -> Result:
        solver = self.solver
        depth = solver.num_scopes()  # simplifying a witness pushes more; all of it goes
        solver.push()
        try:
            solver.set("timeout", max(1, int(self.options.timeout * 1000)))
            solver.add(broken)
            answer = solver.check()
            if answer == z3.unsat:
                return self._result(kind, name, title, PROVED, span, started)
            if answer == z3.unknown:
                reason = solver.reason_unknown()
                cause = (f"the solver's time limit ({self.options.timeout:g} s) was reached"
                         if "timeout" in reason or "canceled" in reason else
                         f"the solver could not decide it ({reason})")
                hard = _nonlinear(self.symbols)
                if hard:
                    shown = "; ".join(f"`{text}` at {where.file}:{where.line}"
                                      for text, where in hard[:3])
                    cause += ("; it multiplies or divides values that are not constants, "
                              f"which solvers often cannot decide: {shown}")
                return self._result(kind, name, title, UNKNOWN, span, started, cause=cause)
            start = self.symbols.effective.start if self.symbols.effective else None
            model = simplify(solver, self.space, start,
                             patience_ms=max(1, int(self.options.timeout * 1000)))
            try:
                witness = self._witness(model)
            except NotDecimal as value:
                return self._result(kind, name, title, UNKNOWN, span, started,
                                    cause=f"the customers found need an amount of {value}, "
                                          "which has no decimal form")
            if not confirm(witness):
                return self._result(kind, name, title, INTERNAL, span, started, witness=witness,
                                    cause="the engine's decision for this witness does not "
                                          "break the claim: the prover is wrong here; please "
                                          "report it with the witness")
            if kind == "property":
                witness.shown = self._shown(name, witness)
            return self._result(kind, name, title, VIOLATED, span, started, witness=witness)
        finally:
            solver.pop(solver.num_scopes() - depth)

    def _result(self, kind, name, title, status, span, started, **extra) -> Result:
        bounded = self.options.list_bound if self.space.lists and status == PROVED else None
        return Result(self.path, kind, name, title, status, span,
                      time.perf_counter() - started, list_bound=bounded, **extra)

    # -- witnesses, decided by the engine

    def _witness(self, model: z3.ModelRef) -> Witness:
        as_of = as_of_of(model, self.space)
        side = self._decide(self.ruleset, facts_of(model, self.space, self.symbols), as_of)
        other = None
        if self.baseline is not None:
            other = self._decide(self.baseline, facts_of(model, self.space,
                                                         self.baseline.check.program.symbols),
                                 as_of)
        return Witness(as_of, side, other)

    def _decide(self, ruleset: Ruleset, facts: dict[str, Any], as_of: datetime.date) -> Side:
        side = Side(facts)
        try:
            decision = ruleset.decide(facts, as_of, trace=False)
        except DecisionConflict as conflict:
            side.conflict = str(conflict)
            return side
        except FactsError as error:  # the witness does not fit the schema: a prover bug
            side.refused = str(error)
            return side
        values = ruleset.reference_outcome(ruleset.schema.validate(facts), as_of).values
        side.outputs = {name: normalize(value) for name, value in decision.decision.items()}
        side.reasons = [reason["code"] for reason in decision.reasons]
        side.offers = normalize(list(values.get(OFFERS_OUTPUT, ())))
        side.values = values
        return side

    def _env(self, side: Side, old: Side | None, as_of: datetime.date) -> Env:
        values = dict(side.values)
        values[REASONS_NAME] = tuple(side.reasons)
        values[OFFERS_OUTPUT] = tuple(values.get(OFFERS_OUTPUT, ()))
        if old is not None and old.outputs is not None and old.conflict is None:
            baseline = old.values
            record = {name: baseline.get(name) for name in old.outputs}
            record[REASONS_NAME] = tuple(old.reasons)
            record[OFFERS_OUTPUT] = tuple(baseline.get(OFFERS_OUTPUT, ()))
            values[BASELINE_NAME] = record
        return Env(values, as_of)

    def breaks(self, declaration: ast.PropertyDecl, witness: Witness) -> bool:
        """Whether the engine's decision for ``witness`` breaks the property: the check every
        violation passes before it is reported."""
        side, old = witness.decision, witness.baseline
        if side.conflict is not None or (old is not None and old.conflict is not None):
            return concerned_by_conflict(self.ruleset, declaration, side.facts, witness.as_of)
        if side.reasons is None:
            return False
        env = self._env(side, old, witness.as_of)
        when = (True if declaration.condition is None
                else self.interpreter.value(declaration.condition, env))
        return when is True and self.interpreter.value(declaration.claim, env) is not True

    def _partly_used_rules(self, witness: Witness) -> list[str]:
        """The rules whose proposals the engine's decision keeps some of and not others."""
        if witness.decision.reasons is None:
            return []
        decision = self.ruleset.decide(witness.decision.facts, witness.as_of, trace=True)
        found = []
        for event in decision.trace or ():
            if getattr(event, "status", None) in ("fired", "overridden"):
                uses = [p.used for p in event.proposals]
                if any(uses) and not all(uses):
                    found.append(event.name)
        return found

    def _shown(self, name: str, witness: Witness) -> list[tuple[str, Any]]:
        """The values the property's parts take for the witness (facts, outputs, lets, …)."""
        declaration = self.symbols.properties[name]
        if witness.decision.reasons is None:
            return []
        env = self._env(witness.decision, witness.baseline, witness.as_of)
        shown: dict[str, Any] = {}
        for part in (declaration.condition, declaration.claim):
            for node in _read_parts(part):
                shown.setdefault(unparse(node), normalize(self.interpreter.value(node, env)))
        return list(shown.items())


def concerned_by_conflict(ruleset: Ruleset, declaration: ast.PropertyDecl,
                          facts: dict[str, Any], as_of: datetime.date) -> bool:
    """Whether a customer whose decision is a conflict breaks the property: unless its `when`
    is false on the facts alone (every other value missing)."""
    if declaration.condition is None:
        return True
    env = Env(dict(ruleset.schema.validate(facts)), as_of)
    return Interpreter().value(declaration.condition, env) is not False


def _nonlinear(symbols) -> list[tuple[str, Span]]:
    """Products, quotients and steps of rounding whose operands are both not constants: what
    makes arithmetic undecidable for a solver (with whole numbers) or hard (without)."""
    roots: list[ast.Node] = [*(let.value for let in symbols.lets.values()),
             *(node for table in symbols.tables.values() for node in (*table.inputs, *table.rows)),
             *symbols.rules.values(), *(cap.limit for cap in symbols.caps),
             *(part for prop in symbols.properties.values()
               for part in (prop.condition, prop.claim) if part is not None)]
    found = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        hard = False
        if isinstance(node, ast.Binary) and node.op == "*":
            hard = not _constant(node.left) and not _constant(node.right)
        elif isinstance(node, ast.Binary) and node.op == "/":
            hard = not _constant(node.right)
        elif isinstance(node, ast.Call) and node.function.name in ("round_down", "round_up"):
            hard = len(node.arguments) == 2 and not _constant(node.arguments[1])
        if hard:  # the outermost such expression says enough
            found.append((unparse(node), node.span))
        else:
            stack.extend(reversed(ast.children(node)))
    return list(dict.fromkeys(found))


def _constant(expr: ast.Expr) -> bool:
    return not any(isinstance(n, (ast.Name, ast.FieldAccess, ast.Today, ast.Aggregate,
                                  ast.Quantifier)) for n in ast.walk(expr))


def _read_parts(expr: ast.Expr | None):
    """The names, fields, calls and aggregates a property reads (not inside aggregates)."""
    if expr is None:
        return
    stack = [expr]
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ast.Name, ast.FieldAccess, ast.Call, ast.Aggregate,
                             ast.Quantifier, ast.Today)):
            yield node
            if isinstance(node, ast.Call):
                stack.extend(node.arguments)
            continue
        stack.extend(child for child in ast.children(node) if isinstance(
            child, tuple(_EXPRESSIONS)))


_EXPRESSIONS = (ast.Literal, ast.Name, ast.Today, ast.FieldAccess, ast.Unary, ast.Binary,
                ast.Between, ast.In, ast.IsMissing, ast.If, ast.Call, ast.ListLiteral,
                ast.RecordLiteral, ast.Aggregate, ast.Quantifier)


def _shown_value(side: Side, name: str) -> Any:
    if side.conflict is not None:
        return ("conflict", side.conflict)
    if name == REASONS_NAME:
        return side.reasons
    if name == OFFERS_OUTPUT:
        return side.offers
    return (side.outputs or {}).get(name)

