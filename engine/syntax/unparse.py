"""Expressions back to text, in the language's canonical spelling; traces show sub-expressions
this way (`customer.behavior_score >= 700`)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from engine.syntax import ast

# Binding strength of each form: a sub-expression that binds less than its place needs
# parentheses.
_OPEN, _OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _ATOM = range(9)
_BINARY = {"or": _OR, "and": _AND, "+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT}


def literal_text(value: object, kind: str = "") -> str:
    if kind == "percent" and isinstance(value, Decimal):
        return f"{_number(value * 100)}%"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _number(value: Decimal) -> str:
    """Plain decimal notation, thousands grouped with `_` as risk officers write them
    (`200_000`, `1_000.50`)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = text.partition(".")
    if len(whole) >= 4:
        whole = f"{int(whole):_}"
    return sign + whole + dot + fraction


def unparse(expr: ast.Expr) -> str:
    return _text(expr)[0]


def unparse_closed(expr: ast.Expr) -> str:
    """``expr`` as text that can stand where open forms (`if`, `… where …`) cannot, such as a
    table cell: an open form is parenthesised."""
    return _wrap(expr, _UNARY)


def _wrap(expr: ast.Expr, needed: int) -> str:
    text, strength = _text(expr)
    return f"({text})" if strength < needed else text


def _text(expr: ast.Expr) -> tuple[str, int]:
    match expr:
        case ast.Literal(value=value, kind=kind, source=source):
            return (source if source is not None else literal_text(value, kind)), _ATOM
        case ast.Name(name=name):
            return name, _ATOM
        case ast.Today():
            return "today", _ATOM
        case ast.FieldAccess(target=target, field=field):
            return f"{_wrap(target, _ATOM)}.{field.name}", _ATOM
        case ast.Unary(op="not", operand=operand):
            return f"not {_wrap(operand, _NOT)}", _NOT
        case ast.Unary(operand=operand):
            return f"-{_wrap(operand, _UNARY)}", _UNARY
        case ast.Binary(op=op, left=left, right=right) if op in _BINARY:
            strength = _BINARY[op]
            return f"{_wrap(left, strength)} {op} {_wrap(right, strength + 1)}", strength
        case ast.Binary(op=op, left=left, right=right):
            return f"{_wrap(left, _SUM)} {op} {_wrap(right, _SUM)}", _COMPARE
        case ast.Between(value=value, low=low, high=high):
            return (f"{_wrap(value, _SUM)} between {_wrap(low, _SUM)} and {_wrap(high, _SUM)}",
                    _COMPARE)
        case ast.In(value=value, collection=collection, negated=negated):
            word = "not in" if negated else "in"
            return f"{_wrap(value, _SUM)} {word} {_wrap(collection, _SUM)}", _COMPARE
        case ast.IsMissing(value=value, negated=negated):
            return f"{_wrap(value, _SUM)} is {'not ' if negated else ''}missing", _COMPARE
        case ast.If(condition=condition, then_value=then_value, else_value=else_value):
            return (f"if {unparse(condition)} then {unparse(then_value)} "
                    f"else {unparse(else_value)}", _OPEN)
        case ast.Call(function=function, arguments=arguments):
            return f"{function.name}({', '.join(unparse(a) for a in arguments)})", _ATOM
        case ast.ListLiteral(items=items):
            return f"[{', '.join(unparse(i) for i in items)}]", _ATOM
        case ast.RecordLiteral(entries=entries):
            inner = ", ".join(f"{e.field.name}: {unparse(e.value)}" for e in entries)
            return f"{{ {inner} }}" if inner else "{}", _ATOM
        case ast.Aggregate() | ast.Quantifier():
            return _aggregate_text(expr)
    raise TypeError(f"cannot unparse {type(expr).__name__}")


def _aggregate_text(expr: ast.Aggregate | ast.Quantifier) -> tuple[str, int]:
    source = _wrap(expr.source, _ATOM)
    if isinstance(expr, ast.Quantifier):
        head = f"{expr.kind} {expr.variable.name} in {source}"
        return f"{head} where {unparse(expr.condition)}", _OPEN
    if expr.kind == "count":
        head = f"count of {expr.variable.name} in {source}"
    else:
        head = f"{expr.kind} of {unparse(expr.value)} for {expr.variable.name} in {source}"
    if expr.condition is None:
        return head, _UNARY
    return f"{head} where {unparse(expr.condition)}", _OPEN


def chain_operand(expr: ast.Expr, op: str, position: int, count: int) -> str:
    """Operand ``position`` of a chain of ``count`` operands joined by `and` or `or`, as the
    formatter breaks it over lines: parenthesised where it binds less than the chain, except an
    open form (`if`, `… where …`) in last place of an `and`/`or` chain, which may stand bare."""
    strength = _BINARY[op]
    if position == 0:
        return _wrap(expr, strength)
    text, own = _text(expr)
    if own == _OPEN and position == count - 1 and op in ("and", "or"):
        return text  # the grammar takes an open form bare only after `and`/`or`
    return _wrap(expr, strength + 1)
