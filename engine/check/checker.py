"""The checker: validates a parsed ruleset against its own schema.

It resolves names, infers types (``engine.check.typecheck``), checks each declaration (outputs and
their policies, tables, rules, caps, offers, budgets, examples), builds the dependency graph
(``engine.check.dependencies``) and reports cycles and unused declarations. The result is a
``CheckedProgram``: the declarations, the type of every expression and an evaluation order.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from engine.check import types as t
from engine.check.dependencies import DependencyGraph, Node
from engine.check.examples import check_examples
from engine.check.symbols import OFFERS_OUTPUT, Symbols, collect_symbols
from engine.check.typecheck import ExpressionChecker
from engine.diagnostics import Diagnostic, Severity, Span, did_you_mean
from engine.syntax import ast

COLLECTING = ("collect", "output order")


def table_result_type(symbols: Symbols, table: ast.TableDecl, policy: str) -> t.Type:
    """The type of a table's value: its declared result type (the record of its columns for a
    table with several results), a list of it for `collect` and `output order`, unknown when
    not declared."""
    if table.type is not None:
        result = symbols.resolve_type(table.type)
    elif table.results:
        result = t.Record(table.name.name)
    else:
        return t.UNKNOWN
    return t.ListOf(result) if policy in COLLECTING else result


def rank_order(symbols: Symbols, type_: t.Type) -> dict | tuple | None:
    """How `priority` and `output order` rank values of ``type_`` (a list's elements): a `one
    of` value by its position ({value: rank}); a record, a row of a table with several results,
    by its `one of` fields in order ((field, {value: rank}), …); None when nothing ranks."""
    element = type_.element if isinstance(type_, t.ListOf) else type_
    if isinstance(element, t.Enum):
        return {value: index for index, value in enumerate(element.values)}
    if isinstance(element, t.Record):
        ranked = tuple((name, {value: index for index, value in enumerate(field.values)})
                       for name, field in symbols.field_types(element.name).items()
                       if isinstance(field, t.Enum))
        return ranked or None
    return None
OFFER_RECORD = "offer"  # the element type of the implicit `offers` output; a keyword, so no clash
# The record `baseline` reads inside a property; a name with a space cannot clash with a type.
BASELINE_RECORD = "baseline decision"
REASONS_NAME, BASELINE_NAME = "reasons", "baseline"


@dataclass
class CheckedProgram:
    """A ruleset that passed (or failed) the checker, with what later passes need."""

    symbols: Symbols
    types: dict[int, t.Type]
    output_types: dict[str, t.Type]
    policies: dict[str, str]
    order: list[Node]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The type of each let's and table's value, as declared or inferred: ("let"|"table", name).
    value_types: dict[tuple[str, str], t.Type] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def check_modules(modules: list[ast.Module]) -> CheckedProgram:
    """Check the root module (first) together with its includes."""
    symbols = collect_symbols(modules)
    return Checker(symbols).run()


class Checker:
    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols
        self.diagnostics = symbols.diagnostics
        if symbols.offers or symbols.properties:
            symbols.types.setdefault(OFFER_RECORD, _offer_record_type())
        if symbols.properties:
            symbols.types.setdefault(BASELINE_RECORD, _baseline_record_type(symbols))
        self.expressions = ExpressionChecker(symbols, self._lookup, self.diagnostics)
        self._value_types: dict[tuple[str, str], t.Type] = {}
        self._in_progress: set[tuple[str, str]] = set()
        self.output_types = {name: symbols.resolve_type(o.type)
                             for name, o in symbols.outputs.items()}
        if symbols.offers:
            self.output_types[OFFERS_OUTPUT] = t.ListOf(t.Record(OFFER_RECORD))
        self.policies = {name: self._policy(o) for name, o in symbols.outputs.items()}
        if symbols.offers:
            self.policies[OFFERS_OUTPUT] = "collect"

    # -- names

    def _lookup(self, name: str) -> tuple[str, t.Type] | None:
        if name in self.symbols.facts:
            return "facts", t.Record(name)
        if name in self.symbols.lets:
            return "let", self._let_type(name)
        if name in self.symbols.tables:
            return "table", self._table_type(name)
        if name in self.output_types:
            return "output", self.output_types[name]
        return None

    @contextmanager
    def _evaluating(self, key: tuple[str, str]):
        """Infer a let or table on first use, outside any aggregate's scope; re-entry means a
        cycle, which the dependency graph reports, so it yields UNKNOWN meanwhile."""
        saved = self.expressions.swap_scopes([])
        self._in_progress.add(key)
        try:
            yield
        finally:
            self._in_progress.discard(key)
            self.expressions.swap_scopes(saved)

    def _let_type(self, name: str) -> t.Type:
        key = ("let", name)
        if key in self._value_types or key in self._in_progress:
            return self._value_types.get(key, t.UNKNOWN)
        let = self.symbols.lets[name]
        with self._evaluating(key):
            if let.type is not None:
                declared = self.symbols.resolve_type(let.type)
                self.expressions.expect_assignable(let.value, declared, f"let `{name}`")
                result = declared
            else:
                result = self.expressions.infer(let.value)
        self._value_types[key] = result
        return result

    def _table_type(self, name: str) -> t.Type:
        key = ("table", name)
        if key in self._value_types or key in self._in_progress:
            return self._value_types.get(key, t.UNKNOWN)
        with self._evaluating(key):
            result = self._check_table(self.symbols.tables[name])
        self._value_types[key] = result
        return result

    # -- the pass

    def run(self) -> CheckedProgram:
        for record in [*self.symbols.facts.values(), *self.symbols.types.values()]:
            for field_decl in record.fields:
                self.symbols.resolve_type(field_decl.type)
        for output in self.symbols.outputs.values():
            self._check_output(output)
        for name in self.symbols.lets:
            self._let_type(name)
        for name in self.symbols.tables:
            self._table_type(name)
        for rule in self.symbols.rules.values():
            self.expressions.condition(rule.condition, f"the condition of rule `{rule.name.name}`")
            for action in rule.actions:
                self._check_action(action)
        for cap in self.symbols.caps:
            self._check_cap(cap)
        for offer in self.symbols.offers.values():
            self._check_offer(offer)
        for budget in self.symbols.budgets.values():
            self._check_budget(budget)
        check_examples(self.symbols, self.expressions, self.output_types)
        for declaration in self.symbols.properties.values():
            self._check_property(declaration)
        graph = self._dependency_graph()
        self._report_cycles(graph)
        self._report_unused()
        return CheckedProgram(self.symbols, self.expressions.types, self.output_types,
                              self.policies, graph.order(), self.diagnostics,
                              dict(self._value_types))

    def _error(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, help))

    # -- outputs

    def _policy(self, output: ast.OutputDecl) -> str:
        if output.policy is not None:
            return output.policy.name
        return "collect" if isinstance(output.type, ast.ListType) else "first"

    def _check_output(self, output: ast.OutputDecl) -> None:
        name = output.name.name
        type_ = self.output_types[name]
        policy = self.policies[name]
        problem = _policy_problem(policy, type_)
        if problem is not None and output.policy is not None:
            self._error("E407", f"`combine {policy}` {problem}, but output `{name}` is "
                                f"{type_.describe()}", output.policy.span,
                        help="choose a policy that fits the type (`first` fits every type)")
        if output.default is not None:
            self.expressions.expect_assignable(output.default, type_,
                                               f"the default of output `{name}`")

    def _output(self, ident: ast.Ident) -> tuple[t.Type, str] | None:
        name = ident.name
        if name in self.output_types:
            return self.output_types[name], self.policies[name]
        self._error("E306", f"unknown output `{name}`", ident.span,
                    help=did_you_mean(name, self.output_types)
                    or "declare it in the `outputs` block")
        return None

    # -- actions, caps, offers, budgets

    def _check_action(self, action: ast.Action) -> None:
        if isinstance(action, ast.ReasonAction):
            self._check_reason(action.code)
        elif isinstance(action, ast.OfferAction):
            if action.offer.name not in self.symbols.offers:
                self._error("E305", f"unknown offer `{action.offer.name}`", action.offer.span,
                            help=did_you_mean(action.offer.name, self.symbols.offers)
                            or "declare it with `offer NAME … end`")
            if action.amount is not None:
                self.expressions.expect_assignable(action.amount, t.MONEY, "an offer's amount")
        elif isinstance(action, ast.SetAction):
            self._check_set(action)
        else:
            self._check_add(action)

    def _check_set(self, action: ast.SetAction) -> None:
        found = self._proposal_output(action)
        if found is None:
            return
        type_, policy = found
        if policy in COLLECTING:
            if isinstance(type_, t.ListOf):  # otherwise the policy itself is already an error
                self._error("E406", f"output `{action.output.name}` collects values: write "
                                    f"`add … to {action.output.name}`", action.span)
            self.expressions.infer(action.value)
        elif policy == "count":
            self.expressions.infer(action.value)
        else:
            self.expressions.expect_assignable(action.value, type_,
                                               f"output `{action.output.name}`")

    def _proposal_output(self, action: ast.SetAction | ast.AddAction) -> tuple[t.Type, str] | None:
        """The target of `set` or `add` with its policy; None (reported) when there is none."""
        found = self._output(action.output)
        if found is not None and action.output.name == OFFERS_OUTPUT:
            self._error("E406", "offers are made with `offer NAME`, not with `set` or `add`",
                        action.span)
            found = None
        if found is None:
            self.expressions.infer(action.value)
        return found

    def _check_add(self, action: ast.AddAction) -> None:
        found = self._proposal_output(action)
        if found is None:
            return
        type_, policy = found
        if policy not in COLLECTING or not isinstance(type_, t.ListOf):
            self._error("E406", f"output `{action.output.name}` takes one value: write "
                                f"`set {action.output.name} = …`", action.span,
                        help="`add` is for outputs with `combine collect` or `output order`")
            self.expressions.infer(action.value)
            return
        self.expressions.expect_assignable(action.value, type_.element,
                                           f"each element of output `{action.output.name}`")

    def _check_reason(self, code: ast.Ident) -> None:
        if code.name not in self.symbols.reasons:
            self._error("E304", f"unknown reason code `{code.name}`", code.span,
                        help=did_you_mean(code.name, self.symbols.reasons)
                        or "declare it in the `reasons` block")

    def _check_cap(self, cap: ast.CapDecl) -> None:
        found = self._output(cap.output)
        if cap.condition is not None:
            self.expressions.condition(cap.condition, "the condition of a cap")
        if cap.reason is not None:
            self._check_reason(cap.reason)
        if found is None:
            self.expressions.infer(cap.limit)
            return
        type_, _ = found
        if not t.is_ordered(type_) and not isinstance(type_, t.Unknown):
            self._error("E413", f"a cap bounds a number, money or a date, but output "
                                f"`{cap.output.name}` is {type_.describe()}", cap.output.span)
            self.expressions.infer(cap.limit)
            return
        self.expressions.expect_assignable(cap.limit, type_, f"the bound of output `{cap.output.name}`")

    def _check_offer(self, offer: ast.OfferDecl) -> None:
        if offer.partner is not None and offer.requires is None:
            self._error("E502", f"offer `{offer.name.name}` shares data with partner "
                                f"\"{offer.partner}\" but has no `requires` condition",
                        offer.name.span,
                        help='add e.g. `requires "share_with_partner" in customer.consents '
                             'else reason X01`')
        if offer.requires is not None:
            self.expressions.condition(offer.requires, f"the `requires` of offer `{offer.name.name}`")
        if offer.else_reason is not None:
            self._check_reason(offer.else_reason)

    def _check_budget(self, budget: ast.BudgetDecl) -> None:
        total = self.expressions.infer(budget.total)
        if not t.is_numeric(total) and not isinstance(total, t.Unknown):
            self._error("E401", f"a budget's total must be a number or money, not "
                                f"{total.describe()}", budget.total.span)
        else:
            self.expressions.expect_assignable(budget.limit, total, "the budget's total")
        if budget.among is not None:
            self.expressions.condition(budget.among, "the `among` condition of a budget")
        if budget.rank_by is not None:
            rank = self.expressions.infer(budget.rank_by)
            if not t.is_ordered(rank) and not isinstance(rank, t.Unknown):
                self._error("E413", f"`rank by` needs a number or a date, not {rank.describe()}",
                            budget.rank_by.span)
        for action in budget.otherwise:
            if isinstance(action, ast.AddAction | ast.OfferAction):
                self._error("E415", "a budget's `else` can set outputs and give a reason, "
                                    "not add to a list or make an offer", action.span)
                continue
            self._check_action(action)

    def _check_property(self, declaration: ast.PropertyDecl) -> None:
        """A property reads what rules read, and also the decision's `reasons` and `offers` and,
        through `baseline.`, another ruleset's decision typed as this ruleset's own outputs."""
        saved = self.expressions.swap_scopes([property_scope()])
        try:
            what = f"property `{declaration.name.name}`"
            if declaration.condition is not None:
                self.expressions.condition(declaration.condition, f"the `when` of {what}")
            self.expressions.condition(declaration.claim, f"the `expect` of {what}")
        finally:
            self.expressions.swap_scopes(saved)

    # -- tables

    def _check_table(self, table: ast.TableDecl) -> t.Type:
        name = table.name.name
        if table.result_column is not None and not (
                isinstance(table.result_column, ast.Name) and table.result_column.name == name):
            self._error("E410", f"the last column of table `{name}` must be `{name}`",
                        table.result_column.span,
                        help="the header names the input columns, then the table itself; a "
                             "table with several results names them after `||`")
        inputs = [self.expressions.infer(column) for column in table.inputs]
        for row in table.rows:
            if len(row.cells) != len(inputs):
                self._error("E408", f"this row has {len(row.cells)} input cell"
                                    f"{'s' if len(row.cells) != 1 else ''} but table `{name}` "
                                    f"has {len(inputs)} input column{'s' if len(inputs) != 1 else ''}",
                            row.span, help="use `-` for a column that any value matches")
            for cell, column, column_type in zip(row.cells, table.inputs, inputs, strict=False):
                self._check_cell(cell, column, column_type)
        policy = table.policy.name if table.policy is not None else "unique"
        if table.results:
            result = self._check_results(table, policy)
        else:
            declared = self.symbols.resolve_type(table.type) if table.type is not None else None
            result = declared if declared is not None else self._infer_table_result(table)
            for row in table.rows if declared is not None else ():
                self.expressions.expect_assignable(row.result, declared, f"table `{name}`")
            # `count` counts the matching rows, whatever their results.
            problem = None if policy == "count" else _policy_problem(
                policy, t.ListOf(result) if policy in COLLECTING else result)
            if problem is not None and table.policy is not None:
                self._error("E407", f"`hit {policy}` {problem}, but table `{name}` gives "
                                    f"{result.describe()}", table.policy.span,
                            help="declare the result type, e.g. `table NAME: one of \"a\", "
                                 "\"b\"`" if declared is None else None)
        value = t.INTEGER if policy == "count" else (
            t.ListOf(result) if policy in COLLECTING else result)
        if isinstance(table.otherwise, ast.RecordLiteral) and table.results and value == result:
            self._check_record_value(table.otherwise, table, f"the `otherwise` value of table "
                                                            f"`{name}`")
        elif table.otherwise is not None:
            self.expressions.expect_assignable(table.otherwise, value,
                                               f"the `otherwise` value of table `{name}`")
        return value

    def _check_results(self, table: ast.TableDecl, policy: str) -> t.Type:
        """A table with several result columns: its record type, declared or inferred from the
        columns' cells, and the policies that fit whole rows (LANGUAGE.md §9)."""
        name = table.name.name
        columns = [column.name for column in table.results]
        declared = self.symbols.resolve_type(table.type) if table.type is not None else None
        if declared is not None and not isinstance(declared, t.Record | t.Unknown):
            self._error("E418", f"table `{name}` has {len(columns)} result columns, so its "
                                f"type is a record, not {declared.describe()}", table.type.span,
                        help="declare `type NAME … end` with a field a column, or leave the "
                             "type out to infer it from the cells")
            declared = t.UNKNOWN
        for index, column in enumerate(table.results):
            if column.name in columns[:index]:
                self._error("E418", f"table `{name}` has two result columns `{column.name}`",
                            column.span, help="name each result column once")
        if isinstance(declared, t.Record):
            fields = self.symbols.record_fields(declared.name)
            for column in table.results:
                if column.name not in fields:
                    self._error("E418", f"`{declared.name}` has no field `{column.name}`",
                                column.span, help=did_you_mean(column.name, fields)
                                or "the result columns are the fields of the table's type")
            for field_name, declaration in fields.items():
                if field_name not in columns and not declaration.optional:
                    self._error("E418", f"table `{name}` has no result column for the "
                                        f"required field `{field_name}` of `{declared.name}`",
                                table.type.span, help=f"add a column `{field_name}` after `||`, "
                                                      "or declare the field `optional`")
        else:
            self.symbols.table_records[name] = self._infer_columns(table)
        for row in table.rows if isinstance(declared, t.Record) else ():
            self._check_record_value(row.result, table, f"table `{name}`")
        result = declared if isinstance(declared, t.Record) else (
            t.Record(name) if declared is None else t.UNKNOWN)
        fields = self.symbols.field_types(result.name) if isinstance(result, t.Record) else {}
        ranked = [c for c in columns if isinstance(fields.get(c), t.Enum)]
        problem = None
        if policy in ("min", "max", "sum"):
            problem = "needs a single result column"
        elif policy in ("priority", "output order") and fields and not ranked:
            problem = "ranks rows by their `one of` result columns, and has none"
        if problem is not None:
            self._error("E407", f"`hit {policy}` {problem}, but table `{name}` has "
                                f"{len(columns)}", table.policy.span,
                        help="declare a `type` with a `one of` field for a result column"
                        if policy in ("priority", "output order") else
                        "give the table one result column, or use `collect`")
        return result

    def _infer_columns(self, table: ast.TableDecl) -> dict[str, t.Type]:
        """The type of each result column: its cells' types (and its `otherwise` value's)
        unified."""
        types: dict[str, t.Type] = {column.name: t.UNKNOWN for column in table.results}
        records = [row.result for row in table.rows]
        if isinstance(table.otherwise, ast.RecordLiteral):
            records.append(table.otherwise)
        for record in records:
            for entry in record.entries if isinstance(record, ast.RecordLiteral) else ():
                if entry.field.name not in types:
                    continue  # reported by ``_check_record_value``
                cell = self.expressions.infer(entry.value)
                unified = t.unify(types[entry.field.name], cell)
                if unified is None:
                    self._error("E401", f"column `{entry.field.name}` of table "
                                        f"`{table.name.name}` gives "
                                        f"{types[entry.field.name].describe()} in an earlier "
                                        f"row but {cell.describe()} here", entry.value.span,
                                help="declare the table's type: `type NAME … end`, then "
                                     "`table NAME: TYPE`")
                else:
                    types[entry.field.name] = unified
        return types

    def _check_record_value(self, record: ast.Expr, table: ast.TableDecl, what: str) -> None:
        """A row's results, or an `otherwise { … }`: each entry fits its result column."""
        result = table_result_type(self.symbols, table, "unique")
        types = self.symbols.field_types(result.name) if isinstance(result, t.Record) else {}
        for entry in record.entries if isinstance(record, ast.RecordLiteral) else ():
            column = entry.field.name
            if column not in {c.name for c in table.results}:
                self._error("E418", f"table `{table.name.name}` has no result column "
                                    f"`{column}`", entry.field.span,
                            help=did_you_mean(column, [c.name for c in table.results])
                            or "the entries of `otherwise { … }` are the result columns")
                self.expressions.infer(entry.value)
                continue
            if table.type is not None:  # an inferred column fits its cells by inference
                self.expressions.expect_assignable(entry.value, types.get(column, t.UNKNOWN),
                                                   f"column `{column}` of {what}")

    def _infer_table_result(self, table: ast.TableDecl) -> t.Type:
        result: t.Type = t.UNKNOWN
        for row in table.rows:
            row_type = self.expressions.infer(row.result)
            unified = t.unify(result, row_type)
            if unified is None:
                self._error("E401", f"table `{table.name.name}` gives {result.describe()} in an "
                                    f"earlier row but {row_type.describe()} here", row.result.span,
                            help="declare the result type, e.g. `table NAME: money`")
            else:
                result = unified
        return result

    def _check_cell(self, cell: ast.Cell, column: ast.Expr, column_type: t.Type) -> None:
        if isinstance(cell, (ast.AnyCell, ast.MissingCell)):
            return
        if isinstance(cell, ast.NotCell):
            self._check_cell(cell.cell, column, column_type)
            return
        if isinstance(cell, ast.Alternatives):
            for test in cell.tests:
                self._check_cell(test, column, column_type)
            return
        if isinstance(cell, ast.IntervalTest):
            operands, op = (cell.low, cell.high), "<"
            low, high = cell.low, cell.high
            if (isinstance(low, ast.Literal) and isinstance(high, ast.Literal)
                    and isinstance(low.value, Decimal) and isinstance(high.value, Decimal)
                    and (low.value > high.value or low.value == high.value
                         and not (cell.low_closed and cell.high_closed))):
                self._error("E417", "this interval contains no value", cell.span,
                            help="write the smaller bound first: `[700..760)` holds 700 up to "
                                 "760, without 760")
        elif isinstance(cell, ast.CompareTest):
            operands, op = (cell.value,), cell.op
        else:
            operands, op = (cell.value,), "="
        errors_before = len(self.diagnostics)
        for operand in operands:
            self.expressions.compare(operand, op, column, column_type, operand,
                                     self.expressions.infer(operand))
        # A cell's mistakes are reported as cell mistakes, so that the code says where to look.
        for index in range(errors_before, len(self.diagnostics)):
            diagnostic = self.diagnostics[index]
            if diagnostic.code in ("E401", "E402", "E413"):
                self.diagnostics[index] = Diagnostic(
                    "E409", diagnostic.severity, f"cell does not fit its column: "
                                                 f"{diagnostic.message}", diagnostic.span,
                    diagnostic.help)

    # -- dependencies

    def _dependency_graph(self) -> DependencyGraph:
        graph = DependencyGraph()
        names = self.expressions.names_resolved
        symbols = self.symbols

        def reads(node: Node, *roots: ast.Node | None) -> None:
            graph.add_node(node)
            for root in roots:
                if root is None:
                    continue
                for item in ast.walk(root):
                    reference = names.get(id(item))
                    if reference is not None and reference.kind != "facts":
                        graph.add_edge(node, (reference.kind, reference.name))

        for name, output in symbols.outputs.items():
            caps = [cap for cap in symbols.caps if cap.output.name == name]
            reads(("output", name), output.default, *(c.limit for c in caps),
                  *(c.condition for c in caps))
        if symbols.offers:
            reads(("output", OFFERS_OUTPUT), *(o.requires for o in symbols.offers.values()))
        for name, let in symbols.lets.items():
            reads(("let", name), let.value)
        for name, table in symbols.tables.items():
            reads(("table", name), *table.inputs, *table.rows, table.otherwise)
        for name, rule in symbols.rules.items():
            reads(("rule", name), rule.condition, *rule.actions)
            for action in rule.actions:
                target = _proposal_target(action)
                if target is not None and target in self.output_types:
                    graph.add_edge(("output", target), ("rule", name))
        return graph

    def _report_cycles(self, graph: DependencyGraph) -> None:
        for cycle in graph.cycles():
            # Start the cycle at a let, table or rule: the outputs sit between them.
            start = next((i for i, (kind, _) in enumerate(cycle) if kind != "output"), 0)
            cycle = cycle[start:-1] + cycle[:start] + [cycle[start]]
            shown = " → ".join(f"{kind} `{name}`" for kind, name in cycle)
            kind, name = cycle[0]
            self._error("E501", f"dependency cycle: {shown}", self._declaration_span(kind, name),
                        help="a value cannot depend on itself; a rule cannot read an output it "
                             "proposes to, directly or through lets and tables")

    def _declaration_span(self, kind: str, name: str) -> Span:
        table = {"let": self.symbols.lets, "table": self.symbols.tables,
                 "output": self.symbols.outputs, "rule": self.symbols.rules}[kind]
        declaration = table.get(name)
        if declaration is None:  # the implicit offers output: point at the first offer
            declaration = next(iter(self.symbols.offers.values()))
        return declaration.name.span

    # -- unused declarations

    def _report_unused(self) -> None:
        symbols = self.symbols
        read = {(r.kind, r.name) for r in self.expressions.names_resolved.values()}
        for kind, declarations in (("let", symbols.lets), ("table", symbols.tables)):
            for name, declaration in declarations.items():
                if (kind, name) not in read:
                    self._warn("W101", f"{kind} `{name}` is never used", declaration.name.span,
                               help="remove it, or use it in a rule")
        actions = [action for declaration in [*symbols.rules.values(), *symbols.budgets.values()]
                   for action in _actions_of(declaration)]
        given = {a.code.name for a in actions if isinstance(a, ast.ReasonAction)}
        given |= {d.reason.name for d in symbols.caps if d.reason is not None}
        given |= {o.else_reason.name for o in symbols.offers.values() if o.else_reason}
        for code, entry in symbols.reasons.items():
            if code not in given:
                self._warn("W102", f"reason code `{code}` is never given", entry.code.span,
                           help="give it with `reason CODE` in a rule, or remove it")
        made = {n.offer.name for r in symbols.rules.values() for n in r.actions
                if isinstance(n, ast.OfferAction)}
        for name, offer in symbols.offers.items():
            if name not in made:
                self._warn("W103", f"offer `{name}` is never made by a rule", offer.name.span,
                           help=f"make it with `offer {name}` in a rule's actions, or remove it")
        proposed = {_proposal_target(action) for action in actions}
        for name, output in symbols.outputs.items():
            # A default that reads values publishes them (a DMN decision's output, say).
            derived = output.default is not None and not isinstance(output.default, ast.Literal)
            if name not in proposed and not derived:
                self._warn("W104", f"no rule proposes a value for output `{name}`",
                           output.name.span, help="it always takes its default")

    def _warn(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.WARNING, message, span, help))


def _actions_of(declaration: ast.RuleDecl | ast.BudgetDecl) -> tuple[ast.Action, ...]:
    if isinstance(declaration, ast.RuleDecl):
        return declaration.actions
    return declaration.otherwise


def _proposal_target(node: ast.Node) -> str | None:
    if isinstance(node, (ast.SetAction, ast.AddAction)):
        return node.output.name
    if isinstance(node, ast.OfferAction):
        return OFFERS_OUTPUT
    return None


def _policy_problem(policy: str, type_: t.Type) -> str | None:
    """Why ``policy`` cannot combine values of ``type_`` (None when it can)."""
    if isinstance(type_, t.Unknown):
        return None
    element = type_.element if isinstance(type_, t.ListOf) else None
    if policy == "priority" and not isinstance(type_, t.Enum):
        return "needs a `one of` type"
    if policy in ("min", "max") and not t.is_ordered(type_):
        return "needs numbers, money or dates"
    if policy == "sum" and not t.is_numeric(type_):
        return "needs numbers or money"
    if policy == "count" and type_ not in (t.INTEGER, t.NUMBER):
        return "counts proposals into an integer"
    if policy == "collect" and element is None:
        return "needs a list or set"
    if policy == "output order" and not isinstance(element, t.Enum):
        return "needs a list of `one of` values"
    return None


def property_scope() -> dict[str, t.Type]:
    """The names that exist only inside properties (LANGUAGE.md §12)."""
    return {REASONS_NAME: t.ListOf(t.TEXT), OFFERS_OUTPUT: t.ListOf(t.Record(OFFER_RECORD)),
            BASELINE_NAME: t.Record(BASELINE_RECORD)}


def _baseline_record_type(symbols: Symbols) -> ast.TypeDecl:
    """`baseline.NAME` is typed as this ruleset's own output NAME (a baseline is a version of the
    same decision), and `baseline.reasons` and `baseline.offers` as this decision's."""
    def declared(name: str, type_expr: ast.TypeExpr) -> ast.FieldDecl:
        return ast.FieldDecl(ast.Ident(name), type_expr, True, None)

    fields = [declared(name, output.type) for name, output in symbols.outputs.items()]
    fields.append(declared(REASONS_NAME, ast.ListType(ast.PrimitiveType("text"))))
    fields.append(declared(OFFERS_OUTPUT, ast.ListType(ast.NamedType(ast.Ident(OFFER_RECORD)))))
    return ast.TypeDecl(ast.Ident(BASELINE_RECORD), "the baseline's decision", tuple(fields))


def _offer_record_type() -> ast.TypeDecl:
    """`offers` is a list of records {name, amount?, partner?}."""
    def declared(name: str, type_name: str, optional: bool) -> ast.FieldDecl:
        return ast.FieldDecl(ast.Ident(name), ast.PrimitiveType(type_name), optional, None)

    return ast.TypeDecl(ast.Ident(OFFER_RECORD), "an offer made by a rule", (
        declared("name", "text", False), declared("amount", "money", True),
        declared("partner", "text", True)))
