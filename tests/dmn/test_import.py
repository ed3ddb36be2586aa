"""`tenet dmn import` on DMN files written for these tests: the ruleset and the report of each
(golden files), exact decisions for every hit policy and every unary-test form, FEEL read
construct by construct, and each refused construct named with its element."""

from __future__ import annotations

import datetime
import json
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.diagnostics import Severity
from engine.dmn.feel import FeelError, Names, expression, tenet_name, unary_tests
from engine.dmn.importer import import_model
from engine.dmn.model import DmnError, read_model
from engine.pipeline import check_text
from engine.syntax import ast
from engine.syntax.formatter import cell_text, format_text
from engine.syntax.unparse import unparse
from tests.helpers import FIXTURES, assert_golden, invoke

DMN = FIXTURES / "dmn"
MODELS = sorted(DMN.glob("*.dmn"))
AS_OF = datetime.date(2026, 12, 15)


def imported(path: Path):
    return import_model(read_model(path))


def report_text(result) -> str:
    lines = [f"{'✓' if e.imported else '✗'} {e.kind} {e.id} ({e.name}): {e.detail}"
             for e in result.report]
    return "\n".join(lines + [f"note: {note}" for note in result.notes]) + "\n"


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_import_matches_golden_ruleset_and_report(model: Path) -> None:
    result = imported(model)
    assert_golden(result.text, model.with_suffix(".rules"))
    assert_golden(report_text(result), model.with_suffix(".report"))


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_imported_ruleset_checks_clean_and_is_in_fmt_layout(model: Path) -> None:
    result = imported(model)
    checked = check_text(result.text, f"{result.name}.rules")
    assert [d.message for d in checked.diagnostics if d.severity is Severity.ERROR] == []
    assert format_text(result.text, f"{result.name}.rules") == result.text


def decide(model: str, facts: dict) -> dict:
    ruleset = engine.load_text(imported(DMN / model).text, "imported.rules")
    compiled = ruleset.decide(facts, as_of=AS_OF)
    assert compiled.to_json() == ruleset.decide(facts, as_of=AS_OF, reference=True).to_json()
    return {e.name: e.value for e in compiled.trace if type(e).__name__ == "ValueEvent"} | \
        compiled.decision


def D(*values: object) -> tuple:  # noqa: N802 (reads as a tuple of Decimals)
    return tuple(Decimal(str(v)) for v in values)


@pytest.mark.parametrize(("score", "expected"), [
    (650, {"band_unique": "silver", "band_any": "high", "band_priority": "silver",
           "band_first": "silver", "bands_in_rule_order": ("silver", "bronze"),
           "bands_in_output_order": ("silver", "bronze"), "bands_collected": ("silver", "bronze"),
           "points_sum": Decimal(30), "points_min": Decimal(10), "points_max": Decimal(20),
           "bands_count": Decimal(2)}),
    (720, {"band_unique": "gold", "band_any": "high", "band_priority": "gold",
           "band_first": "gold", "bands_in_rule_order": ("gold", "silver", "bronze"),
           "bands_in_output_order": ("gold", "silver", "bronze"),
           "bands_collected": ("gold", "silver", "bronze"), "points_sum": Decimal(60),
           "points_min": Decimal(10), "points_max": Decimal(30), "bands_count": Decimal(3)}),
    (100, {"band_unique": "bronze", "band_any": "low", "band_priority": None,
           "band_first": "none", "bands_in_rule_order": (), "bands_in_output_order": (),
           "bands_collected": (), "points_sum": None, "points_min": None, "points_max": None,
           "bands_count": Decimal(0)}),
])
def test_every_hit_policy_decides_as_dmn_says(score: int, expected: dict) -> None:
    values = decide("hit_policies.dmn", {"input": {"score": score, "segment": "retail"}})
    assert {name: values[name] for name in expected} == expected


def matched(table: str, facts: dict) -> tuple:
    return decide("unary_tests.dmn", {"input": {"amount_value": None, "grade": None,
                                                "flag": None, "opened": None} | facts})[table]


@pytest.mark.parametrize(("amount", "rules"), [
    (100, D(1, 2, 3, 5, 7, 8, 11, 12, 16)),
    (150, D(1, 2, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17)),
    (200, D(1, 2, 6, 7, 8, 12, 13, 16)),
    (-5, D(1, 2, 4, 5, 13, 14, 18)),
    (-10, D(1, 2, 4, 5, 13, 14, 19)),
    (5000, D(1, 2, 6, 7, 13, 14)),
    (None, D(1, 2, 15)),  # `-` matches a missing value; only `null` does besides
])
def test_every_number_test_form(amount: object, rules: tuple) -> None:
    assert matched("number_tests", {"amount_value": amount}) == rules


@pytest.mark.parametrize(("facts", "table", "rules"), [
    ({"grade": "A"}, "text_tests", D(1, 2, 5)),
    ({"grade": "B"}, "text_tests", D(2, 3, 5)),
    ({"grade": "C"}, "text_tests", D(3, 4, 5)),
    ({"grade": 'say "hi"'}, "text_tests", D(3, 4, 5, 7)),
    ({}, "text_tests", D(5, 6)),
    ({"flag": True}, "flag_tests", D(1, 3)),
    ({"flag": False}, "flag_tests", D(2, 3, 5)),
    ({}, "flag_tests", D(3, 4)),
    ({"opened": "2020-01-01"}, "date_tests", D(1, 3, 4)),
    ({"opened": "2019-06-30"}, "date_tests", D(2, 5)),
    ({"opened": "2021-01-01"}, "date_tests", D(3, 5)),
    ({}, "date_tests", D(6)),
])
def test_every_text_boolean_and_date_test_form(facts: dict, table: str, rules: tuple) -> None:
    assert matched(table, facts) == rules


def test_compound_outputs_with_an_item_definition_and_required_decisions() -> None:
    facts = {"customer": {"monthly_income": 4000, "risk_score": 15, "kind": "retail",
                          "loan_amounts": [1000, 2500]}}
    values = decide("loan_terms_1_5.dmn", facts)
    assert values["risk_tier"] == "prime"
    assert values["affordable_payment"] == Decimal(1400)
    # PRIORITY over whole rows: the first `one of` column (Tier) ranks them; prime wins.
    assert values["loan_terms"] == {"rate": Decimal("0.039"), "term": 60, "tier": "prime"}
    facts["customer"] |= {"risk_score": 70, "monthly_income": 2000}
    values = decide("loan_terms_1_5.dmn", facts)
    assert values["loan_terms"] == {"rate": Decimal("0.099"), "term": 24, "tier": "sub prime"}
    assert values["maximum_payment"] == Decimal(500)


def test_dmn_1_1_in_camundas_style_takes_types_from_input_expressions() -> None:
    values = decide("camunda_1_1.dmn", {"input": {"age": 30, "monthly_income": 2500}})
    assert values["eligible"] is True
    assert decide("camunda_1_1.dmn", {"input": {"age": 16, "monthly_income": 9000}})[
        "eligible"] is False


def test_business_knowledge_models_are_inlined_where_they_are_invoked() -> None:
    result = imported(DMN / "knowledge.dmn")
    assert {entry.id: entry.detail for entry in result.report if entry.kind ==
            "businessKnowledgeModel"} == {
        "affordability": "inlined where it is invoked (2 times)",
        "age_band": "inlined where it is invoked (1 time)",
        "java": "a business knowledge model whose logic is a function of kind Java, which "
                "Tenet has no form for"}
    assert {entry.id for entry in result.refused} == {"java", "uses_java", "band_in_feel"}
    values = decide("knowledge.dmn", {"input": {"applicant_age": 30, "monthly_income": 4000}})
    assert (values["max_payment"], values["band"], values["double_payment"]) == (
        Decimal(1400), "adult", Decimal(4000))


def test_each_refused_construct_is_named_with_its_element() -> None:
    result = imported(DMN / "refused.dmn")
    assert {entry.id for entry in result.refused} == {
        "since", "feel_function", "power", "loop", "uses_refused_input",
        "uses_refused_decision", "boxed", "invokes", "question_mark", "not_null",
        "null_output", "unranked", "overlap", "bkm"}
    assert [entry.id for entry in result.report if entry.imported] == ["score", "fine"]
    assert "let fine: number = input.score * 2" in result.text


NAMES = Names({"Credit Score": ast.FieldAccess(ast.Name("input"), ast.Ident("credit_score")),
               "Credit Score Band": ast.Name("credit_score_band"),
               "Applicant": ast.Name("applicant")},
              {"Monthly Income": "monthly_income"})


@pytest.mark.parametrize(("feel", "tenet"), [
    ("Credit Score Band", "credit_score_band"),  # the longest name first
    ("Credit Score * 2 + 1", "input.credit_score * 2 + 1"),
    ("Applicant.Monthly Income / 12", "applicant.monthly_income / 12"),
    ("if Credit Score > 700 then \"A\" else \"B\"",
     'if input.credit_score > 700 then "A" else "B"'),
    ("Credit Score between 600 and 700", "input.credit_score between 600 and 700"),
    ("Credit Score in [1, 2]", "input.credit_score in [1, 2]"),
    ("Credit Score = null", "input.credit_score is missing"),
    ("Credit Score != null", "input.credit_score is not missing"),
    ("not(Credit Score > 5) and true or false", "not input.credit_score > 5 and true or false"),
    ("min(1, Credit Score)", "min(1, input.credit_score)"),
    ("max([1, 2, 3])", "max(1, 2, 3)"),
    ("abs(-Credit Score)", "abs(-input.credit_score)"),
    ("floor(Credit Score)", "round_down(input.credit_score, 1)"),
    ("ceiling(Credit Score / 100) * 100", "round_up(input.credit_score, 100)"),
    ("decimal(Credit Score, 2)", "round(input.credit_score, 2)"),
    ("count([1, 2])", "length([1, 2])"),
    ("Credit Score in [600..700)", "input.credit_score >= 600 and input.credit_score < 700"),
    ("Credit Score in (< 5, 10, null)",
     "input.credit_score < 5 or input.credit_score = 10 or input.credit_score is missing"),
    ("Credit Score in > 5", "input.credit_score > 5"),
    ("sum([1, Credit Score, 3])", "1 + input.credit_score + 3"),
    ("mean(Credit Score, 10)", "(input.credit_score + 10) / 2"),
    ('date("2024-02-29")', "2024-02-29"),
    ('@"2024-02-29"', "2024-02-29"),
    ('"say \\"hi\\""', '"say \\"hi\\""'),
])
def test_feel_expressions_become_tenet_expressions(feel: str, tenet: str) -> None:
    assert unparse(expression(feel, NAMES)) == tenet


@pytest.mark.parametrize(("feel", "why"), [
    ("Credit Score ** 2", "exponentiation (`**`)"),
    ('substring("abc", 1)', "the FEEL function `substring`, which Tenet has no equivalent for"),
    ("Unknown Thing + 1", "the name `Unknown`, which is not an input or a decision of this model"),
    ("for x in [1] return x", "the FEEL `for` expression"),
    ("null", "`null` as a value (Tenet has no missing literal)"),
    ("Credit Score < null", "an order comparison with `null` (`< null`)"),
    ('date("2024-01-01T10:00:00")', "the date or time `2024-01-01T10:00:00` (Tenet has dates "
                                    "only)"),
    ("[1, 2][1]", "a filter or an index (`[…]` after a value)"),
    ("sum(Credit Score)", "`sum` of a list that is not written out"),
    ("mean([])", "`mean` of nothing (null in FEEL)"),
    ("Credit Score instance of number", "`instance of`"),
    ('"a\\nb"', "the escape `\\n` in a FEEL string"),
])
def test_feel_without_an_exact_tenet_form_is_refused_by_name(feel: str, why: str) -> None:
    with pytest.raises(FeelError) as error:
        expression(feel, NAMES)
    assert str(error.value) == why


@pytest.mark.parametrize(("feel", "why"), [
    ("? > 5", "a unary test with `?`"),
    ("not(null)", "`not(null)` (any present value): a Tenet cell has no such test"),
    ("null, 5", "`null` beside other tests in one cell"),
])
def test_unary_tests_without_a_cell_form_are_refused(feel: str, why: str) -> None:
    with pytest.raises(FeelError) as error:
        unary_tests(feel, NAMES)
    assert str(error.value) == why


def test_unary_test_forms_read_as_cells() -> None:
    assert [cell_text(unary_tests(text, NAMES)) for text in [
        "-", "", " ", "]1..2[", "(1..2]", "not(1, 2)", '"a", "b"', "< Credit Score", "null",
        "true"]] == ["-", "-", "-", "(1..2)", "(1..2]", "not 1, 2", '"a", "b"',
                     "< input.credit_score", "missing", "true"]


@pytest.mark.parametrize(("dmn_name", "tenet"), [
    ("Credit Score", "credit_score"), ("creditScore", "credit_score"), ("amount", "amount_value"),
    ("3 Month Average", "n_3_month_average"), ("Débit (net)", "débit_net"), ("", "unnamed")])
def test_dmn_names_become_tenet_names(dmn_name: str, tenet: str) -> None:
    assert tenet_name(dmn_name) == tenet


def test_a_types_file_chooses_money_number_or_integer(tmp_path: Path) -> None:
    types = tmp_path / "types.json"
    types.write_text(json.dumps({"Score": "integer", "Segment.Nothing": "money"}))
    status, output = invoke("dmn", "import", str(DMN / "hit_policies.dmn"), "--types", str(types),
                            "--out", str(tmp_path))
    assert status == 0, output
    assert "  score: integer optional \"Score\"" in (tmp_path / "hit_policies.rules").read_text()
    assert "note: `Score`: integer, as the types file says" in output
    types.write_text(json.dumps({"Score": "float"}))
    status, output = invoke("dmn", "import", str(DMN / "hit_policies.dmn"), "--types", str(types))
    assert status == 2 and "a types file maps DMN names" in output


def test_the_command_writes_the_ruleset_and_says_what_was_refused(tmp_path: Path) -> None:
    status, output = invoke("dmn", "import", str(DMN / "credit_line.dmn"), "--out",
                            str(tmp_path))
    assert status == 1  # some elements were refused; the ruleset is written all the same
    written = tmp_path / "credit_line_review.rules"
    assert written.read_text() == imported(DMN / "credit_line.dmn").text
    assert ("✗ decision `bundle` (Bundle): its logic is a boxed context (element "
            "`bundle_context`), which Tenet has no form for") in output
    assert output.rstrip().endswith("9 imported, 3 refused")
    status, output = invoke("check", str(written))
    assert status == 0, output


def test_a_file_that_is_not_dmn_is_a_usage_error_without_a_traceback(tmp_path: Path) -> None:
    for name, text in [("plain.dmn", "not xml at all"),
                       ("bpmn.dmn", '<definitions xmlns="http://www.omg.org/spec/BPMN/'
                                    '20100524/MODEL"/>')]:
        path = tmp_path / name
        path.write_text(text)
        status, output = invoke("dmn", "import", str(path))
        assert status == 2 and "Traceback" not in output, output
        assert ("is not readable XML" if name == "plain.dmn" else "is not a DMN model") in output


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    model = tmp_path / "xxe.dmn"
    model.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="X &x;">'
        '</definitions>')
    with pytest.raises(DmnError) as error:
        read_model(model)
    assert "references external entity 'x'" in str(error.value)
    assert "TOP SECRET" not in str(error.value)


FEEL_TOKENS = st.sampled_from([
    "-", "null", "not(", ")", "(", "[", "]", "..", ",", "<", "<=", ">=", "=", "!=", "?", "1",
    "-5", "0.5", '"A"', '"', "true", "date(", '"2024-01-01"', "Score", "Amount", "Applicant.",
    "Monthly Income", "if", "then", "else", "and", "or", "between", "in", "**", "+", "*", "/",
    "@", "for", "instance of", "abs(", "min(", "floor(", "\\", "é", " "])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MODELS), st.data())
def test_any_feel_in_any_entry_is_imported_or_refused_never_a_crash(model: Path, data) -> None:
    """Each `<text>` of a model may be replaced by drawn FEEL-like tokens: the import still
    ends with a ruleset that checks clean and a report, whatever the entries say."""
    xml = model.read_text(encoding="utf-8")
    pieces = xml.split("<text>")
    for index in data.draw(st.lists(st.integers(1, len(pieces) - 1), max_size=4, unique=True)):
        text = "".join(data.draw(st.lists(FEEL_TOKENS, max_size=6)))
        rest = pieces[index].split("</text>", 1)[1]
        pieces[index] = xml_escape(text) + "</text>" + rest
    xml = "<text>".join(pieces)
    # And attributes: types dropped or made up, hit policies and aggregations of any spelling.
    for attribute in data.draw(st.lists(st.sampled_from(["typeRef", "hitPolicy", "aggregation",
                                                         "isCollection", "href"]), max_size=3)):
        found = [m.start() for m in re.finditer(f' {attribute}="', xml)]
        if found:
            start = data.draw(st.sampled_from(found))
            end = xml.index('"', start + len(attribute) + 3) + 1
            value = data.draw(st.sampled_from(["", "number", "string", "tNothing", "COLLECT",
                                               "C+", "SUM", "true", "#nowhere", "feel:date"]))
            xml = xml[:start] + (f' {attribute}="{value}"' if value else "") + xml[end:]
    result = import_model(_read_text(xml))
    checked = check_text(result.text, "mutated.rules")
    assert [d.message for d in checked.diagnostics if d.severity is Severity.ERROR] == []


def _read_text(xml: str):
    """``read_model`` of a text, through a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "mutated.dmn"
        target.write_text(xml, encoding="utf-8")
        return read_model(target)


def test_values_named_as_in_the_model_become_facts() -> None:
    """What a DMN test case gives (inputs by their DMN names, components too) is turned into
    facts for the imported ruleset."""
    result = imported(DMN / "loan_terms_1_5.dmn")
    facts = result.facts({"Customer": {"Monthly Income": 4000, "Risk Score": 15,
                                       "Kind": "retail", "Loan Amounts": [1000]}})
    assert facts == {"customer": {"monthly_income": 4000, "risk_score": 15, "kind": "retail",
                                  "loan_amounts": [1000]}}
    assert imported(DMN / "hit_policies.dmn").facts({"Score": 650, "Segment": "retail"}) == {
        "input": {"score": 650, "segment": "retail"}}
    with pytest.raises(KeyError):
        result.facts({"Nobody": 1})


def test_a_top_decision_without_a_type_gets_the_type_the_checker_infers(tmp_path: Path) -> None:
    model = tmp_path / "untyped.dmn"
    model.write_text(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="Untyped">'
        '<inputData id="rate" name="Rate"><variable name="Rate" typeRef="number"/></inputData>'
        '<decision id="double" name="Doubled"><variable name="Doubled"/>'
        '<informationRequirement><requiredInput href="#rate"/></informationRequirement>'
        '<literalExpression><text>Rate * 2</text></literalExpression></decision>'
        '<decision id="text" name="Label"><variable name="Label"/>'
        '<literalExpression><text>if 1 &gt; 2 then "a" else "b"</text></literalExpression>'
        '</decision></definitions>')
    result = import_model(read_model(model))
    assert result.refused == []
    assert "  doubled: number default doubled_value\n  label: text default label_value\n" in \
        result.text
    ruleset = engine.load_text(result.text, "untyped.rules")
    assert ruleset.decide({"input": {"rate": 3}}, as_of=AS_OF).decision == {
        "doubled": 6, "label": "b"}


def test_input_data_whose_names_meet_in_tenet_get_fields_of_their_own(tmp_path: Path) -> None:
    model = tmp_path / "alike.dmn"
    model.write_text(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="Alike">'
        '<inputData id="a" name="Credit Score"><variable name="Credit Score" typeRef="number"/>'
        '</inputData><inputData id="b" name="creditScore"><variable name="creditScore" '
        'typeRef="number"/></inputData><decision id="d" name="Sum"><variable name="Sum" '
        'typeRef="number"/><literalExpression><text>Credit Score - creditScore</text>'
        '</literalExpression></decision></definitions>')
    result = import_model(read_model(model))
    assert result.refused == []
    assert result.inputs == {"Credit Score": ("input", "credit_score"),
                             "creditScore": ("input", "credit_score_2")}
    ruleset = engine.load_text(result.text, "alike.rules")
    assert ruleset.decide(result.facts({"Credit Score": 700, "creditScore": 650}),
                          as_of=AS_OF).decision == {"sum_value": 50}  # `sum` is a keyword


def test_an_item_definition_that_contains_itself_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "nested.dmn"
    model.write_text(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="Nested">'
        '<itemDefinition name="tPerson"><itemComponent name="Age"><typeRef>number</typeRef>'
        '</itemComponent><itemComponent name="Guarantor"><typeRef>tPerson</typeRef>'
        '</itemComponent></itemDefinition>'
        '<inputData id="p" name="Person"><variable name="Person" typeRef="tPerson"/></inputData>'
        '</definitions>')
    result = import_model(read_model(model))
    assert [(e.id, e.detail) for e in result.refused] == [
        ("p", "`Person.Guarantor.Guarantor` is of the type `tPerson` it is part of: Tenet's "
              "records do not nest themselves")]


@pytest.mark.parametrize("root", [
    '<definitions xmlns="http://vendor.example/defs" '
    'xmlns:semantic="http://www.omg.org/spec/DMN/20180521/MODEL/" name="Vendor">',
    '<definitions xmlns:semantic="https://www.omg.org/spec/DMN/20211108/MODEL/" name="Vendor">'])
def test_elements_outside_dmns_namespace_are_read_as_the_version_declared(
        root: str, tmp_path: Path) -> None:
    """Some tools write the elements in a namespace of their own, or none, and declare DMN's
    beside it (cases of the DMN TCK do)."""
    model = tmp_path / "vendor.dmn"
    model.write_text(root + '<inputData id="a" name="Age"><variable name="Age" typeRef="number"/>'
                     '</inputData><decision id="d" name="Adult"><variable name="Adult" '
                     'typeRef="boolean"/><literalExpression><text>Age &gt;= 18</text>'
                     '</literalExpression></decision></definitions>')
    read = read_model(model)
    assert read.version == ("1.2" if "20180521" in root else "1.4")
    result = import_model(read)
    assert result.refused == []
    assert "let adult_value: boolean = input.age >= 18" in result.text
