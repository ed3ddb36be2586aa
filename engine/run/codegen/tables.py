"""Decision tables in the generated code: each row's cells become one test over the table's
inputs, evaluated once; the hit policy picks the result (LANGUAGE.md §9). ``_Generator`` of
``engine.run.codegen.procedure`` is a ``TableEmitter``."""

from __future__ import annotations

from engine.check import types as t
from engine.check.checker import COLLECTING, rank_order, table_result_type
from engine.run.codegen.expressions import COMPARISONS, ExpressionEmitter, Operand
from engine.run.codegen.support import TABLE
from engine.syntax import ast

# Policies whose value is one of the proposals (so missing only if a proposal is).
ONE_OF_THEM = ("first", "unique", "any", "priority", "min", "max", "sum")


def is_plain(node: ast.Expr) -> bool:
    """Whether generating ``node`` emits no statement: a literal or a name's local."""
    return isinstance(node, ast.Literal | ast.Name | ast.Today) or (
        isinstance(node, ast.FieldAccess) and isinstance(node.target, ast.Name))


class TableEmitter(ExpressionEmitter):
    """The code of a decision table's evaluation, for the code generator; also how a policy
    combines proposals and what a missing result falls back to, which outputs share."""

    def table(self, name: str) -> None:
        table = self.symbols.tables[name]
        policy = table.policy.name if table.policy is not None else "unique"
        inputs = [self.materialize(self.expr(column)) for column in table.inputs]
        matches = [self._row_matches(row, inputs) for row in table.rows]
        if self.batch:
            offset = self.table_counters[name]
            for index, flag in enumerate(matches):
                self.emit(f"if {flag}: C[{offset + index}] += 1")
        local, found = self.temporary("v"), self.temporary("h")
        self.emit(f"{local} = None")
        labels = tuple(f"row {i + 1}" for i in range(len(table.rows)))
        declared = table_result_type(self.symbols, table, policy)
        what = f"table `{name}`"
        matched, proposals = self.temporary("M"), self.temporary("P")
        results: list[Operand] = []
        if not self.traced and policy in ("first", "unique"):
            # The plain function evaluates the result of the one row that decides.
            self.emit(f"{found} = False")
            plain = all(is_plain(row.result) for row in table.rows)
            if policy == "unique":
                self._unique_conflict(table, matches, proposals, plain, what, labels, declared)
            for flag, row in zip(matches, table.rows, strict=True):
                if plain:  # one statement a row: its result is a constant or a local
                    value = self.expr(row.result)
                    self.emit(f"if not {found} and {flag}: {local} = {value.code}; "
                              f"{found} = True")
                    results.append(value)
                    continue
                with self.guarded(f"not {found} and {flag}"):
                    value = self.expr(row.result)
                    self.emit(f"{local} = {value.code}")
                    self.emit(f"{found} = True")
                    results.append(value)
        else:
            self.emit(f"{matched} = []")
            for index, flag in enumerate(matches):
                self.emit(f"if {flag}: {matched}.append({index})")
            results = self._row_results(table, matches, proposals)
            self.emit(f"{found} = bool({proposals})")
            self.emit(f"if {found}: {local} = " + self._combine_call(
                policy, proposals, "None", what, labels, declared))
        nullable = any(result.nullable for result in results) or policy not in ONE_OF_THEM
        nullable = self._fallback(local, found, table.otherwise, policy) or nullable
        self.scope[name] = Operand(local, nullable)
        if self.traced:
            self.emit(f"E.append(({TABLE}, {self.tables.index(name)}, {local}, {matched}))")

    def _unique_conflict(self, table: ast.TableDecl, matches: list[str], proposals: str,
                         plain: bool, what: str, labels: tuple[str, ...],
                         declared: t.Type) -> None:
        """Emit the test of a `unique` table: more than one row matching is a conflict,
        which ``combine`` reports with the rows and their results."""
        count = self.temporary("n")
        # Sums of at most 32 flags a statement: a longer chain of `+` would nest too deeply
        # for Python's compiler on a table of thousands of rows.
        for start in range(0, max(len(matches), 1), 32):
            flags = " + ".join(matches[start:start + 32]) or "0"
            self.emit(f"{count} {'=' if start == 0 else '+='} {flags}")
        if plain:  # the proposals without a statement a row, built only on a conflict
            rows = "".join(f"({index}, {flag}, {self.expr(row.result).code}), " for index, (
                flag, row) in enumerate(zip(matches, table.rows, strict=True)))
            listed = f"[(i, v) for i, m, v in ({rows}) if m]"
            self.emit(f"if {count} > 1: " + self._combine_call(
                "unique", listed, "None", what, labels, declared))
            return
        with self.guarded(f"{count} > 1"):
            self._row_results(table, matches, proposals)
            self.emit(self._combine_call("unique", proposals, "None", what, labels, declared))

    def _row_matches(self, row: ast.TableRow, inputs: list[Operand]) -> str:
        """Emit whether ``row`` matches; returns the flag (or constant) that says so."""
        tested = [(cell, value) for cell, value in zip(row.cells, inputs, strict=False)
                  if not isinstance(cell, ast.AnyCell)]
        if not tested:
            return "True"
        flag = self.temporary("m")
        if all(is_plain(value) for cell, _ in tested for value in ast.cell_values(cell)):
            # Cells that compare with constants or locals: one expression, which stops at the
            # first cell that does not match, as the reference does.
            self.emit(f"{flag} = " + " and ".join(f"({self.cell(cell, value)})"
                                                  for cell, value in tested))
            return flag
        self.emit(f"{flag} = True")
        for cell, value in tested:
            with self.guarded(flag):
                self.emit(f"{flag} = {self.cell(cell, value)}")
        return flag

    def _row_results(self, table: ast.TableDecl, matches: list[str],
                     proposals: str) -> list[Operand]:
        """Emit the list of (row, result) of the rows that match."""
        self.emit(f"{proposals} = []")
        results = []
        for index, (flag, row) in enumerate(zip(matches, table.rows, strict=True)):
            with self.guarded(flag):
                value = self.expr(row.result)
                self.emit(f"{proposals}.append(({index}, {value.code}))")
                results.append(value)
        return results

    def _fallback(self, local: str, found: str, default: ast.Expr | None, policy: str) -> bool:
        """The value of a table or output without proposals (LANGUAGE.md §5, §9): its
        `otherwise` or `default`, else 0 for `count`, [] for `collect` and `output order`,
        else missing. Returns whether that can be missing."""
        if default is not None and is_plain(default):
            value = self.expr(default)
            self.emit(f"if not {found}: {local} = {value.code}")
            return value.nullable
        if default is not None:
            with self.guarded(f"not {found}"):
                value = self.expr(default)
                self.emit(f"{local} = {value.code}")
            return value.nullable
        if policy == "count":
            self.emit(f"if not {found}: {local} = ZERO")
        elif policy in COLLECTING:
            self.emit(f"if not {found}: {local} = ()")
        return policy not in COLLECTING and policy != "count"

    def _combine_call(self, policy: str, proposals: str, used: str, what: str,
                      labels: tuple[str, ...], type_: t.Type) -> str:
        order = None
        if policy == "output order" or policy == "priority" and not isinstance(type_, t.ListOf):
            order = rank_order(self.symbols, type_)
        is_set = isinstance(type_, t.ListOf) and type_.is_set and policy in COLLECTING
        return (f"combine({self.constant(policy)}, {proposals}, {used}, {self.constant(what)}, "
                f"{self.constant(labels)}, {self.constant(order)}, {is_set})")

    def cell(self, cell: ast.Cell, value: Operand) -> str:
        """A boolean expression over locals: whether ``cell`` matches ``value``. No cell but
        `missing` matches a missing value, and then its own values are not evaluated."""
        if isinstance(cell, ast.MissingCell):
            return f"{value.code} is None"
        plain = all(is_plain(node) for node in ast.cell_values(cell))
        if not value.nullable:
            return self._present_cell(cell, value, plain)
        if plain:
            return f"{value.code} is not None and {self._present_cell(cell, value, plain)}"
        with self.guarded(f"{value.code} is not None"):
            test = self._present_cell(cell, value, plain)
        return f"{value.code} is not None and {test}"

    def _present_cell(self, cell: ast.Cell, value: Operand, plain: bool) -> str:
        """Whether ``cell`` matches ``value``, which is not missing; ``plain`` cells emit no
        statement, so alternatives can be one expression stopping at the first match."""
        if isinstance(cell, ast.AnyCell):
            return "True"
        if isinstance(cell, ast.MissingCell):
            return "False"
        if isinstance(cell, ast.NotCell):
            return f"not ({self._present_cell(cell.cell, value, plain)})"
        if isinstance(cell, ast.Alternatives) and plain:
            return "(" + " or ".join(self._present_cell(test, value, plain)
                                     for test in cell.tests) + ")"
        if isinstance(cell, ast.Alternatives):
            found = self.temporary("c")
            self.emit(f"{found} = False")
            for test in cell.tests:
                with self.guarded(f"not {found}"):
                    self.emit(f"{found} = {self._present_cell(test, value, plain)}")
            return found
        if isinstance(cell, ast.IntervalTest):
            low, high = self.expr(cell.low), self.expr(cell.high)
            above = ">=" if cell.low_closed else ">"
            below = "<=" if cell.high_closed else "<"
            missing = self._missing_check([low, high])
            test = f"({value.code} {above} {low.code} and {value.code} {below} {high.code})"
            return f"(not ({missing}) and {test})" if missing else test
        op = cell.op if isinstance(cell, ast.CompareTest) else "="
        other = self.expr(cell.value)
        test = f"({value.code} {COMPARISONS[op]} {other.code})"
        return f"({other.code} is not None and {test})" if other.nullable else test
