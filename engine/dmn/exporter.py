"""`tenet dmn export`: a ruleset's tables, lets and outputs as a DMN 1.3 model.

Facts become input data (the fields of a block named `input` one input data each, as the importer
makes them; any other block one structured input data with an item definition), `type`
declarations item definitions, tables decision tables, lets literal-expression decisions, and
outputs whose value is their `default` top decisions. Rules, caps, offers, budgets and reason
codes have no DMN form: ``Exported.left_out`` names each. The file is validated against the DMN 1.3
schema before it is returned.
"""

from __future__ import annotations

import datetime
import importlib.util
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path

from lxml import etree

from engine.check import types as t
from engine.check.checker import OFFER_RECORD, CheckedProgram
from engine.dmn.importer import INPUT_BLOCK
from engine.syntax import ast
from engine.syntax.unparse import unparse

NAMESPACE = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_POLICIES = {"unique": ("UNIQUE", None), "first": ("FIRST", None),
             "priority": ("PRIORITY", None), "any": ("ANY", None),
             "collect": ("COLLECT", None), "output order": ("OUTPUT ORDER", None),
             "sum": ("COLLECT", "SUM"), "min": ("COLLECT", "MIN"), "max": ("COLLECT", "MAX"),
             "count": ("COLLECT", "COUNT")}
_OPERATORS = {"and": "and", "or": "or", "=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">",
              ">=": ">=", "+": "+", "-": "-", "*": "*", "/": "/"}


class NoFeel(Exception):
    """A Tenet construct FEEL (as the importer reads it) cannot say; the message names it."""


@dataclass
class Exported:
    xml: bytes
    exported: list[str] = field(default_factory=list)  # what each declaration became
    left_out: list[str] = field(default_factory=list)  # what has no DMN form, and why


def schema_path() -> Path:
    """The DMN 1.3 XML schema, as SpiffWorkflow ships it (with the diagram schemas it
    imports); found without importing the package, which is used for nothing else."""
    spec = importlib.util.find_spec("SpiffWorkflow")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder / "dmn" / "parser" / "schema" / "DMN13.xsd"


def validate(xml: bytes) -> list[str]:
    """The schema's complaints about ``xml`` (none when it is valid DMN 1.3)."""
    schema = etree.XMLSchema(etree.parse(str(schema_path())))
    document = etree.fromstring(xml)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def export_program(program: CheckedProgram, name: str, label: str | None) -> Exported:
    return _Exporter(program, name, label).run()


class _Exporter:
    def __init__(self, program: CheckedProgram, name: str, label: str | None) -> None:
        self.program = program
        self.symbols = program.symbols
        self.result = Exported(b"")
        self.taken_ids: set[str] = set()
        self.taken_items: set[str] = {*program.symbols.types, "money", "integer"}
        self.root = etree.Element(f"{{{NAMESPACE}}}definitions", nsmap={None: NAMESPACE})
        self.root.set("id", self._id("definitions", name))
        self.root.set("name", name)
        self.root.set("namespace", f"https://tenet.rules/{name}")
        if label:
            self.root.set("label", label)
        self.ids: dict[tuple[str, str], str] = {}  # (kind, Tenet name) -> DMN element id
        # The fields of `input` are input data of their own (as the importer makes them),
        # unless one's name is taken (DMN names are one namespace): then `input` is a
        # structured input data like any other block.
        symbols = program.symbols
        taken = {*symbols.facts, *symbols.lets, *symbols.tables, *symbols.outputs}
        self.scalar_inputs = INPUT_BLOCK in symbols.facts and not any(
            f.name.name in taken for f in symbols.facts[INPUT_BLOCK].fields)
        self.decisions: list[tuple[etree._Element, set[str]]] = []

    def run(self) -> Exported:
        symbols = self.symbols
        self._left_out()
        for name in ("money", "integer"):
            item = _sub(self.root, "itemDefinition", id=self._id("item", name), name=name)
            _sub(item, "typeRef").text = "number"
        for name in symbols.types:
            if " " not in name and name != OFFER_RECORD:  # not the checker's own records
                self._item_definition(name)
        for block in symbols.facts:
            self._input_data(block)
        published = self._published()
        for name, let in symbols.lets.items():
            self._guarded("let", name, partial(self._let, name, let, published.get(name)))
        for name, table in symbols.tables.items():
            self._guarded("table", name,
                          partial(self._table, name, table, published.get(name)))
        proposed = self._proposed()
        for name, output in symbols.outputs.items():
            if output.default is not None and name not in published.values() \
                    and name not in proposed:
                self._guarded("output", name, partial(self._output_literal, name, output))
        self._without_dangling()
        for element, reads in self.decisions:
            self._requirements(element, reads)
        # The schema wants every item definition before the inputs and decisions.
        for item in reversed(self.root.findall(f"{{{NAMESPACE}}}itemDefinition")):
            self.root.remove(item)
            self.root.insert(0, item)
        self.result.xml = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                                         pretty_print=True)
        return self.result

    def _without_dangling(self) -> None:
        """Leave out the decisions that read a value left out (a let without FEEL, an output
        from rules), and then those that read them."""
        symbols = self.symbols
        values = {*symbols.lets, *symbols.tables, *symbols.outputs}
        exported = {name for kind, name in self.ids if kind == "value"}
        changed = True
        while changed:
            changed = False
            for element, reads in list(self.decisions):
                missing = sorted(name for name in reads & values if name not in exported)
                if missing:
                    self.decisions.remove((element, reads))
                    self.root.remove(element)
                    name = element.get("name")
                    exported -= {key for kind, key in self.ids
                                 if kind == "value" and self.ids[(kind, key)] == element.get("id")}
                    self.result.exported = [line for line in self.result.exported
                                            if f"as decision `{name}`" not in line]
                    self.result.left_out.append(f"decision `{name}`: it reads `{missing[0]}`, "
                                                "which has no DMN form")
                    changed = True

    def _id(self, kind: str, name: str) -> str:
        """A new element id (an XML NCName) from a kind and a Tenet name."""
        return self._fresh(f"{kind}_{name}".replace(".", "_"), self.taken_ids)

    def _item_name(self, name: str) -> str:
        """A new item definition name (types are referred to by name)."""
        return self._fresh(name, self.taken_items)

    @staticmethod
    def _fresh(base: str, taken: set[str]) -> str:
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        taken.add(candidate)
        return candidate

    def _guarded(self, kind: str, name: str, export) -> None:
        try:
            export()
        except NoFeel as why:
            self.result.left_out.append(f"{kind} `{name}`: {why}")

    def _left_out(self) -> None:
        symbols = self.symbols
        for kind, plural, names in (("rule", "rules", symbols.rules),
                                    ("offer", "offers", symbols.offers),
                                    ("budget", "budgets", symbols.budgets),
                                    ("property", "properties", symbols.properties)):
            for name in names:
                self.result.left_out.append(f"{kind} `{name}`: DMN has no {plural}")
        for name in self._proposed():
            if name in symbols.outputs:
                self.result.left_out.append(f"output `{name}`: its value comes from rules, "
                                            "which DMN has not")
        for cap in symbols.caps:
            self.result.left_out.append(f"cap on `{cap.output.name}`: DMN has no caps")
        if symbols.reasons:
            self.result.left_out.append("the reason codes: DMN has no reason codes")
        if symbols.examples:
            self.result.left_out.append(f"{len(symbols.examples)} examples: DMN models hold "
                                        "no test cases")

    def _proposed(self) -> list[str]:
        """The outputs that rules (or budgets) propose values to."""
        actions = [action for rule in self.symbols.rules.values() for action in rule.actions]
        actions += [action for budget in self.symbols.budgets.values()
                    for action in budget.otherwise]
        return list(dict.fromkeys(action.output.name for action in actions
                                  if isinstance(action, ast.SetAction | ast.AddAction)))

    def _published(self) -> dict[str, str]:
        """Tables and lets that are an output's whole value and read by nothing else: exported
        as the output's decision, under the output's name (as the importer makes them)."""
        symbols = self.symbols
        readers: dict[str, int] = {}
        # A table's header repeats its name: only its inputs, rows and `otherwise` read.
        parts = [part for table in symbols.tables.values()
                 for part in (*table.inputs, *table.rows, table.otherwise) if part is not None]
        for declaration in [*symbols.lets.values(), *parts, *symbols.rules.values(),
                            *symbols.caps, *symbols.budgets.values(), *symbols.outputs.values()]:
            for node in ast.walk(declaration):
                if isinstance(node, ast.Name):
                    readers[node.name] = readers.get(node.name, 0) + 1
        published = {}
        proposed = self._proposed()
        for name, output in symbols.outputs.items():
            default = output.default
            if (isinstance(default, ast.Name) and readers.get(default.name) == 1
                    and name not in proposed
                    and (default.name in symbols.tables or default.name in symbols.lets)):
                published[default.name] = name
        return published

    # -- types and inputs

    def _item_definition(self, name: str) -> None:
        item = _sub(self.root, "itemDefinition", id=self._id("item", name), name=name)
        for field_decl in self.symbols.types[name].fields:
            self._component(item, name, field_decl.name.name,
                            self.symbols.resolve_type(field_decl.type))

    def _component(self, parent: etree._Element, owner: str, name: str, type_: t.Type) -> None:
        component = _sub(parent, "itemComponent", id=self._id("component", f"{owner}_{name}"),
                         name=name)
        self._type_into(component, type_)

    def _type_into(self, item: etree._Element, type_: t.Type) -> None:
        """An item definition's or component's type: typeRef, allowed values, collection."""
        if isinstance(type_, t.ListOf):
            item.set("isCollection", "true")
            type_ = type_.element
        _sub(item, "typeRef").text = _type_ref(type_)
        if isinstance(type_, t.Enum):
            allowed = _sub(item, "allowedValues")
            _sub(allowed, "text").text = ",".join(_string(v) for v in type_.values)

    def _input_data(self, block: str) -> None:
        fields = self.symbols.facts[block].fields
        if block == INPUT_BLOCK and self.scalar_inputs:
            for field_decl in fields:
                name = field_decl.name.name
                type_ = self.symbols.resolve_type(field_decl.type)
                self._named_input(name, _type_ref(type_) if not isinstance(type_, t.Enum | t.ListOf)
                                  else self._alias(name, type_), field_decl.label)
                self.ids[("input", f"{block}.{name}")] = self._id("input", name)
            return
        record = self._item_name(f"t_{block}")
        item = _sub(self.root, "itemDefinition", id=self._id("item", record), name=record)
        for field_decl in fields:
            self._component(item, record, field_decl.name.name,
                            self.symbols.resolve_type(field_decl.type))
        self._named_input(block, record, self.symbols.facts[block].label)
        self.ids[("input", block)] = self._id("input", block)

    def _alias(self, name: str, type_: t.Type) -> str:
        alias = self._item_name(f"t_{name}")
        item = _sub(self.root, "itemDefinition", id=self._id("item", alias), name=alias)
        self._type_into(item, type_)
        return alias

    def _named_input(self, name: str, type_ref: str, label: str | None) -> None:
        element = _sub(self.root, "inputData", id=self._id("input", name), name=name)
        if label:
            element.set("label", label)
        _sub(element, "variable", id=self._id("variable", name), name=name, typeRef=type_ref)
        self.result.exported.append(f"input data `{name}`")

    # -- decisions

    def _decision(self, name: str, type_: t.Type | None, reads: set[str]) -> etree._Element:
        element = _sub(self.root, "decision", id=self._id("decision", name), name=name)
        variable = _sub(element, "variable", id=self._id("variable", name), name=name)
        if type_ is not None and not isinstance(type_, t.Unknown):
            variable.set("typeRef", self._type_name(name, type_))
        self.decisions.append((element, reads))
        return element

    def _type_name(self, name: str, type_: t.Type) -> str:
        if isinstance(type_, t.Enum | t.ListOf) or (
                isinstance(type_, t.Record) and type_.name in self.symbols.table_records):
            if isinstance(type_, t.Record):
                raise NoFeel("a record whose type is inferred (declare a `type` for it)")
            return self._alias(name, type_)
        return _type_ref(type_)

    def _let(self, name: str, let: ast.LetDecl, output: str | None) -> None:
        text = self._feel(let.value)
        decision_name = output or name
        type_ = self.program.types.get(id(let.value))
        if let.type is not None:
            type_ = self.symbols.resolve_type(let.type)
        element = self._decision(decision_name, type_, _reads(let.value))
        expression = _sub(element, "literalExpression", id=self._id("literal", decision_name))
        _sub(expression, "text").text = text
        self.ids[("value", name)] = element.get("id")
        self.result.exported.append(f"let `{name}` as decision `{decision_name}` (a literal "
                                    "expression)")

    def _output_literal(self, name: str, output: ast.OutputDecl) -> None:
        text = self._feel(output.default)
        element = self._decision(name, self.symbols.resolve_type(output.type),
                                 _reads(output.default))
        expression = _sub(element, "literalExpression", id=self._id("literal", name))
        _sub(expression, "text").text = text
        self.ids[("value", name)] = element.get("id")
        self.result.exported.append(f"output `{name}` as decision `{name}` (a literal "
                                    "expression)")

    def _table(self, name: str, table: ast.TableDecl, output: str | None) -> None:
        policy = table.policy.name if table.policy is not None else "unique"
        hit, aggregation = _POLICIES[policy]
        if table.otherwise is not None and policy in ("collect", "output order", "count"):
            raise NoFeel("an `otherwise` value of a `collect`, `output order` or `count` table")
        decision_name = output or name
        symbols = self.symbols
        declared = (symbols.resolve_type(table.type) if table.type is not None else None)
        if table.results:
            record = declared if isinstance(declared, t.Record) else t.Record(name)
            fields = symbols.field_types(record.name)
            columns = [(column.name, fields.get(column.name, t.UNKNOWN))
                       for column in table.results]
        else:
            columns = [(name, declared if declared is not None else self._inferred(name, policy))]
        # Rendered first: a construct without FEEL leaves no half-made decision behind.
        inputs = [(self._feel(column), self.program.types.get(id(column), t.UNKNOWN))
                  for column in table.inputs]
        rules = [([self._unary(cell) for cell in row.cells],
                  [self._feel(value) for value in _results(row.result, table)])
                 for row in table.rows]
        defaults = self._defaults(table)
        reads = set().union(*(_reads(node) for node in (*table.inputs, *table.rows,
                                                          table.otherwise) if node is not None))
        value_type = None if table.results and declared is None else (
            declared if declared is not None else columns[0][1])
        element = self._decision(decision_name, value_type if policy not in (
            "collect", "output order", "count") else None, reads)
        dmn_table = _sub(element, "decisionTable", id=self._id("table", decision_name),
                         hitPolicy=hit)
        if aggregation:
            dmn_table.set("aggregation", aggregation)
        for index, (text, type_) in enumerate(inputs, start=1):
            clause = _sub(dmn_table, "input", id=self._id("in", f"{decision_name}_{index}"))
            expression = _sub(clause, "inputExpression",
                              id=self._id("in_expr", f"{decision_name}_{index}"))
            if not isinstance(type_, t.Unknown | t.Record | t.ListOf):
                expression.set("typeRef", _type_ref(type_))
            _sub(expression, "text").text = text
        for index, (column, type_) in enumerate(columns):
            clause = _sub(dmn_table, "output", id=self._id("out", f"{decision_name}_{index + 1}"),
                          name=column if table.results else decision_name)
            if not isinstance(type_, t.Unknown):
                clause.set("typeRef", _type_ref(type_))
            if isinstance(type_, t.Enum):
                values = _sub(clause, "outputValues")
                _sub(values, "text").text = ",".join(_string(v) for v in type_.values)
            if defaults[index] is not None:
                default = _sub(clause, "defaultOutputEntry",
                               id=self._id("default", f"{decision_name}_{index + 1}"))
                _sub(default, "text").text = defaults[index]
        for number, (cells, results) in enumerate(rules, start=1):
            rule = _sub(dmn_table, "rule", id=self._id("rule", f"{decision_name}_{number}"))
            for index, text in enumerate(cells, start=1):
                entry = _sub(rule, "inputEntry", id=self._id("ie", f"{decision_name}_{number}_{index}"))
                _sub(entry, "text").text = text
            for index, text in enumerate(results, start=1):
                entry = _sub(rule, "outputEntry",
                             id=self._id("oe", f"{decision_name}_{number}_{index}"))
                _sub(entry, "text").text = text
        self.ids[("value", name)] = element.get("id")
        self.result.exported.append(f"table `{name}` as decision `{decision_name}` (a decision "
                                    f"table, hit policy {hit}"
                                    + (f" {aggregation}" if aggregation else "") + ")")

    def _inferred(self, name: str, policy: str) -> t.Type:
        """The type of a table's result column, as the checker inferred it (a `count` table's
        value is the number of rows, whatever their results: no type is written)."""
        value = self.program.value_types.get(("table", name), t.UNKNOWN)
        if policy == "count":
            return t.UNKNOWN
        return value.element if isinstance(value, t.ListOf) else value

    def _defaults(self, table: ast.TableDecl) -> list[str | None]:
        count = max(len(table.results), 1)
        if table.otherwise is None:
            return [None] * count
        if not table.results:
            return [self._feel(table.otherwise)]
        if not isinstance(table.otherwise, ast.RecordLiteral):
            raise NoFeel("an `otherwise` that is not written out column by column")
        given = {entry.field.name: entry.value for entry in table.otherwise.entries}
        return [self._feel(given[c.name]) if c.name in given else None for c in table.results]

    def _requirements(self, element: etree._Element, reads: set[str]) -> None:
        """informationRequirement elements before the decision's logic, as the schema orders
        them: one per input data or decision it reads."""
        variable = element.find(f"{{{NAMESPACE}}}variable")
        position = list(element).index(variable) + 1
        wanted = []
        for name in sorted(reads):
            target = self.ids.get(("value", name)) or self.ids.get(("input", name))
            if target is None and name == INPUT_BLOCK:
                continue
            if target is not None:
                wanted.append(("requiredDecision" if target.startswith("decision")
                               else "requiredInput", target))
        for path in sorted(p for p in reads if p.startswith(f"{INPUT_BLOCK}.")):
            target = self.ids.get(("input", path))
            if target is not None:
                wanted.append(("requiredInput", target))
        for index, (kind, target) in enumerate(dict.fromkeys(wanted)):
            requirement = etree.Element(f"{{{NAMESPACE}}}informationRequirement",
                                        id=f"{element.get('id')}_requires_{index + 1}")
            _sub(requirement, kind, href=f"#{target}")
            element.insert(position + index, requirement)

    # -- FEEL

    def _feel(self, node: ast.Expr) -> str:
        return _Feel(self.symbols, self.scalar_inputs).text(node)

    def _unary(self, cell: ast.Cell) -> str:
        feel = _Feel(self.symbols, self.scalar_inputs)
        if isinstance(cell, ast.AnyCell):
            return "-"
        if isinstance(cell, ast.MissingCell):
            return "null"
        if isinstance(cell, ast.NotCell):
            return f"not({self._unary(cell.cell)})"
        if isinstance(cell, ast.Alternatives):
            return ", ".join(self._unary(test) for test in cell.tests)
        if isinstance(cell, ast.IntervalTest):
            return (("[" if cell.low_closed else "(") + feel.text(cell.low) + ".."
                    + feel.text(cell.high) + ("]" if cell.high_closed else ")"))
        if isinstance(cell, ast.CompareTest) and cell.op != "=":
            if cell.op == "!=":
                return f"not({feel.text(cell.value)})"
            return f"{cell.op} {feel.text(cell.value)}"
        return feel.text(cell.value)


class _Feel:
    """Tenet expressions as FEEL text, in the subset ``engine.dmn.feel`` reads back."""

    def __init__(self, symbols, scalar_inputs: bool) -> None:
        self.symbols = symbols
        self.scalar_inputs = scalar_inputs

    def text(self, node: ast.Expr) -> str:
        match node:
            case ast.Literal(value=bool() as value):
                return "true" if value else "false"
            case ast.Literal(value=Decimal() as value):
                return _number(value)
            case ast.Literal(value=str() as value):
                return _string(value)
            case ast.Literal(value=datetime.date() as value):
                return f'date("{value.isoformat()}")'
            case ast.Name(name=name):
                return name
            case ast.FieldAccess(target=ast.Name(name=block), field=field) if block == INPUT_BLOCK \
                    and self.scalar_inputs:
                return field.name
            case ast.FieldAccess(target=target, field=field):
                return f"{self.text(target)}.{field.name}"
            case ast.Unary(op="not", operand=operand):
                return f"not({self.text(operand)})"
            case ast.Unary(op="-", operand=operand):
                return f"-({self.text(operand)})" if not isinstance(operand, ast.Literal) \
                    else f"-{self.text(operand)}"
            case ast.Binary(op=op, left=left, right=right):
                return f"({self.text(left)} {_OPERATORS[op]} {self.text(right)})"
            case ast.Between(value=value, low=low, high=high):
                return f"({self.text(value)} between {self.text(low)} and {self.text(high)})"
            case ast.In(value=value, collection=ast.ListLiteral() as items, negated=negated):
                test = f"{self.text(value)} in {self.text(items)}"
                return f"not({test})" if negated else f"({test})"
            case ast.IsMissing(value=value, negated=negated):
                return f"({self.text(value)} {'!=' if negated else '='} null)"
            case ast.If(condition=condition, then_value=then_value, else_value=else_value):
                return (f"(if {self.text(condition)} then {self.text(then_value)} "
                        f"else {self.text(else_value)})")
            case ast.ListLiteral(items=items):
                return "[" + ", ".join(self.text(item) for item in items) + "]"
            case ast.Call(function=function, arguments=arguments):
                return self._call(function.name, arguments)
        kind = {"Aggregate": "an aggregate", "Quantifier": "a quantifier", "Today": "`today`",
                "RecordLiteral": "a record", "In": "`in` over a list that is not written out"}
        raise NoFeel(f"{_described(node)} ({kind.get(type(node).__name__, 'this form')}) has "
                     "no FEEL form that Tenet reads back")

    def _call(self, name: str, arguments: tuple[ast.Expr, ...]) -> str:
        texts = [self.text(argument) for argument in arguments]
        if name in ("min", "max"):
            return f"{name}({', '.join(texts)})"
        if name == "abs":
            return f"abs({texts[0]})"
        if name == "length":
            return f"count({texts[0]})"
        if name == "round":
            return f"decimal({texts[0]}, {texts[1] if len(texts) > 1 else '0'})"
        if name in ("round_down", "round_up"):
            function = "floor" if name == "round_down" else "ceiling"
            if isinstance(arguments[1], ast.Literal) and arguments[1].value == 1:
                return f"{function}({texts[0]})"
            return f"({function}({texts[0]} / {texts[1]}) * {texts[1]})"
        raise NoFeel(f"the function `{name}`")


def _described(node: ast.Expr) -> str:
    return f"`{unparse(node)}`"


def _results(result: ast.Expr, table: ast.TableDecl) -> list[ast.Expr]:
    if table.results and isinstance(result, ast.RecordLiteral):
        return [entry.value for entry in result.entries]
    return [result]


def _reads(node: ast.Node) -> set[str]:
    """The names an expression reads: `input.x` as its path, other facts by block."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.FieldAccess) and isinstance(child.target, ast.Name) and \
                child.target.name == INPUT_BLOCK:
            found.add(f"{INPUT_BLOCK}.{child.field.name}")
        elif isinstance(child, ast.Name):
            found.add(child.name)
    return found


def _type_ref(type_: t.Type) -> str:
    """A FEEL type reference: money and integer are item definitions of their own (numbers
    to DMN tools), so that importing the model again gives the same types."""
    if isinstance(type_, t.Record):
        return type_.name
    if type_ in (t.MONEY, t.INTEGER):
        return type_.name
    if type_ in (t.NUMBER, t.NUMERAL):
        return "number"
    if type_ == t.TEXT or isinstance(type_, t.Enum):
        return "string"
    if type_ in (t.BOOLEAN, t.DATE):
        return type_.name
    raise NoFeel(f"the type {type_.describe()}")


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'




def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", **attributes)
