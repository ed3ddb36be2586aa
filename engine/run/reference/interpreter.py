"""The reference evaluator: a small tree-walking interpreter of expressions.

It is the plainest statement of what expressions mean, kept beside the generated code
(``engine.run.codegen.procedure``) as its oracle; tests check that both give the same decisions and traces.
Every call returns the sub-expression tree with values, which the trace shows for conditions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from engine.run import runtime
from engine.run.trace import ExprTrace
from engine.syntax import ast
from engine.syntax.unparse import unparse

# Composite expressions whose operands the trace shows; others are shown as one value.
_EXPLAINED = (ast.Binary, ast.Unary, ast.Between, ast.In, ast.IsMissing, ast.If, ast.Call)


@dataclass
class Env:
    """What expressions can read: facts, lets, tables and final outputs by name, aggregate
    variables while they are bound, and the as-of date."""

    values: dict[str, Any]
    today: datetime.date
    notes: runtime.Notes = field(default_factory=runtime.Notes)


class Interpreter:
    """Evaluates an expression by walking its tree."""

    def value(self, expr: ast.Expr, env: Env) -> Any:
        return self.explain(expr, env).value

    def explain(self, expr: ast.Expr, env: Env) -> ExprTrace:
        value, children = getattr(self, "_" + type(expr).__name__)(expr, env)
        shown = children if isinstance(expr, _EXPLAINED) else []
        op = expr.op if isinstance(expr, ast.Binary) else None
        return ExprTrace(unparse(expr), value, shown, op)

    # Each method returns (value, operand traces).

    def _Literal(self, expr: ast.Literal, env: Env):
        return expr.value, []

    def _Name(self, expr: ast.Name, env: Env):
        return env.values.get(expr.name), []

    def _Today(self, expr: ast.Today, env: Env):
        return env.today, []

    def _FieldAccess(self, expr: ast.FieldAccess, env: Env):
        record = self.value(expr.target, env)
        return (None if record is None else record.get(expr.field.name)), []

    def _Unary(self, expr: ast.Unary, env: Env):
        operand = self.explain(expr.operand, env)
        if expr.op == "not":
            return runtime.logical_not(operand.value), [operand]
        return runtime.guarded(runtime.negate, env.notes, unparse(expr), operand.value), [operand]

    def _Binary(self, expr: ast.Binary, env: Env):
        left, right = self.explain(expr.left, env), self.explain(expr.right, env)
        op = expr.op
        if op == "and":
            value = runtime.logical_and(left.value, right.value)
        elif op == "or":
            value = runtime.logical_or(left.value, right.value)
        elif op == "/":
            text = unparse(expr)
            value = runtime.guarded(runtime.divide, env.notes, text, left.value, right.value,
                                    env.notes, text)
        elif op in runtime.ARITHMETIC:
            value = runtime.guarded(runtime.ARITHMETIC[op], env.notes, unparse(expr), left.value,
                                    right.value)
        else:
            value = runtime.compare(op, left.value, right.value)
        return value, [left, right]

    def _Between(self, expr: ast.Between, env: Env):
        parts = [self.explain(e, env) for e in (expr.value, expr.low, expr.high)]
        return runtime.between(*(p.value for p in parts)), parts

    def _In(self, expr: ast.In, env: Env):
        value, collection = self.explain(expr.value, env), self.explain(expr.collection, env)
        return runtime.contains(collection.value, value.value, expr.negated), [value, collection]

    def _IsMissing(self, expr: ast.IsMissing, env: Env):
        value = self.explain(expr.value, env)
        return (value.value is not None) == expr.negated, [value]

    def _If(self, expr: ast.If, env: Env):
        condition = self.explain(expr.condition, env)
        if condition.value is None:
            return None, [condition]
        branch = self.explain(expr.then_value if condition.value else expr.else_value, env)
        return branch.value, [condition, branch]

    def _Call(self, expr: ast.Call, env: Env):
        arguments = [self.explain(a, env) for a in expr.arguments]
        function = runtime.FUNCTIONS[expr.function.name]
        return runtime.guarded(function, env.notes, unparse(expr),
                               *(a.value for a in arguments)), arguments

    def _ListLiteral(self, expr: ast.ListLiteral, env: Env):
        return tuple(self.value(item, env) for item in expr.items), []

    def _RecordLiteral(self, expr: ast.RecordLiteral, env: Env):
        return {e.field.name: self.value(e.value, env) for e in expr.entries}, []

    def _elements(self, expr: ast.Aggregate | ast.Quantifier, env: Env):
        """(element, its where-condition) for each element of the aggregate's list."""
        items = self.value(expr.source, env)
        name = expr.variable.name
        saved = env.values.get(name)
        try:
            for item in items or ():
                env.values[name] = item
                kept = True if expr.condition is None else self.value(expr.condition, env)
                yield item, kept
        finally:
            env.values[name] = saved

    def _Aggregate(self, expr: ast.Aggregate, env: Env):
        values = [item if expr.value is None else self.value(expr.value, env)
                  for item, kept in self._elements(expr, env) if kept is True]
        return runtime.guarded(runtime.aggregate, env.notes, unparse(expr), expr.kind,
                               values), []

    def _Quantifier(self, expr: ast.Quantifier, env: Env):
        kept = [kept for _, kept in self._elements(expr, env)]
        combine = runtime.any_of if expr.kind == "any" else runtime.all_of
        return combine(kept), []
