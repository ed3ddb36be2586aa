"""`tenet dmn import`: a DMN model becomes a Tenet ruleset, element by element.

Input data become facts (a structured input a facts block of its own, the others the fields of
a block `input`), item definitions types, decision tables tables, literal expressions lets, and
the top decisions (those no other decision requires) outputs. What Tenet cannot say exactly is
refused with the DMN element's id and the construct, and the rest still imports. The ruleset is
then checked: a declaration the checker rejects is refused too, with the checker's message, and
so is whatever needs it, until the ruleset checks without errors. It is written in `tenet fmt`'s
layout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from engine.check import types as t
from engine.check.checker import CheckedProgram
from engine.diagnostics import Severity
from engine.dmn import feel
from engine.dmn.feel import FeelError, Names, tenet_name
from engine.dmn.model import (
    Decision,
    DecisionTable,
    Invocation,
    ItemDefinition,
    Knowledge,
    LiteralExpression,
    Model,
)
from engine.pipeline import check_text
from engine.syntax import ast
from engine.syntax.formatter import cell_text, format_text
from engine.syntax.unparse import literal_text, unparse, unparse_closed

# Words of a name or of an item definition's name that say a FEEL number is an amount of money.
MONEY_WORDS = frozenset({
    "amount", "balance", "limit", "income", "salary", "payment", "price", "fee", "cost", "debt",
    "loan", "principal", "premium", "revenue", "expense", "turnover", "exposure", "money",
    "capital", "instalment", "installment", "rent", "spend", "spending", "deposit", "credit"})
# Words that say a number counts or measures something else, even beside a money word
# (`turnover_days`, `loan_count`, `income_ratio`).
COUNTING_WORDS = frozenset({"days", "months", "years", "count", "number", "ratio", "rate",
                            "score", "percent", "percentage", "age", "times", "share"})
_POLICIES = {"UNIQUE": "unique", "FIRST": "first", "PRIORITY": "priority", "ANY": "any",
             "COLLECT": "collect", "RULE ORDER": "collect", "OUTPUT ORDER": "output order"}
_AGGREGATIONS = {"SUM": "sum", "COUNT": "count", "MIN": "min", "MAX": "max"}
INPUT_BLOCK = "input"  # the facts block of the input data that are not structured


@dataclass
class Entry:
    """One line of the report: a DMN element, and what it became or why it was refused."""

    kind: str
    id: str
    name: str
    imported: bool
    detail: str


@dataclass
class Imported:
    name: str
    text: str  # the ruleset, in fmt's layout
    report: list[Entry]
    notes: list[str] = field(default_factory=list)  # choices made (money or number), warnings
    # Where each input data's value goes in the facts: (block,) or (block, field).
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # DMN component name -> field name

    @property
    def refused(self) -> list[Entry]:
        return [entry for entry in self.report if not entry.imported]

    def facts(self, values: dict[str, Any]) -> dict[str, Any]:
        """Facts for the ruleset from input data values named as in the model (a DMN test
        case's inputs: `{"Applicant": {"Monthly Income": 4000}, "Age": 30}`)."""
        facts: dict[str, Any] = {}
        for name, value in values.items():
            path = self.inputs.get(name)
            if path is None:
                raise KeyError(f"`{name}` is not an input data the ruleset has")
            converted = self._renamed(value)
            if len(path) == 1:
                facts[path[0]] = converted
            else:
                facts.setdefault(path[0], {})[path[1]] = converted
        return facts

    def _renamed(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.fields.get(key, tenet_name(key)): self._renamed(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self._renamed(item) for item in value]
        return value


@dataclass
class _Declaration:
    """A piece of the ruleset, from one DMN element; ``needs`` are the declarations (by
    Tenet name) it reads."""

    name: str
    text: str
    entry: Entry
    needs: set[str]
    is_output: bool = False  # a line of the `outputs` block


class _Refused(Exception):
    """An element that cannot be imported; the message says why."""


def import_model(model: Model, types: dict[str, str] | None = None) -> Imported:
    return _Importer(model, types or {}).run()


class _Importer:
    def __init__(self, model: Model, types: dict[str, str]) -> None:
        self.model = model
        self.chosen_types = types  # DMN name (or `Item.Component`) -> money, number or integer
        self.notes: list[str] = []
        self.report: list[Entry] = []
        self.declarations: list[_Declaration] = []
        self.records: dict[str, str] = {}  # item definition name -> Tenet type name
        self.building: set[str] = set()  # the item definitions being declared
        self.names = Names({}, {})
        self.value_names: dict[str, str] = {}  # decision id -> its table's or let's name
        self.item_uses: set[str] = set()  # item definitions read for another element's type
        self.inlined: dict[str, int] = {}  # how often each business knowledge model was inlined
        self.inlining = 0  # how deeply inlining is nested
        self._warnings: list = []  # the checker's warnings on the ruleset as imported
        # The block of the input data that are not structured, when there are some.
        self.reserved = {INPUT_BLOCK} if any(not self._structured(data.type_ref or "")
                                             for data in model.inputs.values()) else set()

    # -- the pass

    def run(self) -> Imported:
        self._input_data()
        self._knowledge()
        required = {r for d in self.model.decisions.values() for r in d.required_decisions}
        for decision in self._in_order():
            self._decision(decision, is_top=decision.id not in required)
        for other in self.model.others:
            self._other(other)
        for knowledge in self.model.knowledge.values():
            if knowledge.other is not None or knowledge.body is None:
                self._refuse("businessKnowledgeModel", knowledge.id, knowledge.name,
                             self.names.refused[knowledge.name])
            else:
                uses = self.inlined.get(knowledge.name, 0)
                self.report.append(Entry(
                    "businessKnowledgeModel", knowledge.id, knowledge.name, True,
                    f"inlined where it is invoked ({uses} time{'s' if uses != 1 else ''})"
                    if uses else "no imported decision invokes it: left out"))
        for item in self.model.items.values():
            if item.name not in self.records:
                self.report.append(Entry(
                    "itemDefinition", item.id, item.name, True,
                    "the type of the elements that use it" if item.name in self.item_uses
                    else "no imported element uses it: left out"))
        text = self._checked()
        inputs = {name: (_root(expr),) if isinstance(expr, ast.Name) else (
            _root(expr), expr.field.name) for name, expr in self.names.variables.items()
            if name in {data.name for data in self.model.inputs.values()}}
        return Imported(tenet_name(self.model.name), text, self.report, self.notes, inputs,
                        dict(self.names.fields))

    def _refuse(self, kind: str, id_: str, name: str, why: str) -> None:
        self.report.append(Entry(kind, id_, name, False, why))

    # -- types

    def _record(self, item: ItemDefinition, path: str) -> str:
        """Declare the type of a structured item definition; its name."""
        if item.name in self.records:
            return self.records[item.name]
        if item.name in self.building:
            raise _Refused(f"`{path}` is of the type `{item.name}` it is part of: Tenet's "
                           "records do not nest themselves")
        self.building.add(item.name)
        try:
            name = self._unique(tenet_name(item.name))
            fields = []
            for component in item.components:
                self.names.fields[component.name] = tenet_name(component.name)
                type_ = self._component_type(component, f"{path}.{component.name}")
                fields.append(f"  {tenet_name(component.name)}: {type_} optional")
        finally:
            self.building.discard(item.name)
        self.records[item.name] = name
        text = f"type {name}\n" + "\n".join(fields) + "\nend"
        entry = Entry("itemDefinition", item.id, item.name, True, f"type `{name}`")
        self.declarations.append(_Declaration(name, text, entry, set()))
        self.report.append(entry)
        return name

    def _component_type(self, item: ItemDefinition, path: str) -> str:
        if item.components:
            nested = ItemDefinition(item.id, path.replace(".", " "), None, None, False,
                                    item.components)
            type_ = self._record(nested, path)
        else:
            type_ = self._type(item.type_ref, item.allowed, path)
        return f"list of {type_}" if item.is_collection else type_

    def _type(self, type_ref: str | None, allowed: str | None, path: str,
              item_name: str | None = None) -> str:
        """The Tenet type of a FEEL type reference at ``path`` (`Applicant.Income`);
        ``item_name``, the item definition it was reached through, may say money."""
        if type_ref is None:
            raise _Refused(f"`{path}` has no type (typeRef)")
        base = type_ref.split(":", 1)[-1].strip()
        item = self.model.items.get(type_ref) or self.model.items.get(base)
        if item is not None:
            self.item_uses.add(item.name)
            if item.components:
                type_ = self._record(item, path)
            else:
                type_ = self._type(item.type_ref, allowed or item.allowed, path, item.name)
            return f"list of {type_}" if item.is_collection else type_
        lowered = base.lower()
        if lowered == "string":
            values = _allowed_texts(allowed)
            return "one of " + ", ".join(literal_text(v) for v in values) if values else "text"
        if lowered in ("boolean", "date"):
            return lowered
        if lowered in ("integer", "long", "int"):  # Camunda 7's Java type names
            return "integer"
        if lowered in ("number", "double", "float", "decimal"):
            return self._numeric(path, item_name)
        raise _Refused(f"`{path}` is of the FEEL type `{type_ref}`, which Tenet has no type for")

    def _numeric(self, path: str, item_name: str | None) -> str:
        """Money, integer or number for a FEEL number: as the types file says, else as its
        item definition's name says (`money`, `integer`, or a money word), else as its own
        name says, else number."""
        element = path.rsplit(".", 1)[-1]
        chosen = self.chosen_types.get(path) or self.chosen_types.get(element)
        if chosen is not None:
            self.notes.append(f"`{path}`: {chosen}, as the types file says")
            return chosen
        if item_name is not None and item_name.strip().lower() in ("money", "integer"):
            return item_name.strip().lower()  # as `tenet dmn export` writes them
        for text, whose in ((item_name, "its item definition's name"), (element, "its name")):
            words = tenet_name(text).split("_") if text else []
            money = [w for w in words if w in MONEY_WORDS or w.endswith("s")
                     and w[:-1] in MONEY_WORDS]
            if money and not any(w in COUNTING_WORDS for w in words):
                self.notes.append(f"`{path}`: money, as {whose} says (`{money[0]}`); a types "
                                  "file can say otherwise")
                return "money"
        return "number"

    def _unique(self, name: str) -> str:
        taken = {d.name for d in self.declarations} | self.reserved
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name}_{number}", number + 1
        return candidate

    # -- input data

    def _input_data(self) -> None:
        fields = []
        for data in self.model.inputs.values():
            type_ref = data.type_ref or self._type_from_tables(data.name)
            item = self.model.items.get(type_ref or "")
            try:
                if self._structured(type_ref or ""):
                    self.item_uses.add(item.name)
                    block = self._unique(tenet_name(data.name))
                    for component in item.components:
                        self.names.fields[component.name] = tenet_name(component.name)
                    lines = [f"  {tenet_name(c.name)}: "
                             f"{self._component_type(c, f'{data.name}.{c.name}')} optional"
                             for c in item.components]
                    entry = Entry("inputData", data.id, data.name, True, f"facts `{block}`")
                    text = f"facts {block}{_label(data.label or data.name)}\n" + "\n".join(
                        lines) + "\nend"
                    self.declarations.append(_Declaration(block, text, entry, set()))
                    self.names.variables[data.name] = ast.Name(block)
                else:
                    field_name = tenet_name(data.name)
                    taken = {line.split(":")[0].strip() for line in fields}
                    base, number = field_name, 2
                    while field_name in taken:  # `Age` and `age` are two input data
                        field_name, number = f"{base}_{number}", number + 1
                    type_ = self._type(type_ref, None, data.name)
                    fields.append(f"  {field_name}: {type_} optional"
                                  f"{_label(data.label or data.name)}")
                    entry = Entry("inputData", data.id, data.name, True,
                                  f"field `{INPUT_BLOCK}.{field_name}`")
                    self.names.variables[data.name] = ast.FieldAccess(
                        ast.Name(INPUT_BLOCK), ast.Ident(field_name))
                self.report.append(entry)
            except _Refused as why:
                self._refuse("inputData", data.id, data.name, str(why))
        if fields:
            entry = Entry("inputData", "", INPUT_BLOCK, True, "facts block of the input data")
            text = f"facts {INPUT_BLOCK} \"The input data\"\n" + "\n".join(fields) + "\nend"
            self.declarations.insert(0, _Declaration(INPUT_BLOCK, text, entry, set()))

    def _structured(self, type_ref: str) -> bool:
        item = self.model.items.get(type_ref)
        return item is not None and bool(item.components) and not item.is_collection

    def _type_from_tables(self, name: str) -> str | None:
        """An input data without a type: the type of a table input that reads it alone."""
        for decision in self.model.decisions.values():
            if isinstance(decision.expression, DecisionTable):
                for clause in decision.expression.inputs:
                    if clause.text.strip() == name and clause.type_ref:
                        return clause.type_ref
        return None

    # -- decisions

    def _in_order(self) -> list[Decision]:
        """Decisions with the ones they require first (DMN's requirement graph has no cycle;
        a model with one keeps its file order for the rest)."""
        placed: dict[str, Decision] = {}

        def place(decision: Decision, seen: frozenset[str]) -> None:
            if decision.id in placed or decision.id in seen:
                return
            for required in decision.required_decisions:
                if required in self.model.decisions:
                    place(self.model.decisions[required], seen | {decision.id})
            placed[decision.id] = decision

        for decision in self.model.decisions.values():
            place(decision, frozenset())
        return list(placed.values())

    def _decision(self, decision: Decision, is_top: bool) -> None:
        kind = "decisionTable" if isinstance(decision.expression, DecisionTable) else "decision"
        try:
            missing = [self._describe_requirement(r) for r in decision.required_decisions
                       if r not in self.value_names] + [
                self._describe_requirement(r) for r in decision.required_inputs
                if r in self.model.inputs and self.model.inputs[r].name
                not in self.names.variables]
            if missing:
                raise _Refused(f"it requires {', '.join(missing)}, which was not imported")
            if decision.language is not None:
                raise _Refused(f"its expressions are in `{decision.language}`; only FEEL is "
                               "read")
            if decision.expression is None:
                raise _Refused(f"its logic is a boxed {decision.other} (element "
                               f"`{decision.other_id}`), which Tenet has no form for"
                               if decision.other else "it has no decision logic")
            base = tenet_name(decision.name)
            tabled = isinstance(decision.expression, DecisionTable) or isinstance(
                decision.expression, Invocation) and isinstance(self._body(decision), DecisionTable)
            suffix = "_table" if tabled else "_value"
            name = self._unique(base + suffix if is_top else base)
            if isinstance(decision.expression, DecisionTable):
                text, type_ = self._table(decision, decision.expression, name)
                what = f"table `{name}`"
            elif isinstance(decision.expression, Invocation):
                text, type_, what = self._invoked(decision, decision.expression, name)
            else:
                text, type_ = self._let(decision, decision.expression, name)
                what = f"let `{name}`"
        except (_Refused, FeelError) as why:
            self._refuse(kind, decision.id, decision.name, str(why))
            return
        needs = {self.value_names[r] for r in decision.required_decisions} | {
            _root(self.names.variables[self.model.inputs[r].name])
            for r in decision.required_inputs if r in self.model.inputs}
        if decision.description:
            text = "".join(f"# {line}\n" for line in _lines(decision.description)) + text
        if is_top:
            output = self._unique(base)
            what += f", and output `{output}`"
        entry = Entry(kind, decision.id, decision.name, True, what)
        self.declarations.append(_Declaration(name, text, entry, needs))
        if is_top:
            self.declarations.append(_Declaration(
                output, f"  {output}: {type_ or '?'} default {name}", entry, {name}, True))
        self.report.append(entry)
        self.value_names[decision.id] = name
        self.names.variables[decision.name] = ast.Name(name)

    def _body(self, decision: Decision) -> DecisionTable | LiteralExpression | None:
        """The body of the business knowledge model a decision invokes."""
        function = decision.expression.function.strip() if isinstance(
            decision.expression, Invocation) else None
        return next((k.body for k in self.model.knowledge.values() if k.name == function), None)

    def _describe_requirement(self, id_: str) -> str:
        found = self.model.decisions.get(id_) or self.model.inputs.get(id_)
        return f"`{found.name}` (`{id_}`)" if found is not None else f"`{id_}`"

    def _let(self, decision: Decision, expression: LiteralExpression, name: str,
             value: ast.Expr | None = None) -> tuple[str, str | None]:
        """A literal expression as a let (``value``: the expression already read)."""
        if value is None:
            value = feel.expression(expression.text, self.names)
        type_ = (self._type(decision.type_ref, None, decision.name)
                 if decision.type_ref else None)
        annotation = f": {type_}" if type_ else ""
        return f"let {name}{annotation} = {unparse(value)}", type_

    def _table(self, decision: Decision, table: DecisionTable,
               name: str) -> tuple[str, str | None]:
        policy = _POLICIES.get(table.hit_policy.upper())
        if policy is None:
            raise _Refused(f"the hit policy `{table.hit_policy}` of decision table "
                           f"`{table.id}`")
        if table.aggregation:
            if policy != "collect" or table.aggregation.upper() not in _AGGREGATIONS:
                raise _Refused(f"the aggregation `{table.aggregation}` of decision table "
                               f"`{table.id}`")
            policy = _AGGREGATIONS[table.aggregation.upper()]
        if not table.outputs:
            raise _Refused(f"decision table `{table.id}` has no output")
        inputs = [unparse_closed(_read(feel.expression, clause.text, self.names,
                                       f"input `{clause.id}`")) for clause in table.inputs]
        several = len(table.outputs) > 1
        columns = [tenet_name(clause.name or f"output {i + 1}")
                   for i, clause in enumerate(table.outputs)]
        types = [self._output_type(decision, clause, several) for clause in table.outputs]
        rows = []
        for rule in table.rules:
            if len(rule.inputs) != len(inputs) or len(rule.outputs) != len(columns):
                raise _Refused(f"rule `{rule.id}` of decision table `{table.id}` has "
                               f"{len(rule.inputs)} input and {len(rule.outputs)} output "
                               f"entries, for {len(inputs)} inputs and {len(columns)} outputs")
            cells = [cell_text(_read(feel.unary_tests, entry, self.names,
                                     f"rule `{rule.id}`, input entry {number}"))
                     for number, entry in enumerate(rule.inputs, start=1)]
            results = [unparse_closed(_read(feel.expression, entry, self.names,
                                            f"rule `{rule.id}`, output entry {number}"))
                       for number, entry in enumerate(rule.outputs, start=1)]
            note = "  # " + " — ".join(" ".join(_lines(n)) for n in rule.notes) if rule.notes \
                else ""
            bar = " || " if several else " | "
            rows.append("  | " + " | ".join(cells) + (bar if cells else "| ")
                        + " | ".join(results) + " |" + note)
        if not inputs:
            raise _Refused(f"decision table `{table.id}` has no input")
        defaults = [(column, clause.default) for column, clause in zip(columns, table.outputs,
                                                                       strict=True)
                    if clause.default]
        declared, record = self._table_type(decision, table, columns, types, several, name)
        if policy in ("priority", "output order") and not (
                several or (declared or "").startswith("one of")):
            raise _Refused(f"`{table.hit_policy}` ranks by the output's allowed values, and "
                           f"decision table `{table.id}` lists none (outputValues)")
        header = f"table {name}" + (f": {declared}" if declared else "") + (
            f" hit {policy}" if policy != "unique" else "")
        lines = [header, "  | " + " | ".join(inputs) + (" || " if several else " | ")
                 + " | ".join(columns if several else [name]) + " |", *rows]
        if defaults and policy not in ("collect", "output order", "count"):
            values = [(column, unparse(_read(feel.expression, text, self.names,
                                             f"the default output entry of `{column}`")))
                      for column, text in defaults]
            lines.append("  otherwise " + ("{ " + ", ".join(f"{c}: {v}" for c, v in values)
                                           + " }" if several else values[0][1]))
        lines.append("end")
        value_type = record or declared
        if policy == "count":
            value_type = "integer"
        elif policy in ("collect", "output order") and value_type:
            value_type = f"list of {value_type}"
        return "\n".join(lines), value_type

    def _output_type(self, decision: Decision, clause, several: bool) -> str | None:
        type_ref = clause.type_ref or (None if several else decision.type_ref)
        item = self.model.items.get(type_ref or "")
        if type_ref is None or item is not None and item.is_collection:
            type_ref = clause.type_ref
        if type_ref is None:
            values = _allowed_texts(clause.values)
            return "one of " + ", ".join(literal_text(v) for v in values) if values else None
        column = clause.name or decision.name
        return self._type(type_ref, clause.values,
                          f"{decision.name}.{column}" if several else decision.name)

    def _table_type(self, decision: Decision, table: DecisionTable, columns: list[str],
                    types: list[str | None], several: bool,
                    name: str) -> tuple[str | None, str | None]:
        """The type a table declares, and for several outputs the record type it names."""
        if not several:
            return types[0], None
        item = self.model.items.get(decision.type_ref or "")
        if item is not None and not item.is_collection and [
                tenet_name(c.name) for c in item.components] == columns:
            self.item_uses.add(item.name)
            record = self._record(item, item.name)
            return record, record
        if any(type_ is None for type_ in types):
            return None, None  # inferred from the cells
        record = self._unique(f"{name}_row")
        fields = "\n".join(f"  {column}: {type_}" for column, type_ in zip(columns, types,
                                                                            strict=True))
        text = f"type {record} \"The outputs of decision `{decision.name}`\"\n{fields}\nend"
        entry = Entry("decisionTable", table.id, decision.name, True, f"type `{record}`")
        self.declarations.append(_Declaration(record, text, entry, set()))
        return record, record

    # -- business knowledge models

    def _knowledge(self) -> None:
        """Business knowledge models whose body is a literal expression are inlined where a
        FEEL expression calls them; those whose body is a decision table, where a boxed
        invocation calls them. Any other is refused, and so is what invokes it."""
        for knowledge in self.model.knowledge.values():
            if knowledge.other is not None:
                self.names.refused[knowledge.name] = (
                    f"a business knowledge model whose logic is a {knowledge.other}, which "
                    "Tenet has no form for")
            elif knowledge.body is None:
                self.names.refused[knowledge.name] = "a business knowledge model without logic"
            elif isinstance(knowledge.body, LiteralExpression):
                self.names.functions[knowledge.name] = partial(self._inline, knowledge)
            else:
                self.names.refused[knowledge.name] = (
                    "a business knowledge model whose logic is a decision table, which a FEEL "
                    "expression cannot inline (a boxed invocation can)")

    def _inline(self, knowledge: Knowledge, arguments: list[ast.Expr]) -> ast.Expr:
        """A call of a business knowledge model: its literal body with its parameters bound."""
        if len(arguments) != len(knowledge.parameters):
            raise FeelError(f"`{knowledge.name}` invoked with {len(arguments)} arguments for "
                            f"its {len(knowledge.parameters)} parameters")
        if self.inlining > 20:
            raise FeelError(f"`{knowledge.name}` invokes itself")
        self.inlining += 1
        try:
            body = knowledge.body.text if isinstance(knowledge.body, LiteralExpression) else ""
            value = feel.expression(body, self.names.bound(
                dict(zip(knowledge.parameters, arguments, strict=True))))
        finally:
            self.inlining -= 1
        self.inlined[knowledge.name] = self.inlined.get(knowledge.name, 0) + 1
        return value

    def _invoked(self, decision: Decision, invocation: Invocation,
                 name: str) -> tuple[str, str | None, str]:
        """A decision whose logic is a boxed invocation of a business knowledge model: a let of
        its literal body, or a table of its decision table, the parameters bound."""
        knowledge = next((k for k in self.model.knowledge.values()
                          if k.name == invocation.function.strip()), None)
        if knowledge is None:
            raise _Refused(f"it invokes `{invocation.function}`, which is not a business "
                           "knowledge model of this model")
        if knowledge.other is not None or knowledge.body is None:
            raise _Refused(f"it invokes `{knowledge.name}`, {self.names.refused[knowledge.name]}")
        given = dict(invocation.bindings)
        arguments = {}
        for parameter in knowledge.parameters:
            text = given.get(parameter)
            if text is None:
                raise _Refused(f"invocation `{invocation.id}` binds no expression to "
                               f"`{parameter}` of `{knowledge.name}`")
            arguments[parameter] = feel.expression(text, self.names)
        if isinstance(knowledge.body, LiteralExpression):
            text, type_ = self._let(decision, LiteralExpression(knowledge.body.id, ""), name,
                                    feel.expression(knowledge.body.text,
                                                    self.names.bound(arguments)))
            what = f"let `{name}`"
        else:
            outer, self.names = self.names, self.names.bound(arguments)
            try:
                text, type_ = self._table(decision, knowledge.body, name)
            finally:
                self.names = outer
            what = f"table `{name}`"
        self.inlined[knowledge.name] = self.inlined.get(knowledge.name, 0) + 1
        return text, type_, f"{what} (the logic of `{knowledge.name}`, inlined)"

    # -- everything else

    def _other(self, element) -> None:
        if element.kind == "textAnnotation":
            comment = "".join(f"# {line}\n" for line in _lines(element.text or ""))
            # Above the decision an association links it to, else at the top.
            linked = {other.target for other in self.model.others
                      if other.kind == "association" and other.source == element.id} | {
                other.source for other in self.model.others
                if other.kind == "association" and other.target == element.id}
            target = next((d for d in self.declarations if not d.is_output and d.name in {
                self.value_names.get(id_) for id_ in linked}), None)
            if target is not None:
                target.text = comment + target.text
                self.report.append(Entry(element.kind, element.id, element.name, True,
                                         f"a comment above `{target.name}`"))
                return
            self.declarations.insert(0, _Declaration(
                "", comment.rstrip("\n"),
                Entry(element.kind, element.id, element.name, True, "a comment"), set()))
            self.report.append(self.declarations[0].entry)
        elif element.kind in ("association", "knowledgeSource", "group"):
            what = {"association": "an association", "knowledgeSource": "a knowledge source",
                    "group": "a group"}[element.kind]
            self.report.append(Entry(element.kind, element.id, element.name, True,
                                     f"left out: {what} documents the model and decides "
                                     "nothing"))
        elif element.kind == "decisionService":
            self.report.append(Entry(element.kind, element.id, element.name, True,
                                     "left out: the ruleset decides every decision; a service's "
                                     "outputs are among them"))
        elif element.kind == "import":
            self._refuse(element.kind, element.id, element.name,
                         "an import of another model: import that model's file as well")
        else:  # performance indicators, organisation units, …
            self.report.append(Entry(element.kind, element.id, element.name, True,
                                     f"left out: a {element.kind} decides nothing"))

    # -- the checked ruleset

    def _checked(self) -> str:
        """The ruleset without the declarations the checker rejects (nor those needing them),
        in fmt's layout. Outputs of decisions without a type get the one the checker infers
        for their table or let, once the rest checks."""
        header = (f"ruleset {tenet_name(self.model.name)}"
                  f"{_label(self.model.label or self.model.name)}\n\n"
                  f"# Imported from the DMN {self.model.version} model "
                  f"{literal_text(self.model.label or self.model.name)} by `tenet dmn "
                  "import`.\n")
        pending = [d for d in self.declarations if d.is_output and "?" in d.text]
        self.declarations = [d for d in self.declarations if d not in pending]
        text, program = self._until_clean(header)
        if pending:
            for declaration in pending:
                (source,) = declaration.needs
                type_ = _value_type(program, source) if source in {
                    d.name for d in self.declarations} else None
                if type_ is not None:
                    declaration.text = declaration.text.replace("?", type_, 1)
                    self.declarations.append(declaration)
                elif declaration.entry.imported:
                    declaration.entry.detail += (" (no output: its type cannot be told from the "
                                                 "model; give the decision a typeRef)")
            text, program = self._until_clean(header)
        self.notes += [f"{d.code} at line {d.span.line}: {d.message}"
                       for d in self._warnings]
        return format_text(text, f"{tenet_name(self.model.name)}.rules")

    def _until_clean(self, header: str) -> tuple[str, CheckedProgram]:
        """The text of the declarations once every one the checker rejects is dropped."""
        for _ in range(len(self.declarations) + 1):
            text, spans = _assemble(header, self.declarations)
            result = check_text(text, f"{tenet_name(self.model.name)}.rules")
            errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
            if not errors:
                self._warnings = result.diagnostics
                return text, result.program
            error = errors[0]
            culprit = next((d for d, (first, last) in zip(self.declarations, spans, strict=True)
                            if first <= error.span.line <= last), None)
            if culprit is None:
                raise RuntimeError(f"the imported ruleset does not check: {error.message}")
            self._drop(culprit, f"{error.code}: {error.message}"
                       + (f" ({error.help})" if error.help else ""))
        raise RuntimeError("the imported ruleset does not check")

    def _drop(self, culprit: _Declaration, why: str) -> None:
        gone = {culprit.name}
        changed = True
        while changed:
            changed = False
            for declaration in self.declarations:
                if declaration.name not in gone and declaration.needs & gone:
                    gone.add(declaration.name)
                    changed = True
        for declaration in self.declarations:
            if declaration.name in gone and declaration.entry.imported:
                declaration.entry.imported = False
                declaration.entry.detail = (
                    f"the checker refused it: {why}" if declaration is culprit or
                    declaration.entry is culprit.entry else
                    f"it needs `{culprit.entry.name}`, which was refused")
        self.declarations = [d for d in self.declarations if d.name not in gone]


def _read(reader, text: str, names: Names, where: str):
    """``reader`` (an expression's or a cell's) of ``text``; what it refuses says where."""
    try:
        return reader(text, names)
    except FeelError as why:
        raise FeelError(f"{where}: {why}") from None


def _value_type(program: CheckedProgram, name: str) -> str | None:
    """The type of a let or table as the checker inferred it, written as Tenet writes types."""
    found = program.value_types.get(("let", name)) or program.value_types.get(("table", name))
    return _type_words(found)


def _type_words(type_: t.Type | None) -> str | None:
    if isinstance(type_, t.Scalar):
        return "number" if type_ == t.NUMERAL else type_.name
    if isinstance(type_, t.Enum):
        return "one of " + ", ".join(literal_text(v) for v in type_.values)
    if isinstance(type_, t.ListOf):
        element = _type_words(type_.element)
        return element and f"list of {element}"
    if isinstance(type_, t.Record):
        return type_.name
    return None


def _assemble(header: str, declarations: list[_Declaration]) -> tuple[str, list[tuple[int, int]]]:
    """The ruleset's text, the outputs in one block at the end, and each declaration's first
    and last line in it."""
    lines = header.splitlines()
    spans: dict[int, tuple[int, int]] = {}
    for index, declaration in enumerate(declarations):
        if not declaration.is_output:
            lines.append("")
            first = len(lines) + 1
            lines += declaration.text.splitlines()
            spans[index] = (first, len(lines))
    outputs = [(i, d) for i, d in enumerate(declarations) if d.is_output]
    if outputs:
        lines += ["", "outputs"]
        for index, declaration in outputs:
            lines.append(declaration.text)
            spans[index] = (len(lines), len(lines))
        lines.append("end")
    return "\n".join(lines) + "\n", [spans[index] for index in range(len(declarations))]


def _root(expr: ast.Expr) -> str:
    while isinstance(expr, ast.FieldAccess):
        expr = expr.target
    return expr.name if isinstance(expr, ast.Name) else ""


def _allowed_texts(allowed: str | None) -> list[str]:
    """The texts of an allowed-values list `"a", "b"` (none when it is anything else)."""
    if not allowed:
        return []
    try:
        cell = feel.unary_tests(allowed, Names({}, {}))
    except FeelError:
        return []
    tests = cell.tests if isinstance(cell, ast.Alternatives) else (cell,)
    values = [test.value.value for test in tests if isinstance(test, ast.EqualsTest)
              and isinstance(test.value, ast.Literal) and isinstance(test.value.value, str)]
    return values if len(values) == len(tests) else []


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _label(text: str) -> str:
    return " " + literal_text(" ".join(_lines(text))) if text else ""


def read_types(path: Path) -> dict[str, str]:
    """A types file: `{"Monthly Income": "money", "Applicant.Age": "integer", …}`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and v in ("money", "number", "integer") for k, v in data.items()):
        raise ValueError("a types file maps DMN names (or `Item.Component`) to \"money\", "
                         "\"number\" or \"integer\"")
    return data

