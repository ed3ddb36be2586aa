"""The symbol table: every declaration of a ruleset and its includes, by name.

Facts, types, lets, tables, outputs, rules and offers share one namespace; reason codes have
their own. Building the table reports duplicates, reserved names and misplaced headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.check import types as t
from engine.diagnostics import Diagnostic, Severity, Span, did_you_mean
from engine.syntax import ast
from engine.syntax.grammar import keywords

OFFERS_OUTPUT = "offers"

_KIND_OF = {ast.FactsDecl: "facts block", ast.TypeDecl: "type", ast.LetDecl: "let",
            ast.TableDecl: "table", ast.OutputDecl: "output", ast.RuleDecl: "rule",
            ast.OfferDecl: "offer", ast.BudgetDecl: "budget"}


@dataclass
class Symbols:
    """Declarations by name, in source order within each kind."""

    header: ast.RulesetHeader | None = None
    version: ast.VersionDecl | None = None
    effective: ast.EffectiveDecl | None = None
    facts: dict[str, ast.FactsDecl] = field(default_factory=dict)
    types: dict[str, ast.TypeDecl] = field(default_factory=dict)
    lets: dict[str, ast.LetDecl] = field(default_factory=dict)
    tables: dict[str, ast.TableDecl] = field(default_factory=dict)
    outputs: dict[str, ast.OutputDecl] = field(default_factory=dict)
    rules: dict[str, ast.RuleDecl] = field(default_factory=dict)
    offers: dict[str, ast.OfferDecl] = field(default_factory=dict)
    budgets: dict[str, ast.BudgetDecl] = field(default_factory=dict)
    reasons: dict[str, ast.ReasonEntry] = field(default_factory=dict)
    caps: list[ast.CapDecl] = field(default_factory=list)
    examples: list[ast.ExampleDecl] = field(default_factory=list)
    properties: dict[str, ast.PropertyDecl] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The record type of each table with several results and no declared type, by the
    # table's name, its columns' types inferred from the cells (set by the checker).
    table_records: dict[str, dict[str, t.Type]] = field(default_factory=dict)

    def field_types(self, record: str) -> dict[str, t.Type]:
        """The type of each field of a record type, a table's inferred record included."""
        inferred = self.table_records.get(record)
        if inferred is not None:
            return inferred
        return {name: self.resolve_type(declaration.type)
                for name, declaration in self.record_fields(record).items()}

    def record_fields(self, record: str) -> dict[str, ast.FieldDecl]:
        declaration = self.facts.get(record) or self.types.get(record)
        return {} if declaration is None else {f.name.name: f for f in declaration.fields}

    def all_names(self) -> list[str]:
        return [*self.facts, *self.lets, *self.tables, *self.outputs]

    def resolve_type(self, type_expr: ast.TypeExpr) -> t.Type:
        """The type a type expression denotes; reports unknown type names."""
        if isinstance(type_expr, ast.PrimitiveType):
            return t.PRIMITIVES[type_expr.name]
        if isinstance(type_expr, ast.EnumType):
            return t.Enum(type_expr.values)
        if isinstance(type_expr, ast.ListType):
            return t.ListOf(self.resolve_type(type_expr.element), type_expr.is_set)
        name = type_expr.name.name
        if name in self.types:
            return t.Record(name)
        self.diagnostics.append(Diagnostic(
            "E303", Severity.ERROR, f"unknown type `{name}`", type_expr.name.span,
            help=did_you_mean(name, [*self.types, *t.PRIMITIVES])
            or "declare it with `type NAME … end`, or use integer, number, money, boolean, "
               "text or date"))
        return t.UNKNOWN


def collect_symbols(modules: list[ast.Module]) -> Symbols:
    """Gather the declarations of the root module (first) and its includes."""
    symbols = Symbols()
    namespace: dict[str, tuple[str, Span]] = {}

    def declare(kind: str, name: ast.Ident) -> bool:
        if name.name in keywords():
            symbols.diagnostics.append(Diagnostic(
                "E210", Severity.ERROR,
                f"`{name.name}` is a keyword and cannot name {_article(kind)} {kind}",
                name.span, help="choose another name, e.g. "
                                f"`{name.name}_{'value' if kind != 'rule' else 'rule'}`"))
            return False
        if name.name == OFFERS_OUTPUT and kind == "output" and any(
                isinstance(d, ast.OfferDecl) for m in modules for d in m.declarations):
            symbols.diagnostics.append(Diagnostic(
                "E210", Severity.ERROR, "`offers` is the implicit output of a ruleset with offers",
                name.span, help="choose another name for this output"))
            return False
        previous = namespace.get(name.name)
        if previous is not None:
            previous_kind, previous_span = previous
            symbols.diagnostics.append(Diagnostic(
                "E206", Severity.ERROR,
                f"`{name.name}` is already declared as {_article(previous_kind)} {previous_kind}",
                name.span,
                help=f"the first declaration is at {previous_span.file}:{previous_span.line}; "
                     "rename one of them"))
            return False
        namespace[name.name] = (kind, name.span)
        return True

    for index, module in enumerate(modules):
        _check_header_placement(module, is_root=index == 0, symbols=symbols)
        for declaration in module.declarations:
            _collect(declaration, symbols, declare)
    if modules and symbols.header is None:
        first = next(iter(modules[0].declarations), None)
        symbols.diagnostics.append(Diagnostic(
            "E201", Severity.ERROR, "the ruleset has no `ruleset` header",
            first.span if first is not None else Span(modules[0].path, 1, 1, 1, 2),
            help='start the file with `ruleset NAME "label"` (after comments and includes)'))
    _check_fields(symbols)
    return symbols


def _collect(declaration: ast.Declaration, symbols: Symbols, declare) -> None:
    if isinstance(declaration, ast.RulesetHeader):
        symbols.header = symbols.header or declaration
    elif isinstance(declaration, ast.VersionDecl):
        symbols.version = symbols.version or declaration
    elif isinstance(declaration, ast.EffectiveDecl):
        symbols.effective = symbols.effective or declaration
        if declaration.until is not None and declaration.until <= declaration.start:
            symbols.diagnostics.append(Diagnostic(
                "E209", Severity.ERROR,
                f"the effective window is empty: `until {declaration.until}` is not after "
                f"`{declaration.start}`", declaration.span,
                help="the window runs from the effective date up to, but not including, `until`"))
    elif isinstance(declaration, ast.ReasonsDecl):
        for entry in declaration.entries:
            _declare_once(symbols, symbols.reasons, entry, entry.code, "E207", "reason code")
    elif isinstance(declaration, ast.OutputsDecl):
        for output in declaration.outputs:
            if declare("output", output.name):
                symbols.outputs[output.name.name] = output
    elif isinstance(declaration, ast.CapDecl):
        symbols.caps.append(declaration)
    elif isinstance(declaration, ast.ExampleDecl):
        symbols.examples.append(declaration)
    elif isinstance(declaration, ast.PropertyDecl):
        # Properties have their own namespace, as reason codes do: `P01` may also name a rule.
        _declare_once(symbols, symbols.properties, declaration, declaration.name, "E206",
                      "property")
    elif type(declaration) in _KIND_OF:
        kind = _KIND_OF[type(declaration)]
        if declare(kind, declaration.name):
            table = {"facts block": symbols.facts, "type": symbols.types, "let": symbols.lets,
                     "table": symbols.tables, "rule": symbols.rules, "offer": symbols.offers,
                     "budget": symbols.budgets}[kind]
            table[declaration.name.name] = declaration


def _declare_once(symbols: Symbols, table: dict, declaration: ast.Node, name: ast.Ident,
                  code: str, kind: str) -> None:
    """Enter ``declaration`` in its own namespace ``table``, or report it declared twice."""
    previous = table.get(name.name)
    if previous is None:
        table[name.name] = declaration
        return
    symbols.diagnostics.append(Diagnostic(
        code, Severity.ERROR, f"{kind} `{name.name}` is declared twice", name.span,
        help=f"the first declaration is at {previous.span.file}:{previous.span.line}"))


def _check_header_placement(module: ast.Module, is_root: bool, symbols: Symbols) -> None:
    """The header, version and effective lines come once each, before anything but includes;
    included files have none."""
    header_kinds = (ast.RulesetHeader, ast.VersionDecl, ast.EffectiveDecl)
    seen: set[type] = set()
    in_header = True
    for declaration in module.declarations:
        if isinstance(declaration, ast.IncludeDecl):
            continue
        if not isinstance(declaration, header_kinds):
            in_header = False
            continue
        keyword = {ast.RulesetHeader: "ruleset", ast.VersionDecl: "version",
                   ast.EffectiveDecl: "effective"}[type(declaration)]
        if not is_root:
            symbols.diagnostics.append(Diagnostic(
                "E205", Severity.ERROR, f"an included file cannot have a `{keyword}` line",
                declaration.span, help="only the ruleset that includes this file has a header"))
        elif type(declaration) in seen:
            symbols.diagnostics.append(Diagnostic(
                "E202", Severity.ERROR, f"`{keyword}` appears more than once", declaration.span,
                help=f"keep a single `{keyword}` line at the top of the file"))
        elif not in_header or (keyword != "ruleset" and ast.RulesetHeader not in seen):
            symbols.diagnostics.append(Diagnostic(
                "E202", Severity.ERROR, f"`{keyword}` must come at the top of the file",
                declaration.span,
                help="the file starts with `ruleset`, then `version` and `effective`, "
                     "before any other declaration"))
        seen.add(type(declaration))


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _check_fields(symbols: Symbols) -> None:
    for declaration in [*symbols.facts.values(), *symbols.types.values()]:
        seen: set[str] = set()
        for field_decl in declaration.fields:
            if field_decl.name.name in seen:
                symbols.diagnostics.append(Diagnostic(
                    "E208", Severity.ERROR,
                    f"field `{field_decl.name.name}` is declared twice in `{declaration.name.name}`",
                    field_decl.name.span, help="remove or rename one of them"))
            seen.add(field_decl.name.name)
