"""No input crashes the front end: random text, token soup and mutated rulesets only ever
produce diagnostics, each pointing inside the file."""

from __future__ import annotations

import datetime
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.diagnostics import Diagnostic
from engine.pipeline import check_text
from engine.syntax.source import normalize_newlines
from tests.helpers import FIXTURES
from tests.strategies import TOKENS, mutated

# How many examples: the hypothesis profile (tests/conftest.py) decides.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_only_diagnostics(text: str) -> None:
    result = check_text(text, "fuzz.rules")
    line_count = max(1, normalize_newlines(text).count("\n") + 1)
    for diagnostic in result.diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.span.file == "fuzz.rules"
        assert 1 <= diagnostic.span.line <= line_count + 1, diagnostic


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    assert_only_diagnostics(text)


@FUZZ
@given(st.lists(TOKENS, max_size=60))
def test_token_soup(tokens: list[str]) -> None:
    assert_only_diagnostics(" ".join(tokens))


@FUZZ
@given(st.lists(TOKENS, min_size=1, max_size=6), st.data())
def test_header_plus_token_soup(tokens: list[str], data: st.DataObject) -> None:
    assert_only_diagnostics("ruleset r\n" + " ".join(tokens))


# Large inputs, which found the quadratic and worse cases: long lines, thousands of tokens,
# many syntax errors, nesting around the limit, long texts, long comments before an error.
LARGE = st.one_of(
    # Repeated draws: large outputs from small choices (hypothesis caps what it draws).
    st.tuples(st.text(min_size=1, max_size=40), st.integers(50, 2_000)).map(lambda t: t[0] * t[1]),
    st.tuples(st.lists(TOKENS, min_size=1, max_size=30), st.integers(20, 200))
    .map(lambda t: " ".join(t[0] * t[1])),
    st.integers(50, 400).map(lambda n: "ruleset r\n" + "let = \n" * n),
    st.integers(150, 260).map(lambda k: "ruleset r\nlet x = " + "(" * k + "1" + ")" * k + "\n"),
    st.integers(1_000, 100_000).map(lambda n: 'ruleset r\nlet s = "' + "a" * n + '"\n'),
    st.integers(1_000, 100_000).map(lambda n: "ruleset r\n# " + "x" * n + "\nlet = \n"),
)


@FUZZ
@given(LARGE)
def test_large_inputs(text: str) -> None:
    assert_only_diagnostics(text)


@FUZZ
@given(mutated())
def test_mutated_rulesets(text: str) -> None:
    assert_only_diagnostics(text)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.decimals(allow_nan=False, allow_infinity=False)  # any exponent
    | st.integers(10**30, 10**6000) | st.floats(allow_nan=False)
    | st.sampled_from(["2026-12-01", "retail", "share_with_insurer", "2026-02-30"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["segment", "balance", "current_limit", "consents",
                                       "months_on_book", "x"]), children, max_size=4),
    max_leaves=12)


@lru_cache(maxsize=1)
def limit_review() -> engine.Ruleset:
    return engine.load(FIXTURES / "language" / "complete_example.rules")


@FUZZ
@given(st.dictionaries(st.sampled_from(["customer", "other"]), JSON_VALUES, max_size=2))
def test_any_facts_give_a_decision_or_a_facts_error(facts: dict) -> None:
    try:
        decision = limit_review().decide(facts, as_of=datetime.date(2026, 12, 15))
    except engine.FactsError as error:
        assert error.problems and all(isinstance(p, str) for p in error.problems)
    else:
        assert decision.decision["action"] in ("increase", "hold", "decrease")


def test_deeply_nested_expressions_are_an_error_not_a_crash(tmp_path) -> None:
    from click.testing import CliRunner

    from cli import main

    text = ("ruleset deep\nfacts c\n  x: integer\nend\noutputs\n  out: integer default 0\nend\n"
            "rule R when " + "not " * 3000 + "c.x > 1 then set out = "
            + " + ".join(["1"] * 3000) + " end\n")
    result = check_text(text, "deep.rules")
    assert [d.code for d in result.diagnostics] == ["E106"]
    path = tmp_path / "deep.rules"
    path.write_text(text)
    facts = tmp_path / "facts.json"
    facts.write_text('{"c": {"x": 2}}')
    for args in (["check", str(path)], ["fmt", "--check", str(path)],
                 ["run", str(path), "--facts", str(facts)], ["test", str(path)]):
        outcome = CliRunner().invoke(main, args)
        assert isinstance(outcome.exception, SystemExit | None), (args, outcome.exception)
        assert outcome.exit_code == 1 and "E106" in outcome.output, args
