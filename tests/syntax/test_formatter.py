"""`tenet fmt`: golden layouts, every ruleset of the repository already formatted, and the
properties parse(fmt(x)) == parse(x), fmt(fmt(x)) == fmt(x), every comment kept."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from engine.syntax.formatter import FormatError, format_text
from engine.syntax.loader import read_sources
from engine.syntax.parser import parse_module
from engine.syntax.source import normalize_newlines
from tests.helpers import FIXTURES, ROOT, assert_golden
from tests.strategies import mutated

FMT = FIXTURES / "fmt"
FORMATTED_IN_REPOSITORY = sorted({*ROOT.joinpath("rulesets").rglob("*.rules"),
                                  *ROOT.joinpath("benchmarks").glob("*.rules"),
                                  *(FIXTURES / "traces").glob("*.rules")})
ALL_FIXTURES = sorted(p for p in FIXTURES.rglob("*.rules")
                      if "diagnostics" not in p.parts and "hostile" not in p.parts)


def comments(text: str) -> Counter:
    return Counter(m.group().rstrip() for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', text)
                   if m.group().startswith("#"))


def assert_faithful(text: str) -> str:
    """fmt keeps the meaning and every comment, and a second pass changes nothing."""
    formatted = format_text(text, "x.rules")
    before, _ = parse_module(text, "x.rules")
    after, diagnostics = parse_module(formatted, "x.rules")
    assert diagnostics == []
    assert after.declarations == before.declarations
    assert format_text(formatted, "x.rules") == formatted
    assert comments(formatted) == comments(text)
    return formatted


@pytest.mark.parametrize("fixture", sorted(FMT.glob("*.rules")), ids=lambda p: p.stem)
def test_golden_layout(fixture: Path) -> None:
    formatted = assert_faithful(fixture.read_text(encoding="utf-8"))
    assert_golden(formatted, fixture.with_suffix(".formatted"))


@pytest.mark.parametrize("path", FORMATTED_IN_REPOSITORY, ids=lambda p: p.stem)
def test_repository_rulesets_are_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_text(text, str(path)) == text


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.stem)
def test_fixtures_format_faithfully(path: Path) -> None:
    assert_faithful(path.read_text(encoding="utf-8"))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(),
       st.sampled_from(["", "\u2028", "\f", "\u202e"]))
def test_formatting_a_file_keeps_what_every_command_reads(text: str, line_break: str, bom: bool,
                                                          odd: str) -> None:
    """Through the files and the one reader every command uses: whatever the line breaks,
    byte-order mark or odd characters, what `fmt` writes is what `check` and `run` read."""
    text = text.replace("\n", line_break).replace("# ", "# " + odd, 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.rules"
        path.write_bytes(("\ufeff" if bom else "") .encode() + text.encode("utf-8"))
        checked = read_sources(path)
        original = path.read_bytes().decode("utf-8")
        if any(d.severity.value == "error" for d in checked.diagnostics):
            with pytest.raises(FormatError):
                format_text(original, "x.rules")
            return
        formatted = format_text(original, "x.rules")
        path.write_text(formatted, encoding="utf-8")
        assert read_sources(path).modules[0].declarations == checked.modules[0].declarations
        assert format_text(formatted, "x.rules") == formatted
        assert comments(formatted) == comments(normalize_newlines(original))


def test_fmt_command(tmp_path: Path) -> None:
    messy = tmp_path / "messy.rules"
    original = (FMT / "messy.rules").read_text(encoding="utf-8")
    messy.write_text(original, encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 1 and "would reformat" in result.output
    assert messy.read_text(encoding="utf-8") == original
    result = CliRunner().invoke(main, ["fmt", "--diff", str(messy)])
    assert result.exit_code == 1 and "+rule R1 \"First\"\n" in result.output
    assert messy.read_text(encoding="utf-8") == original
    result = CliRunner().invoke(main, ["fmt", str(messy)])
    assert result.exit_code == 0 and "reformatted" in result.output
    assert messy.read_text(encoding="utf-8") == (FMT / "messy.formatted").read_text(encoding="utf-8")
    assert CliRunner().invoke(main, ["fmt", "--check", str(messy)]).exit_code == 0


def test_fmt_leaves_files_that_do_not_parse_alone(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules"
    broken.write_text("ruleset r\nrule A when then end\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(broken)])
    assert result.exit_code == 1 and "E101" in result.output
    assert broken.read_text(encoding="utf-8") == "ruleset r\nrule A when then end\n"


LINT_FIXTURES = sorted(p for p in (FIXTURES / "diagnostics").glob("[WE]*.rules")
                       if p.stem[0] == "W" or p.stem.startswith("E6"))


@pytest.mark.parametrize("fixture", LINT_FIXTURES, ids=lambda p: p.stem)
def test_suppressions_survive_fmt(fixture: Path) -> None:
    """Every finding of a lint fixture, suppressed on its line, stays suppressed after fmt."""
    from engine.pipeline import check_text

    text = fixture.read_text(encoding="utf-8")
    code = fixture.stem.split("_")[0]
    findings = [d for d in check_text(text, "x.rules").diagnostics if d.code == code]
    assert findings
    lines = text.split("\n")
    for line in {d.span.line for d in findings}:
        lines[line - 1] += f"  # tenet: ignore[{code}]"
    suppressed = "\n".join(lines)
    assert [d for d in check_text(suppressed, "x.rules").diagnostics if d.code == code] == []
    formatted = format_text(suppressed, "x.rules")
    assert [d for d in check_text(formatted, "x.rules").diagnostics if d.code == code] == []


def test_lines_are_wrapped_by_display_width_so_chinese_lines_fit_100_columns() -> None:
    from engine.syntax.source import display_width

    text = ("ruleset 额度\nfacts 客户\n  月收入: money\n  负债: money\n  评分: integer\nend\n"
            "outputs\n  动作: one of \"提额\", \"维持\" default \"维持\"\nend\n"
            "rule 提额规则 when 客户.月收入 > 10_000 and 客户.负债 < 客户.月收入 * 40% and "
            "客户.评分 >= 700 and 客户.评分 < 900 then set 动作 = \"提额\" end\n")
    formatted = format_text(text, "额度.rules")
    assert max(display_width(line) for line in formatted.splitlines()) <= 100
    assert "  when 客户.月收入 > 10_000\n   and 客户.负债 < 客户.月收入 * 40%\n" in formatted
    assert format_text(formatted, "额度.rules") == formatted
