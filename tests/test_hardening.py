"""Hostile inputs found by the security probe: none may change a decision between commands,
leak a file outside the ruleset's folder, or leave a half-written file."""

from __future__ import annotations

import decimal
import errno
import json
import os
import stat
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli import main
from tests.conftest import ROOT

RULESET = """ruleset hostile
facts c
  x: integer
end
outputs
  out: integer default 0
end
rule FIRST when c.x > 0 then set out = 1 end
# a comment that ends here{BREAK}rule HIDDEN priority 10 when true then set out = 999 end
"""
FACTS = {"c": {"x": 5}}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def decided_out(ruleset: Path, facts: Path) -> int:
    code, output = invoke("run", str(ruleset), "--facts", str(facts), "--as-of", "2026-12-01",
                          "--format", "json", "--no-trace")
    assert code == 0, output
    return json.loads(output)["decision"]["out"]


# --------------------------------------------------------------------------- line breaks


@pytest.mark.parametrize("line_break", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
def test_every_line_break_is_a_line_break_for_run_check_and_fmt(tmp_path: Path,
                                                                line_break: str) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_bytes(RULESET.replace("\n", line_break).format(BREAK=line_break).encode())
    facts.write_text(json.dumps(FACTS))
    assert decided_out(ruleset, facts) == 999  # the rule after the comment is seen
    assert invoke("check", str(ruleset))[0] == 0
    before = ruleset.read_bytes()
    code, output = invoke("fmt", str(ruleset))
    assert code == 0
    assert (output.startswith("reformatted")) == (line_break != "\n" or before != ruleset.read_bytes())
    assert b"\r" not in ruleset.read_bytes()
    assert decided_out(ruleset, facts) == 999  # fmt did not change the decision
    assert invoke("fmt", "--check", str(ruleset))[0] == 0


def test_a_byte_order_mark_is_accepted_and_dropped_by_fmt(tmp_path: Path) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_bytes(b"\xef\xbb\xbf" + RULESET.format(BREAK="\n").encode())
    facts.write_text(json.dumps(FACTS))
    assert decided_out(ruleset, facts) == 999
    assert invoke("fmt", "--check", str(ruleset)) == (
        1, f"would reformat {os.path.relpath(ruleset)}\n1 file would be reformatted, 0 unchanged\n")
    invoke("fmt", str(ruleset))
    assert not ruleset.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\f", "\v", "\x85", "\x1e"])
def test_characters_that_editors_may_show_as_line_breaks_are_errors(tmp_path: Path,
                                                                  separator: str) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(RULESET.format(BREAK=separator), encoding="utf-8")
    facts.write_text(json.dumps(FACTS))
    code, output = invoke("check", str(ruleset))
    assert code == 1
    assert f"{os.path.relpath(ruleset)}:9:27: E107 [error]" in output
    assert separator not in output  # the echoed line shows a replacement character
    assert invoke("fmt", str(ruleset))[0] == 1
    assert ruleset.read_text(encoding="utf-8") == RULESET.format(BREAK=separator)
    assert invoke("run", str(ruleset), "--facts", str(facts))[0] == 1


def test_line_numbers_agree_after_lone_carriage_returns(tmp_path: Path) -> None:
    """A diagnostic and its `ignore` comment are found on the same line however lines break."""
    text = ("ruleset r\rfacts c\r  x: integer\rend\routputs\r  out: integer default 0\rend\r"
            "let unused = c.x  # tenet: ignore[W101]\r"
            "rule A when c.x > 0 then set out = 1 end\r"
            "let unused_too = c.x\r")
    ruleset = tmp_path / "r.rules"
    ruleset.write_bytes(text.encode())
    code, output = invoke("check", str(ruleset))
    assert code == 0
    assert output.startswith(f"{os.path.relpath(ruleset)}:10:5: W101 [warning] let `unused_too`")
    assert "  10 | let unused_too = c.x\n" in output


# --------------------------------------------------------------------------- files outside


SECRET = "tenet-probe-secret-4711"


def _check_in_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", *args],
                          capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "TENET_PROBE": SECRET})


def test_an_include_of_the_environment_echoes_nothing(tmp_path: Path) -> None:
    (tmp_path / "r.rules").write_text('include "/proc/self/environ"\n'
                                      'include "../../../../../../../../proc/self/environ"\n'
                                      "ruleset r\n")
    process = _check_in_subprocess("r.rules", cwd=tmp_path)
    assert process.returncode == 1
    assert SECRET not in process.stdout + process.stderr
    assert "r.rules:1:1: E211 [error] included file `/proc/self/environ` is an absolute path" \
        in process.stdout
    assert ("r.rules:2:1: E211 [error] included file `../../../../../../../../proc/self/environ` "
            "is outside the ruleset's folder `.`") in process.stdout
    assert "Traceback" not in process.stderr


def test_a_committed_symlink_out_of_the_folder_is_refused_and_others_still_checked(
        tmp_path: Path) -> None:
    rules = tmp_path / "rulesets"
    rules.mkdir()
    (tmp_path / "outside.rules").write_text(f'ruleset leak\nlet x = "{SECRET}" +\n')
    (rules / "a_link.rules").symlink_to(tmp_path / "outside.rules")
    (rules / "b_environ.rules").symlink_to("/proc/self/environ")
    (rules / "c_loop.rules").symlink_to(rules / "c_loop.rules")
    (rules / "d_folder.rules").mkdir()
    (rules / "e_good.rules").write_text("ruleset good\noutputs\n  a: integer default 0\nend\n"
                                        "rule A when true then set a = 1 end\n")
    (rules / "f_bad.rules").write_text("ruleset bad\nlet y = nowhere\n")
    process = _check_in_subprocess("rulesets", cwd=tmp_path)
    output = process.stdout
    assert SECRET not in output + process.stderr and "Traceback" not in process.stderr
    assert process.returncode == 1
    found = [line for line in output.splitlines() if ": E" in line]
    assert found == [
        "rulesets/a_link.rules:1:1: E211 [error] `rulesets/a_link.rules` is outside the "
        "ruleset's folder `rulesets`",
        "rulesets/b_environ.rules:1:1: E211 [error] `rulesets/b_environ.rules` is outside the "
        "ruleset's folder `rulesets`",
        "rulesets/c_loop.rules:1:1: E212 [error] `rulesets/c_loop.rules` is a symbolic link that "
        "points to itself",
        "rulesets/d_folder.rules:1:1: E212 [error] `rulesets/d_folder.rules` is a folder, not a "
        "ruleset file",
        "rulesets/f_bad.rules:2:9: E301 [error] unknown name `nowhere`",
    ]
    assert output.rstrip().endswith("6 files checked: 5 errors, 1 warning")


def test_root_widens_the_folder_and_stays_closed_above_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "reasons.rules").write_text('reasons\n  R1 "Good"\nend\n')
    (tmp_path / "main").mkdir()
    main_rules = tmp_path / "main" / "main.rules"
    main_rules.write_text('include "../shared/reasons.rules"\nruleset main\n'
                          "outputs\n  a: integer default 0\nend\n"
                          "rule X when true then set a = 1 reason R1 end\n")
    code, output = invoke("check", str(main_rules))
    assert code == 1 and "E211" in output
    assert invoke("check", "--root", str(tmp_path), str(main_rules)) == (
        0, "✓ 1 file checked, no problems\n")
    assert engine.load(main_rules, root=tmp_path).name == "main"
    with pytest.raises(engine.RulesetError, match="E211"):
        engine.load(main_rules)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = tmp_path / "big.rules"
    ruleset.write_text("ruleset big\n" + "# padding\n" * 200)
    monkeypatch.setenv("TENET_MAX_FILE_BYTES", "1000")
    code, output = invoke("check", str(ruleset))
    assert code == 1
    assert "E212 [error] `" in output and "` is larger than 1,000 bytes" in output
    assert invoke("fmt", str(ruleset))[0] == 1
    monkeypatch.setenv("TENET_MAX_FILE_BYTES", "100000")
    assert invoke("check", str(ruleset))[0] == 0


# --------------------------------------------------------------------------- atomic fmt


MESSY = "ruleset   messy\noutputs\n a:   integer default 0\nend\n"
TIDY = "ruleset messy\n\noutputs\n  a: integer default 0\nend\n"


def test_fmt_keeps_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.rules"
    target.write_text(MESSY)
    target.chmod(0o640)
    link = tmp_path / "sub"
    link.mkdir()
    (link / "link.rules").symlink_to(target)
    assert invoke("fmt", "--root", str(tmp_path), str(link / "link.rules"))[0] == 0
    assert target.read_text() == TIDY
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert (link / "link.rules").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.rules", "sub"]


@pytest.mark.parametrize("failing", ["mkstemp", "fsync", "replace"])
def test_fmt_that_cannot_write_leaves_the_original_intact(tmp_path: Path, failing: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = tmp_path / "r.rules"
    ruleset.write_text(MESSY)

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile if failing == "mkstemp" else os, failing, no_space)
    code, output = invoke("fmt", str(ruleset))
    monkeypatch.undo()
    assert code == 1
    assert (f"error: cannot write {os.path.relpath(ruleset)}: No space left on device; the file "
            "is unchanged") in output
    assert output.rstrip().endswith("0 files reformatted, 0 unchanged, 1 with errors")
    assert ruleset.read_text() == MESSY
    assert [p.name for p in tmp_path.iterdir()] == ["r.rules"]  # no temporary file left


def test_fmt_never_writes_a_layout_that_reads_back_differently(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = tmp_path / "r.rules"
    ruleset.write_text(MESSY)
    import cli

    monkeypatch.setattr(cli, "format_text", lambda text, path: TIDY.replace("0", "1"))
    code, output = invoke("fmt", str(ruleset))
    assert code == 1
    assert "the canonical layout would not read back as the same ruleset" in output
    assert ruleset.read_text() == MESSY


# --------------------------------------------------------------------------- decimal context


CONTEXT_RULESET = """ruleset context
facts c
  x: number
end
outputs
  negated: number default 0
  absolute: number default 0
  percent: number default 0
  third: number default 0
end
rule A when c.x > 0 then
  set negated = -c.x
  set absolute = abs(-1234567.891 - c.x)
  set percent = c.x * 12.345%
  set third = c.x / 3
end
"""


def test_the_hosts_decimal_context_changes_nothing() -> None:
    facts = {"c": {"x": Decimal("1234567.891")}}
    expected = {"negated": Decimal("-1234567.891"), "absolute": Decimal("2469135.782"),
                "percent": Decimal("152407.40614395"),
                "third": Decimal("411522.6303333333333333333333333333")}
    baseline = engine.load_text(CONTEXT_RULESET).decide(facts, as_of="2026-12-01")
    assert baseline.decision == expected
    with decimal.localcontext() as hostile:
        hostile.prec = 6
        hostile.rounding = decimal.ROUND_UP
        hostile.traps[decimal.Inexact] = hostile.traps[decimal.Rounded] = True
        ruleset = engine.load_text(CONTEXT_RULESET)
        for reference in (False, True):
            for trace in (False, True):
                decision = ruleset.decide(facts, as_of="2026-12-01", trace=trace,
                                          reference=reference)
                assert decision.to_json() == baseline.to_json() if trace else \
                    decision.decision == expected


# --------------------------------------------------------------------------- decide is total


SQUARES = "\n".join(["ruleset squares", "facts c", "  x: number", "end", "outputs",
                     "  out: number default 0", "  rounded: number default 0", "end",
                     "let s0 = c.x * c.x"]
                    + [f"let s{i} = s{i - 1} * s{i - 1}" for i in range(1, 17)]
                    + ["rule A when true then", "  set out = s16", "  set rounded = round(c.x, 20)",
                       "end"]) + "\n"


def test_results_beyond_the_decimal_range_are_missing_with_a_note() -> None:
    ruleset = engine.load_text(SQUARES)
    facts = {"c": {"x": Decimal("1E+30")}}
    for reference in (False, True):
        decision = ruleset.decide(facts, as_of="2026-12-01", reference=reference)
        assert decision.decision == {"out": None, "rounded": None}
        notes = [e.message for e in decision.trace if type(e).__name__ == "NoteEvent"]
        assert notes == [
            "`s14 * s14` is beyond the numbers Tenet computes with (34 digits, exponents to "
            "±999,999): the value is missing",
            "`round(c.x, 20)` is beyond the numbers Tenet computes with (34 digits, exponents "
            "to ±999,999): the value is missing"]
    assert ruleset.decide(facts, as_of="2026-12-01").to_json() == \
        ruleset.decide(facts, as_of="2026-12-01", reference=True).to_json()


@pytest.mark.parametrize("number", ["1e600000", "1e-999999", "1" * 5000, "12345678901234567890"
                                    "12345678901234567890.5"])
def test_facts_numbers_beyond_the_documented_range_are_facts_errors(tmp_path: Path,
                                                                    number: str) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(SQUARES)
    facts.write_text('{"c": {"x": ' + number + "}}")
    code, output = invoke("run", str(ruleset), "--facts", str(facts), "--as-of", "2026-12-01")
    assert code == 2
    assert "is out of range: numbers in facts have at most 34 significant digits and lie " \
           "between 1E-34 and 1E+34" in output
    assert len(output) < 600


def test_round_places_are_bounded_by_the_checker() -> None:
    with pytest.raises(engine.RulesetError, match="E414"):
        engine.load_text(SQUARES.replace("round(c.x, 20)", "round(c.x, 40)"))
    with pytest.raises(engine.RulesetError, match="E414"):
        engine.load_text(SQUARES.replace("round(c.x, 20)", "round(c.x, 1.5)"))


# --------------------------------------------------------------------------- facts text


TEXT_RULESET = """ruleset texts
facts c
  name: one of "a", "b"
  loans: list of loan
end
type loan
  amount: money
end
outputs
  out: integer default 0
end
rule A when c.name = "a" then set out = 1 end
"""


def test_repeated_keys_in_facts_are_refused_with_their_path(tmp_path: Path) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(TEXT_RULESET)
    facts.write_text('{"c": {"name": "a", "loans": [{"amount": 1}, '
                     '{"amount": 1, "amount": 1000000}]}}')
    code, output = invoke("run", str(ruleset), "--facts", str(facts))
    assert code == 2
    assert "`c.loans[1].amount` is given twice" in output


def test_long_and_hostile_texts_in_facts_errors_are_shortened_and_escaped(tmp_path: Path) -> None:
    ruleset, facts = tmp_path / "r.rules", tmp_path / "facts.json"
    ruleset.write_text(TEXT_RULESET)
    facts.write_text(json.dumps({"c": {"name": "\x1b[2J\x1b[31mred" + "x" * 12_000_000,
                                       "loans": []}}))
    code, output = invoke("run", str(ruleset), "--facts", str(facts))
    assert code == 2
    assert '`c.name`' not in output and "\x1b" not in output
    assert 'c.name: expected one of "a", "b", got "\\u001b[2J\\u001b[31mred' in output
    assert "…\" (12,000,012 characters)" in output
    assert len(output) < 1000


# --------------------------------------------------------------------------- grammar cache


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _plant_cache(tmp_path: Path, folder_mode: int) -> tuple[dict, Path]:
    """A genuine grammar cache, then a pickle that would create a marker file put where the
    cache is (and where Lark's own pickle cache used to be), as a restored CI cache could."""
    import pickle

    from lark import __version__ as lark_version

    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    subprocess.run([sys.executable, str(ROOT / "cli.py"), "check",
                    str(ROOT / "rulesets" / "cross_sell.rules")], env=environment,
                   capture_output=True, check=True)
    folder = tmp_path / "cache" / "tenet"
    [cache] = folder.glob("grammar-*.json")
    marker = tmp_path / "pwned"
    for path in (cache, folder / f"grammar-lark-{lark_version}.cache"):
        path.write_bytes(pickle.dumps(_Payload(marker)))
        path.chmod(0o600)
    folder.chmod(folder_mode)
    return environment, marker


def _check_cross_sell(environment: dict) -> subprocess.CompletedProcess:
    """`tenet check` that parses (not the findings' cache), so it needs the grammar."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", "--no-cache",
                           str(ROOT / "rulesets" / "cross_sell.rules")],
                          capture_output=True, text=True, env=environment)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
@pytest.mark.parametrize("folder_mode", [0o700, 0o777], ids=["private", "writable by all"])
def test_a_planted_grammar_cache_never_runs_code(tmp_path: Path, folder_mode: int) -> None:
    """Even a cache file of this user's own, in its private folder, is only read as JSON."""
    environment, marker = _plant_cache(tmp_path, folder_mode)
    process = _check_cross_sell(environment)
    assert process.returncode == 0, process.stderr
    assert not marker.exists()
    assert process.stdout == "✓ 1 file checked, no problems\n"


def test_an_edited_grammar_cache_is_built_again(tmp_path: Path) -> None:
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert _check_cross_sell(environment).returncode == 0
    [cache] = (tmp_path / "cache" / "tenet").glob("grammar-*.json")
    for edited in ('{"data": {}, "memo": {}}', "[1, 2", '{"\\u0000dict": 5}'):
        cache.write_text(edited)
        process = _check_cross_sell(environment)
        assert (process.returncode, process.stderr) == (0, ""), edited
        assert json.loads(cache.read_text())["data"]  # written again, whole


def test_the_cached_grammar_parses_as_the_built_one() -> None:
    from lark import Lark

    from engine.syntax import grammar_cache
    from engine.syntax.grammar import grammar_text

    built = Lark(grammar_text(), parser="lalr", lexer="basic", strict=True,
                 keep_all_tokens=True, maybe_placeholders=True)
    data, memo = built.memo_serialize([grammar_cache.TerminalDef, grammar_cache.Rule])
    stored = grammar_cache._decoded(json.loads(json.dumps(grammar_cache._encoded(
        {"data": data, "memo": memo}))))
    loaded = Lark._load_from_dict(stored["data"], stored["memo"])
    table = lambda lark: lark.parser.parser.parser.parse_table  # noqa: E731
    assert table(loaded).states == table(built).states
    assert [t.name for t in loaded.terminals] == [t.name for t in built.terminals]
    text = (ROOT / "rulesets" / "limit_review.rules").read_text(encoding="utf-8")
    assert [(t.type, t.value) for t in loaded.lex(text)] == \
        [(t.type, t.value) for t in built.lex(text)]


# --------------------------------------------------------------------------- terminal safety


def test_control_characters_are_escaped_in_text_and_github_output(tmp_path: Path) -> None:
    ruleset = tmp_path / "r.rules"
    ruleset.write_text('ruleset r\nfacts c\n  s: one of "a", "b"\nend\noutputs\n'
                       '  out: integer default 0\nend\n'
                       'rule A when c.s = "\x1b]0;pwned\x07\x1b[2J\x9b31m" then set out = 1 end\n'
                       '# \x1b[31m a comment in red\n', encoding="utf-8")
    for output_format in ("text", "github"):
        code, output = invoke("check", "--format", output_format, str(ruleset))
        assert code == 1
        assert not set(output) & {"\x1b", "\x07", "\x9b"}
        assert "\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m" in output
