"""`property` declarations (LANGUAGE.md §12) through the syntax and the checker: parsed, laid out
by fmt, type-checked with the names only properties have, and refused with hints where those
names are read outside one."""

from __future__ import annotations

from engine.pipeline import check_text
from engine.syntax.formatter import format_text

HEAD = '''ruleset r
facts customer
  dpd: integer
end
reasons
  H01 "Held"
end
outputs
  action: one of "hold", "increase" default "hold"
end
rule I01 when customer.dpd = 0 then set action = "increase" reason H01 end
'''


def _problems(text: str) -> list[tuple[str, str, str | None]]:
    result = check_text(HEAD + text)
    return [(d.code, d.message, d.help) for d in result.diagnostics]


def test_a_property_reads_reasons_offers_and_the_baseline() -> None:
    assert _problems('property P01 "Held ones say why" when action = "hold" '
                     'expect length(reasons) >= 1 or "H01" in reasons end\n'
                     'property P02 expect length(offers) = 0 end\n'
                     'property P03 when baseline.action = "hold" expect action = "hold" '
                     'and baseline.reasons = reasons end\n') == []


def test_property_names_have_their_own_namespace() -> None:
    assert _problems("property I01 expect true end\n") == []  # beside rule I01
    assert _problems("property P expect true end\nproperty P expect false end\n") == [
        ("E206", "property `P` is declared twice", "the first declaration is at <text>:12")]


def test_names_only_properties_have_are_refused_elsewhere_with_a_hint() -> None:
    [(code, message, hint)] = _problems(
        "rule R when length(reasons) > 0 then reason H01 end\n")
    assert (code, message) == ("E301", "unknown name `reasons`")
    assert hint.startswith("`reasons` (the reason codes a decision gives) can be read only")
    [(code, message, hint)] = _problems(
        'rule R when baseline.action = "hold" then reason H01 end\n')
    assert (code, message) == ("E301", "unknown name `baseline`")
    assert "only inside a `property`" in hint


def test_a_property_is_type_checked() -> None:
    assert _problems('property P expect action = "hlod" end\n')[0][:2] == (
        "E403", '"hlod" is not one of "hold", "increase"')
    assert _problems("property P when 3 expect true end\n")[0][:2] == (
        "E404", "the `when` of property `P` must be true or false, not a number without unit")
    assert _problems("property P expect baseline.acton = 1 end\n")[0][:2] == (
        "E302", "`baseline decision` has no field `acton`")


def test_fmt_lays_a_property_out_and_keeps_its_meaning() -> None:
    text = HEAD + 'property P01 "Label" when customer.dpd > 0 expect action != "increase" end\n'
    formatted = format_text(text)
    assert formatted.endswith('property P01 "Label"\n  when customer.dpd > 0\n'
                              '  expect action != "increase"\nend\n')
    assert format_text(formatted) == formatted


def test_an_unclosed_property_is_named() -> None:
    [(code, message, hint)] = _problems("property P when customer.dpd > 1 expect true\n"
                                        "rule R2 when true then reason H01 end\n")
    assert (code, message) == ("E102", "property `P` is not closed with `end`")
