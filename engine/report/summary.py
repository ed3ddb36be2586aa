"""The summary of a portfolio run in the terminal (rich)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def render_summary(data: dict[str, Any], out: str, errors: str) -> RenderableType:
    parts: list[RenderableType] = [Text.assemble(
        ("Portfolio ", "bold"), f"{data['rows']:,} rows: ",
        (f"{data['decided']:,} decided", "bold green"), " → ", out, ", ",
        (f"{data['errors']:,} errors", "bold red" if data["errors"] else "dim"),
        # the errors file is written even when empty: say where (with OUT `-`, in this folder)
        " → " + errors)]
    outputs = Table("output", "value", "count / total", title="Outputs", title_justify="left")
    for name, found in data["outputs"].items():
        if "counts" in found:
            for value, count in found["counts"].items():
                outputs.add_row(name, value, f"{count:,}")
        else:
            outputs.add_row(name, "total", f"{found['total']:,}")
    parts.append(outputs)
    if data["reasons"]:
        reasons = Table("reason", "count", title="Reasons", title_justify="left")
        for code, count in data["reasons"].items():
            reasons.add_row(code, f"{count:,}")
        parts.append(reasons)
    if data["budgets"]:
        budgets = Table("budget", "candidates", "asked", "kept", "overridden", "used", "limit",
                        title="Budgets", title_justify="left")
        cut_offs = []
        for name, budget in data["budgets"].items():
            budgets.add_row(name, f"{budget['candidates']:,}", f"{budget['asked']:,}",
                            f"{budget['kept']:,}", f"{budget['overridden']:,}",
                            f"{budget['used']:,}",
                            f"{budget['limit']:,}" if budget["limit"] is not None else "missing")
            cut_off = ("nobody was refused" if not budget["overridden"] else
                       f"the first refused ranked {_rank(budget['first_refused'])}, the last "
                       f"kept {_rank(budget['last_kept'])}")
            cut_offs.append(Text(f"{name} (when full {budget['when_full']}): {cut_off}",
                                 style="dim"))
        parts.extend([budgets, *cut_offs])
    after = bool(data["budgets"])
    rules = Table("rule", "fired", "used", *(["used after budgets"] if after else []),
                  title="Rules", title_justify="left")
    for name, counts in data["rules"].items():
        rules.add_row(name, f"{counts['fired']:,}", f"{counts['used']:,}",
                      *([f"{counts['used_after_budgets']:,}"] if after else []),
                      style="dim" if not counts["fired"] else None)
    parts.append(rules)
    if after:
        parts.append(Text("used after budgets: once the budgets overrode the decisions they "
                          "did not keep", style="dim"))
    if data["never_fired"]:
        parts.append(Text("never fired: " + ", ".join(data["never_fired"]), style="yellow"))
    for name, table in data["tables"].items():
        hits = ", ".join(f"row {i + 1}: {count:,}" for i, count in enumerate(table["hits_per_row"]))
        parts.append(Text(f"table {name}: {hits}"))
    return Group(*parts)


def _rank(value: Any) -> str:
    """A rank value as the cut-off shows it (`rank by` may give a number, a date or a text)."""
    if value is None:
        return "missing"
    return f"{value:,}" if isinstance(value, int | Decimal) else str(value)
