"""Type inference for expressions: names, fields, operators and units, enum values, functions
and aggregates.

The checker asks ``ExpressionChecker.infer`` for the type of each expression it meets; the result
is stored in ``types`` (keyed by node identity) for later passes, and what every name node
resolved to is kept in ``names_resolved`` so the checker can build the dependency graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from engine.check import types as t
from engine.check.symbols import Symbols
from engine.diagnostics import Diagnostic, Severity, did_you_mean
from engine.syntax import ast


@dataclass(frozen=True, slots=True)
class Reference:
    """What a name in an expression resolved to: ("facts" | "let" | "table" | "output", name)."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class Signature:
    """A built-in function: how many arguments it takes (``maximum`` None for any number)."""

    minimum: int
    maximum: int | None
    usage: str


FUNCTIONS: dict[str, Signature] = {
    "min": Signature(2, None, "min(a, b, …)"),
    "max": Signature(2, None, "max(a, b, …)"),
    "abs": Signature(1, 1, "abs(x)"),
    "round": Signature(1, 2, "round(x[, places])"),
    "round_down": Signature(2, 2, "round_down(x, step)"),
    "round_up": Signature(2, 2, "round_up(x, step)"),
    "days_between": Signature(2, 2, "days_between(d1, d2)"),
    "months_between": Signature(2, 2, "months_between(d1, d2)"),
    "length": Signature(1, 1, "length(list)"),
}

# Resolves a declared name (let, table, output or facts block) to its kind and type.
Lookup = Callable[[str], "tuple[str, t.Type] | None"]


# `round(x, places)`: more places than this cannot be meant, and would exceed the 34 digits
# Tenet computes with.
MAX_PLACES = 20


_PROPERTY_ONLY = {
    "reasons": "`reasons` (the reason codes a decision gives) can be read only inside a "
               "`property`; a rule gives reasons with `reason CODE`",
    "offers": "`offers` (the offers a decision makes) can be read only inside a `property`, "
              "or anywhere in a ruleset that declares offers",
    "baseline": "`baseline.…` reads the decision of another ruleset (`tenet verify --baseline`) "
                "and only inside a `property`",
}


class ExpressionChecker:
    """Infers expression types and reports type, unit and name errors."""

    def __init__(self, symbols: Symbols, lookup: Lookup, diagnostics: list[Diagnostic]) -> None:
        self.symbols = symbols
        self.lookup = lookup
        self.diagnostics = diagnostics
        self.types: dict[int, t.Type] = {}
        self.names_resolved: dict[int, Reference] = {}
        self._scopes: list[dict[str, t.Type]] = []

    # -- reporting

    def error(self, code: str, message: str, node: ast.Node, help: str | None = None) -> t.Type:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, node.span, help))
        return t.UNKNOWN

    # -- entry points

    def infer(self, expr: ast.Expr) -> t.Type:
        """The type of ``expr``, reporting every error inside it."""
        method = getattr(self, "_" + type(expr).__name__)
        result = method(expr)
        self.types[id(expr)] = result
        return result

    def condition(self, expr: ast.Expr, where: str) -> t.Type:
        """Infer a condition and insist that it is boolean."""
        result = self.infer(expr)
        if result not in (t.BOOLEAN, t.UNKNOWN):
            self.error("E404", f"{where} must be true or false, not {result.describe()}", expr,
                       help="compare the value, e.g. `x > 0`")
        return t.BOOLEAN

    def expect_assignable(self, expr: ast.Expr, target: t.Type, what: str) -> None:
        """Check that ``expr`` can be stored where ``target`` is expected (``what`` names the
        place, e.g. "output `action`")."""
        value = self.infer(expr)
        if (target == t.INTEGER and isinstance(expr, ast.Literal)
                and isinstance(expr.value, Decimal)
                and expr.value != expr.value.to_integral_value()):
            self.error("E401", f"{what} is integer, but `{expr.source or expr.value}` is not a "
                               "whole number", expr,
                       help="write a whole number, or declare the output as `number`")
            return
        if not t.assignable(value, target):
            code = "E402" if t.MONEY in (value, target) and t.is_numeric(value) and t.is_numeric(
                target) else "E401"
            self.error(code, f"{what} is {target.describe()}, but this is {value.describe()}",
                       expr, help=_assign_help(value, target))
            return
        self.check_enum_values(expr, target)

    def check_enum_values(self, expr: ast.Expr, target: t.Type) -> None:
        """Texts written where a `one of` value is expected must be among its values."""
        if isinstance(target, t.ListOf) and isinstance(expr, ast.ListLiteral):
            for item in expr.items:
                self.check_enum_values(item, target.element)
        elif isinstance(expr, ast.If):
            self.check_enum_values(expr.then_value, target)
            self.check_enum_values(expr.else_value, target)
        elif (isinstance(target, t.Enum) and isinstance(expr, ast.Literal)
              and expr.kind == "text" and expr.value not in target.values):
            options = ", ".join(f'"{v}"' for v in target.values)
            suggestion = did_you_mean(str(expr.value), target.values)
            self.error("E403", f'"{expr.value}" is not one of {options}', expr,
                       help=suggestion or f"use one of {options}")

    # -- names

    def swap_scopes(self, scopes: list[dict[str, t.Type]]) -> list[dict[str, t.Type]]:
        """Replace the aggregate-variable scopes, returning the old ones (a let inferred on first
        use must not see the variables of the aggregate that happened to use it)."""
        previous, self._scopes = self._scopes, scopes
        return previous

    def bind(self, name: str, type_: t.Type) -> None:
        self._scopes.append({name: type_})

    def unbind(self) -> None:
        self._scopes.pop()

    def _Name(self, expr: ast.Name) -> t.Type:
        for scope in reversed(self._scopes):
            if expr.name in scope:
                return scope[expr.name]
        found = self.lookup(expr.name)
        if found is None:
            candidates = [*self.symbols.all_names(), *(n for s in self._scopes for n in s)]
            return self.error("E301", f"unknown name `{expr.name}`", expr,
                              help=did_you_mean(expr.name, candidates)
                              or _PROPERTY_ONLY.get(expr.name)
                              or self._quoted_value(expr.name)
                              or "declare it as a let, table or output, or read a fact such "
                                 "as `customer.field`")
        kind, type_ = found
        self.names_resolved[id(expr)] = Reference(kind, expr.name)
        return type_

    def _FieldAccess(self, expr: ast.FieldAccess) -> t.Type:
        target = self.infer(expr.target)
        if isinstance(target, t.Unknown):
            return t.UNKNOWN
        if not isinstance(target, t.Record):
            return self.error("E411", f"`{expr.field.name}` is read from {target.describe()}, "
                                      "which has no fields", expr.field,
                              help="only facts blocks and records have fields")
        inferred = self.symbols.table_records.get(target.name)
        fields = self.symbols.record_fields(target.name) if inferred is None else inferred
        declaration = fields.get(expr.field.name)
        if declaration is None:
            return self.error("E302", f"`{target.name}` has no field `{expr.field.name}`",
                              expr.field, help=did_you_mean(expr.field.name, fields)
                              or f"the fields of `{target.name}` are "
                                 + ", ".join(f"`{f}`" for f in fields))
        if inferred is not None:  # a table's result column
            return declaration
        return self.symbols.resolve_type(declaration.type)

    # -- literals

    def _Literal(self, expr: ast.Literal) -> t.Type:
        return {"number": t.NUMERAL, "percent": t.NUMERAL, "text": t.TEXT,
                "boolean": t.BOOLEAN, "date": t.DATE}[expr.kind]

    def _Today(self, expr: ast.Today) -> t.Type:
        return t.DATE

    def _ListLiteral(self, expr: ast.ListLiteral) -> t.Type:
        element: t.Type = t.UNKNOWN
        for item in expr.items:
            item_type = self.infer(item)
            unified = t.unify(element, item_type)
            if unified is None:
                self.error("E401", f"a list cannot hold both {element.describe()} and "
                                   f"{item_type.describe()}", item)
            else:
                element = unified
        return t.ListOf(element)

    def _RecordLiteral(self, expr: ast.RecordLiteral) -> t.Type:
        # A record literal only has a meaning where a record type is expected (an example's
        # `given`); ``check_record`` in the checker checks it against that type.
        for entry in expr.entries:
            self.infer(entry.value)
        return t.UNKNOWN

    # -- operators

    def _Unary(self, expr: ast.Unary) -> t.Type:
        if expr.op == "not":
            self.condition(expr.operand, "the operand of `not`")
            return t.BOOLEAN
        operand = self.infer(expr.operand)
        if operand != t.UNKNOWN and not t.is_numeric(operand):
            return self.error("E401", f"cannot negate {operand.describe()}", expr.operand)
        return operand

    def _Binary(self, expr: ast.Binary) -> t.Type:
        if expr.op in ("and", "or"):
            self.condition(expr.left, f"the left side of `{expr.op}`")
            self.condition(expr.right, f"the right side of `{expr.op}`")
            return t.BOOLEAN
        left, right = self.infer(expr.left), self.infer(expr.right)
        if expr.op == "/" and isinstance(expr.right, ast.Literal) and expr.right.value == 0 \
                and not isinstance(expr.right.value, bool):
            return self.error("E416", "division by zero: this value is always missing",
                              expr.right, help="divide by something that can be other than 0")
        if expr.op in ("+", "-", "*", "/"):
            return self._arithmetic(expr, left, right)
        self.compare(expr, expr.op, expr.left, left, expr.right, right)
        return t.BOOLEAN

    def _arithmetic(self, expr: ast.Binary, left: t.Type, right: t.Type) -> t.Type:
        if t.UNKNOWN in (left, right):
            return t.UNKNOWN
        for side, side_type in ((expr.left, left), (expr.right, right)):
            if not t.is_numeric(side_type):
                return self.error("E401", f"`{expr.op}` needs numbers, not {side_type.describe()}",
                                  side, help="days_between(d1, d2) counts the days between dates"
                                  if side_type == t.DATE else None)
        try:
            return t.arithmetic(expr.op, left, right)
        except t.UnitError as problem:
            return self.error("E402", problem.message, expr, help=problem.help)

    def _quoted_value(self, name: str) -> str | None:
        """A hint for a `one of` value written without its quotes."""
        for output, declaration in self.symbols.outputs.items():
            type_ = self.symbols.resolve_type(declaration.type)
            if isinstance(type_, t.Enum) and name in type_.values:
                return f"`{name}` is a value of `{output}`: write it in quotes, `\"{name}\"`"
        return None

    def compare(self, node: ast.Node, op: str, left_expr: ast.Expr, left: t.Type,
                right_expr: ast.Expr, right: t.Type) -> None:
        """Check `left op right` (op is a comparison operator)."""
        if t.UNKNOWN in (left, right):
            return
        if not t.comparable(left, right):
            quoted = next((e for e in (left_expr, right_expr) if isinstance(e, ast.Literal)
                           and isinstance(e.value, str)
                           and re.fullmatch(r"-?[0-9][0-9_]*(\.[0-9]+)?", e.value)), None)
            self.error("E401", f"cannot compare {left.describe()} with {right.describe()}", node,
                       help=None if quoted is None else
                       f"write the number without quotes: `{quoted.value}`")
            return
        if op not in ("=", "!=") and not (t.is_ordered(left) and t.is_ordered(right)):
            self.error("E413", f"`{op}` needs numbers or dates, not {left.describe()}", node,
                       help="texts, yes/no values and lists can only be compared with `=` or `!=`")
            return
        try:
            t.check_units_comparable(left, right)
        except t.UnitError as problem:
            self.error("E402", problem.message, node, help=problem.help)
            return
        self.check_enum_values(right_expr, left)
        self.check_enum_values(left_expr, right)

    def _Between(self, expr: ast.Between) -> t.Type:
        value = self.infer(expr.value)
        for bound in (expr.low, expr.high):
            self.compare(expr, "between", expr.value, value, bound, self.infer(bound))
        return t.BOOLEAN

    def _In(self, expr: ast.In) -> t.Type:
        value = self.infer(expr.value)
        collection = self.infer(expr.collection)
        if isinstance(collection, t.Unknown):
            return t.BOOLEAN
        if not isinstance(collection, t.ListOf):
            self.error("E412", f"`in` needs a list or set on its right, not {collection.describe()}",
                       expr.collection, help='write a list such as `["a", "b"]`')
            return t.BOOLEAN
        element = collection.element
        if not t.comparable(value, element):
            self.error("E401", f"cannot look for {value.describe()} in {collection.describe()}",
                       expr)
            return t.BOOLEAN
        if isinstance(expr.collection, ast.ListLiteral):
            for item in expr.collection.items:
                self.check_enum_values(item, value)
        self.check_enum_values(expr.value, element)
        return t.BOOLEAN

    def _IsMissing(self, expr: ast.IsMissing) -> t.Type:
        self.infer(expr.value)
        return t.BOOLEAN

    def _If(self, expr: ast.If) -> t.Type:
        self.condition(expr.condition, "the condition of `if`")
        then_type, else_type = self.infer(expr.then_value), self.infer(expr.else_value)
        unified = t.unify(then_type, else_type)
        if unified is None:
            code = "E402" if t.MONEY in (then_type, else_type) else "E401"
            return self.error(code, f"the branches of `if` differ: {then_type.describe()} after "
                                    f"`then`, {else_type.describe()} after `else`", expr)
        return unified

    # -- functions and aggregates

    def _Call(self, expr: ast.Call) -> t.Type:
        name = expr.function.name
        signature = FUNCTIONS.get(name)
        arguments = [self.infer(a) for a in expr.arguments]
        if signature is None:
            return self.error("E307", f"unknown function `{name}`", expr.function,
                              help=did_you_mean(name, FUNCTIONS)
                              or "the functions are " + ", ".join(f"`{f}`" for f in FUNCTIONS))
        count = len(arguments)
        if count < signature.minimum or (signature.maximum is not None and count > signature.maximum):
            return self.error("E405", f"`{name}` takes {_arity(signature)}, not {count}", expr,
                              help=f"call it as `{signature.usage}`")
        if t.UNKNOWN in arguments:
            return t.UNKNOWN
        return getattr(self, "_call_" + name, self._call_numeric)(expr, arguments)

    def _argument_error(self, expr: ast.Call, index: int, wanted: str, got: t.Type) -> t.Type:
        return self.error("E401", f"argument {index + 1} of `{expr.function.name}` must be "
                                  f"{wanted}, not {got.describe()}", expr.arguments[index])

    def _call_min(self, expr: ast.Call, arguments: list[t.Type]) -> t.Type:
        result = arguments[0]
        for index, argument in enumerate(arguments):
            if not t.is_ordered(argument):
                return self._argument_error(expr, index, "a number or a date", argument)
            unified = t.unify(result, argument)
            if unified is None:
                code = "E402" if t.MONEY in (result, argument) else "E401"
                return self.error(code, f"`{expr.function.name}` mixes {result.describe()} "
                                        f"and {argument.describe()}", expr.arguments[index],
                                  help="compare money with money, or with literal amounts")
            result = unified
        return result

    _call_max = _call_min

    def _call_numeric(self, expr: ast.Call, arguments: list[t.Type]) -> t.Type:
        """abs, round, round_down, round_up: the first argument's type; the others are steps or
        decimal places."""
        if not t.is_numeric(arguments[0]):
            return self._argument_error(expr, 0, "a number", arguments[0])
        for index, argument in enumerate(arguments[1:], start=1):
            if expr.function.name == "round":
                if argument not in (t.INTEGER, t.NUMERAL):
                    return self._argument_error(expr, index, "a whole number of places", argument)
                places = expr.arguments[index]
                if isinstance(places, ast.Literal) and isinstance(places.value, Decimal) and (
                        places.value != places.value.to_integral_value()
                        or not -MAX_PLACES <= places.value <= MAX_PLACES):
                    return self.error(
                        "E414", f"`round` to {places.source or places.value} places: places "
                                f"are a whole number from -{MAX_PLACES} to {MAX_PLACES}", places,
                        help="money is usually rounded to 2 places; negative places round to "
                             "tens (-1), hundreds (-2), …")
            elif not t.is_numeric(argument):
                return self._argument_error(expr, index, "a number", argument)
            elif argument != t.NUMERAL and (argument == t.MONEY) != (arguments[0] == t.MONEY):
                return self.error("E402", f"the step of `{expr.function.name}` is "
                                          f"{argument.describe()}, the value {arguments[0].describe()}",
                                  expr.arguments[index], help="use a literal step such as `100`")
        return arguments[0]

    def _call_days_between(self, expr: ast.Call, arguments: list[t.Type]) -> t.Type:
        for index, argument in enumerate(arguments):
            if argument != t.DATE:
                return self._argument_error(expr, index, "a date", argument)
        return t.INTEGER

    _call_months_between = _call_days_between

    def _call_length(self, expr: ast.Call, arguments: list[t.Type]) -> t.Type:
        if not isinstance(arguments[0], t.ListOf):
            return self.error("E412", f"`length` needs a list or set, not {arguments[0].describe()}",
                              expr.arguments[0])
        return t.INTEGER

    def _element_type(self, source: ast.Expr) -> t.Type:
        source_type = self.infer(source)
        if isinstance(source_type, t.ListOf):
            return source_type.element
        if not isinstance(source_type, t.Unknown):
            self.error("E412", f"an aggregate runs over a list or set, not "
                               f"{source_type.describe()}", source,
                       help="name a list, e.g. `count of loan in customer.loans`")
        return t.UNKNOWN

    def _Aggregate(self, expr: ast.Aggregate) -> t.Type:
        self.bind(expr.variable.name, self._element_type(expr.source))
        try:
            if expr.condition is not None:
                self.condition(expr.condition, "the condition after `where`")
            if expr.kind == "count":
                return t.INTEGER
            value = self.infer(expr.value)
        finally:
            self.unbind()
        if isinstance(value, t.Unknown):
            return value
        if expr.kind == "sum" and not t.is_numeric(value):
            return self.error("E401", f"`sum` adds numbers, not {value.describe()}", expr.value)
        if expr.kind in ("min", "max") and not t.is_ordered(value):
            return self.error("E413", f"`{expr.kind}` needs numbers or dates, not "
                                      f"{value.describe()}", expr.value)
        if expr.kind == "average":
            if not t.is_numeric(value):
                return self.error("E401", f"`average` needs numbers, not {value.describe()}",
                                  expr.value)
            return t.MONEY if value == t.MONEY else t.NUMBER
        return value

    def _Quantifier(self, expr: ast.Quantifier) -> t.Type:
        self.bind(expr.variable.name, self._element_type(expr.source))
        try:
            self.condition(expr.condition, "the condition after `where`")
        finally:
            self.unbind()
        return t.BOOLEAN


def _arity(signature: Signature) -> str:
    if signature.maximum is None:
        return f"at least {signature.minimum} arguments"
    if signature.minimum == signature.maximum:
        return f"{signature.minimum} argument{'s' if signature.minimum > 1 else ''}"
    return f"{signature.minimum} or {signature.maximum} arguments"


def _assign_help(value: t.Type, target: t.Type) -> str | None:
    if target == t.MONEY and value in (t.NUMBER, t.INTEGER):
        return "multiply a money amount by this number to get money"
    if value == t.MONEY and target in (t.NUMBER, t.INTEGER):
        return "divide by another amount to get a ratio"
    return None
