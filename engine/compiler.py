"""The compiled evaluator: each expression becomes a pair of Python closures, built once when a
ruleset is loaded.

``fast`` computes the value with operators bound at compile time and constants folded into the
closure; ``traced`` computes the same value and the sub-expression tree the trace shows. No text
of the ruleset is ever passed to `eval` or `exec`: closures only capture values from the AST.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import ast, runtime
from engine.interpreter import Env
from engine.trace import ExprTrace
from engine.unparse import unparse

Fast = Callable[[Env], Any]
Traced = Callable[[Env], ExprTrace]


@dataclass(frozen=True, slots=True)
class Compiled:
    fast: Fast
    traced: Traced


class CompiledEvaluator:
    """Evaluates expressions through closures compiled on first use and kept by node."""

    def __init__(self) -> None:
        self._compiled: dict[int, Compiled] = {}
        self._nodes: list[ast.Expr] = []  # keeps the nodes alive, so their ids stay theirs

    def compiled(self, expr: ast.Expr) -> Compiled:
        found = self._compiled.get(id(expr))
        if found is None:
            found = self._compiled[id(expr)] = compile_expr(expr)
            self._nodes.append(expr)
        return found

    def value(self, expr: ast.Expr, env: Env) -> Any:
        return self.compiled(expr).fast(env)

    def functions(self, expr: ast.Expr) -> tuple[Fast, Traced]:
        compiled = self.compiled(expr)
        return compiled.fast, compiled.traced

    def explain(self, expr: ast.Expr, env: Env) -> ExprTrace:
        return self.compiled(expr).traced(env)


def compile_expr(expr: ast.Expr) -> Compiled:
    text = unparse(expr)
    match expr:
        case ast.Literal(value=value):
            return _leaf(text, lambda env: value)
        case ast.Name(name=name):
            return _leaf(text, lambda env: env.values.get(name))
        case ast.Today():
            return _leaf(text, lambda env: env.today)
        case ast.FieldAccess():
            return _leaf(text, _field_access(expr))
        case ast.Unary(op=op, operand=operand):
            function = runtime.logical_not if op == "not" else runtime.negate
            return _composite(text, [operand], lambda env, value: function(value))
        case ast.Binary(op=op, left=left, right=ast.Literal(value=constant) as right) if op in _COMPARE:
            # The commonest condition, `x > 700`: one closure, the constant bound in it.
            compiled = _composite(text, [left, right], _binary(op, text), op)
            return Compiled(_compare_with_constant(compile_expr(left).fast, _COMPARE[op],
                                                   constant), compiled.traced)
        case ast.Binary(op=op, left=left, right=right):
            return _composite(text, [left, right], _binary(op, text), op)
        case ast.Between(value=value, low=low, high=high):
            return _composite(text, [value, low, high],
                              lambda env, v, lo, hi: runtime.between(v, lo, hi))
        case ast.In(value=value, collection=collection, negated=negated):
            return _composite(text, [value, collection],
                              lambda env, v, c: runtime.contains(c, v, negated))
        case ast.IsMissing(value=value, negated=negated):
            return _composite(text, [value], lambda env, v: (v is not None) == negated)
        case ast.Call(function=function, arguments=arguments):
            builtin = runtime.FUNCTIONS[function.name]
            return _composite(text, list(arguments), lambda env, *values: builtin(*values))
        case ast.If():
            return _if(text, expr)
        case ast.ListLiteral(items=items):
            parts = [compile_expr(item).fast for item in items]
            return _leaf(text, lambda env: tuple(part(env) for part in parts))
        case ast.RecordLiteral(entries=entries):
            parts = [(e.field.name, compile_expr(e.value).fast) for e in entries]
            return _leaf(text, lambda env: {name: part(env) for name, part in parts})
        case ast.Aggregate() | ast.Quantifier():
            return _leaf(text, _aggregate(expr))
    raise TypeError(f"cannot compile {type(expr).__name__}")


def _leaf(text: str, fast: Fast) -> Compiled:
    return Compiled(fast, lambda env: ExprTrace(text, fast(env)))


def _composite(text: str, operands: list[ast.Expr], combine: Callable[..., Any],
               op: str | None = None) -> Compiled:
    """An operator over operands: the trace shows each operand's own tree."""
    parts = [compile_expr(operand) for operand in operands]
    fasts = [part.fast for part in parts]
    traceds = [part.traced for part in parts]
    if len(fasts) == 1:
        (only,) = fasts

        def fast(env: Env) -> Any:
            return combine(env, only(env))
    elif len(fasts) == 2:
        first, second = fasts

        def fast(env: Env) -> Any:
            return combine(env, first(env), second(env))
    else:
        def fast(env: Env) -> Any:
            return combine(env, *[part(env) for part in fasts])

    def traced(env: Env) -> ExprTrace:
        children = [part(env) for part in traceds]
        return ExprTrace(text, combine(env, *[c.value for c in children]), children, op)

    return Compiled(fast, traced)


def _binary(op: str, text: str) -> Callable[[Env, Any, Any], Any]:
    if op == "and":
        return lambda env, left, right: runtime.logical_and(left, right)
    if op == "or":
        return lambda env, left, right: runtime.logical_or(left, right)
    if op == "/":
        return lambda env, left, right: runtime.divide(left, right, env.notes, text)
    if op in runtime.ARITHMETIC:
        arithmetic = runtime.ARITHMETIC[op]
        return lambda env, left, right: arithmetic(left, right)
    return lambda env, left, right: runtime.compare(op, left, right)


_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


def _compare_with_constant(left: Fast, compare: Callable[[Any, Any], bool], constant: Any) -> Fast:
    def fast(env: Env) -> Any:
        value = left(env)
        return None if value is None else compare(value, constant)
    return fast


def _field_access(expr: ast.FieldAccess) -> Fast:
    name = expr.field.name
    if isinstance(expr.target, ast.Name):  # `customer.balance`: both lookups in one closure
        record_name = expr.target.name

        def fact(env: Env) -> Any:
            record = env.values.get(record_name)
            return None if record is None else record.get(name)
        return fact
    target = compile_expr(expr.target).fast

    def fast(env: Env) -> Any:
        record = target(env)
        return None if record is None else record.get(name)
    return fast


def _if(text: str, expr: ast.If) -> Compiled:
    condition, then_value, else_value = (compile_expr(e) for e in (
        expr.condition, expr.then_value, expr.else_value))

    def fast(env: Env) -> Any:
        test = condition.fast(env)
        if test is None:
            return None
        return then_value.fast(env) if test else else_value.fast(env)

    def traced(env: Env) -> ExprTrace:
        test = condition.traced(env)
        if test.value is None:
            return ExprTrace(text, None, [test])
        branch = (then_value if test.value else else_value).traced(env)
        return ExprTrace(text, branch.value, [test, branch])

    return Compiled(fast, traced)


def _aggregate(expr: ast.Aggregate | ast.Quantifier) -> Fast:
    source = compile_expr(expr.source).fast
    name = expr.variable.name
    condition = compile_expr(expr.condition).fast if expr.condition is not None else None
    if isinstance(expr, ast.Quantifier):
        combine = runtime.any_of if expr.kind == "any" else runtime.all_of
        value = None
    else:
        kind = expr.kind
        value = compile_expr(expr.value).fast if expr.value is not None else None

    def fast(env: Env) -> Any:
        values = env.values
        saved = values.get(name)
        results = []
        try:
            for item in source(env) or ():
                values[name] = item
                kept = True if condition is None else condition(env)
                if isinstance(expr, ast.Quantifier):
                    results.append(kept)
                elif kept is True:
                    results.append(item if value is None else value(env))
        finally:
            values[name] = saved
        return combine(results) if isinstance(expr, ast.Quantifier) else \
            runtime.aggregate(kind, results)
    return fast
