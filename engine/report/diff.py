"""The champion/challenger report (``engine.portfolio.diff``) in the terminal (rich) and as one
self-contained HTML page: the charts are PNGs drawn by matplotlib and embedded as data, the style
is inline, so the file opens offline and can be mailed or attached to a change request."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from engine.portfolio.diff import SIDES, budget_use
from engine.syntax.source import escape_unprintable


def render_text(report: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [Text(" ".join(report["headline"]), style="bold"),
                                   _heading(report)]
    for name, matrix in report["matrices"].items():
        parts.append(_matrix_table(name, matrix))
    for name, money in report["money"].items():
        parts.append(_money_table(name, money))
        if money["histogram"]["counts"]:
            parts.append(_histogram_text(name, money["histogram"]))
    return Group(*parts, *_detail_tables(report))


def _detail_tables(report: dict[str, Any]) -> list[Table]:
    """Reasons, rules, budgets, examples and the rows only one ruleset decided."""
    reasons, rules = report["reasons"], report["rules"]
    tables = [
        _table("Reasons", ["reason", "text", *SIDES, "shift"],
               [[r["code"], _reason_text(r), f"{r['champion']:,}", f"{r['challenger']:,}",
                 _signed(r["shift"])]
                for r in reasons], changed=[r["shift"] != 0 or r["text_changed"]
                                            for r in reasons]),
        _table("Rules (times fired)", ["rule", "label", *SIDES, "change"],
               [[r["rule"], r["label"] or "", _count(r["champion"]), _count(r["challenger"]),
                 _rule_change(r)]
                for r in rules], changed=[r["status"] != "same" for r in rules])]
    if budgets := _budget_rows(report["budgets"]):
        tables.append(_table("Budgets", ["budget", "champion used / limit",
                                         "challenger used / limit", "overridden"], budgets))
    if examples := report["examples"]:
        tables.append(_table("Examples of changed cells",
                             ["output", "change", "customer", *SIDES],
                             [[e["output"], f"{e['champion']} → {e['challenger']}",
                               str(e["id"] or f"row {e['row']}"), _why(e, "champion"),
                               _why(e, "challenger")] for e in examples]))
    one_sided = report["decided_by_one_only"]
    if one_sided["count"]:
        tables.append(_table(f"Decided by one ruleset only ({one_sided['count']:,})",
                             ["row", "customer", "refused by", "problem"],
                             [[str(r["row"]), str(r["id"] or ""), r["refused_by"],
                               "; ".join(r["problems"])]
                              for r in one_sided["rows"]]))
    return tables


def _heading(report: dict[str, Any]) -> Text:
    sides = [Text.assemble((f"{side} ", "bold"), f"{report[side]['ruleset']} "
                           f"{report[side]['version'] or ''} ({report[side]['path']}, "
                           f"{report[side]['digest'][:19]}…)")
             for side in SIDES]
    one_sided = report["decided_by_one_only"]["count"]
    return Text.assemble(sides[0], "\n", sides[1], "\n", ("book ", "bold"), report["book"],
                         f" as of {report['as_of']}: {report['rows']:,} rows, "
                         f"{report['decided_by_both']:,} decided by both, {one_sided:,} by one "
                         f"only, {report['refused_by_both']:,} by neither")


def _reason_text(reason: dict[str, Any]) -> str:
    if reason["text_changed"]:
        return f"{reason['text']} (text changed; was: {reason['champion_text']})"
    return reason["text"] or ""


SHOWN_VALUES = 8  # of a matrix's axis; the values with fewer customers are folded into one


def _folded(matrix: dict[str, Any]) -> tuple[list[str], list[str], dict[tuple[str, str], dict]]:
    """The rows and columns of a matrix as shown, and its cells by (row, column): an axis of
    more than ``SHOWN_VALUES`` values keeps the values with the most customers and folds the
    rest into one line, `… N more`, whose cells add up theirs (changed when any of them is)."""
    axes = []
    for side, key in (("champion", "champion_values"), ("challenger", "challenger_values")):
        values = matrix[key]
        if len(values) > SHOWN_VALUES:
            totals = Counter()
            for cell in matrix["cells"]:
                totals[cell[side]] += cell["count"]
            kept = {value for value, _ in sorted(totals.items(), key=lambda item: -item[1])
                    [:SHOWN_VALUES - 1]}
            other = f"… {len(values) - len(kept)} more"
            axes.append(([value for value in values if value in kept] + [other],
                         {value: value if value in kept else other for value in values}))
        else:
            axes.append((list(values), {value: value for value in values}))
    (rows, row_of), (columns, column_of) = axes
    cells: dict[tuple[str, str], dict] = {}
    for cell in matrix["cells"]:
        key = (row_of[cell["champion"]], column_of[cell["challenger"]])
        found = cells.setdefault(key, {"count": 0, "share": 0, "changed": False})
        found["count"] += cell["count"]
        found["share"] += cell["share"]
        found["changed"] |= cell["changed"]
    return rows, columns, cells


def _matrix_table(name: str, matrix: dict[str, Any]) -> Table:
    rows, columns, counts = _folded(matrix)
    table = Table(f"{name}: champion ↓ challenger →", *columns, "total",
                  title=f"Migration of {name}", title_justify="left")
    for before in rows:
        cells = []
        for after in columns:
            cell = counts.get((before, after))
            if cell is None:
                cells.append(Text("·", style="dim"))
            else:
                text = f"{cell['count']:,} ({_percent(cell['share'])})"
                cells.append(Text(text, style="bold yellow" if cell["changed"] else ""))
        total = sum(c["count"] for (b, _), c in counts.items() if b == before)
        table.add_row(before, *cells, f"{total:,}")
    return table


def _money_table(name: str, money: dict[str, Any]) -> Table:
    table = Table("output", "champion total", "challenger total", "difference", "up", "down",
                  "same", title=f"Change of {name}", title_justify="left")
    table.add_row(name, f"{money['champion_total']:,}", f"{money['challenger_total']:,}",
                  _signed(money["difference"]), f"{money['up']:,}", f"{money['down']:,}",
                  f"{money['same']:,}")
    return table


def _histogram_text(name: str, histogram: dict[str, Any], width: int = 40) -> Text:
    edges, counts = histogram["edges"], histogram["counts"]
    largest = max(counts)
    labels = [f"[{_signed(edges[i])}..{_signed(edges[i + 1])})" for i in range(len(counts))]
    text = Text(f"Change of {name} for the customers whose value changed (a bin holds its lower "
                "edge, not its upper one)\n", style="italic")
    for label, count in zip(labels, counts, strict=True):
        bar = "█" * max(1 if count else 0, round(width * count / largest))
        text.append(f"  {label:>{max(map(len, labels))}} {bar} {count:,}\n")
    return text


def _table(title: str, columns: list[str], rows: list[list[str]],
           changed: list[bool] | None = None) -> Table:
    table = Table(*columns, title=title, title_justify="left")
    for row, is_changed in zip(rows, changed or [False] * len(rows), strict=True):
        # ids and problems come from the book: terminal escapes in them are shown, not sent
        table.add_row(*(Text(escape_unprintable(cell)) for cell in row),
                      style="bold yellow" if is_changed else None)
    return table


def _budget_rows(budgets: dict[str, dict]) -> list[list[str]]:
    names = dict.fromkeys([*budgets["champion"], *budgets["challenger"]])
    rows = []
    for name in names:
        sides = [budgets[side].get(name) for side in SIDES]
        rows.append([name, *(_budget_use(side) for side in sides),
                     " → ".join(f"{side['overridden']:,}" if side else "-" for side in sides)])
    return rows


def _budget_use(budget: dict[str, Any] | None) -> str:
    return budget_use(budget, "(no such budget)", " / ")


def _why(example: dict[str, Any], side: str) -> str:
    reasons = ", ".join(example[f"{side}_reasons"]) or "no reason"
    return f"{', '.join(example[f'{side}_rules'])} ({reasons})"


def _rule_change(rule: dict[str, Any]) -> str:
    if rule["status"] in ("new", "removed"):
        return rule["status"]
    return _signed(rule["challenger"] - rule["champion"])


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _signed(value: int | Decimal) -> str:
    return f"{value:+,}" if value else "0"


def _percent(share: Decimal | int) -> str:
    return f"{Decimal(share) * 100:.1f}%"


# -- HTML

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.changed td, td.changed { background: #fff3c4; font-weight: 600; }
img { max-width: 100%; }
p.headline { font-size: 1.15em; font-weight: 600; background: #f4f6fb; padding: .6em .8em; }
"""


def render_html(report: dict[str, Any]) -> str:
    """One page, no network: the charts are embedded PNGs, the style inline. Labels are
    drawn as plain text: matplotlib would read `$…$` in a value as mathematics."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        return _page(report)


def _page(report: dict[str, Any]) -> str:
    body = [f"<h1>{_e(report['champion']['ruleset'])}: champion "
            f"{_e(report['champion']['version'])} vs challenger "
            f"{_e(report['challenger']['version'])}</h1>",
            f"<p class=headline>{_e(' '.join(report['headline']))}</p>",
            f"<p>{_e(_heading(report).plain)}</p>".replace("\n", "<br>")]
    for name, matrix in report["matrices"].items():
        body.append(f"<h2>Migration of {_e(name)}</h2>")
        if matrix["cells"]:
            body.append(_image(_heat_map(name, matrix), f"migration matrix of {name}"))
        body.append(_html_table(_matrix_table(name, matrix)))
    for name, money in report["money"].items():
        body.append(f"<h2>Change of {_e(name)}</h2>")
        body.append(_html_table(_money_table(name, money)))
        if money["histogram"]["counts"]:
            body.append(_image(_histogram_chart(name, money["histogram"]),
                               f"distribution of the change of {name}"))
    for table in _detail_tables(report):
        body.append(f"<h2>{_e(str(table.title))}</h2>")
        body.append(_html_table(table))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>tenet diff: {_e(report['champion']['ruleset'])}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _html_table(table: Table) -> str:
    """A rich table as HTML: the same rows and highlights as in the terminal."""
    head = "".join(f"<th>{_e(str(column.header))}</th>" for column in table.columns)
    rows = []
    for index in range(table.row_count):
        row_style = str(table.rows[index].style or "")
        cells = []
        for column in table.columns:
            cell = list(column.cells)[index]
            plain = cell.plain if isinstance(cell, Text) else str(cell)
            changed = isinstance(cell, Text) and "yellow" in str(cell.style)
            cells.append(f"<td{' class=changed' if changed else ''}>{_e(plain)}</td>")
        rows.append(f"<tr{' class=changed' if 'yellow' in row_style else ''}>"
                    + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _heat_map(name: str, matrix: dict[str, Any]):
    """The migration matrix: the unchanged diagonal in a neutral grey, the changed cells on a
    colour scale of their own, so that 35 changes among 4,000 unchanged stay visible."""
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    rows, columns, cells = _folded(matrix)
    counts = np.array([[cells[(row, column)]["count"] if (row, column) in cells else 0
                        for column in columns] for row in rows], dtype=float)
    same = np.array([[row == column for column in columns] for row in rows])
    figure = Figure(figsize=(1.4 * len(columns) + 2, 1.0 * len(rows) + 1.5), layout="tight")
    axes = figure.add_subplot()
    axes.imshow(np.where(same, 1.0, np.nan), cmap=ListedColormap(["#e4e4e4"]), vmin=0, vmax=1)
    changed = np.ma.masked_where(same | (counts == 0), counts)
    largest = float(changed.max()) if changed.count() else 1.0
    image = axes.imshow(changed, cmap="YlOrRd", vmin=0, vmax=largest)
    axes.set_xticks(range(len(columns)), labels=columns)
    axes.set_yticks(range(len(rows)), labels=rows)
    axes.set_xlabel(f"challenger {name}")
    axes.set_ylabel(f"champion {name}")
    for i in range(len(rows)):
        for j in range(len(columns)):
            count = int(counts[i, j])
            white = not same[i, j] and count > largest / 2
            axes.text(j, i, f"{count:,}", ha="center", va="center",
                      color="white" if white else "black",
                      fontweight="normal" if same[i, j] or not count else "bold")
    figure.colorbar(image, ax=axes, label="customers whose value changed (grey: unchanged)")
    return figure


def _histogram_chart(name: str, histogram: dict[str, Any]):
    from matplotlib.figure import Figure

    edges = [float(edge) for edge in histogram["edges"]]  # drawing only: the figures are exact
    figure = Figure(figsize=(8, 3.5), layout="tight")
    axes = figure.add_subplot()
    axes.stairs(histogram["counts"], edges, fill=True, color="#d95f02")
    axes.axvline(0, color="#444", linewidth=1)
    axes.set_xlabel(f"challenger {name} − champion {name} (each bin holds its lower edge)")
    axes.set_ylabel("customers")
    axes.xaxis.set_major_formatter("{x:,.0f}")
    return figure


def _image(figure, description: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{_e(description)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(description)}</figcaption></figure>")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))
