"""What `tenet dmn import` and `tenet dmn export` say about each element: imported and as what,
or refused and why; exported, or left out and why."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from engine.dmn.exporter import Exported
from engine.dmn.importer import Imported


def print_import_report(console: Console, source: str, version: str, imported: Imported,
                        written: str) -> None:
    console.print(f"{escape(source)} (DMN {version}) → {escape(written)}", soft_wrap=True)
    for entry in imported.report:
        mark = "[green]✓[/]" if entry.imported else "[red]✗[/]"
        where = f"{entry.kind} `{entry.id}`" + (f" ({entry.name})" if entry.name else "")
        console.print(f"  {mark} {escape(where)}: {escape(entry.detail)}", soft_wrap=True)
    for note in imported.notes:
        console.print(f"  [dim]note:[/] {escape(note)}", soft_wrap=True)
    refused = len(imported.refused)
    console.print(f"{len(imported.report) - refused} imported, {refused} refused")


def print_export_report(console: Console, exported: Exported, written: str | None,
                        tables_only: bool) -> None:
    if written is not None:
        console.print(f"→ {escape(written)} (DMN 1.3, valid against its schema)", soft_wrap=True)
    for line in exported.exported:
        console.print(f"  [green]✓[/] {escape(line)}", soft_wrap=True)
    for line in exported.left_out:
        console.print(f"  [red]✗[/] {escape(line)}", soft_wrap=True)
    if exported.left_out and not tables_only:
        console.print(f"{len(exported.left_out)} parts have no DMN form: nothing written. "
                      "`--tables-only` writes what maps and leaves them out.", soft_wrap=True)
    else:
        console.print(f"{len(exported.exported)} exported, {len(exported.left_out)} left out")
