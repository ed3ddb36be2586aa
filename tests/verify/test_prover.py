"""The prover is trustworthy: mutations of the repository's rulesets are caught with witnesses
the engine confirms; the encodings of months_between, rounding, percent and division agree with
the evaluator; and on random rulesets, `proved` is never contradicted by random customers and
`violated` always comes with a witness that breaks the property in the engine."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import engine
from engine.check import types as t
from engine.exceptions import DecisionConflict
from engine.pipeline import check_path
from engine.run.reference.interpreter import Env, Interpreter
from engine.verify import Options, verify
from engine.verify.prover import INTERNAL, PROVED, VIOLATED, concerned_by_conflict
from tests.helpers import ROOT
from tests.strategies import facts, rulesets


def _result(text: str, name: str, **options):
    ruleset = engine.load_text(text, "mutant.rules", ROOT / "rulesets")
    return next(r for r in verify(ruleset, options=Options(**options)) if r.name == name)


# ------------------------------------------------------------------------------ mutations

MUTATIONS = [
    # (ruleset, property, the text replaced, its replacement)
    ("limit_review", "P01", "when customer.current_dpd > 0", "when customer.current_dpd > 10"),
    # Two guards stand between severe delinquency and an increase; remove both.
    ("limit_review", "P02", "when customer.max_dpd_12m > 60", "when customer.max_dpd_12m > 90"),
    ("limit_review", "P02", "   and customer.max_dpd_12m = 0\n", "\n"),
    ("limit_review", "P03", "cap new_limit at most 200_000", "cap new_limit at most 250_000"),
    ("limit_review", "P05", "  when action = \"increase\"\n  then\n    set new_limit",
     "  when increase_factor > 1\n  then\n    set new_limit"),
    # Two guards keep an "increase" from lowering a small line; remove both.
    ("limit_review", "P06", "   and increase_target > customer.current_limit\n", "\n"),
    ("limit_review", "P06", "rounds away\"\n  when increase_factor > 1\n",
     "rounds away\"\n  when increase_factor > 100\n"),
    ("cross_sell", "insurer_consent", 'requires "share_with_insurer" in customer.consents',
     'requires "share_with_car_care" in customer.consents'),
    ("cross_sell", "nothing_in_arrears", "customer.days_past_due > 0\n",
     "customer.days_past_due > 30\n"),
    ("product_addon", "exposure_cap", "min(income_room, 200_000 - unsecured_exposure)",
     "min(income_room, 250_000 - unsecured_exposure)"),
    ("product_addon", "refusals_give_reasons", "  when customer.behavior_score < 650\n",
     "  when customer.behavior_score < 600\n"),
]


CASES = {}
for _ruleset, _name, _old, _new in MUTATIONS:
    CASES.setdefault((_ruleset, _name), []).append((_old, _new))


@pytest.mark.parametrize(("ruleset", "name"), CASES, ids=[f"{r}.{n}" for r, n in CASES])
def test_a_mutation_is_caught_with_a_confirmed_witness(ruleset, name) -> None:
    text = (ROOT / "rulesets" / f"{ruleset}.rules").read_text(encoding="utf-8")
    assert _result(text, name).status == PROVED
    mutant = text
    for old, new in CASES[(ruleset, name)]:
        assert old in mutant, old
        mutant = mutant.replace(old, new, 1)  # the rule, not the property below it
    result = _result(mutant, name)
    assert result.status == VIOLATED, result
    assert result.witness is not None and result.witness.decision.facts


# ------------------------------------------------------------------------------ encodings

DATES = st.dates(datetime.date(1999, 1, 1), datetime.date(2031, 12, 31))
AMOUNTS = st.decimals(-10_000, 10_000, places=3, allow_nan=False, allow_infinity=False)


def _agrees(facts_block: str, expression: str, given_facts: dict, kind: str) -> None:
    """The prover proves `expression = V` and refutes `expression != V` for the customer whose
    facts are pinned in `when`, V being the evaluator's value."""
    ruleset_text = (f"ruleset enc\n{facts_block}\noutputs\n  out: {kind} default 0\nend\n"
                    f"rule R when true then set out = {expression} end\n")
    ruleset = engine.load_text(ruleset_text)
    value = ruleset.decide(given_facts, "2026-12-01", trace=False).decision["out"]
    pinned = " and ".join(f"f.{k} = {v}" for k, v in given_facts["f"].items())
    for op, expected in (("=", PROVED), ("!=", VIOLATED)):
        shown = "missing" if value is None else value
        claim = ("out is missing" if value is None else f"out = {shown}") if op == "=" else (
            "out is not missing" if value is None else f"out != {shown}")
        text = ruleset_text + f"property E when {pinned} expect {claim} end\n"
        assert _result(text, "E").status == expected, (expression, given_facts, value, op)


@settings(max_examples=40, deadline=None)
@given(DATES, DATES)
@example(datetime.date(2024, 1, 31), datetime.date(2024, 2, 29))  # clamped to February's end
@example(datetime.date(2023, 1, 31), datetime.date(2023, 2, 28))
@example(datetime.date(2024, 2, 29), datetime.date(2025, 2, 28))  # from a leap day
@example(datetime.date(2000, 3, 1), datetime.date(1999, 12, 31))  # backwards, over 2000
@example(datetime.date(2026, 3, 31), datetime.date(2026, 4, 30))
def test_months_and_days_between_agree_with_the_evaluator(start, end) -> None:
    block = "facts f\n  a: date\n  b: date\nend"
    given_facts = {"f": {"a": start.isoformat(), "b": end.isoformat()}}
    _agrees(block, "months_between(f.a, f.b)", given_facts, "integer")
    _agrees(block, "days_between(f.a, f.b)", given_facts, "integer")


def _ends_within(value: Fraction, digits: int) -> bool:
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1 and len(str(value.numerator)) <= digits


@settings(max_examples=40, deadline=None)
@given(AMOUNTS, AMOUNTS, st.sampled_from(["round(f.x, 2)", "round(f.x)", "round_down(f.x, 100)",
                                          "round_up(f.x, 0.05)", "f.x / f.y", "f.x * 35%",
                                          "round(f.x / f.y, 1)", "f.x / 3"]))
@example(Decimal("2.5"), Decimal(1), "round(f.x)")  # half to even: 2
@example(Decimal("-2.5"), Decimal(1), "round(f.x)")
@example(Decimal("0.125"), Decimal(1), "round(f.x, 2)")
@example(Decimal("-150"), Decimal(1), "round_down(f.x, 100)")
@example(Decimal("-0.01"), Decimal(1), "round_up(f.x, 0.05)")
@example(Decimal(1), Decimal(0), "f.x / f.y")  # division by zero: missing
def test_rounding_percent_and_division_agree_with_the_evaluator(x, y, expression) -> None:
    # A proof is over exact arithmetic; the engine keeps 34 significant digits, so a quotient
    # that does not end (1/3) differs by design (docs/language.md, "Properties").
    if "/" in expression and y != 0:
        quotient = Fraction(x) / (Fraction(3) if "/ 3" in expression else Fraction(y))
        assume(_ends_within(quotient, 30))
    block = "facts f\n  x: number\n  y: number\nend"
    _agrees(block, expression, {"f": {"x": x, "y": y}}, "number")


# --------------------------------------------------------------------------- differential

PROPERTIES = st.sampled_from([
    "expect o_first >= 0", "expect o_count <= 2", "expect o_sum <= 1_000",
    'when o_priority = "high" expect o_any = "a"', "expect length(reasons) <= 3",
    'expect "R1" in reasons or length(offers) = 0', "expect length(o_collect) <= 2",
    'when c.flag expect not ("b" in o_order)', "expect o_min is missing or o_min <= 100",
    'expect not (any o in offers where o.name = "partnered") or "share" in c.tags',
])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rulesets(), PROPERTIES, st.lists(facts(), min_size=30, max_size=30),
       st.dates(datetime.date(2026, 1, 1), datetime.date(2027, 12, 31)))
def test_proofs_hold_and_witnesses_break_on_random_rulesets(text, claim, customers, as_of):
    text += f"\nproperty Q\n  {claim}\nend\n"
    ruleset = engine.load_text(text)
    result = next(r for r in verify(ruleset, options=Options(timeout=5)) if r.name == "Q")
    assert result.status != INTERNAL, result
    if result.status == VIOLATED:  # already decided by the engine; check it once more here
        facts_value, when = result.witness.decision.facts, result.witness.as_of
        assert _breaks(ruleset, claim, facts_value, when)
    if result.status == PROVED:
        for customer in customers:
            assert not _breaks(ruleset, claim, customer, as_of), customer


def _breaks(ruleset, claim: str, customer: dict, as_of: datetime.date) -> bool:
    declaration = ruleset.check.program.symbols.properties["Q"]
    try:
        ruleset.decide(customer, as_of, trace=False)
    except DecisionConflict:
        return concerned_by_conflict(ruleset, declaration, customer, as_of)
    outcome = ruleset.reference_outcome(ruleset.schema.validate(customer), as_of)
    values = dict(outcome.values)
    values["reasons"] = tuple(outcome.reasons)
    values["offers"] = tuple(values.get("offers", ()))
    env = Env(values, as_of)
    interpreter = Interpreter()
    when = True if declaration.condition is None else interpreter.value(declaration.condition, env)
    return when is True and interpreter.value(declaration.claim, env) is not True


def test_decimal_witness_values_are_exact() -> None:
    result = _result("ruleset r\nfacts f\n  x: money\nend\noutputs\n  y: money default 0\nend\n"
                     "rule R when f.x > 0 then set y = f.x / 3 end\n"
                     "property P expect y != 1.5 end\n", "P")
    assert result.status == VIOLATED
    assert result.witness.decision.facts == {"f": {"x": Decimal("4.5")}}


def test_a_fraction_for_an_integer_output_is_a_conflict_and_whole_values_are_not() -> None:
    head = ("ruleset r\nfacts f\n  x: integer\nend\noutputs\n  n: integer combine sum default 0\n"
            "end\n")
    halves = _result(head + "rule R when f.x > 0 then set n = f.x * 1.5 end\n", "no conflicts")
    assert halves.status == VIOLATED
    assert halves.witness.decision.conflict is not None  # the engine refuses it too
    whole = _result(head + "rule R when f.x > 0 then set n = f.x * 3 - 1 end\n"
                           "rule S when f.x > 5 then set n = 7 end\n", "no conflicts")
    assert whole.status == PROVED


# ----------------------------------------------------------------------------- every fixture

LOADABLE = []
for _path in sorted([*(ROOT / "tests" / "fixtures").rglob("*.rules"),
                     *(ROOT / "rulesets").rglob("*.rules")]):
    _text = _path.read_text(encoding="utf-8")
    if "ruleset " in _text and not check_path(_path).has_errors:
        LOADABLE.append(_path)


@pytest.mark.parametrize("path", LOADABLE, ids=lambda p: p.stem)
def test_every_ruleset_of_the_repository_is_verified_without_a_prover_error(path) -> None:
    """Each output equals itself or is missing, for every customer: proved unless a conflict
    breaks it, and then with a witness the engine confirms; never a crash or an internal
    error, whatever the ruleset uses."""
    ruleset = engine.load(path)
    # A record output (a table with several results, published) is claimed field by field:
    # `=` does not compare records.
    claimed = []
    for name, type_ in ruleset.check.program.output_types.items():
        if isinstance(type_, t.Record):
            fields = ruleset.check.program.symbols.field_types(type_.name)
            claimed += [f"{name}.{field}" for field in fields]
        elif name != "offers":
            claimed.append(name)
    claims = "".join(f"\nproperty SAME{index} expect {name} = {name} or {name} is missing end\n"
                     for index, name in enumerate(claimed))
    claims += "\nproperty COUNTS expect length(reasons) >= 0 and length(offers) >= 0 end\n"
    text = path.read_text(encoding="utf-8") + claims
    results = verify(engine.load_text(text, str(path), path.parent), options=Options(timeout=3))
    assert all(r.status != INTERNAL for r in results)
    conflicts = next((r for r in results if r.kind == "conflicts"), None)
    for result in results:
        if result.name.startswith("SAME") or result.name == "COUNTS":
            expected = PROVED if conflicts is None or conflicts.status == PROVED else VIOLATED
            assert result.status == expected, result
