"""The Python API: `engine.load(path) -> Ruleset`, `Ruleset.decide(facts) -> Decision`.

Loading parses, checks and compiles once; deciding validates the facts and runs the compiled
program. A ruleset with errors raises one ``RulesetError`` carrying every diagnostic.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from pydantic import BaseModel, ConfigDict, PrivateAttr

from engine.diagnostics import did_you_mean
from engine.exceptions import DecisionConflict, FactsError, OutsideWindow, RulesetError, UnknownRule
from engine.pipeline import CheckResult, check_bundle, check_path, check_text
from engine.run.codegen.facts import generate_validator
from engine.run.codegen.procedure import generate
from engine.run.codegen.support import TraceBuilder
from engine.run.facts import FactsSchema, iso_date
from engine.run.reference.interpreter import Env, Interpreter
from engine.run.reference.procedure import Decider, Outcome
from engine.run.runtime import Notes, normalize
from engine.run.trace import TraceEvent
from engine.run.why_not import explain
from engine.syntax import ast

if TYPE_CHECKING:
    from engine.run.why_not import WhyNot

__all__ = ["Audited", "Decision", "DecisionConflict", "FactsError", "OutsideWindow", "Ruleset",
           "RulesetBundle", "RulesetError", "load", "load_bundle", "load_text"]


class RulesetInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str | None
    digest: str

    _data: dict[str, Any] | None = PrivateAttr(default=None)

    def as_data(self) -> dict[str, Any]:
        """``model_dump()``, made once: every decision of the ruleset writes it."""
        private = self.__pydantic_private__
        if private["_data"] is None:
            private["_data"] = self.model_dump()
        return dict(private["_data"])


@dataclass(frozen=True)
class RulesetBundle:
    """A ruleset as the texts of its files, to decide somewhere else (a Spark executor): plain
    data, never code. ``files`` pairs each file's path inside the ruleset's folder with its
    text; ``main`` names the ruleset file; ``digest`` is the ruleset's, which the loaded copy
    must have."""

    main: str
    files: tuple[tuple[str, str], ...]
    digest: str


class Decision:
    """One decision: every output's final value, the reasons in order, and the trace.

    ``trace`` is None for a decision made without one. A decision made with one records plain
    values while deciding and builds the trace events the first time ``trace`` is read. Its
    attributes are read-only. A plain slotted object rather than a pydantic model: a decision
    is made millions of times in a book, and this is a third of the cost to make
    (``to_data`` is its plain-data form)."""

    __slots__ = ("_ruleset", "_as_of", "_decision", "_reasons", "_trace", "_why_not")

    def __init__(self, ruleset: RulesetInfo, as_of: datetime.date, decision: dict[str, Any],
                 reasons: list[dict[str, str]], trace: Any = None,
                 why_not: WhyNot | None = None) -> None:
        self._ruleset, self._as_of, self._decision = ruleset, as_of, decision
        self._reasons, self._trace, self._why_not = reasons, trace, why_not

    ruleset = property(attrgetter("_ruleset"), doc="The ruleset's name, version and digest.")
    as_of = property(attrgetter("_as_of"), doc="The date the decision was made as of.")
    decision = property(attrgetter("_decision"), doc="Each output's final value, by name.")
    reasons = property(attrgetter("_reasons"), doc="The reasons, in order: code and text.")

    @property
    def trace(self) -> list[TraceEvent] | None:
        trace = self._trace  # the events, or a function that builds them
        if callable(trace):
            trace = self._trace = trace()
        return trace

    @property
    def why_not(self) -> WhyNot | None:
        """What stopped the rule named by ``decide(..., why_not=RULE)``."""
        return self._why_not

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return (self._ruleset, self._as_of, self._decision, self._reasons) == (
            other._ruleset, other._as_of, other._decision, other._reasons)

    __hash__ = None  # its outputs are a dict

    def __repr__(self) -> str:
        return (f"Decision(ruleset={self._ruleset.name!r}, as_of={self._as_of.isoformat()!r}, "
                f"decision={self._decision!r}, reasons={[r['code'] for r in self._reasons]!r})")

    def to_data(self, trace: bool = True) -> dict[str, Any]:
        """Plain data: numbers stay Decimals, dates become ISO texts. ``trace=False`` leaves
        the trace out (and does not build it)."""
        data = {"ruleset": self._ruleset.as_data(), "as_of": self._as_of.isoformat(),
                "decision": normalize(self._decision), "reasons": self._reasons}
        events = self.trace if trace else None
        if events is not None:
            data["trace"] = [event.to_data() for event in events]
        if self._why_not is not None:
            data["why_not"] = self._why_not.to_data()
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """JSON with exact numbers (no binary-float rounding); ``indent=None`` writes one
        compact line."""
        encoded = _ENCODER.encode(self.to_data())
        if indent is not None:
            encoded = msgspec.json.format(encoded, indent=indent)
        return encoded.decode("utf-8")


# Decimals are written as JSON numbers with every digit (msgspec, 5-7x faster than simplejson).
_ENCODER = msgspec.json.Encoder(decimal_format="number")


@dataclass(frozen=True, slots=True)
class Audited:
    """A decision with what its audit record keeps besides it (``Ruleset.decide_audited``)."""

    decision: Decision
    facts: dict[str, dict[str, Any]]  # as validated
    rules_fired: list[str]
    rules_used: list[str]  # fired, and not overridden


def rules_of(trace: Iterable[TraceEvent] | None) -> tuple[list[str], list[str]]:
    """The rules a trace shows as fired (or overridden), and those of them not overridden."""
    fired, used = [], []
    for event in trace or ():
        status = getattr(event, "status", None)
        if status in ("fired", "overridden"):
            fired.append(event.name)
            if status == "fired":
                used.append(event.name)
    return fired, used


@dataclass
class Ruleset:
    """A checked, compiled ruleset, ready to decide."""

    check: CheckResult

    def __post_init__(self) -> None:
        program = self.check.program
        symbols = program.symbols
        self.name = symbols.header.name.name
        self.version = symbols.version.version if symbols.version else None
        self.window = symbols.effective
        digest = hashlib.sha256()
        for module in self.check.sources.modules:
            digest.update(self.check.sources.sources[module.path].encode("utf-8"))
        self.info = RulesetInfo(name=self.name, version=self.version,
                                digest="sha256:" + digest.hexdigest())
        self.schema = FactsSchema(symbols)
        # The type of every expression served the checker and the static analysis; deciding
        # does not need it, and on a large ruleset it holds megabytes.
        program.types.clear()
        self.reasons = {code: entry.text for code, entry in symbols.reasons.items()}
        self._reason_entries = {code: {"code": code, "text": text}
                                for code, text in self.reasons.items()}
        # The generated decision functions and what they record (``GeneratedRuleset``): what
        # portfolio runs call, chunk by chunk.
        self.compiled = generate(program)
        self._validator_source, self._validate_fast, self.column_checks = generate_validator(
            symbols, self.compiled.fields)
        self._trace_builder = TraceBuilder(self.compiled.metadata)
        self._reference_decider: Decider | None = None

    def __repr__(self) -> str:  # the dataclass's would print the whole syntax tree
        return (f"Ruleset(name={self.name!r}, version={self.version!r}, "
                f"digest={self.info.digest[:19] + '…'!r})")

    def bundle(self) -> RulesetBundle:
        """The ruleset as texts, for ``load_bundle`` elsewhere."""
        sources = self.check.sources
        files = []
        for shown, path in sources.files.items():
            if not path.is_relative_to(sources.folder):
                raise ValueError(f"`{shown}` is outside the ruleset's folder "
                                 f"`{sources.folder}`; load the ruleset with a root holding it")
            files.append((path.relative_to(sources.folder).as_posix(), sources.sources[shown]))
        return RulesetBundle(files[0][0], tuple(files), self.info.digest)

    def source(self) -> str:
        """The Python code generated for this ruleset, for debugging: the plain decision
        function, the one that records traces, and the constants (`k…`) they use."""
        return self.compiled.source() + "\n# facts validation\n" + self._validator_source

    @property
    def examples(self):
        return self.check.program.symbols.examples

    def decide(self, facts: dict[str, Any], as_of: datetime.date | str | None = None,
               trace: bool = True, reference: bool = False,
               why_not: str | None = None) -> Decision:
        """Decide for one customer. ``facts`` maps each facts block to its object (straight
        from `json.load` is fine); ``as_of`` is a date or an ISO date text, today when None.
        Raises FactsError (every problem with its path), OutsideWindow or DecisionConflict.
        ``reference`` uses the tree-walking reference evaluator instead of the generated code.
        ``why_not`` names a rule: the decision's ``why_not`` then says what stopped it (or that
        it decided); an unknown name raises UnknownRule."""
        if type(as_of) is not datetime.date or self.window is not None:
            as_of = self._as_of(as_of)
        if why_not is None and not reference:
            return self._decide(facts, as_of, trace)
        if why_not is not None:
            return self._decide_why_not(facts, as_of, trace, why_not)
        return self._decide_reference(facts, as_of, trace)

    def decide_batch(self, facts: Iterable[Any], as_of: datetime.date | str | None = None,
                     trace: bool = False) -> list[Decision | FactsError | DecisionConflict]:
        """Decide for many customers: in order, a Decision for each item, or the FactsError or
        DecisionConflict that stopped it. Raises OutsideWindow when ``as_of`` is outside the
        ruleset's window (it is the same for every item)."""
        as_of = self._as_of(as_of)
        decide = self._decide
        results: list[Decision | FactsError | DecisionConflict] = []
        for item in facts:
            try:
                results.append(decide(item, as_of, trace))
            except (FactsError, DecisionConflict) as error:
                results.append(error)
        return results

    # -- for portfolio runs (engine.portfolio, engine.spark): deciding row by row, the budgets

    def fields(self, facts: Any) -> tuple[Any, ...]:
        """The values of the facts fields the compiled functions take (``compiled.fields``),
        validated: by the generated fast path, else by the pydantic models, which raise
        FactsError with every problem."""
        fields = self._validate_fast(facts)
        if fields is None:  # invalid (FactsError says why), or a shape the fast path leaves
            values = self.schema.validate(facts)
            fields = tuple(values[block][name] for block, name in self.compiled.fields)
        return fields

    def facts_of(self, fields: tuple[Any, ...]) -> dict[str, dict[str, Any]]:
        """Validated facts again, from the values ``fields`` gave."""
        facts: dict[str, dict[str, Any]] = {}
        for (block, name), value in zip(self.compiled.fields, fields, strict=True):
            facts.setdefault(block, {})[name] = value
        return facts

    def reference_outcome(self, facts: dict[str, Any], as_of: datetime.date,
                          trace: bool = False) -> Outcome:
        """The reference evaluator's decision on validated ``facts``: every value it computed
        (``values``) besides the outputs and reasons."""
        return self._reference().decide(facts, as_of, trace)

    @property
    def budgets(self) -> list[ast.BudgetDecl]:
        return list(self.check.program.symbols.budgets.values())

    def budget_values(self, values: dict[str, Any], as_of: datetime.date) -> tuple:
        """Per budget (among, total, rank, the values its `else` sets) on a decision's values
        (facts, lets, tables and outputs), by the reference interpreter."""
        interpreter = Interpreter()
        env = Env(dict(values), as_of, Notes())
        result = []
        for budget in self.budgets:
            among = True if budget.among is None else interpreter.value(budget.among, env)
            rank = None if budget.rank_by is None else interpreter.value(budget.rank_by, env)
            sets = tuple(interpreter.value(action.value, env) for action in budget.otherwise
                         if isinstance(action, ast.SetAction))
            result.append((among, interpreter.value(budget.total, env), rank, sets))
        return tuple(result)

    def budget_limit(self, budget: ast.BudgetDecl, as_of: datetime.date) -> Any:
        """The limit of ``budget``: the same for the whole book."""
        return Interpreter().value(budget.limit, Env({}, as_of, Notes()))

    def as_of_date(self, as_of: datetime.date | str | None) -> datetime.date:
        """The decision date ``as_of`` names (today when None), inside the ruleset's window
        (OutsideWindow otherwise)."""
        return self._as_of(as_of)

    def _as_of(self, as_of: datetime.date | str | None) -> datetime.date:
        if type(as_of) is datetime.date:  # the common case first: a decision is microseconds
            if self.window is not None:
                self._check_window(as_of)
            return as_of
        if as_of is None:
            as_of = datetime.date.today()
        elif isinstance(as_of, datetime.datetime):
            as_of = as_of.date()
        elif isinstance(as_of, str):
            text, as_of = as_of, iso_date(as_of)
            if as_of is None:
                raise ValueError(f"as_of: expected a date (YYYY-MM-DD), got {text!r}")
        elif not isinstance(as_of, datetime.date):
            raise TypeError(f"as_of: expected a date, got {type(as_of).__name__}")
        self._check_window(as_of)
        return as_of

    def decide_audited(self, facts: dict[str, Any], as_of: datetime.date | str | None = None,
                       why_not: str | None = None) -> Audited:
        """Decide as ``decide`` does (the trace is built if it is read) and say what an audit
        record keeps: the facts as validated, the rules that fired and those whose proposals
        were used, found without building the trace."""
        as_of = self._as_of(as_of)
        if why_not is not None:
            decision = self._decide_why_not(facts, as_of, True, why_not)
            return Audited(decision, self.schema.validate(facts), *rules_of(decision.trace))
        fields = self.fields(facts)
        try:
            outputs, codes, events, notes, used = self.compiled.decide_traced(fields, as_of)
        except decimal.DecimalException:
            decision = self._decide_reference(facts, as_of, True)
            fired, kept = rules_of(decision.trace)
        else:
            decision = self._traced_decision(fields, as_of, outputs, codes, events, notes, used)
            fired, kept = self._trace_builder.rules(events, used)
        return Audited(decision, self.facts_of(fields), fired, kept)

    def _decide(self, facts: Any, as_of: datetime.date, trace: bool) -> Decision:
        generated = self.compiled
        try:
            if trace:
                fields = self.fields(facts)
                return self._traced_decision(fields, as_of,
                                             *generated.decide_traced(fields, as_of))
            # The plain function checks facts itself (the hot path); None leaves them to
            # ``fields``, which raises FactsError for invalid ones.
            decided = generated.decide(facts, as_of) if type(facts) is dict else None
            outputs, codes = decided or generated.decide(self.fields(facts), as_of)
        except decimal.DecimalException:
            # A result beyond the decimal range: the reference evaluator makes it missing
            # and says so in the trace; such decisions are rare enough to take the slow path.
            return self._decide_reference(facts, as_of, trace)
        reasons = self._reason_entries
        return Decision(self.info, as_of, outputs, [dict(reasons[code]) for code in codes])

    def _traced_decision(self, fields: tuple[Any, ...], as_of: datetime.date,
                         outputs: dict[str, Any], codes: list[str], events: list[tuple],
                         notes: list[str], used: list[bool]) -> Decision:
        """A decision whose trace is built from the generated code's recordings when read."""
        recorded = partial(self._trace_builder.build, fields, as_of, outputs, events, notes, used)
        reasons = self._reason_entries
        return Decision(self.info, as_of, outputs, [dict(reasons[code]) for code in codes],
                        recorded)

    def _reference(self) -> Decider:
        """The reference evaluator, built when first needed: it holds megabytes."""
        if self._reference_decider is None:
            self._reference_decider = Decider(self.check.program, Interpreter())
        return self._reference_decider

    def _decide_reference(self, facts: Any, as_of: datetime.date, trace: bool) -> Decision:
        outcome = self._reference().decide(self.schema.validate(facts), as_of, trace)
        reasons = self._reason_entries
        return Decision(self.info, as_of, outcome.outputs,
                        [dict(reasons[code]) for code in outcome.reasons], outcome.trace)

    def _decide_why_not(self, facts: Any, as_of: datetime.date, trace: bool,
                        rule: str) -> Decision:
        """The reference evaluator's decision (it keeps every value it computed, which the
        answer reads; the evaluators agree), with its why-not."""
        rules = self.check.program.symbols.rules
        if rule not in rules:
            hint = did_you_mean(rule, rules)
            raise UnknownRule(f"ruleset `{self.name}` has no rule `{rule}`"
                              + (f"; {hint}" if hint else ""))
        decider = self._reference()
        outcome = decider.decide(self.schema.validate(facts), as_of, trace=True)
        reasons = self._reason_entries
        return Decision(self.info, as_of, outcome.outputs,
                        [dict(reasons[code]) for code in outcome.reasons],
                        outcome.trace if trace else None, explain(decider, outcome, as_of, rule))

    def _check_window(self, as_of: datetime.date) -> None:
        window = self.window
        if window is None:
            return
        if as_of < window.start or (window.until is not None and as_of >= window.until):
            until = f" until {window.until} (exclusive)" if window.until else ""
            raise OutsideWindow(f"ruleset `{self.name}` is effective from {window.start}{until}; "
                                f"the as-of date {as_of} is outside that window")


def load(path: str | Path, root: str | Path | None = None) -> Ruleset:
    """Parse, check and compile the ruleset at ``path``; RulesetError lists every error.
    The ruleset and its includes are read only inside ``root`` (by default its folder)."""
    return _compiled(check_path(Path(path), Path(root) if root is not None else None))


def load_text(text: str, path: str = "<text>", root: str | Path | None = None) -> Ruleset:
    """Like ``load``, for ruleset text held in memory (includes are read inside ``root``, by
    default the working directory)."""
    return _compiled(check_text(text, path, Path(root) if root is not None else None))


def load_bundle(bundle: RulesetBundle) -> Ruleset:
    """The ruleset ``Ruleset.bundle`` shipped, compiled here; ValueError unless it is the very
    ruleset (same digest)."""
    ruleset = _compiled(check_bundle(dict(bundle.files), bundle.main))
    if ruleset.info.digest != bundle.digest:
        raise ValueError(f"the ruleset shipped as {bundle.digest} loaded as {ruleset.info.digest}")
    return ruleset


def _compiled(result: CheckResult) -> Ruleset:
    if result.has_errors or result.program is None:
        raise RulesetError(result)
    return Ruleset(result)
