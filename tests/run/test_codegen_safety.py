"""The generated code is safe whatever the ruleset says: names and texts from the ruleset never
become source code, the generated namespace has no way to import or open anything, and rulesets
nested to the limit compile."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

import engine
from engine.run.codegen.procedure import generate
from engine.syntax.parser import MAX_DEPTH

PAYLOAD = "__import__('os').system('touch {marker}')"

HOSTILE = r'''
ruleset __import__ "label with \"quotes\", a \\ backslash, {braces} and %s"
facts c
  __builtins__: one of "{PAYLOAD}", "a\"b", "back\\slash", "{x}", "中文", "k0"
  exec: money
  t1: integer
end
reasons
  R "{PAYLOAD} \" \\ {0} 中文"
  E "plain"
end
outputs
  U: one of "{PAYLOAD}", "a\"b", "back\\slash", "{x}", "中文", "k0" default "k0"
  V: money default 0
  offers_made: list of text combine collect
end
let today_ = c.exec * 2
let k0 = if c.t1 > 0 then today_ else c.exec
offer eval "offer {PAYLOAD}"
  partner "{PAYLOAD}"
  requires c.__builtins__ != "{PAYLOAD}"
  else reason E
end
rule N "a rule whose label says {PAYLOAD}"
  when c.__builtins__ = "{PAYLOAD}" or c.__builtins__ = "a\"b"
  then
    set U = c.__builtins__
    set V = k0
    add "{PAYLOAD}" to offers_made
    offer eval
    reason R
end
rule R "names colliding with the generated code's own"
  when c.__builtins__ in ["back\\slash", "{x}", "中文"]
  then
    set U = "中文"
    reason E
end
'''


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[engine.Ruleset, Path]:
    marker = tmp_path / "pwned"
    text = HOSTILE.replace("{PAYLOAD}", PAYLOAD.format(marker=marker))
    return engine.load_text(text, "hostile.rules"), marker


def facts(value: str, t1: int = 1) -> dict:
    return {"c": {"__builtins__": value, "exec": Decimal("10.5"), "t1": t1}}


def test_hostile_names_and_texts_decide_as_written_and_run_nothing(hostile) -> None:
    ruleset, marker = hostile
    payload = PAYLOAD.format(marker=marker)
    as_of = datetime.date(2026, 12, 1)
    decision = ruleset.decide(facts(payload), as_of=as_of)
    assert decision.decision == {"U": payload, "V": Decimal(21), "offers_made": (payload,),
                                 "offers": ()}
    assert [r["code"] for r in decision.reasons] == ["R", "E"]
    assert decision.reasons[0]["text"] == f'{payload} " \\ {{0}} 中文'
    quoted = ruleset.decide(facts('a"b', t1=0), as_of=as_of)
    assert quoted.decision["U"] == 'a"b' and quoted.decision["V"] == Decimal("10.5")
    assert quoted.decision["offers"] == ({"name": "eval", "partner": payload},)
    for value in ("back\\slash", "{x}", "中文"):
        assert ruleset.decide(facts(value), as_of=as_of).decision["U"] == "中文"
    assert ruleset.decide(facts("k0"), as_of=as_of).decision["U"] == "k0"
    for value in (payload, 'a"b', "back\\slash", "{x}", "中文", "k0"):
        for trace in (False, True):
            assert ruleset.decide(facts(value), as_of=as_of, trace=trace).to_json() == \
                ruleset.decide(facts(value), as_of=as_of, trace=trace, reference=True).to_json()
    assert not marker.exists()


def test_no_ruleset_text_reaches_the_generated_source(hostile) -> None:
    ruleset, _ = hostile
    generated = ruleset.source().split("# constants")[0] + ruleset._validator_source
    for text in ("__import__", "system", "__builtins__", "exec", "eval", "中文", "back",
                 "quotes", "{x}", "today_", "offers_made"):
        assert text not in generated
    assert "# k0 = " in ruleset.source()  # the constants are shown apart, for debugging


def test_the_generated_namespace_cannot_import_or_open(hostile) -> None:
    ruleset, _ = hostile
    namespace = ruleset.compiled.decide_traced.__globals__
    assert set(namespace["__builtins__"]) == {"len", "tuple", "list", "dict", "bool"}
    # The plain function also checks the facts, with the validation's few type builtins.
    namespace = ruleset.compiled.decide.__globals__
    assert set(namespace["__builtins__"]) == {"len", "tuple", "list", "dict", "bool", "type",
                                              "str", "int", "float"}
    validator = ruleset._validate_fast.__globals__["__builtins__"]
    assert not {"__import__", "open", "eval", "exec", "compile", "getattr"} & set(validator)


def test_rulesets_nested_to_the_limit_compile_and_agree() -> None:
    depth = MAX_DEPTH - 5
    chain = "c.x"
    for index in range(depth // 3):
        chain = f"(if c.x > {index} then {chain} + 1 else {chain} - 1)" if index % 7 == 0 \
            else f"({chain} + {index})"
    nested_not = "not " * (depth - 10) + "c.x > 0"
    ands = " and ".join(f"c.x != {i}" for i in range(depth - 10))
    text = ("ruleset deep\nfacts c\n  x: integer\nend\noutputs\n  out: number default 0\n"
            f"  flag: boolean default false\nend\nlet value = {chain}\n"
            f"rule A when {nested_not} then set flag = true end\n"
            f"rule B when {ands} then set out = value end\n")
    ruleset = engine.load_text(text, "deep.rules")
    for x in (0, 5, 1000):
        for trace in (False, True):
            assert ruleset.decide({"c": {"x": x}}, as_of="2026-12-01", trace=trace).to_json() == \
                ruleset.decide({"c": {"x": x}}, as_of="2026-12-01", trace=trace,
                               reference=True).to_json()
    assert generate(ruleset.check.program).source().count("\n") > 1000
