"""`tenet verify`: properties of rulesets proved with the z3 SMT solver (LANGUAGE.md §12).

``verify`` runs the prover on one ruleset (and a baseline); ``findings`` turns its results into
diagnostics, with `# tenet: ignore[V004]` honoured as for the lints.
"""

from __future__ import annotations

from engine.check.checker import BASELINE_NAME
from engine.check.symbols import OFFERS_OUTPUT, Symbols
from engine.diagnostics import Diagnostic, Severity
from engine.lint.suppressions import unsuppressed
from engine.ruleset import Ruleset
from engine.syntax import ast
from engine.verify.prover import Options, Prover, Result


def verify(ruleset: Ruleset, baseline: Ruleset | None = None,
           options: Options | None = None) -> list[Result]:
    """Every claim's result; a partly used rule whose finding is suppressed is left out."""
    results = Prover(ruleset, baseline, options).run()
    kept = []
    for result in results:
        diagnostic = result.diagnostic()
        if diagnostic is None or unsuppressed([diagnostic], ruleset.check.sources):
            kept.append(result)
    return kept


def baseline_problems(ruleset: Ruleset, baseline: Ruleset) -> list[Diagnostic]:
    """Why ``baseline`` cannot be compared with ``ruleset`` (V007): a `baseline.NAME` it does
    not have or has with another type, or a fact the two type differently (a witness is one
    customer for both)."""
    mine, theirs = ruleset.check.program, baseline.check.program
    problems = []

    def problem(message: str, span) -> None:
        problems.append(Diagnostic("V007", Severity.ERROR, message, span,
                                   help=f"the baseline is {baseline.check.sources.modules[0].path}"))

    for declaration in mine.symbols.properties.values():
        for node in (n for part in (declaration.condition, declaration.claim) if part is not None
                     for n in ast.walk(part)):
            if not (isinstance(node, ast.FieldAccess) and isinstance(node.target, ast.Name)
                    and node.target.name == BASELINE_NAME):
                continue
            name = node.field.name
            if name in ("reasons", OFFERS_OUTPUT) and name not in theirs.output_types:
                continue
            if name not in theirs.output_types:
                problem(f"the baseline `{baseline.name}` has no output `{name}`", node.field.span)
            elif name in mine.output_types and mine.output_types[name] != theirs.output_types[name]:
                problem(f"`baseline.{name}` is {mine.output_types[name].describe()} here but "
                        f"{theirs.output_types[name].describe()} in the baseline", node.field.span)
    for block in mine.symbols.facts:
        for name, here, there in _shared_fields(mine.symbols, theirs.symbols, block):
            problem(f"the fact `{block}.{name}` is {here.describe()} here but {there.describe()} "
                    "in the baseline", mine.symbols.facts[block].name.span)
    return problems


def _shared_fields(mine: Symbols, theirs: Symbols, record: str):
    """(field, type here, type in the baseline) for each field of ``record`` typed differently
    (a nested record is compared by its type's name)."""
    ours, others = mine.record_fields(record), theirs.record_fields(record)
    for name, declaration in ours.items():
        if name not in others:
            continue
        here = mine.resolve_type(declaration.type)
        there = theirs.resolve_type(others[name].type)
        if here != there:
            yield name, here, there


def findings(results: list[Result]) -> list[Diagnostic]:
    return [d for d in (r.diagnostic() for r in results) if d is not None]


__all__ = ["Options", "Result", "baseline_problems", "findings", "verify"]
