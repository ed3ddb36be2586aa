"""The Python API: `engine.load(path) -> Ruleset`, `Ruleset.decide(facts) -> Decision`.

Loading parses, checks and compiles once; deciding validates the facts and runs the compiled
program. A ruleset with errors raises one ``RulesetError`` carrying every diagnostic.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson
from pydantic import BaseModel, ConfigDict

from engine.codegen import generate
from engine.codegen_runtime import TraceBuilder
from engine.decide import Decider, DecisionConflict
from engine.diagnostics import Diagnostic
from engine.facts import FactsError, FactsSchema
from engine.interpreter import Interpreter
from engine.pipeline import CheckResult, check_path, check_text
from engine.runtime import normalize
from engine.trace import TraceEvent

__all__ = ["Decision", "DecisionConflict", "FactsError", "OutsideWindow", "Ruleset",
           "RulesetError", "load", "load_text"]


class RulesetError(Exception):
    """The ruleset has errors; ``diagnostics`` holds all of them."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.diagnostics: list[Diagnostic] = [d for d in result.diagnostics
                                              if d.severity.value == "error"]
        lines = [f"{d.span.file}:{d.span.line}:{d.span.column}: {d.code} {d.message}"
                 for d in self.diagnostics]
        super().__init__(f"the ruleset has {len(lines)} error(s):\n" + "\n".join(lines))


class OutsideWindow(Exception):
    """The as-of date is outside the ruleset's `effective … until …` window."""


class RulesetInfo(BaseModel):
    name: str
    version: str | None
    digest: str


class Decision(BaseModel):
    """One decision: every output's final value, the reasons in order, and the trace."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    ruleset: RulesetInfo
    as_of: datetime.date
    decision: dict[str, Any]
    reasons: list[dict[str, str]]
    trace: list[TraceEvent] | None = None

    def to_data(self) -> dict[str, Any]:
        """Plain data: numbers stay Decimals, dates become ISO texts."""
        data = {"ruleset": self.ruleset.model_dump(), "as_of": self.as_of.isoformat(),
                "decision": normalize(self.decision), "reasons": self.reasons}
        if self.trace is not None:
            data["trace"] = [event.to_data() for event in self.trace]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """JSON with exact numbers (no binary-float rounding)."""
        return simplejson.dumps(self.to_data(), use_decimal=True, ensure_ascii=False,
                                indent=indent, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


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
        self.reasons = {code: entry.text for code, entry in symbols.reasons.items()}
        self._generated = generate(program)
        self._trace_builder = TraceBuilder(self._generated.metadata)
        self._reference = Decider(program, Interpreter())

    def source(self) -> str:
        """The Python code generated for this ruleset (for debugging; constants appear as
        `k…` names, listed at the end)."""
        generated = self._generated
        constants = "\n".join(f"# k{i} = {value!r}" for i, value in enumerate(generated.constants))
        return generated.source + "\n# constants\n" + constants + "\n"

    @property
    def examples(self):
        return self.check.program.symbols.examples

    def decide(self, facts: dict[str, Any], as_of: datetime.date | None = None,
               trace: bool = True, reference: bool = False) -> Decision:
        """Decide for one customer. ``facts`` maps each facts block to its object; raises
        FactsError (every problem with its path), OutsideWindow or DecisionConflict.
        ``reference`` uses the tree-walking evaluator instead of the compiled one."""
        as_of = as_of or datetime.date.today()
        self._check_window(as_of)
        values = self.schema.validate(facts)
        if reference:
            outcome = self._reference.decide(values, as_of, trace)
            outputs, reasons, events = outcome.outputs, outcome.reasons, outcome.trace
        else:
            outputs, reasons, events = self._decide_generated(values, as_of, trace)
        # Built from values we made ourselves: no need to validate them again.
        return Decision.model_construct(
            ruleset=self.info, as_of=as_of, decision=outputs,
            reasons=[{"code": c, "text": self.reasons[c]} for c in reasons],
            trace=events)

    def _decide_generated(self, values: dict[str, Any], as_of: datetime.date, trace: bool):
        generated = self._generated
        fields = tuple(values[block][name] for block, name in generated.fields)
        if trace:
            outputs, reasons, events, tape, notes, used = generated.decide_traced(fields, as_of)
            events = self._trace_builder.build(events, tape, notes, used)
        else:
            (outputs, reasons), events = generated.decide(fields, as_of), None
        return dict(zip(generated.output_names, outputs, strict=True)), reasons, events

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


def _compiled(result: CheckResult) -> Ruleset:
    if result.has_errors or result.program is None:
        raise RulesetError(result)
    return Ruleset(result)
