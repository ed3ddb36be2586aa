"""What an editor asks of a ruleset, answered from one analysis of its text: diagnostics, hover,
definitions and references, completion, the outline, rename, formatting, quick fixes and the
lenses that run examples and verify properties.

Each answer is a function of an ``Analysis`` (the text, its check and its index) and an LSP
position; ``engine.lsp.server`` only wires them to the protocol. Positions in the protocol count
UTF-16 code units from 0; spans count characters from 1: ``position_of`` and ``span_range``
convert between the two.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp

from engine.check import types as t
from engine.diagnostics import Diagnostic, Fix, Severity, Span
from engine.lsp.index import Index, Occurrence, Symbol, build_index, declarations
from engine.pipeline import CheckResult, check_text
from engine.ruleset import Ruleset
from engine.run.examples import run_example
from engine.syntax.formatter import FormatError, format_text, type_text
from engine.syntax.grammar import keywords
from engine.syntax.source import display_path
from engine.syntax.unparse import unparse

_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error,
             Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.INFO: lsp.DiagnosticSeverity.Information}
IDENTIFIER = re.compile(r"[^\W\d]\w*")
_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")

KEYWORDS = {
    "ruleset": "starts a ruleset: `ruleset NAME \"label\"`",
    "version": "the ruleset's version, a text such as \"2026.12.1\"",
    "effective": "the first day the ruleset decides (`effective DATE [until DATE]`)",
    "until": "the first day the ruleset no longer decides (exclusive)",
    "include": "reads declarations from another file of the ruleset's folder",
    "facts": "a block of facts the caller gives for each customer",
    "type": "a record type made of fields, used by facts and lists",
    "reasons": "the reason codes and their texts, given to the customer",
    "outputs": "what a decision returns, each with a type, combine policy and default",
    "let": "a named value computed from facts and other names",
    "table": "a decision table: inputs, rows of cells and a result, under a hit policy",
    "rule": "proposes outputs, offers and reasons when its condition holds",
    "when": "the condition of a rule, cap or property",
    "then": "the actions a rule takes when it fires",
    "set": "proposes a value for an output",
    "add": "adds a value to a `collect` output",
    "offer": "an offer a rule can make (`offer NAME amount EXPR`)",
    "reason": "gives a reason code",
    "cap": "bounds an output after it is combined (`cap OUTPUT at most EXPR`)",
    "budget": "a portfolio limit applied across customers in a batch",
    "example": "a customer and the decision the ruleset must make (run by `tenet test`)",
    "property": "a claim proved for every customer by `tenet verify`",
    "given": "the facts of an example",
    "expect": "what an example's decision must be, or what a property claims",
    "priority": "orders rules: higher first (default 0)",
    "combine": "how an output's proposals become its value (first, unique, any, priority, "
               "min, max, sum, collect, output order)",
    "default": "an output's value when no rule proposes one",
    "otherwise": "a table's result when no row matches",
    "hit": "a table's hit policy",
    "requires": "an offer's condition (e.g. the customer's consent)",
    "missing": "the value of an optional fact not given, or of a failed computation",
    "today": "the decision's as-of date",
    "end": "closes the block",
    "all": "`all x in LIST where C`: true when C holds for every element",
    "any": "`any x in LIST where C`: true when C holds for at least one element",
    "among": "a budget's candidates: the decisions it allocates among",
    "amount": "an offer's amount (`offer NAME amount EXPR`)",
    "and": "true when both sides are (missing when one is missing and the other not false)",
    "or": "true when either side is (missing when one is missing and the other not true)",
    "not": "the opposite of a condition (missing stays missing)",
    "as": "`as of DATE`: an example's as-of date",
    "ascending": "a budget's rank order: smallest first",
    "descending": "a budget's rank order: largest first",
    "at": "`at most` / `at least`: a cap's or budget's bound",
    "most": "`at most`: an upper bound",
    "least": "`at least`: a lower bound",
    "average": "`average of EXPR for x in LIST`: the mean of the values",
    "count": "`count x in LIST where C`: how many elements hold C",
    "sum": "`sum of EXPR for x in LIST`: the total of the values",
    "min": "the smallest value (a function, an aggregate, or a combine policy)",
    "max": "the largest value (a function, an aggregate, or a combine policy)",
    "because": "the reason code a cap gives when it applies",
    "between": "`x between A and B`: A ≤ x ≤ B",
    "boolean": "the type of true and false",
    "integer": "the type of whole numbers",
    "number": "the type of plain numbers, without unit (ratios, scores)",
    "money": "the type of exact amounts (adds to money, not to a plain number)",
    "text": "the type of texts",
    "date": "the type of dates, written YYYY-MM-DD",
    "list": "`list of T`: values of type T, in order",
    "one": "`one of \"a\", \"b\"`: a text from a fixed list, in that order",
    "optional": "a fact that may be missing",
    "of": "part of `list of`, `one of`, `as of` and the aggregates",
    "by": "`rank by EXPR`: a budget's order",
    "rank": "`rank by EXPR`: the order a budget allocates in",
    "collect": "combine policy: every proposal, in rule order, as a list",
    "first": "combine or hit policy: the first proposal (or row) by priority and position",
    "unique": "combine or hit policy: exactly one proposal (or row), else a conflict",
    "order": "`output order`: every added `one of` value, ordered by the `one of` list",
    "output": "`output order`: every added `one of` value, ordered by the `one of` list",
    "else": "the value of an `if` when its condition is not true; a budget's actions for "
            "what it refuses",
    "if": "`if C then A else B`: A when C is true, else B",
    "in": "`x in [..]`: membership; also `for x in LIST`",
    "is": "`x is missing`: whether a value is missing",
    "where": "filters an aggregate's elements",
    "for": "`for x in LIST`: an aggregate's elements",
    "to": "`add VALUE to OUTPUT`",
    "true": "the boolean true",
    "false": "the boolean false",
    "partner": "an offer's partner, who provides it",
    "total": "what a budget adds up over the decisions it keeps",
    "full": "`when full stop|skip`: what a budget does with candidates once it is full",
    "skip": "`when full skip` (the default): a candidate that does not fit gets `else`; a "
            "later, smaller one may still fit",
    "stop": "`when full stop`: from the first candidate that does not fit, every later one "
            "gets `else`",
}


@dataclass
class Analysis:
    """One version of one document, checked."""

    path: Path
    text: str
    version: int | None
    result: CheckResult
    index: Index
    lines: list[str] = field(default_factory=list)
    uri: str | None = None  # as the editor names the document

    @property
    def shown(self) -> str:
        """The file's name in spans and messages, as `tenet check` shows it."""
        return display_path(self.path)


def analyze(text: str, path: Path, root: Path, version: int | None = None,
            uri: str | None = None, overlay: Mapping[Path, str] | None = None) -> Analysis:
    """Check ``text`` as the file at ``path``: its includes are read inside ``root``, as the
    editor holds them when they are open (``overlay``, by resolved path), else from disk."""
    result = check_text(text, display_path(path), root, path.parent, overlay)
    return Analysis(path, text, version, result, build_index(result), text.split("\n"), uri)


# ------------------------------------------------------------------------------- positions


def span_range(span: Span, lines: list[str] | None) -> lsp.Range:
    return lsp.Range(_position(span.line, span.column, lines),
                     _position(span.end_line, span.end_column, lines))


def _position(line: int, column: int, lines: list[str] | None) -> lsp.Position:
    text = lines[line - 1] if lines is not None and 0 < line <= len(lines) else ""
    return lsp.Position(max(line - 1, 0), _utf16(text[:max(column - 1, 0)]) +
                        max(column - 1 - len(text), 0))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def position_of(position: lsp.Position, lines: list[str]) -> tuple[int, int]:
    """The 1-based line and character column of an LSP position."""
    text = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for index, char in enumerate(text):
        if units >= position.character:
            return position.line + 1, index + 1
        units += 2 if ord(char) > 0xFFFF else 1
    return position.line + 1, len(text) + 1


def lines_of(analysis: Analysis, file: str) -> list[str] | None:
    """The lines of a file of the ruleset (the document itself, or an include)."""
    if file == analysis.shown:
        return analysis.lines
    text = analysis.result.sources.sources.get(file)
    return text.split("\n") if text is not None else None


def uri_of(analysis: Analysis, file: str) -> str:
    """A file's URI: the document's as the editor named it (a path through a link resolves
    elsewhere), an include's from where it was read."""
    if file == analysis.shown and analysis.uri is not None:
        return analysis.uri
    path = analysis.result.sources.files.get(file)
    return Path(path if path is not None else file).resolve().as_uri()


# ----------------------------------------------------------------------------- diagnostics


def diagnostics(analysis: Analysis) -> dict[str, list[lsp.Diagnostic]]:
    """By file URI (the document, and any include with findings): the diagnostics of
    `tenet check`, with the same codes, severities, messages, help and spans."""
    found: dict[str, list[lsp.Diagnostic]] = {uri_of(analysis, analysis.shown): []}
    for diagnostic in analysis.result.diagnostics:
        file = diagnostic.span.file
        found.setdefault(uri_of(analysis, file), []).append(lsp_diagnostic(
            diagnostic, lines_of(analysis, file)))
    return found


def lsp_diagnostic(diagnostic: Diagnostic, lines: list[str] | None) -> lsp.Diagnostic:
    message = diagnostic.message + (f"\nhelp: {diagnostic.help}" if diagnostic.help else "")
    fix = fix_of(diagnostic, lines)
    return lsp.Diagnostic(
        span_range(diagnostic.span, lines), message, severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code, source="tenet",
        data={"help": diagnostic.help, "fix": None if fix is None else {
            "range": _range_data(span_range(fix.span, lines)), "text": fix.text}})


def _range_data(found: lsp.Range) -> dict:
    return {"start": {"line": found.start.line, "character": found.start.character},
            "end": {"line": found.end.line, "character": found.end.character}}


def fix_of(diagnostic: Diagnostic, lines: list[str] | None) -> Fix | None:
    """What mends the diagnostic: its own fix, or the name a `did you mean `X`?` offers in
    place of the name its span marks (in quotes when the name was a text)."""
    if diagnostic.fix is not None:
        return diagnostic.fix
    span = diagnostic.span
    match = _DID_YOU_MEAN.search(diagnostic.help or "")
    if match is None or lines is None or span.line != span.end_line \
            or not 0 < span.line <= len(lines):
        return None
    written = lines[span.line - 1][span.column - 1:span.end_column - 1]
    wanted = match[1]
    if written.startswith('"') and written.endswith('"') and len(written) > 1:
        return Fix(span, wanted if wanted.startswith('"') else f'"{wanted}"')
    return Fix(span, wanted) if IDENTIFIER.fullmatch(written) else None


def quick_fixes(analysis: Analysis, uri: str, context: list[lsp.Diagnostic]
                ) -> list[lsp.CodeAction]:
    actions = []
    for diagnostic in context:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        fix = data.get("fix")
        if not isinstance(fix, dict):
            continue
        try:
            start, end = fix["range"]["start"], fix["range"]["end"]
            where = lsp.Range(lsp.Position(start["line"], start["character"]),
                              lsp.Position(end["line"], end["character"]))
            text = str(fix["text"])
        except (KeyError, TypeError):  # not what this server sent: nothing to offer
            continue
        title = f"Replace with `{text}`" if text else "Remove it"
        actions.append(lsp.CodeAction(
            title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic], is_preferred=True,
            edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(where, text)]})))
    return actions


# ------------------------------------------------------------------------ names under cursor


def occurrence_at(analysis: Analysis, position: lsp.Position) -> Occurrence | None:
    line, column = position_of(position, analysis.lines)
    return analysis.index.at(analysis.shown, line, column)


def definition(analysis: Analysis, position: lsp.Position) -> lsp.Location | None:
    occurrence = occurrence_at(analysis, position)
    if occurrence is None:
        return None
    if occurrence.symbol.kind == "include":
        return lsp.Location(Path(occurrence.symbol.name).resolve().as_uri(),
                            lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)))
    found = analysis.index.definitions.get(occurrence.symbol)
    return None if found is None else _location(analysis, found.span)


def _location(analysis: Analysis, span: Span) -> lsp.Location:
    return lsp.Location(uri_of(analysis, span.file),
                        span_range(span, lines_of(analysis, span.file)))


def references(analysis: Analysis, position: lsp.Position,
               include_declaration: bool = True) -> list[lsp.Location]:
    occurrence = occurrence_at(analysis, position)
    if occurrence is None:
        return []
    return [_location(analysis, o.span) for o in analysis.index.references(occurrence.symbol)
            if include_declaration or not o.is_definition]


def rename(analysis: Analysis, position: lsp.Position, new_name: str,
           neighbours: Callable[[], Iterable[Analysis]] | None = None
           ) -> lsp.WorkspaceEdit | None:
    """Every occurrence of the name under the cursor, renamed, in the ruleset's files; and,
    when the name lives in an included file, in the other rulesets of the workspace
    (``neighbours``) that include it too. ValueError when ``new_name`` cannot be a name."""
    occurrence = occurrence_at(analysis, position)
    if occurrence is None or occurrence.symbol.kind == "include":
        return None
    if not IDENTIFIER.fullmatch(new_name) or new_name in keywords():
        raise ValueError(f"`{new_name}` cannot be a name: use letters, digits and `_`, not "
                         "starting with a digit, and not a keyword")
    changes: dict[str, dict[tuple, lsp.TextEdit]] = {}

    def rename_in(found: Analysis) -> set[str]:
        touched = set()
        for place in found.index.references(occurrence.symbol):
            uri = uri_of(found, place.span.file)
            where = span_range(place.span, lines_of(found, place.span.file))
            key = (where.start.line, where.start.character)
            changes.setdefault(uri, {})[key] = lsp.TextEdit(where, new_name)
            touched.add(uri)
        return touched

    shared = rename_in(analysis) - {uri_of(analysis, analysis.shown)}
    if shared and neighbours is not None:
        for other in neighbours():
            included = {Path(path).resolve().as_uri() for path in other.result.sources.files.values()}
            if included & shared:
                rename_in(other)
    return lsp.WorkspaceEdit(changes={uri: sorted(edits.values(), key=lambda e: (
        e.range.start.line, e.range.start.character)) for uri, edits in changes.items()})


def prepare_rename(analysis: Analysis, position: lsp.Position) -> lsp.Range | None:
    occurrence = occurrence_at(analysis, position)
    if occurrence is None or occurrence.symbol.kind == "include":
        return None
    return span_range(occurrence.span, analysis.lines)


# ------------------------------------------------------------------------------------ hover


def hover(analysis: Analysis, position: lsp.Position) -> lsp.Hover | None:
    occurrence = occurrence_at(analysis, position)
    if occurrence is not None:
        text = describe(analysis, occurrence.symbol)
        if text:
            return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text),
                             span_range(occurrence.span, analysis.lines))
    word = _word_at(analysis, position)
    if word is not None and word[0] in KEYWORDS:
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown,
                                           f"**{word[0]}**: {KEYWORDS[word[0]]}"), word[1])
    return None


def _word_at(analysis: Analysis, position: lsp.Position) -> tuple[str, lsp.Range] | None:
    line, column = position_of(position, analysis.lines)
    text = analysis.lines[line - 1] if line <= len(analysis.lines) else ""
    for match in re.finditer(r"\w+", text):
        if match.start() < column <= match.end() + 1:
            start = _position(line, match.start() + 1, analysis.lines)
            end = _position(line, match.end() + 1, analysis.lines)
            return match[0], lsp.Range(start, end)
    return None


def describe(analysis: Analysis, symbol: Symbol) -> str | None:
    """A symbol's hover text (Markdown)."""
    program = analysis.result.program
    if program is None:
        return None
    symbols = program.symbols
    kind, name = symbol.kind, symbol.name
    if kind == "field":
        record, field_name = name.split(".", 1)
        inferred = symbols.table_records.get(record, {}).get(field_name)
        if inferred is not None:  # a result column of a table with several results
            return _lines(f"**{field_name}**: {_type_words(inferred)}", None,
                          f"a result column of table `{record}`")
        declared = symbols.record_fields(record).get(field_name)
        if declared is None:
            return None
        owner = symbols.facts.get(record) or symbols.types.get(record)
        where = f"facts block `{record}`" if record in symbols.facts else f"type `{record}`"
        return _lines(f"**{field_name}**: {_type_words(symbols.resolve_type(declared.type))}"
                      + (" (optional)" if declared.optional else ""),
                      declared.label, f"a field of {where}"
                      + (f" — {owner.label}" if owner is not None and owner.label else ""))
    if kind == "facts":
        block = symbols.facts.get(name)
        return block and _lines(f"**facts {name}**: {len(block.fields)} fields", block.label)
    if kind == "type":
        declared = symbols.types.get(name)
        return declared and _lines(f"**type {name}**: "
                                   + ", ".join(f.name.name for f in declared.fields),
                                   declared.label)
    if kind == "let":
        let = symbols.lets.get(name)
        found = program.types.get(id(let.value)) if let is not None else None
        return let and _lines(f"**let {name}**" + (f": {_type_words(found)}" if found else ""),
                              f"`{unparse(let.value)}`")
    if kind == "table":
        table = symbols.tables.get(name)
        policy = table.policy.name if table and table.policy else "unique"
        found = analysis.index.name_types.get(name)  # its value's type, as used
        return table and _lines(f"**table {name}**" + (f": {_type_words(found)}" if found else "")
                                + f" (hit policy `{policy}`)",
                                "inputs: " + ", ".join(f"`{unparse(i)}`" for i in table.inputs),
                                f"{len(table.rows)} rows")
    if kind == "output":
        output = symbols.outputs.get(name)
        if output is None:
            return None
        policy = output.policy.name if output.policy else "the type's default"
        default = f"`{unparse(output.default)}`" if output.default is not None else "missing"
        return _lines(f"**output {name}**: {_type_words(program.output_types.get(name))}",
                      f"combine {policy}; default {default}")
    if kind == "reason":
        entry = symbols.reasons.get(name)
        return entry and _lines(f"**reason {name}**", f"“{entry.text}”")
    if kind == "rule":
        rule = symbols.rules.get(name)
        return rule and _lines(f"**rule {name}**" + (f": {rule.label}" if rule.label else ""),
                               f"priority {rule.priority}")
    if kind in ("offer", "budget", "property"):
        table = {"offer": symbols.offers, "budget": symbols.budgets,
                 "property": symbols.properties}[kind]
        declared = table.get(name)
        return declared and _lines(f"**{kind} {name}**", declared.label)
    if kind == "include":
        return f"**include** `{Path(name).name}`"
    return None


def _type_words(type_: t.Type | None) -> str:
    if type_ is None:
        return "unknown"
    words = type_.describe()
    if type_ == t.MONEY:
        return words + " (an exact amount: adds to money, not to a plain number)"
    if type_ == t.NUMBER:
        return words + " (a plain number, without unit)"
    return words


def _lines(*parts: str | None) -> str:
    return "\n\n".join(part for part in parts if part)


# ------------------------------------------------------------------------------- completion

SNIPPETS = {
    "rule": 'rule ${1:NAME} "${2:label}" when ${3:condition} then\n  set ${4:output} = ${5:value}\n'
            "  reason ${6:CODE}\nend",
    "table": "table ${1:name} hit ${2:first}\n  ${3:input} => ${4:result}\n  ${5:-} => ${6:value}"
             "\nend",
    "example": 'example "${1:name}"\n  as of ${2:2026-12-15}\n  given ${3:customer} {\n    '
               "${4:field}: ${5:value}\n  }\n  expect ${6:output} = ${7:value}\nend",
    "property": 'property ${1:NAME} "${2:label}"\n  when ${3:condition}\n  expect ${4:claim}\nend',
}
_BEFORE_DOT = re.compile(r"([^\W\d]\w*)\.(\w*)$")
_ENUM_CONTEXT = re.compile(r"([^\W\d][\w.]*)\s*(?:=|!=|in\s*\[[^\]]*)\s*(?:\"[^\"]*,?\s*)*\"?(\w*)$")


def completion(analysis: Analysis, position: lsp.Position,
               fallback: Analysis | None = None) -> list[lsp.CompletionItem]:
    """What fits at ``position``. Half-typed text often does not parse: the names then come
    from ``fallback``, the document's last analysis that did."""
    line_text = analysis.lines[position.line] if position.line < len(analysis.lines) else ""
    _, column = position_of(position, analysis.lines)
    before = line_text[:column - 1]
    if analysis.result.program is None and fallback is not None:
        analysis = fallback
    program = analysis.result.program
    symbols = program.symbols if program is not None else None
    if symbols is None:
        return _keywords_and_snippets()
    if match := _BEFORE_DOT.search(before):
        return _fields_of(analysis, match[1])
    if re.search(r"\breason\s+\w*$|\bexpect\s+reasons\s*=\s*\[[\w\s,]*$", before):
        return [lsp.CompletionItem(code, kind=lsp.CompletionItemKind.EnumMember,
                                   detail=entry.text) for code, entry in symbols.reasons.items()]
    if match := _ENUM_CONTEXT.search(before):
        values = _enum_values(analysis, match[1])
        if values:
            quoted = before.rstrip().endswith('"') or re.search(r'"\w*$', before)
            return [lsp.CompletionItem(f'"{value}"', kind=lsp.CompletionItemKind.EnumMember,
                                       insert_text=value if quoted else f'"{value}"')
                    for value in values]
    items = []
    for kind, table in (("facts", symbols.facts), ("let", symbols.lets),
                        ("table", symbols.tables), ("output", symbols.outputs)):
        for name in table:
            items.append(lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Variable,
                                            detail=kind))
    return items + _keywords_and_snippets()


def _keywords_and_snippets() -> list[lsp.CompletionItem]:
    items = [lsp.CompletionItem(word, kind=lsp.CompletionItemKind.Keyword,
                                detail=KEYWORDS.get(word)) for word in sorted(keywords())]
    items += [lsp.CompletionItem(f"{name} …", kind=lsp.CompletionItemKind.Snippet,
                                 insert_text=body, filter_text=name,
                                 insert_text_format=lsp.InsertTextFormat.Snippet)
              for name, body in SNIPPETS.items()]
    return items


def _record_of(analysis: Analysis, name: str) -> str | None:
    symbols = analysis.result.program.symbols
    if name in symbols.facts:
        return name
    found = analysis.index.name_types.get(name)
    return found.name if isinstance(found, t.Record) else None


def _fields_of(analysis: Analysis, name: str) -> list[lsp.CompletionItem]:
    symbols = analysis.result.program.symbols
    if name == "baseline":
        return [lsp.CompletionItem(output, kind=lsp.CompletionItemKind.Field)
                for output in symbols.outputs]
    record = _record_of(analysis, name)
    if record is None:
        return []
    if record in symbols.table_records:  # a table with several results, its columns inferred
        return [lsp.CompletionItem(column, kind=lsp.CompletionItemKind.Field,
                                   detail=type_.describe())
                for column, type_ in symbols.table_records[record].items()]
    return [lsp.CompletionItem(field_name, kind=lsp.CompletionItemKind.Field,
                               detail=type_text(declared.type), documentation=declared.label)
            for field_name, declared in symbols.record_fields(record).items()]


def _enum_values(analysis: Analysis, path: str) -> tuple[str, ...]:
    """The `one of` values of the field, output or let named by ``path``."""
    program = analysis.result.program
    symbols = program.symbols
    parts = path.split(".")
    found: t.Type | None = None
    if len(parts) == 1:
        found = program.output_types.get(parts[0]) or analysis.index.name_types.get(parts[0])
    else:
        record = _record_of(analysis, parts[0])
        for part in parts[1:]:
            declared = symbols.record_fields(record).get(part) if record else None
            found = symbols.resolve_type(declared.type) if declared else None
            record = found.name if isinstance(found, t.Record) else None
    return found.values if isinstance(found, t.Enum) else ()


# ----------------------------------------------------------------------- outline, formatting

_SYMBOL_KIND = {"facts": lsp.SymbolKind.Struct, "type": lsp.SymbolKind.Struct,
                "let": lsp.SymbolKind.Variable, "table": lsp.SymbolKind.Function,
                "output": lsp.SymbolKind.Property, "rule": lsp.SymbolKind.Method,
                "offer": lsp.SymbolKind.Event, "budget": lsp.SymbolKind.Constant,
                "example": lsp.SymbolKind.Object, "property": lsp.SymbolKind.Boolean}


def document_symbols(analysis: Analysis) -> list[lsp.DocumentSymbol]:
    module = next((m for m in analysis.result.sources.modules if m.path == analysis.shown), None)
    if module is None:
        return []
    found = []
    for kind, node in declarations(module):
        name = node.name if isinstance(node.name, str) else node.name.name
        selection = node.span if isinstance(node.name, str) else node.name.span
        whole = span_range(node.span, analysis.lines)
        found.append(lsp.DocumentSymbol(name, _SYMBOL_KIND[kind], whole,
                                        span_range(selection, analysis.lines), detail=kind))
    return found


def formatting(analysis: Analysis) -> list[lsp.TextEdit] | None:
    """The whole document in `tenet fmt`'s layout (None when it does not parse)."""
    try:
        formatted = format_text(analysis.text, analysis.shown)
    except FormatError:
        return None
    if formatted == analysis.text:
        return []
    end = _position(len(analysis.lines), len(analysis.lines[-1]) + 1, analysis.lines)
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), formatted)]


# -------------------------------------------------------------------------------- lenses


@dataclass
class Lenses:
    """What the lenses of a document show: examples run and properties verified on request,
    kept until the text changes."""

    examples: str | None = None  # the last run's outcome, in words
    properties: dict[str, str] = field(default_factory=dict)


def code_lenses(analysis: Analysis, results: Lenses) -> list[lsp.CodeLens]:
    program = analysis.result.program
    if program is None or program.symbols.header is None:
        return []
    uri = uri_of(analysis, analysis.shown)
    header = span_range(program.symbols.header.span, analysis.lines)
    lenses = [lsp.CodeLens(header, lsp.Command(
        results.examples or "▶ Run examples", "tenet.runExamples", arguments=[uri]))]
    for name, declared in program.symbols.properties.items():
        if declared.span.file != analysis.shown:
            continue
        lenses.append(lsp.CodeLens(span_range(declared.span, analysis.lines), lsp.Command(
            results.properties.get(name, "▶ Verify"), "tenet.verifyProperty", arguments=[uri, name])))
    return lenses


def run_examples(analysis: Analysis) -> str:
    """Every example of the ruleset run: how many passed, or the first that did not and why."""
    if analysis.result.has_errors or analysis.result.program is None:
        return "✗ the ruleset has errors: fix them to run its examples"
    ruleset = Ruleset(analysis.result)
    examples = list(ruleset.examples)
    for example in examples:
        outcome = run_example(ruleset, example)
        if outcome.failures:
            return f"✗ example \"{example.name}\": {outcome.failures[0]}"
    return f"✓ {len(examples)} example{'s' if len(examples) != 1 else ''} passed"


def verify_property(analysis: Analysis, name: str) -> str:
    """One property proved, or its witness in words."""
    # The prover is loaded when a property is first verified: z3 holds some 35 MB, which an
    # editor that never asks for a proof should not carry.
    from engine.verify import Options, verify

    if analysis.result.has_errors or analysis.result.program is None:
        return "✗ the ruleset has errors: fix them to verify it"
    results = [r for r in verify(Ruleset(analysis.result), options=Options(only=name))
               if r.kind == "property" and r.name == name]
    if not results:
        return "✗ no such property"
    result = results[0]
    if result.status == "proved":
        return "✓ proved"
    diagnostic = result.diagnostic()
    detail = diagnostic.help if diagnostic is not None and diagnostic.help else ""
    return f"✗ {result.status}" + (f": {detail}" if detail else "")
