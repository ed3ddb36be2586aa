"""Every name of a checked ruleset, where it is declared and where it is used.

An editor asks "what is under the cursor?" (hover), "where is it declared?", "where is it used?"
and "rename it everywhere": all four read this index. A symbol is a kind and a name: facts blocks,
types, lets, tables, outputs, rules, offers and budgets share the ruleset's namespace, reason
codes and properties have their own, and a field is named by its record (facts block or type)
and its own name, so that `customer.balance` and a `given customer { balance: … }` are the same
symbol. The index is built from the checker's syntax tree and the types it inferred, so a field
reached through a let or an aggregate's element resolves to its record too.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.check import types as t
from engine.check.symbols import Symbols
from engine.diagnostics import Span
from engine.pipeline import CheckResult
from engine.syntax import ast

# The kinds of the shared namespace, by declaration.
_DECLARED = {ast.FactsDecl: "facts", ast.TypeDecl: "type", ast.LetDecl: "let",
             ast.TableDecl: "table", ast.OutputDecl: "output", ast.RuleDecl: "rule",
             ast.OfferDecl: "offer", ast.BudgetDecl: "budget", ast.PropertyDecl: "property"}


@dataclass(frozen=True, slots=True)
class Symbol:
    kind: str  # facts, field, type, let, table, output, rule, offer, budget, reason, property, include
    name: str  # a field's is "RECORD.FIELD"; an include's is the file's path


@dataclass(frozen=True, slots=True)
class Occurrence:
    symbol: Symbol
    span: Span
    is_definition: bool


@dataclass
class Index:
    occurrences: list[Occurrence] = field(default_factory=list)
    definitions: dict[Symbol, Occurrence] = field(default_factory=dict)
    name_types: dict[str, t.Type] = field(default_factory=dict)  # a bare name's type, as used
    _sorted: dict[str, list[tuple[int, int, Occurrence]]] = field(default_factory=dict)

    def add(self, symbol: Symbol, span: Span, is_definition: bool = False) -> None:
        occurrence = Occurrence(symbol, span, is_definition)
        self.occurrences.append(occurrence)
        if is_definition:
            self.definitions.setdefault(symbol, occurrence)

    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        """The occurrence whose span holds the 1-based ``line`` and ``column`` (or ends just
        before it, as when the cursor follows a name)."""
        if not self._sorted:
            for occurrence in self.occurrences:
                span = occurrence.span
                self._sorted.setdefault(span.file, []).append((span.line, span.column, occurrence))
            for entries in self._sorted.values():
                entries.sort(key=lambda entry: (entry[0], entry[1]))
        entries = self._sorted.get(file, [])
        position = bisect.bisect_right(entries, (line, column), key=lambda e: (e[0], e[1]))
        for _, _, occurrence in reversed(entries[max(0, position - 3):position]):
            span = occurrence.span
            if span.line == line == span.end_line and span.column <= column <= span.end_column:
                return occurrence
        return None

    def references(self, symbol: Symbol) -> list[Occurrence]:
        return [o for o in self.occurrences if o.symbol == symbol]


def build_index(result: CheckResult) -> Index:
    """The index of a ruleset that parsed (checked or not: names resolve as far as the checker
    got)."""
    index = Index()
    program = result.program
    if program is None:
        return index
    _Indexer(index, program.symbols, program.types, result).run()
    return index


class _Indexer:
    def __init__(self, index: Index, symbols: Symbols, types: dict[int, t.Type],
                 result: CheckResult) -> None:
        self.index, self.symbols, self.types, self.result = index, symbols, types, result
        self.namespace: dict[str, str] = {}
        for kind, table in (("facts", symbols.facts), ("type", symbols.types),
                            ("let", symbols.lets), ("table", symbols.tables),
                            ("output", symbols.outputs), ("rule", symbols.rules),
                            ("offer", symbols.offers), ("budget", symbols.budgets)):
            for name in table:
                self.namespace.setdefault(name, kind)

    def run(self) -> None:
        for module in self.result.sources.modules:
            folder = Path(module.path).parent
            for declaration in module.declarations:
                self.declaration(declaration, folder)

    def add(self, kind: str, name: str, span: Span, is_definition: bool = False) -> None:
        self.index.add(Symbol(kind, name), span, is_definition)

    def declaration(self, node: ast.Node, folder: Path) -> None:
        kind = _DECLARED.get(type(node))
        if kind is not None:
            self.add(kind, node.name.name, node.name.span, is_definition=True)
        match node:
            case ast.FactsDecl() | ast.TypeDecl():
                for declared in node.fields:
                    self.add("field", f"{node.name.name}.{declared.name.name}",
                             declared.name.span, is_definition=True)
                    self.type_expr(declared.type)
                return
            case ast.ReasonsDecl():
                for entry in node.entries:
                    self.add("reason", entry.code.name, entry.code.span, is_definition=True)
                return
            case ast.OutputsDecl():
                for output in node.outputs:
                    self.declaration(output, folder)
                return
            case ast.IncludeDecl():
                self.add("include", str(folder / node.path), node.span)
                return
            case ast.OfferDecl(else_reason=reason) if reason is not None:
                self.add("reason", reason.name, reason.span)
            case ast.CapDecl():
                self.add("output", node.output.name, node.output.span)
                if node.reason is not None:
                    self.add("reason", node.reason.name, node.reason.span)
            case ast.ExampleDecl():
                for given in node.givens:
                    self.add("facts", given.facts.name, given.facts.span)
                    self.record_literal(given.facts.name, given.value)
                for expectation in node.expectations:
                    self.expectation(expectation)
                return
        for child in ast.children(node):
            if not isinstance(child, ast.Ident):
                self.expression(child, frozenset())

    def expectation(self, node: ast.Expectation) -> None:
        match node:
            case ast.ExpectOutput():
                self.add("output", node.output.name, node.output.span)
                self.expression(node.value, frozenset())
            case ast.ExpectReasons():
                for code in node.codes:
                    self.add("reason", code.name, code.span)
            case ast.ExpectReasonIncluded():
                self.add("reason", node.code.name, node.code.span)

    def record_literal(self, record: str, value: ast.Node) -> None:
        """A given's `{ field: value }`: each field is the record's."""
        if not isinstance(value, ast.RecordLiteral):
            self.expression(value, frozenset())
            return
        fields = self.symbols.record_fields(record)
        for entry in value.entries:
            self.add("field", f"{record}.{entry.field.name}", entry.field.span)
            declared = fields.get(entry.field.name)
            inner = self.symbols.resolve_type(declared.type) if declared is not None else None
            if isinstance(inner, t.Record):
                self.record_literal(inner.name, entry.value)
            elif isinstance(inner, t.ListOf) and isinstance(inner.element, t.Record) and \
                    isinstance(entry.value, ast.ListLiteral):
                for item in entry.value.items:
                    self.record_literal(inner.element.name, item)
            else:
                self.expression(entry.value, frozenset())

    def type_expr(self, node: ast.TypeExpr) -> None:
        if isinstance(node, ast.NamedType):
            self.add("type", node.name.name, node.name.span)
        elif isinstance(node, ast.ListType):
            self.type_expr(node.element)

    def expression(self, node: ast.Node, bound: frozenset[str]) -> None:
        """Names used in ``node``; ``bound`` holds the element variables in scope."""
        match node:
            case ast.Name(name=name):
                kind = self.namespace.get(name)
                if name not in bound and kind is not None:
                    self.add(kind, name, node.span)
                found = self.types.get(id(node))
                if found is not None:
                    self.index.name_types.setdefault(name, found)
                return
            case ast.FieldAccess():
                self.expression(node.target, bound)
                record = self.types.get(id(node.target))
                if isinstance(record, t.Record):
                    self.add("field", f"{record.name}.{node.field.name}", node.field.span)
                return
            case ast.Aggregate() | ast.Quantifier():
                self.expression(node.source, bound)
                source = self.types.get(id(node.source))
                if isinstance(source, t.ListOf):
                    self.index.name_types.setdefault(node.variable.name, source.element)
                inner = bound | {node.variable.name}
                for part in (getattr(node, "value", None), node.condition):
                    if part is not None:
                        self.expression(part, inner)
                return
            case ast.SetAction() | ast.AddAction():
                self.add("output", node.output.name, node.output.span)
            case ast.OfferAction():
                self.add("offer", node.offer.name, node.offer.span)
            case ast.ReasonAction():
                self.add("reason", node.code.name, node.code.span)
            case ast.NamedType() | ast.ListType():
                self.type_expr(node)
                return
        for child in ast.children(node):
            if not isinstance(child, ast.Ident):
                self.expression(child, bound)


def declarations(module: ast.Module) -> Iterator[tuple[str, ast.Node]]:
    """The declarations of one file an outline shows, with their kind, in source order."""
    for declaration in module.declarations:
        if isinstance(declaration, ast.OutputsDecl):
            for output in declaration.outputs:
                yield "output", output
        elif isinstance(declaration, ast.ExampleDecl):
            yield "example", declaration
        elif type(declaration) in _DECLARED:
            yield _DECLARED[type(declaration)], declaration
