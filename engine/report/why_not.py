"""What stopped a rule (``engine.run.why_not``), as a tree in the terminal (rich)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from engine.run.shown import show
from engine.run.why_not import Finding, TableFinding, WhyNot


def render_why_not(why: WhyNot) -> RenderableType:
    """The rule, why it did not decide, and what each part of its condition was."""
    title = Text.assemble(("Why not ", "bold"), (why.rule, "bold cyan"),
                          f" \"{why.label}\"" if why.label else "", ": ", why.summary)
    tree = Tree(title, guide_style="dim")
    for finding in why.findings:
        _render_finding(tree, finding)
    for line in why.overrides:
        tree.add(Text(line))
    for table in why.tables:
        branch = tree.add(Text(_table_summary(table)))
        for difference in table.differences:
            branch.add(Text(difference))
    return Group(tree)


def _render_finding(tree: Tree, finding: Finding) -> None:
    branch = tree.add(Text(finding.text, style="yellow" if finding.value is None else ""))
    for part in finding.parts:
        _render_finding(branch, part)


def _table_summary(table: TableFinding) -> str:
    matched = (f"row {', '.join(map(str, table.matched_rows))} matched"
               if table.matched_rows else "no row matched")
    text = f"table {table.table} is {show(table.value)}: {matched}"
    if table.nearest_row is None:
        return text + "; no row gives another value"
    return (f"{text}; the nearest row with another value is row {table.nearest_row} "
            f"({show(table.nearest_value)})")
