"""Emitting Python for expressions, for the code generator (``engine.run.codegen.procedure``).

Each expression becomes a sequence of assignments to engine-chosen temporaries (`t7`), with its
operators inlined and missing-value checks only where the checker's types say a value can be
missing; a result that cannot be missing stays an inline expression up to a small depth. The
branches of `if` run under guard flags instead of nested blocks, so no ruleset reaches Python's
nesting limits. Every name, text and number of the ruleset goes into the constants table and is
referred to by an engine-chosen name (`k12`): no ruleset text ever becomes source code.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.check.symbols import Symbols
from engine.run import runtime
from engine.run.codegen.support import combine, explained_operands
from engine.syntax import ast
from engine.syntax.unparse import unparse

# Builtins the generated code may use; nothing else is reachable from it.
BUILTINS = {"len": len, "tuple": tuple, "list": list, "dict": dict, "bool": bool}

_FUNCTIONS = {name: f"fn_{index}" for index, name in enumerate(runtime.IMPLEMENTATIONS)}
COMPARISONS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITHMETIC = {"+": "ctx_add", "-": "ctx_subtract", "*": "ctx_multiply"}


@dataclass(frozen=True, slots=True)
class Operand:
    """A generated value: a local, a constant or a keyword, and whether it can be missing."""

    code: str
    nullable: bool
    depth: int = 0  # how deeply an inline expression nests; 0 for a local or constant


_INLINE_DEPTH = 6
_NONE = Operand("None", True)


class ExpressionEmitter:
    """Code buffers, guards, constants and expressions; ``engine.run.codegen.procedure`` adds the decision
    procedure. A subclass sets ``symbols``, ``facts_fields`` (the locals of the facts' fields)
    and ``traced`` (whether division by zero leaves a note) before it emits."""

    symbols: Symbols
    facts_fields: dict[tuple[str, str], Operand]
    traced: bool

    def __init__(self) -> None:
        self.constants: list[Any] = []
        self._constant_names: dict[tuple[type, str], str] = {}

    def start(self) -> None:
        """Empty buffers for a new function."""
        self.lines: list[str] = []
        self.depth = 1
        self.guard: str | None = None
        self.counter = 0
        self.scope: dict[str, Operand] = {}
        self.bound: set[str] = set()  # aggregate variables in scope

    def globals(self) -> dict[str, Any]:
        names: dict[str, Any] = {f"k{index}": value for index, value in enumerate(self.constants)}
        names.update({global_name: runtime.IMPLEMENTATIONS[name]
                      for name, global_name in _FUNCTIONS.items()})
        names.update(ctx_add=runtime.CONTEXT.add, ctx_subtract=runtime.CONTEXT.subtract,
                     ctx_multiply=runtime.CONTEXT.multiply, ctx_divide=runtime.CONTEXT.divide,
                     ctx_minus=runtime.CONTEXT.minus, aggregate=runtime.aggregate,
                     combine=combine, ZERO=runtime.ZERO, Decimal=Decimal,
                     check_whole=runtime.check_whole,
                     to_integral=runtime.CONTEXT.to_integral_value)
        return names

    def constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool):
            return repr(value)
        key = (type(value), str(value) if isinstance(value, Decimal | datetime.date) else value)
        try:
            found = self._constant_names.get(key)
        except TypeError:  # unhashable (a dict): never shared
            found = None
            key = None
        if found is None:
            found = f"k{len(self.constants)}"
            self.constants.append(value)
            if key is not None:
                self._constant_names[key] = found
        return found

    # ------------------------------------------------------------------ code buffers

    def temporary(self, prefix: str = "t") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, line: str) -> None:
        """One simple statement (or a one-line `if`), under the current guard."""
        if self.guard and line.startswith("if "):
            self.emit_block([line])
            return
        indent = "    " * self.depth
        self.lines.append(f"{indent}if {self.guard}: {line}" if self.guard else indent + line)

    def emit_block(self, lines: list[str]) -> None:
        """A compound statement (given with relative indentation), under the current guard."""
        if self.guard:
            self.lines.append("    " * self.depth + f"if {self.guard}:")
            self.lines.extend("    " * (self.depth + 1) + line for line in lines)
        else:
            self.lines.extend("    " * self.depth + line for line in lines)

    @contextmanager
    def guarded(self, condition: str) -> Iterator[str]:
        """Statements that run only when ``condition`` (an expression over locals) is true
        (and the enclosing guard too)."""
        if self.guard is None and condition.isidentifier():
            flag = condition  # a flag already: no copy needed
        else:
            flag = self.temporary("g")
            if self.guard is not None:
                self.lines.append("    " * self.depth + f"{flag} = False")
            self.emit(f"{flag} = {condition}")
        saved, self.guard = self.guard, flag
        try:
            yield flag
        finally:
            self.guard = saved

    @contextmanager
    def loop(self, variable: str, source: str) -> Iterator[None]:
        """A loop body: its statements are indented under `for`, without the outer guard."""
        saved_lines, saved_guard, saved_depth = self.lines, self.guard, self.depth
        self.lines, self.guard, self.depth = [], None, 1
        try:
            yield
        finally:
            body = self.lines
            self.lines, self.guard, self.depth = saved_lines, saved_guard, saved_depth
            self.emit_block([f"for {variable} in {source} or ():", *(body or ["    pass"])])

    def note(self, message: str) -> None:
        if self.traced:
            self.emit(f"N.append({self.constant(message)})")

    # ------------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr) -> Operand:
        """Emit the statements computing ``node``; its value is the returned operand."""
        if isinstance(node, ast.If):
            return self._if(node)
        operands = explained_operands(node)
        if operands is None:
            return self._leaf(node)
        return self._operator(node, [self.expr(operand) for operand in operands])

    def _leaf(self, node: ast.Expr) -> Operand:
        match node:
            case ast.Literal(value=value):
                return Operand(self.constant(value), False)
            case ast.Name(name=name):
                if name in self.symbols.facts and name not in self.bound:
                    return self._facts_record(name)
                return self.scope.get(name, _NONE)
            case ast.Today():
                return Operand("today", False)
            case ast.FieldAccess(target=ast.Name(name=block), field=field) \
                    if block in self.symbols.facts and block not in self.bound:
                return self.facts_fields[(block, field.name)]
            case ast.FieldAccess(target=target, field=field):
                record = self.expr(target)
                result = self.temporary()
                key = self.constant(field.name)
                if record.nullable:
                    self.emit(f"{result} = None if {record.code} is None else "
                              f"{record.code}.get({key})")
                else:
                    self.emit(f"{result} = {record.code}.get({key})")
                return Operand(result, True)
            case ast.ListLiteral(items=items):
                values = [self.expr(item) for item in items]
                result = self.temporary()
                self.emit(f"{result} = ({''.join(v.code + ', ' for v in values)})")
                return Operand(result, False)
            case ast.RecordLiteral(entries=entries):
                pairs = [(self.constant(e.field.name), self.expr(e.value)) for e in entries]
                result = self.temporary()
                self.emit(f"{result} = {{{', '.join(f'{k}: {v.code}' for k, v in pairs)}}}")
                return Operand(result, False)
            case ast.Aggregate() | ast.Quantifier():
                return self._aggregate(node)
        raise TypeError(f"cannot generate {type(node).__name__}")

    def _facts_record(self, block: str) -> Operand:
        """A facts block used as a whole value: the record as the reference sees it."""
        result = self.temporary()
        entries = ", ".join(f"{self.constant(field)}: {operand.code}"
                            for (owner, field), operand in self.facts_fields.items()
                            if owner == block)
        self.emit(f"{result} = {{{entries}}}")
        return Operand(result, False)

    def _missing_check(self, operands: list[Operand]) -> str:
        return " or ".join(f"{o.code} is None" for o in operands if o.nullable)

    def _operator(self, node: ast.Expr, values: list[Operand]) -> Operand:
        """An operator over computed operands. A result that cannot be missing stays an
        inline expression (up to a small depth), so that a condition such as `a > 1 and b`
        costs one statement, not three; every other result goes to a temporary."""
        nullable = any(v.nullable for v in values)
        missing = self._missing_check(values)
        guard = f"None if {missing} else " if missing else ""
        codes = [v.code for v in values]
        match node:
            case ast.Unary(op="not"):
                expression = f"{guard}not {codes[0]}"
            case ast.Unary():
                expression = f"{guard}ctx_minus({codes[0]})"
            case ast.Binary(op="and" | "or" as op) if not nullable:
                expression = f"{codes[0]} {op} {codes[1]}"
            case ast.Binary(op="and" | "or" as op):
                decisive = "False" if op == "and" else "True"
                expression = (f"{decisive} if {codes[0]} is {decisive} or {codes[1]} is "
                              f"{decisive} else (None if {missing} else {op == 'and'})")
            case ast.Binary(op="/"):
                result = self.temporary()
                self._divide(result, values[0], self.materialize(values[1]), unparse(node))
                return Operand(result, True)
            case ast.Binary(op=op) if op in _ARITHMETIC:
                expression = f"{guard}{_ARITHMETIC[op]}({codes[0]}, {codes[1]})"
            case ast.Binary(op=op):
                expression = f"{guard}{codes[0]} {COMPARISONS[op]} {codes[1]}"
            case ast.Between():
                expression = f"{guard}{codes[1]} <= {codes[0]} <= {codes[2]}"
            case ast.In(negated=negated):
                expression = f"{guard}{codes[0]} {'not in' if negated else 'in'} {codes[1]}"
            case ast.IsMissing(negated=negated):
                expression, nullable = f"{codes[0]} is {'not ' if negated else ''}None", False
            case ast.Call(function=function):
                # The guard gives missing for a missing argument; the function is called
                # with none (runtime.IMPLEMENTATIONS).
                expression = f"{guard}{_FUNCTIONS[function.name]}({', '.join(codes)})"
                nullable = True
        depth = 1 + max((v.depth for v in values), default=0)
        if not nullable and depth <= _INLINE_DEPTH:
            return Operand(f"({expression})", False, depth)
        result = self.temporary()
        self.emit(f"{result} = {expression}")
        return Operand(result, nullable)

    def materialize(self, operand: Operand) -> Operand:
        """``operand`` as a local or constant, for code that reads it more than once."""
        if operand.depth == 0:
            return operand
        result = self.temporary()
        self.emit(f"{result} = {operand.code}")
        return Operand(result, operand.nullable)

    def _divide(self, result: str, left: Operand, right: Operand, text: str) -> None:
        missing = self._missing_check([left, right])
        lines = []
        if missing:
            lines += [f"if {missing}:", f"    {result} = None", f"elif {right.code} == 0:"]
        else:
            lines.append(f"if {right.code} == 0:")
        lines.append(f"    {result} = None")
        if self.traced:
            message = f"division by zero in `{text}`: the value is missing"
            lines.append(f"    N.append({self.constant(message)})")
        lines += ["else:", f"    {result} = ctx_divide({left.code}, {right.code})"]
        self.emit_block(lines)

    def _if(self, node: ast.If) -> Operand:
        condition = self.materialize(self.expr(node.condition))
        result = self.temporary()
        self.emit(f"{result} = None")
        then_test = f"{condition.code} is True" if condition.nullable else condition.code
        else_test = f"{condition.code} is False" if condition.nullable else f"not {condition.code}"
        nullable = condition.nullable
        for test, branch in ((then_test, node.then_value), (else_test, node.else_value)):
            with self.guarded(test):
                value = self.expr(branch)
                self.emit(f"{result} = {value.code}")
                nullable = nullable or value.nullable
        return Operand(result, nullable)

    def _aggregate(self, node: ast.Aggregate | ast.Quantifier) -> Operand:
        source = self.expr(node.source)
        variable = self.temporary("a")
        kept = self.temporary("x")
        self.emit(f"{kept} = []")
        name = node.variable.name
        saved, was_bound = self.scope.get(name), name in self.bound
        self.scope[name] = Operand(variable, False)
        self.bound.add(name)
        try:
            with self.loop(variable, source.code):
                if isinstance(node, ast.Quantifier):
                    condition = self.expr(node.condition)
                    self.emit(f"{kept}.append({condition.code})")
                else:
                    if node.condition is None:
                        test = "True"
                    else:
                        condition = self.expr(node.condition)
                        test = f"{condition.code} is True" if condition.nullable else condition.code
                    with self.guarded(test):
                        value = Operand(variable, False) if node.value is None else self.expr(node.value)
                        self.emit(f"{kept}.append({value.code})")
                        element_nullable = value.nullable
        finally:
            if saved is None:
                del self.scope[name]
            else:
                self.scope[name] = saved
            if not was_bound:
                self.bound.discard(name)
        result = self.temporary()
        if isinstance(node, ast.Quantifier):
            helper = "any_of" if node.kind == "any" else "all_of"
            self.emit(f"{result} = {self.constant(getattr(runtime, helper))}({kept})")
            return Operand(result, True)
        self.emit(f"{result} = aggregate({self.constant(node.kind)}, {kept})")
        # A sum is missing when an element's value is (a record field that can be missing).
        return Operand(result, node.kind != "count" and (node.kind != "sum" or element_nullable))

    # ------------------------------------------------------------------ the procedure
