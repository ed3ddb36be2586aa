"""Hypothesis strategies for random well-typed rulesets over one fixed schema, and facts for it.

The rulesets use every construct the decision procedure has: lets, tables with every hit
policy and every kind of cell, rules with priorities, every combine policy, caps with and
without conditions and reasons, offers with partners, consent and withheld reasons, missing
values, division by zero, `if`, aggregates and quantifiers. Expressions are drawn by type, so
that the checker accepts them (money only meets money or literals).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from hypothesis import strategies as st

import engine
from engine.check import types as t
from engine.check.symbols import Symbols
from engine.syntax.grammar import keywords
from tests.helpers import FIXTURES

SCHEMA = """
facts c
  a: integer
  b: money
  m: money optional
  n: number optional
  s: one of "x", "y", "z"
  flag: boolean
  d: date
  items: list of item
  tags: set of text
end

type item
  amount: money
  kind: one of "p", "q"
end

type terms
  level: one of "low", "mid", "high"
  amount: money
end

reasons
  R1 "One"
  R2 "Two"
  R3 "Three"
  R4 "Four"
  C1 "Capped"
  W1 "Withheld"
end
"""

# name: (declaration, kind of value it takes)
OUTPUTS = {
    "o_first": ("money combine first default 0", "money"),
    "o_unique": ("integer combine unique", "integer"),
    "o_any": ('one of "a", "b", "c" combine any default "a"', "abc"),
    "o_priority": ('one of "low", "mid", "high" combine priority default "mid"', "level"),
    "o_min": ("money combine min", "money"),
    "o_max": ("number combine max default 1", "number"),
    "o_sum": ("money combine sum default 0", "money"),
    "o_count": ("integer combine count", "none"),
    "o_collect": ("list of text combine collect", "text"),
    "o_order": ('list of one of "a", "b", "c" combine output order', "abc"),
    "o_set": ("set of text combine collect", "text"),
}
ADDED = {"o_collect", "o_order", "o_set"}
TABLE_POLICIES = ["unique", "first", "any", "priority", "collect", "output order", "count", "sum",
                  "min", "max"]

integers = st.integers(-3, 200)
# Money for sure (a literal has no unit): what divisions need.
MONEY_FACTS = st.sampled_from(["c.b", "c.m", "(sum of it.amount for it in c.items)"])
amounts = st.sampled_from(["0", "1", "2", "100", "0.5", "1_000", "2.25", "40%", "10_000"])


def _not_literal_zero(text: str) -> bool:
    """A divisor written as the number 0 is an error (E416); a computed zero is what tests
    division by zero."""
    return re.fullmatch(r"[(\s-]*0[)\s]*", text) is None


class Scope:
    """What an expression may refer to: facts, and the lets and tables declared so far."""

    def __init__(self) -> None:
        self.money: list[str] = ["c.b", "c.m"]
        self.number: list[str] = ["c.n", "c.a"]
        self.boolean: list[str] = ["c.flag"]
        self.level: list[str] = []


@st.composite
def money(draw, scope: Scope, depth: int = 0) -> str:
    leaves = [st.sampled_from(scope.money), amounts]
    if depth >= 3:
        return draw(st.one_of(*leaves))
    deeper = depth + 1
    return draw(st.one_of(
        *leaves,
        st.tuples(money(scope, deeper), st.sampled_from(["+", "-"]), money(scope, deeper))
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(money(scope, deeper), amounts).map(lambda t: f"({t[0]} * {t[1]})"),
        st.tuples(MONEY_FACTS, number(scope, deeper).filter(_not_literal_zero))
        .map(lambda t: f"({t[0]} / {t[1]})"),
        st.tuples(money(scope, deeper), money(scope, deeper))
        .map(lambda t: f"min({t[0]}, {t[1]})"),
        money(scope, deeper).map(lambda m: f"round_down({m}, 100)"),
        money(scope, deeper).map(lambda m: f"round({m}, 1)"),
        st.tuples(boolean(scope, deeper), money(scope, deeper), money(scope, deeper))
        .map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        st.just("(sum of it.amount for it in c.items where it.kind = \"p\")"),
        st.just("(max of it.amount for it in c.items)"),
    ))


@st.composite
def number(draw, scope: Scope, depth: int = 0) -> str:
    leaves = [st.sampled_from(scope.number), integers.map(str), amounts]
    if depth >= 3:
        return draw(st.one_of(*leaves))
    deeper = depth + 1
    return draw(st.one_of(
        *leaves,
        st.tuples(number(scope, deeper), st.sampled_from(["+", "-", "*"]), number(scope, deeper))
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(MONEY_FACTS, MONEY_FACTS).map(lambda t: f"({t[0]} / {t[1]})"),
        st.just("(count of it in c.items where it.amount > 100)"),
        st.just("(average of it.amount / it.amount for it in c.items)"),
        st.just("length(c.tags)"),
        st.just("days_between(c.d, today)"),
        number(scope, deeper).map(lambda n: f"abs({n})"),
        number(scope, deeper).map(lambda n: f"(-{n})"),
    ))


@st.composite
def boolean(draw, scope: Scope, depth: int = 0) -> str:
    leaves = [st.sampled_from(scope.boolean), st.sampled_from(["true", "false"]),
              st.sampled_from(["c.m is missing", "c.n is not missing", '"vip" in c.tags',
                               'c.s in ["x", "y"]', 'c.s = "z"', "c.d < today",
                               'any it in c.items where it.kind = "q"',
                               "all it in c.items where it.amount > 0"])]
    if depth >= 3:
        return draw(st.one_of(*leaves))
    deeper = depth + 1
    comparison = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
    return draw(st.one_of(
        *leaves,
        st.tuples(money(scope, deeper), comparison, money(scope, deeper))
        .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(number(scope, deeper), comparison, number(scope, deeper))
        .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(number(scope, deeper), integers, integers)
        .map(lambda t: f"{t[0]} between {min(t[1], t[2])} and {max(t[1], t[2])}"),
        st.tuples(boolean(scope, deeper), st.sampled_from(["and", "or"]), boolean(scope, deeper))
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        boolean(scope, deeper).map(lambda b: f"not ({b})"),
    ))


def value_for(kind: str, scope: Scope) -> st.SearchStrategy[str]:
    if kind == "money":
        return money(scope, 1)
    if kind in ("number", "integer"):
        return number(scope, 1) if kind == "number" else integers.map(str)
    if kind == "abc":
        return st.sampled_from(['"a"', '"b"', '"c"'])
    if kind == "level":
        return st.sampled_from(['"low"', '"mid"', '"high"'] + scope.level)
    return st.sampled_from(['"vip"', '"new"', '"x"'])


CELLS = st.sampled_from(["-", ">= 100", "< 50", "[0..100)", "(10..1_000]", "100", "missing",
                         "not 100", "0, 1, 2", "not [0..10]", "!= 5"])


@st.composite
def table(draw, name: str, scope: Scope) -> str:
    policy = draw(st.sampled_from(TABLE_POLICIES))
    if policy in ("priority", "output order"):
        result_type, results = 'one of "low", "mid", "high"', st.sampled_from(
            ['"low"', '"mid"', '"high"'])
    elif policy in ("count",):
        result_type, results = "integer", integers.map(str)
    else:
        result_type, results = "money", money(scope, 2)
    columns = draw(st.lists(st.sampled_from(scope.money + scope.number), min_size=1, max_size=2))
    rows = draw(st.lists(st.tuples(st.lists(CELLS, min_size=len(columns), max_size=len(columns)),
                                   results), min_size=1, max_size=4))
    lines = [f"table {name}: {result_type} hit {policy}",
             "  | " + " | ".join(columns) + f" | {name} |"]
    # Rows may overlap: the conflict is part of what is tested.
    lines += ["  | " + " | ".join(cells) + f" | {result} |  # tenet: ignore[E601]"
              for cells, result in rows]
    if policy not in ("collect", "output order", "count") and draw(st.booleans()):
        lines.append(f"  otherwise {draw(results)}")
    lines.append("end")
    if policy in ("priority",):
        scope.level.append(name)
    elif policy in ("unique", "first", "any", "sum", "min", "max"):
        scope.money.append(name)
    elif policy == "count":
        scope.number.append(name)
    return "\n".join(lines)


COMPOUND_POLICIES = ["unique", "first", "any", "priority", "collect", "output order", "count"]


@st.composite
def compound_table(draw, name: str, scope: Scope) -> str:
    """A table with two result columns (LANGUAGE.md §9): its value is a record `terms`, declared
    or (where no policy ranks rows) inferred from the cells."""
    policy = draw(st.sampled_from(COMPOUND_POLICIES))
    declared = policy in ("priority", "output order") or draw(st.booleans())
    levels = st.sampled_from(['"low"', '"mid"', '"high"'])
    columns = draw(st.lists(st.sampled_from(scope.money + scope.number), min_size=1, max_size=2))
    rows = draw(st.lists(st.tuples(st.lists(CELLS, min_size=len(columns), max_size=len(columns)),
                                   levels, money(scope, 2)), min_size=1, max_size=4))
    lines = [f"table {name}{': terms' if declared else ''} hit {policy}",
             "  | " + " | ".join(columns) + " || level | amount |"]
    lines += ["  | " + " | ".join(cells) + f" || {level} | {amount} |  # tenet: ignore[E601]"
              for cells, level, amount in rows]
    if policy not in ("collect", "output order", "count") and draw(st.booleans()):
        # `otherwise` may leave a column out: it is then missing.
        entries = [f"level: {draw(levels)}"] if draw(st.booleans()) else []
        entries.append(f"amount: {draw(money(scope, 2))}")
        lines.append(f"  otherwise {{ {', '.join(entries)} }}")
    lines.append("end")
    if policy in ("collect", "output order"):
        scope.money.append(f"(sum of r.amount for r in {name})")
        scope.number.append(f"(count of r in {name} where r.level = \"low\")")
    elif policy == "count":
        scope.number.append(name)
    else:
        scope.level.append(f"{name}.level")
        scope.money.append(f"{name}.amount")
    return "\n".join(lines)


@st.composite
def rule(draw, name: str, scope: Scope) -> str:
    actions = []
    for output in draw(st.lists(st.sampled_from(sorted(OUTPUTS)), max_size=3, unique=True)):
        kind = OUTPUTS[output][1]
        if output in ADDED:
            actions.append(f"add {draw(value_for(kind, scope))} to {output}")
        elif kind == "none":
            actions.append(f"set {output} = 1")
        else:
            actions.append(f"set {output} = {draw(value_for(kind, scope))}")
    for offer in draw(st.lists(st.sampled_from(["plain", "partnered", "sized"]), max_size=2,
                               unique=True)):
        actions.append(f"offer {offer}" + (f" amount {draw(money(scope, 2))}"
                                           if offer == "sized" else ""))
    actions += [f"reason {code}" for code in draw(st.lists(
        st.sampled_from(["R1", "R2", "R3", "R4"]), max_size=2, unique=True))]
    if not actions:
        actions = ["reason R1"]
    priority = draw(st.sampled_from(["", "  priority 10\n", "  priority -5\n"]))
    body = "\n".join(f"    {action}" for action in actions)
    return f"rule {name}\n{priority}  when {draw(boolean(scope))}\n  then\n{body}\nend"


@st.composite
def rulesets(draw) -> str:
    """A random ruleset that passes the checker."""
    scope = Scope()
    parts = ["ruleset random", SCHEMA, "outputs"]
    parts += [f"  {name}: {declaration}" for name, (declaration, _) in OUTPUTS.items()]
    parts.append("end")
    for index in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["money", "number", "boolean"]))
        value = draw({"money": money, "number": number, "boolean": boolean}[kind](scope))
        parts.append(f"let l{index} = {value}")
        {"money": scope.money, "number": scope.number, "boolean": scope.boolean}[kind].append(
            f"l{index}")
    for index in range(draw(st.integers(0, 2))):
        parts.append(draw(table(f"t{index}", scope)))
    for index in range(draw(st.integers(0, 1))):
        parts.append(draw(compound_table(f"r{index}", scope)))
    parts += [
        'offer plain "A plain offer"\nend',
        'offer partnered "A partner\'s offer"\n  partner "insurer"\n'
        '  requires "share" in c.tags\n  else reason W1\nend',
        'offer sized "An offer with an amount"\n  requires c.flag\nend']
    for index in range(draw(st.integers(1, 6))):
        parts.append(draw(rule(f"X{index}", scope)))
    for output in draw(st.lists(st.sampled_from(["o_first", "o_min", "o_sum", "o_max"]),
                                max_size=3)):
        bound = draw(st.sampled_from(["at most", "at least"]))
        limit = draw(money(scope, 2)) if output != "o_max" else draw(number(scope, 2))
        condition = draw(st.one_of(st.just(""), boolean(scope, 2).map(lambda b: f" when {b}")))
        reason = draw(st.sampled_from(["", " because C1"]))
        parts.append(f"cap {output} {bound} {limit}{condition}{reason}")
    return "\n\n".join(parts) + "\n"


_money_values = st.one_of(st.sampled_from([Decimal(0), Decimal(50), Decimal(100), Decimal(150)]),
                          st.decimals(-500, 20_000, places=2, allow_nan=False))
_items = st.fixed_dictionaries({"amount": _money_values, "kind": st.sampled_from(["p", "q"])})


def facts() -> st.SearchStrategy[dict]:
    """Facts for the schema of ``rulesets``: zeros, missing values and empty lists included."""
    return st.fixed_dictionaries({"c": st.fixed_dictionaries({
        "a": st.one_of(st.sampled_from([0, 5, 100]), st.integers(-10, 300)),
        "b": _money_values,
        "m": st.none() | _money_values,
        "n": st.none() | st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(100)]),
        "s": st.sampled_from(["x", "y", "z"]),
        "flag": st.booleans(),
        "d": st.dates(datetime.date(2026, 1, 1), datetime.date(2027, 12, 31)).map(str),
        "items": st.lists(_items, max_size=3),
        "tags": st.lists(st.sampled_from(["vip", "new", "share", "x"]), max_size=3),
    })})


# --------------------------------------------------------------- facts for a ruleset

TEXTS = ["share_with_insurer", "share", "retail", "x", ""]


def value_strategy(symbols: Symbols, type_: t.Type, depth: int = 0) -> st.SearchStrategy:
    if type_ in (t.MONEY, t.NUMBER):
        return st.one_of(st.integers(-1000, 300_000).map(Decimal),
                         st.decimals(-1000, 300_000, places=2, allow_nan=False),
                         st.sampled_from([Decimal(0), Decimal(60), Decimal(750)]))
    if type_ == t.INTEGER:
        return st.one_of(st.integers(-5, 1000), st.sampled_from([0, 6, 30, 60, 61, 700, 750]))
    if type_ == t.BOOLEAN:
        return st.booleans()
    if type_ == t.DATE:
        return st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 1, 1)).map(str)
    if isinstance(type_, t.Enum):
        return st.sampled_from(type_.values)
    if isinstance(type_, t.ListOf):
        return st.lists(value_strategy(symbols, type_.element, depth + 1), max_size=3)
    if isinstance(type_, t.Record):
        return record_strategy(symbols, type_.name, depth + 1)
    return st.sampled_from(TEXTS)


def record_strategy(symbols: Symbols, name: str, depth: int = 0) -> st.SearchStrategy:
    fields = {}
    for field_name, declaration in symbols.record_fields(name).items():
        strategy = value_strategy(symbols, symbols.resolve_type(declaration.type), depth)
        fields[field_name] = st.none() | strategy if declaration.optional else strategy
    return st.fixed_dictionaries(fields)


def facts_strategy(ruleset: engine.Ruleset) -> st.SearchStrategy:
    """Facts objects of any shape the ruleset's schema accepts (and some it refuses)."""
    symbols = ruleset.check.program.symbols
    return st.fixed_dictionaries({name: record_strategy(symbols, name) for name in symbols.facts})


# --------------------------------------------------------------- edited rulesets

EXAMPLE = (FIXTURES / "language" / "complete_example.rules").read_text(encoding="utf-8")
BUDGET = (FIXTURES / "language" / "budget_fragment.rules").read_text(encoding="utf-8")
SYMBOLS = ["=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "(", ")", "[", "]", "{", "}",
           "|", ",", ":", ".", "..", "%", '"', "#", "\n", "0", "12", "40%", "2026-12-01",
           '"text"', "customer", "customer.balance", "new_limit", "action", "D01", "x", "客户"]
TOKENS = st.sampled_from(sorted(keywords()) + SYMBOLS)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The worked example with a few edits: slices removed or repeated, tokens inserted, lines
    swapped. Many of the results still parse, which exercises the checker."""
    text = draw(st.sampled_from([EXAMPLE, BUDGET]))
    for _ in range(draw(st.integers(1, 4))):
        size = len(text)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 40)))
        edit = draw(st.sampled_from(["delete", "repeat", "insert", "swap_lines", "replace_word"]))
        if edit == "delete":
            text = text[:start] + text[end:]
        elif edit == "repeat":
            text = text[:end] + text[start:end] + text[end:]
        elif edit == "insert":
            text = text[:start] + " " + draw(TOKENS) + " " + text[start:]
        elif edit == "swap_lines":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            words = text.split(" ")
            index = draw(st.integers(0, len(words) - 1))
            words[index] = draw(TOKENS)
            text = " ".join(words)
    return text
