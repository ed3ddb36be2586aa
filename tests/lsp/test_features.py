"""The language server's answers, computed in-process on a small workspace (every answer written
out exactly), on every diagnostics fixture (quick fixes that really fix), and on any text
(never a crash)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp

from engine.lsp import features
from engine.lsp.features import Lenses, analyze
from engine.syntax.formatter import format_text
from engine.syntax.grammar import keywords
from tests.helpers import ROOT, invoke
from tests.lsp.workspace import MAIN, SHARED, make_workspace, position_of_text
from tests.strategies import mutated

DIAGNOSTICS = ROOT / "tests" / "fixtures" / "diagnostics"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path)


@pytest.fixture
def main(workspace: Path) -> features.Analysis:
    return analyze(MAIN, workspace / "main.rules", workspace)


def at(text: str, needle: str, occurrence: int = 0, offset: int = 0) -> lsp.Position:
    return lsp.Position(*position_of_text(text, needle, occurrence, offset))


def where(location: lsp.Location) -> tuple[str, int, int, int]:
    return (Path(location.uri.removeprefix("file://")).name, location.range.start.line,
            location.range.start.character, location.range.end.character)


def test_hover_says_what_a_name_is(main: features.Analysis) -> None:
    texts = {needle.split()[-1]: features.hover(main, at(MAIN, needle, 0, offset)).contents.value
             for needle, offset in [("customer.balance", 10), ("let drawn", 5), ("reason R01", 8),
                                    ("rule HIGH", 6), ("set action", 5), ("list of loan", 9),
                                    ("customer.segment", 10)]}
    assert texts["customer.balance"] == ("**balance**: money (an exact amount: adds to money, not to a "
                                "plain number)\n\nBalance drawn\n\na field of facts block "
                                "`customer` — The borrower")
    assert texts["drawn"] == ("**let drawn**: money (an exact amount: adds to money, not to a "
                              "plain number)\n\n`customer.balance + sum of "
                              "l.drawn_amount for l in customer.loans`")
    assert texts["R01"] == "**reason R01**\n\n“Too much drawn”"
    assert texts["HIGH"] == "**rule HIGH**: Drawn too much\n\npriority 0"
    assert texts["action"] == ('**output action**: one of "hold", "raise"\n\ncombine priority; '
                               'default `"hold"`')
    assert texts["loan"] == "**type loan**: drawn_amount\n\nA loan"
    assert texts["customer.segment"].startswith('**segment**: one of "retail", "business"')
    keyword = features.hover(main, at(MAIN, "rule HIGH", 0, 1))
    assert keyword.contents.value == ("**rule**: proposes outputs, offers and reasons when its "
                                      "condition holds")
    assert features.hover(main, lsp.Position(1, 0)).contents.value.startswith("**version**")
    assert features.hover(main, lsp.Position(3, 0)) is None  # a blank line


def test_definition_and_references_of_every_kind(main: features.Analysis) -> None:
    definition = features.definition(main, at(MAIN, "drawn_amount", 0, 2))
    assert where(definition) == ("shared.rules", 1, 2, 14)
    assert where(features.definition(main, at(MAIN, "customer.segment", 0, 10))) == \
        ("main.rules", 8, 2, 9)
    assert where(features.definition(main, at(MAIN, "R02", 1))) == ("main.rules", 14, 2, 5)
    assert where(features.definition(main, at(MAIN, "loans:", 1, 1))) == ("main.rules", 9, 2, 7)
    included = features.definition(main, at(MAIN, "include", 0, 3))
    assert included.uri.endswith("/parts/shared.rules")
    assert [where(r) for r in features.references(main, at(MAIN, "let drawn", 0, 5))] == [
        ("main.rules", 22, 4, 9), ("main.rules", 25, 7, 12), ("main.rules", 32, 7, 12),
        ("main.rules", 47, 7, 12)]
    assert [where(r) for r in features.references(main, at(MAIN, "drawn_amount", 0),
                                                  include_declaration=False)] == [
        ("main.rules", 22, 40, 52), ("main.rules", 41, 64, 76)]
    assert len(features.references(main, at(MAIN, "action", 0))) == 5


def test_rename_changes_every_occurrence_across_files(main: features.Analysis) -> None:
    edit = features.rename(main, at(MAIN, "list of loan", 0, 9), "credit")  # from its use
    assert {Path(uri).name: [(e.range.start.line, e.range.start.character, e.new_text)
                             for e in edits] for uri, edits in edit.changes.items()} == {
        "main.rules": [(9, 17, "credit")], "shared.rules": [(0, 5, "credit")]}
    edit = features.rename(main, at(MAIN, "R02", 0, 1), "WELCOME")
    assert [(e.range.start.line, e.new_text) for e in
            next(iter(edit.changes.values()))] == [(14, "WELCOME"), (36, "WELCOME"),
                                                   (43, "WELCOME")]
    with pytest.raises(ValueError, match="cannot be a name"):
        features.rename(main, at(MAIN, "let drawn", 0, 5), "rule")
    with pytest.raises(ValueError, match="cannot be a name"):
        features.rename(main, at(MAIN, "let drawn", 0, 5), "2x")
    assert features.prepare_rename(main, at(MAIN, "include", 0)) is None


def test_a_name_of_a_shared_file_is_renamed_in_every_ruleset_that_includes_it(
        main: features.Analysis, workspace: Path) -> None:
    other_path = workspace / "other.rules"
    other = analyze(other_path.read_text(encoding="utf-8"), other_path, workspace)
    assert other.result.diagnostics == []
    edit = features.rename(main, at(MAIN, "l.drawn_amount", 0, 3), "used", lambda: [other])
    assert {Path(uri).name: [(e.range.start.line, e.range.start.character) for e in edits]
            for uri, edits in edit.changes.items()} == {
        "main.rules": [(22, 40), (41, 64)], "shared.rules": [(1, 2)], "other.rules": [(12, 29)]}
    local = features.rename(main, at(MAIN, "let drawn", 0, 5), "exposure", lambda: [other])
    assert [Path(uri).name for uri in local.changes] == ["main.rules"]  # not read: not shared


def test_completion_offers_what_fits_the_place(workspace: Path) -> None:
    parsed = analyze(MAIN, workspace / "main.rules", workspace)

    def labels(text: str, needle: str, offset: int) -> list[str]:
        analysis = analyze(text, workspace / "main.rules", workspace)
        return [item.label for item in features.completion(analysis, at(text, needle, 0, offset),
                                                           parsed)]

    assert labels(MAIN, "customer.balance +", 9) == ["balance", "segment", "loans"]
    assert labels(MAIN, "l.drawn_amount", 2) == ["drawn_amount"]
    half_typed = MAIN.replace("  reason R01\n", "  reason R\n")
    assert labels(half_typed, "reason R\n", 8) == ["R01", "R02"]
    comparing = MAIN.replace('customer.segment = "retail"', 'customer.segment = "')
    assert labels(comparing, 'customer.segment = "', 20) == ['"retail"', '"business"']
    setting = MAIN.replace('set action = "hold"', "set action = ")
    assert labels(setting, "set action = ", 13) == ['"hold"', '"raise"']
    anywhere = labels(MAIN, "  when drawn > 1_000\n", 7)
    assert {"customer", "drawn", "action", "raise_by", "when", "rule …", "table …",
            "example …", "property …"} <= set(anywhere)


def test_outline_formatting_and_lenses(main: features.Analysis, workspace: Path) -> None:
    assert [(s.name, s.detail) for s in features.document_symbols(main)] == [
        ("customer", "facts"), ("action", "output"), ("raise_by", "output"), ("drawn", "let"),
        ("HIGH", "rule"), ("LOW", "rule"), ("small", "example"), ("P1", "property")]
    assert features.formatting(main) == []  # already in fmt's layout
    untidy = MAIN.replace('rule HIGH "Drawn too much"\n  when drawn > 1_000',
                          'rule   HIGH "Drawn too much"   when drawn>1_000')
    edits = features.formatting(analyze(untidy, workspace / "main.rules", workspace))
    assert len(edits) == 1 and edits[0].new_text == format_text(untidy) == MAIN
    assert features.formatting(analyze("rule (", workspace / "x.rules", workspace)) is None
    lenses = features.code_lenses(main, Lenses())
    assert [(lens.range.start.line, lens.command.title, lens.command.command)
            for lens in lenses] == [(0, "▶ Run examples", "tenet.runExamples"),
                                    (46, "▶ Verify", "tenet.verifyProperty")]
    assert features.run_examples(main) == "✓ 1 example passed"
    assert features.verify_property(main, "P1") == "✓ proved"
    wrong = MAIN.replace('expect action = "raise"', 'expect action = "hold"').replace(
        'expect action = "hold"\nend\n', 'expect action = "raise"\nend\n')
    broken = analyze(wrong, workspace / "main.rules", workspace)
    assert features.run_examples(broken) == ('✗ example "small": expected action = "hold", '
                                              'got "raise"')
    assert features.verify_property(broken, "P1").startswith(
        "✗ violated: for example, as of 2026-12-01: ")


def _fixture_diagnostics() -> list[Path]:
    return sorted(DIAGNOSTICS.glob("*.rules"))


def test_diagnostics_are_tenet_checks_on_every_fixture() -> None:
    """Code, severity, message, help and span: the same as `tenet check --format json`."""
    status, output = invoke("check", "--format", "json", str(DIAGNOSTICS))
    expected: dict[str, list[tuple]] = {}
    for entry in json.loads(output):
        expected.setdefault(Path(entry["file"]).resolve().as_uri(), []).append((
            entry["code"], entry["severity"], entry["message"], entry["help"],
            entry["line"] - 1, entry["column"] - 1, entry["end_line"] - 1,
            entry["end_column"] - 1))
    severities = {1: "error", 2: "warning", 3: "info"}
    for path in _fixture_diagnostics():
        text = path.read_text(encoding="utf-8")
        analysis = analyze(text, path, DIAGNOSTICS)
        for uri, found in features.diagnostics(analysis).items():
            if uri != path.resolve().as_uri():
                continue  # an include's findings: compared when the include is the file
            got = []
            for diagnostic in found:
                message, _, help_text = diagnostic.message.partition("\nhelp: ")
                got.append((diagnostic.code, severities[diagnostic.severity], message,
                            help_text or None, diagnostic.range.start.line,
                            diagnostic.range.start.character, diagnostic.range.end.line,
                            diagnostic.range.end.character))
            assert sorted(got) == sorted(expected.get(uri, [])), path.name


def test_every_quick_fix_removes_its_diagnostic() -> None:
    """A replacement taken from a diagnostic's help, applied, leaves no diagnostic of that code
    at that place; and the common ones are offered."""
    offered = set()
    for path in _fixture_diagnostics():
        text = path.read_text(encoding="utf-8")
        analysis = analyze(text, path, DIAGNOSTICS)
        uri = path.resolve().as_uri()
        found = features.diagnostics(analysis).get(uri, [])
        for action in features.quick_fixes(analysis, uri, found):
            diagnostic = action.diagnostics[0]
            edit = action.edit.changes[uri][0]
            lines = text.split("\n")
            line = lines[edit.range.start.line]
            lines[edit.range.start.line] = (line[:edit.range.start.character] + edit.new_text
                                            + line[edit.range.end.character:])
            fixed = analyze("\n".join(lines), path, DIAGNOSTICS)
            still = [d for d in features.diagnostics(fixed).get(uri, [])
                     if d.code == diagnostic.code and d.range.start == diagnostic.range.start]
            assert still == [], (path.name, diagnostic.message, edit.new_text)
            offered.add(diagnostic.code)
    assert {"E302", "E101", "E304"} <= offered


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated(), line=st.integers(0, 80), character=st.integers(0, 120),
       name=st.sampled_from(["x", "rule", "新名", ""]))
def test_no_text_and_no_position_makes_a_feature_fail(tmp_path_factory, text: str, line: int,
                                                       character: int, name: str) -> None:
    folder = tmp_path_factory.mktemp("any")
    analysis = analyze(text, folder / "any.rules", folder)
    position = lsp.Position(line, character)
    features.diagnostics(analysis)
    features.hover(analysis, position)
    features.definition(analysis, position)
    features.references(analysis, position)
    features.completion(analysis, position)
    features.document_symbols(analysis)
    features.formatting(analysis)
    features.code_lenses(analysis, Lenses())
    try:
        features.rename(analysis, position, name)
    except ValueError:
        pass


def test_positions_count_utf16_units() -> None:
    lines = ['let 名前 = "𝄞" + x']
    assert features.position_of(lsp.Position(0, 15), lines) == (1, 15)
    span_range = features.span_range
    from engine.diagnostics import Span
    assert span_range(Span("f", 1, 16, 1, 17), lines).start.character == 16  # after the 𝄞 (2)
    assert SHARED.startswith("type loan")


@pytest.mark.parametrize(("written", "fixed"), [
    ("drawn > 1,000", "drawn > 1_000"),
    ("drawn > 1,000,000", "drawn > 1_000_000"),
    ("drawn == 1_000", "drawn = 1_000"),
    ("drawn =< 1_000", "drawn <= 1_000"),
    ("drawn > 1_000 && true", "drawn > 1_000 and true"),
    ("drawn > 1_000 || true", "drawn > 1_000 or true"),
    ("drawn > 1_000 AND true", "drawn > 1_000 and true"),
    ("drawn > 5万", "drawn > 50_000"),
    ("drawn > 2e3", "drawn > 2_000"),
    ("drawn > 1_000 and drawn < 40 % * drawn", "drawn > 1_000 and drawn < 40% * drawn"),
    ("drawn ＞ 1_000", "drawn > 1_000"),
    ("drawn > customer.balanse", "drawn > customer.balance"),
])
def test_a_quick_fix_mends_the_way_people_write_numbers_and_operators(
        workspace: Path, written: str, fixed: str) -> None:
    text = MAIN.replace("drawn > 1_000", written, 1)
    path = workspace / "main.rules"
    uri = path.resolve().as_uri()
    analysis = analyze(text, path, workspace)
    found = features.diagnostics(analysis)[uri]
    actions = features.quick_fixes(analysis, uri, found[:1])
    assert len(actions) == 1, [d.message for d in found]
    edit = actions[0].edit.changes[uri][0]
    lines = text.split("\n")
    line = lines[edit.range.start.line]
    lines[edit.range.start.line] = (line[:edit.range.start.character] + edit.new_text
                                    + line[edit.range.end.character:])
    assert lines[edit.range.start.line] == f"  when {fixed}"
    mended = features.diagnostics(analyze("\n".join(lines), path, workspace))[uri]
    assert [d.message for d in mended if d.severity == lsp.DiagnosticSeverity.Error] == []


def test_the_document_keeps_the_name_the_editor_gave_it_through_a_link(tmp_path: Path) -> None:
    """Opened through a symbolic link, a document's findings, renames and lenses name it as
    the editor did, not by where the link leads (an editor shows findings only for its own
    names)."""
    real = make_workspace(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    uri = (link / "main.rules").as_uri()
    typo = MAIN.replace("customer.segment =", "customer.segmnt =")
    analysis = analyze(typo, link / "main.rules", link, uri=uri)
    found = features.diagnostics(analysis)
    assert list(found) == [uri] and [d.code for d in found[uri]] == ["E302"]
    edit = features.rename(analysis, at(typo, "let drawn", 0, 5), "exposure")
    assert list(edit.changes) == [uri]
    assert all(lens.command.arguments[0] == uri
               for lens in features.code_lenses(analysis, Lenses()))


def test_every_keyword_has_its_meaning_on_hover() -> None:
    assert sorted(features.KEYWORDS) == sorted(keywords())


def test_completion_and_hover_know_the_columns_of_a_table_with_several_results(workspace: Path) -> None:
    text = MAIN + ("\ntable terms\n  | customer.segment || rate | months |\n"
                   '  | "retail"         || 3.9% | 36     |\n  otherwise { rate: 7.9% }\nend\n'
                   "\nlet quoted = terms.rate\n")
    analysis = analyze(text, workspace / "main.rules", workspace)
    items = features.completion(analysis, at(text, "terms.rate", 0, 6), analysis)
    assert [(item.label, item.detail) for item in items] == [
        ("rate", "a number without unit"), ("months", "a number without unit")]
    assert features.hover(analysis, at(text, "terms.rate", 0, 7)).contents.value == (
        "**rate**: a number without unit\n\na result column of table `terms`")
