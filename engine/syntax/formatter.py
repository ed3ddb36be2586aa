"""`tenet fmt`: one canonical layout for rulesets, keeping every comment.

The formatter prints the AST again (expressions through ``engine.syntax.unparse``): two-space
indentation, one action per line, aligned table columns and reason codes, normalised spacing,
long conditions broken before `and`/`or`, long records wrapped. Comments are not in the AST:
each printed line remembers the source lines it came from, and every comment goes back before
the line that follows it in the source (own-line comments) or at the end of the line it ended
(trailing comments). Formatting is idempotent and never changes the meaning:
``parse(fmt(x)) == parse(x)``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from engine.diagnostics import Diagnostic
from engine.syntax import ast
from engine.syntax.parser import parse_module
from engine.syntax.source import display_width, normalize_newlines, pad, split_lines
from engine.syntax.unparse import chain_operand, literal_text, unparse, unparse_closed

WIDTH = 100
INDENT = "  "
# Texts as one run of plain characters between escapes: linear, where an alternation per
# character backtracks (a 10 MB text took seconds and gigabytes).
_TOKENS = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|#[^\n]*')


class FormatError(Exception):
    """The text does not parse; ``diagnostics`` says why. Nothing is formatted."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} syntax error(s)")
        self.diagnostics = diagnostics


@dataclass
class _Line:
    text: str
    first: int  # the source lines this line prints, for placing comments
    last: int
    comment_indent: str


@dataclass
class _Comment:
    line: int
    text: str
    own_line: bool
    blank_after: bool = False  # an own-line comment followed by an empty line keeps it


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical layout of ``text``; raises FormatError when it does not parse. Line
    breaks are read as every command reads them (``engine.syntax.source``) and written as `\\n`."""
    text = normalize_newlines(text)
    module, diagnostics = parse_module(text, path)
    errors = [d for d in diagnostics if d.severity.value == "error"]
    if errors:
        raise FormatError(errors)
    printer = _Printer(text)
    source_lines = split_lines(text)
    for index, declaration in enumerate(module.declarations):
        if index:
            previous = module.declarations[index - 1]
            if printer.is_block(previous) or printer.is_block(declaration) or \
                    _blank_between(source_lines, previous.span.end_line, declaration.span.line):
                printer.blank()
        printer.declaration(declaration)
    return _place_comments(printer.lines, _comments(text))


def same_meaning(original: str, formatted: str) -> bool:
    """Whether ``formatted`` parses to the same ruleset as ``original``: `tenet fmt` checks this
    before it writes a file, so that no formatter bug can ever change a decision."""
    before, _ = parse_module(normalize_newlines(original), "<original>")
    after, diagnostics = parse_module(formatted, "<original>")
    return not diagnostics and after.declarations == before.declarations


def _blank_between(lines: list[str], after: int, before: int) -> bool:
    return any(not lines[i].strip() for i in range(after, min(before - 1, len(lines))))


def _comments(text: str) -> list[_Comment]:
    found = []
    lines = split_lines(text)
    for match in _TOKENS.finditer(text):
        if not match.group().startswith("#"):
            continue
        start = match.start()
        line_start = text.rfind("\n", 0, start) + 1
        number = text.count("\n", 0, start) + 1
        own_line = not text[line_start:start].strip()
        blank_after = own_line and number < len(lines) and not lines[number].strip()
        found.append(_Comment(number, match.group().rstrip(), own_line, blank_after))
    return found


def _place_comments(lines: list[_Line], comments: list[_Comment]) -> str:
    before: dict[int, list[str]] = {}
    after: dict[int, str] = {}
    trailing_end: list[str] = []
    printed = [i for i, line in enumerate(lines) if line.text]
    # Printed lines follow the source, so their first source lines never decrease.
    firsts = [lines[i].first for i in printed]
    for comment in comments:
        if not comment.own_line:
            # Among the printed lines that cover the comment's line, the last one to start.
            end = bisect.bisect_right(firsts, comment.line)
            candidates = [printed[k] for k in range(max(0, end - 64), end)
                          if lines[printed[k]].last >= comment.line]
            if candidates:
                owner = max(candidates, key=lambda i: (lines[i].first, -i))
                after[owner] = (after[owner] + " " if owner in after else "") + comment.text
                continue
        position = bisect.bisect_right(firsts, comment.line)
        target = printed[position] if position < len(printed) else None
        if target is None:
            trailing_end.append(comment.text)
        else:
            group = before.setdefault(target, [])
            group.append(lines[target].comment_indent + comment.text)
            if comment.blank_after:
                group.append("")
    output = []
    for index, line in enumerate(lines):
        output.extend(before.get(index, []))
        text = line.text + (f"  {after[index]}" if index in after else "")
        output.append(text)
    if trailing_end:
        if output and output[-1]:
            output.append("")
        output.extend(trailing_end)
    return "\n".join(output).rstrip("\n") + "\n"


class _Printer:
    def __init__(self, text: str) -> None:
        self.lines: list[_Line] = []

    def emit(self, text: str, node: ast.Node, comment_indent: str | None = None,
             last: int | None = None) -> None:
        indent = re.match(r"\s*", text).group()
        self.lines.append(_Line(text, node.span.line, last or node.span.end_line,
                                indent if comment_indent is None else comment_indent))

    def close(self, node: ast.Node) -> None:
        """`end` of a block: comments just before it stay inside the block."""
        self.lines.append(_Line("end", node.span.end_line, node.span.end_line, INDENT))

    def blank(self) -> None:
        self.lines.append(_Line("", 0, 0, ""))

    @staticmethod
    def is_block(declaration: ast.Declaration) -> bool:
        return not isinstance(declaration, ast.RulesetHeader | ast.VersionDecl |
                              ast.EffectiveDecl | ast.IncludeDecl | ast.LetDecl | ast.CapDecl)

    # -- declarations

    def declaration(self, node: ast.Declaration) -> None:
        getattr(self, "_" + type(node).__name__)(node)

    def _RulesetHeader(self, node: ast.RulesetHeader) -> None:
        self.emit(f"ruleset {node.name.name}{_label(node.label)}", node)

    def _VersionDecl(self, node: ast.VersionDecl) -> None:
        self.emit(f"version {literal_text(node.version)}", node)

    def _EffectiveDecl(self, node: ast.EffectiveDecl) -> None:
        until = f" until {node.until.isoformat()}" if node.until else ""
        self.emit(f"effective {node.start.isoformat()}{until}", node)

    def _IncludeDecl(self, node: ast.IncludeDecl) -> None:
        self.emit(f"include {literal_text(node.path)}", node)

    def _record_block(self, keyword: str, node: ast.FactsDecl | ast.TypeDecl) -> None:
        self.emit(f"{keyword} {node.name.name}{_label(node.label)}", node, last=node.span.line)
        for field in node.fields:
            optional = " optional" if field.optional else ""
            self.emit(f"{INDENT}{field.name.name}: {type_text(field.type)}{optional}"
                      f"{_label(field.label)}", field)
        self.close(node)

    def _FactsDecl(self, node: ast.FactsDecl) -> None:
        self._record_block("facts", node)

    def _TypeDecl(self, node: ast.TypeDecl) -> None:
        self._record_block("type", node)

    def _ReasonsDecl(self, node: ast.ReasonsDecl) -> None:
        self.emit("reasons", node, last=node.span.line)
        width = max((display_width(e.code.name) for e in node.entries), default=0)
        for entry in node.entries:
            self.emit(f"{INDENT}{pad(entry.code.name, width)} {literal_text(entry.text)}", entry)
        self.close(node)

    def _OutputsDecl(self, node: ast.OutputsDecl) -> None:
        self.emit("outputs", node, last=node.span.line)
        for output in node.outputs:
            text = f"{INDENT}{output.name.name}: {type_text(output.type)}"
            if output.policy is not None:
                text += f" combine {output.policy.name}"
            if output.default is not None:
                text += f" default {unparse(output.default)}"
            self.emit(text, output)
        self.close(node)

    def _LetDecl(self, node: ast.LetDecl) -> None:
        annotation = f": {type_text(node.type)}" if node.type is not None else ""
        head = f"let {node.name.name}{annotation} = "
        self._expression_lines(head, node.value, node, " " * display_width(head))

    def _TableDecl(self, node: ast.TableDecl) -> None:
        head = f"table {node.name.name}"
        if node.type is not None:
            head += f": {type_text(node.type)}"
        if node.policy is not None:
            head += f" hit {node.policy.name}"
        self.emit(head, node, last=node.span.line)
        # A row's cells: its inputs, then its results (after `||` in a table with several).
        header = node.results or (node.result_column,)
        grid = [([unparse_closed(e) for e in node.inputs],
                 [column.name if isinstance(column, ast.Ident) else unparse_closed(column)
                  for column in header])]
        grid += [([cell_text(c) for c in row.cells], _result_cells(row.result, node.results))
                 for row in node.rows]
        inputs = max(len(cells) for cells, _ in grid)
        results = max(len(cells) for _, cells in grid)
        # Aligned by display width: a Chinese character takes two columns in an editor.
        widths = [max((display_width(cells[i]) for cells, _ in grid if i < len(cells)),
                      default=0) for i in range(inputs)]
        widths += [max((display_width(cells[i]) for _, cells in grid if i < len(cells)),
                       default=0) for i in range(results)]
        bar = " || " if node.results else " | "
        anchors: list[ast.Node] = [header[0], *node.rows]
        for (cells, outcome), anchor in zip(grid, anchors, strict=True):
            text = " | ".join(pad(text, widths[i]) for i, text in enumerate(cells))
            if outcome:
                text += (bar if cells else "") + " | ".join(
                    pad(value, widths[inputs + i]) for i, value in enumerate(outcome))
            first = anchor.span.line if anchor is not header[0] else (
                node.inputs[0].span.line if node.inputs else anchor.span.line)
            self.lines.append(_Line(f"{INDENT}| {text} |", first, anchor.span.end_line, INDENT))
        if node.otherwise is not None:
            self.emit(f"{INDENT}otherwise {unparse(node.otherwise)}", node.otherwise)
        self.close(node)

    def _RuleDecl(self, node: ast.RuleDecl) -> None:
        self.emit(f"rule {node.name.name}{_label(node.label)}", node, last=node.span.line)
        if node.priority:
            self.lines.append(_Line(f"{INDENT}priority {node.priority}", node.span.line,
                                    node.span.line, INDENT))
        self._condition("when", node.condition, node.condition)
        self.lines.append(_Line(f"{INDENT}then", node.condition.span.end_line,
                                node.condition.span.end_line, INDENT))
        for action in node.actions:
            self.emit(INDENT * 2 + action_text(action), action)
        self.close(node)

    def _condition(self, keyword: str, condition: ast.Expr, anchor: ast.Node) -> None:
        """`  when …`, broken before each top-level `and`/`or` when longer than the width."""
        text = f"{INDENT}{keyword} {unparse(condition)}"
        if display_width(text) <= WIDTH or not _is_chain(condition):
            self.emit(text, anchor)
            return
        op = condition.op
        parts = _chain(condition, op)
        self.emit(f"{INDENT}{keyword} {chain_operand(parts[0], op, 0, len(parts))}", parts[0])
        pad = " " * (len(INDENT) + len(keyword) - len(op))
        for index, part in enumerate(parts[1:], start=1):
            self.emit(f"{pad}{op} {chain_operand(part, op, index, len(parts))}", part)

    def _CapDecl(self, node: ast.CapDecl) -> None:
        text = f"cap {node.output.name} at {node.bound} {unparse(node.limit)}"
        if node.condition is not None:
            text += f" when {unparse(node.condition)}"
        if node.reason is not None:
            text += f" because {node.reason.name}"
        self.emit(text, node)

    def _OfferDecl(self, node: ast.OfferDecl) -> None:
        self.emit(f"offer {node.name.name}{_label(node.label)}", node, last=node.span.line)
        if node.partner is not None:
            self.lines.append(_Line(f"{INDENT}partner {literal_text(node.partner)}",
                                    node.span.line, node.span.line, INDENT))
        if node.requires is not None:
            self._condition("requires", node.requires, node.requires)
        if node.else_reason is not None:
            self.emit(f"{INDENT}else reason {node.else_reason.name}", node.else_reason)
        self.close(node)

    def _BudgetDecl(self, node: ast.BudgetDecl) -> None:
        self.emit(f"budget {node.name.name}{_label(node.label)}", node, last=node.span.line)
        self.emit(f"{INDENT}total {unparse(node.total)} at most {unparse(node.limit)}", node.total,
                  last=node.limit.span.end_line)
        if node.among is not None:
            self.emit(f"{INDENT}among {unparse(node.among)}", node.among)
        if node.rank_by is not None:
            direction = "descending" if node.descending else "ascending"
            self.emit(f"{INDENT}rank by {unparse(node.rank_by)} {direction}", node.rank_by)
        if node.when_full is not None:
            self.emit(f"{INDENT}when full {node.when_full.name}", node.when_full)
        first_action = node.otherwise[0] if node.otherwise else node
        self.lines.append(_Line(f"{INDENT}else", first_action.span.line, first_action.span.line,
                                INDENT))
        for action in node.otherwise:
            self.emit(INDENT * 2 + action_text(action), action)
        self.close(node)

    def _ExampleDecl(self, node: ast.ExampleDecl) -> None:
        self.emit(f"example {literal_text(node.name)}", node, last=node.span.line)
        if node.as_of is not None:
            self.lines.append(_Line(f"{INDENT}as of {node.as_of.isoformat()}", node.span.line,
                                    node.span.line, INDENT))
        for given in node.givens:
            head = f"{INDENT}given {given.facts.name} = "
            self._expression_lines(head, given.value, given, " " * display_width(head))
        for expectation in node.expectations:
            self.emit(INDENT + expectation_text(expectation), expectation)
        self.close(node)

    def _PropertyDecl(self, node: ast.PropertyDecl) -> None:
        self.emit(f"property {node.name.name}{_label(node.label)}", node, last=node.span.line)
        if node.condition is not None:
            self._condition("when", node.condition, node.condition)
        self._condition("expect", node.claim, node.claim)
        self.close(node)

    def _expression_lines(self, head: str, expr: ast.Expr, anchor: ast.Node, pad: str) -> None:
        """``head`` and the expression, wrapped when too long (records and lists)."""
        lines = wrap(expr, display_width(head))
        for index, line in enumerate(lines):
            self.lines.append(_Line((head if index == 0 else pad) + line, anchor.span.line,
                                    anchor.span.end_line, re.match(r"\s*", head).group()))


# ------------------------------------------------------------------------------- pieces


def _result_cells(result: ast.Expr, columns: tuple[ast.Ident, ...]) -> list[str]:
    """The result cells of a row: its value, or one a column of a table with several."""
    if not columns or not isinstance(result, ast.RecordLiteral):
        return [unparse_closed(result)]
    return [unparse_closed(entry.value) for entry in result.entries]


def _label(label: str | None) -> str:
    return f" {literal_text(label)}" if label is not None else ""


def type_text(node: ast.TypeExpr) -> str:
    if isinstance(node, ast.PrimitiveType):
        return node.name
    if isinstance(node, ast.EnumType):
        return "one of " + ", ".join(literal_text(v) for v in node.values)
    if isinstance(node, ast.ListType):
        return ("set of " if node.is_set else "list of ") + type_text(node.element)
    return node.name.name


def cell_text(cell: ast.Cell) -> str:
    if isinstance(cell, ast.AnyCell):
        return "-"
    if isinstance(cell, ast.MissingCell):
        return "missing"
    if isinstance(cell, ast.NotCell):
        return "not " + cell_text(cell.cell)
    if isinstance(cell, ast.Alternatives):
        return ", ".join(cell_text(test) for test in cell.tests)
    if isinstance(cell, ast.IntervalTest):
        return (("[" if cell.low_closed else "(")
                + f"{unparse_closed(cell.low)}..{unparse_closed(cell.high)}"
                + ("]" if cell.high_closed else ")"))
    if isinstance(cell, ast.CompareTest):
        return f"{cell.op} {unparse_closed(cell.value)}"
    return unparse_closed(cell.value)


def action_text(action: ast.Action) -> str:
    if isinstance(action, ast.SetAction):
        return f"set {action.output.name} = {unparse(action.value)}"
    if isinstance(action, ast.AddAction):
        return f"add {unparse(action.value)} to {action.output.name}"
    if isinstance(action, ast.OfferAction):
        amount = f" amount {unparse(action.amount)}" if action.amount is not None else ""
        return f"offer {action.offer.name}{amount}"
    return f"reason {action.code.name}"


def expectation_text(expectation: ast.Expectation) -> str:
    if isinstance(expectation, ast.ExpectReasons):
        return "expect reasons = [" + ", ".join(c.name for c in expectation.codes) + "]"
    if isinstance(expectation, ast.ExpectReasonIncluded):
        return f"expect reasons include {expectation.code.name}"
    return f"expect {expectation.output.name} = {unparse(expectation.value)}"


def _is_chain(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Binary) and expr.op in ("and", "or")


def _chain(expr: ast.Expr, op: str) -> list[ast.Expr]:
    if isinstance(expr, ast.Binary) and expr.op == op:
        return [*_chain(expr.left, op), expr.right]
    return [expr]


def _operator_chain(expr: ast.Expr, family: tuple[str, ...]
                    ) -> tuple[ast.Expr, list[tuple[str, ast.Expr]]]:
    """`a + b - c` as (a, [("+", b), ("-", c)]): the left-associated chain of one precedence."""
    rest: list[tuple[str, ast.Expr]] = []
    while isinstance(expr, ast.Binary) and expr.op in family:
        rest.append((expr.op, expr.right))
        expr = expr.left
    return expr, rest[::-1]


def wrap(expr: ast.Expr, column: int) -> list[str]:
    """The expression as lines starting at ``column``: one line when it fits (in display
    columns: a Chinese character takes two), else records and lists broken between entries,
    each continuation aligned after the opening bracket."""
    flat = unparse(expr)
    if column + display_width(flat) <= WIDTH:
        return [flat]
    if isinstance(expr, ast.If):
        return [f"if {unparse(expr.condition)}", f"then {unparse(expr.then_value)}",
                f"else {unparse(expr.else_value)}"]
    if isinstance(expr, ast.Binary) and expr.op in ("+", "-", "and", "or"):
        # Break before every operator of the loosest chain, operators leading the lines.
        family = ("+", "-") if expr.op in ("+", "-") else (expr.op,)
        first, rest = _operator_chain(expr, family)
        count = len(rest) + 1
        lines = [chain_operand(first, expr.op, 0, count)]
        for index, (op, operand) in enumerate(rest, start=1):
            lines.append(f"{op} {chain_operand(operand, op, index, count)}")
        return lines
    if not isinstance(expr, ast.RecordLiteral | ast.ListLiteral):
        return [flat]
    if isinstance(expr, ast.RecordLiteral):
        opening, closing = "{ ", " }"
        items = [(f"{e.field.name}: ", e.value) for e in expr.entries]
    else:
        opening, closing = "[ ", " ]"
        items = [("", item) for item in expr.items]
    inner = column + len(opening)
    lines: list[str] = []
    current = ""
    for index, (prefix, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else closing
        value_lines = wrap(value, inner + display_width(prefix))
        piece = prefix + value_lines[0]
        if len(value_lines) > 1:
            if current:
                lines.append(current.rstrip())
            lines.append(piece)
            pad = " " * display_width(prefix)
            lines.extend(pad + line for line in value_lines[1:])
            lines[-1] += comma
            current = ""
            continue
        candidate = (current + " " if current else "") + piece + comma
        if current and inner + display_width(candidate) > WIDTH:
            lines.append(current)
            current = piece + comma
        else:
            current = candidate
    if current:
        lines.append(current)
    pad = " " * len(opening)
    return [opening + lines[0]] + [pad + line for line in lines[1:]]
