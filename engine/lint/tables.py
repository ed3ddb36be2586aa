"""Decision tables analysed exactly: overlapping rows under `unique`, rows that can never match
under `first`, and inputs that match no row when there is no `otherwise`. Each finding names a
witness: a customer that shows it."""

from __future__ import annotations

from engine.lint.domains import (
    Box,
    Dimension,
    ValueSet,
    box_intersect,
    box_is_empty,
    box_subtract,
    describe_witness,
)
from engine.lint.findings import Findings, WorkLimit, dimension_of
from engine.syntax import ast


class _NotAnalysable(Exception):
    """A cell compares with something other than a constant: the table is not analysed."""


def lint_tables(findings: Findings) -> None:
    for table in findings.symbols.tables.values():
        # A column can be missing when it reads an optional field, or when a row tests for it.
        dimensions = [dimension_of(column, findings, any(
            isinstance(row.cells[index], ast.MissingCell) for row in table.rows
            if index < len(row.cells))) for index, column in enumerate(table.inputs)]
        if any(d is None for d in dimensions) or not table.rows:
            continue
        try:
            boxes = [_row_box(row, dimensions) for row in table.rows]
        except _NotAnalysable:
            continue
        policy = table.policy.name if table.policy is not None else "unique"
        budget = WorkLimit()
        complete = True
        if policy == "unique":
            complete = _overlaps(findings, table, boxes, budget)
        if policy == "first":
            complete = _shadowed(findings, table, boxes, budget)
        if complete and table.otherwise is None and policy not in ("collect", "output order",
                                                                   "count"):
            complete = _gaps(findings, table, boxes, dimensions, budget)
        if not complete:
            findings.incomplete(f"table `{table.name.name}`", table.name.span)


def _row_box(row: ast.TableRow, dimensions: list[Dimension]) -> Box:
    if len(row.cells) != len(dimensions):
        raise _NotAnalysable
    return {d.text: _cell_values(cell, d) for cell, d in zip(row.cells, dimensions, strict=True)}


def _cell_values(cell: ast.Cell, dimension: Dimension) -> ValueSet:
    if isinstance(cell, ast.AnyCell):
        return ValueSet.everything(dimension)
    if isinstance(cell, ast.MissingCell):
        return ValueSet.only_missing(dimension)
    if isinstance(cell, ast.NotCell):
        return _cell_values(cell.cell, dimension).complement(with_missing=False)
    if isinstance(cell, ast.Alternatives):
        result = ValueSet.nothing(dimension)
        for test in cell.tests:
            result = result.union(_cell_values(test, dimension))
        return result
    if isinstance(cell, ast.IntervalTest):
        low, high = _constant(cell.low), _constant(cell.high)
        return ValueSet.interval(dimension, low, high, cell.low_closed, cell.high_closed)
    op = cell.op if isinstance(cell, ast.CompareTest) else "="
    if dimension.kind == "discrete" and op not in ("=", "!="):
        raise _NotAnalysable
    return ValueSet.compare(dimension, op, _constant(cell.value))


def _constant(expr: ast.Expr):
    if isinstance(expr, ast.Literal):
        return expr.value
    raise _NotAnalysable


def _overlaps(findings: Findings, table: ast.TableDecl, boxes: list[Box],
              budget: WorkLimit) -> bool:
    """Reports overlapping rows; False when the budget ran out."""
    for later in range(len(boxes)):
        if not budget.spend(later):
            return False
        for earlier in range(later):
            common = box_intersect(boxes[earlier], boxes[later])
            if not box_is_empty(common):
                findings.report(
                    "E601", f"rows {earlier + 1} and {later + 1} of table `{table.name.name}` "
                            f"overlap: a customer with {describe_witness(common)} matches both",
                    table.rows[later].span,
                    help="under `hit unique` at most one row may match; narrow one of the rows, "
                         "or choose `hit first` if the earlier row should win")
    return True


def _shadowed(findings: Findings, table: ast.TableDecl, boxes: list[Box],
              budget: WorkLimit) -> bool:
    """Reports rows that can never match; False when the budget ran out."""
    for index, box in enumerate(boxes):
        remaining = [box]
        for earlier in boxes[:index]:
            if not budget.spend(len(remaining)):
                return False
            remaining = [piece for part in remaining for piece in box_subtract(part, earlier)]
            if not remaining:
                break
        if not remaining:
            findings.report(
                "W202", f"row {index + 1} of table `{table.name.name}` can never match: the rows "
                        "above it take every customer it would match", table.rows[index].span,
                help="under `hit first` the first matching row wins; move this row up or remove it")
    return True


def _gaps(findings: Findings, table: ast.TableDecl, boxes: list[Box],
          dimensions: list[Dimension], budget: WorkLimit) -> bool:
    """Reports inputs no row matches; False when the budget ran out."""
    remaining: list[Box] = [{d.text: ValueSet.everything(d, d.can_be_missing) for d in dimensions}]
    for box in boxes:
        if not budget.spend(len(remaining)):
            return False
        remaining = [piece for part in remaining for piece in box_subtract(part, box)]
        if not remaining:
            return True
    findings.report(
        "W203", f"table `{table.name.name}` has no row for some inputs: a customer with "
                f"{describe_witness(remaining[0])} matches no row, so the table is missing",
        table.name.span,
        help="add a row for these inputs, or an `otherwise` value")
    return True
