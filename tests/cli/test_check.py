"""`tenet check`: exit status, file discovery, and the text, JSON, GitHub and SARIF formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from cli import main
from tests.helpers import FIXTURES, ROOT

DIAGNOSTICS = FIXTURES / "diagnostics"
CLEAN = ROOT / "rulesets" / "limit_review.rules"
# The official SARIF 2.1.0 schema (OASIS, published for reuse; from the npm package
# @microsoft/jest-sarif 1.0.0-beta.0), kept in the repository so that the test needs no network.
SARIF_SCHEMA = FIXTURES / "sarif" / "sarif-schema-2.1.0.json"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_clean_file_exits_0() -> None:
    code, output = run(str(CLEAN))
    assert (code, output) == (0, "✓ 1 file checked, no problems\n")


def test_errors_exit_1_and_are_rendered_with_caret_and_help(monkeypatch) -> None:
    monkeypatch.chdir(DIAGNOSTICS)
    code, output = run("E302_unknown_field.rules")
    assert code == 1
    assert output == (
        "E302_unknown_field.rules:34:24: E302 [error] `customer` has no field `scor`\n"
        "  34 | rule LOW when customer.scor < 500 then set action = \"hold\" end\n"
        "     |                        ^^^^\n"
        "  = help: did you mean `score`?\n"
        "\n"
        "1 file checked: 1 error\n")


def test_warnings_pass_unless_strict(monkeypatch) -> None:
    monkeypatch.chdir(DIAGNOSTICS)
    assert run("W101_unused_let.rules")[0] == 0
    assert run("--strict", "W101_unused_let.rules")[0] == 1


def test_usage_errors_exit_2() -> None:
    assert run("no/such/file.rules")[0] == 2
    assert run("--format", "xml", str(CLEAN))[0] == 2
    assert CliRunner().invoke(main, ["check"]).exit_code == 2


def test_folders_are_searched_and_included_parts_are_not_checked_alone(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "reasons.rules").write_text('reasons\n  R1 "Good"\nend\n')
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "main.rules").write_text(
        'include "../shared/reasons.rules"\nruleset main\noutputs\n  a: integer default 0\nend\n'
        'rule X when true then set a = 1 reason R1 end\n')
    (tmp_path / "notes.txt").write_text("not a ruleset")
    code, output = run(str(tmp_path))
    assert (code, output) == (0, "✓ 2 files checked, no problems\n")


def test_json_format(monkeypatch) -> None:
    monkeypatch.chdir(DIAGNOSTICS)
    code, output = run("--format", "json", "E403_not_in_enum.rules")
    assert code == 1
    assert json.loads(output) == [{
        "file": "E403_not_in_enum.rules", "line": 34, "column": 34, "end_line": 34,
        "end_column": 42, "code": "E403", "severity": "error",
        "message": '"retial" is not one of "retail", "micro"', "help": "did you mean `retail`?"}]


def test_github_format(monkeypatch) -> None:
    monkeypatch.chdir(DIAGNOSTICS)
    code, output = run("--format", "github", "E206_duplicate_name.rules", "W101_unused_let.rules")
    assert code == 1
    assert output.splitlines() == [
        "::error file=E206_duplicate_name.rules,line=34,col=5,endLine=34,endColumn=14,"
        "title=E206 duplicate name::`new_limit` is already declared as an output%0Ahelp: the "
        "first declaration is at E206_duplicate_name.rules:25; rename one of them",
        "::warning file=W101_unused_let.rules,line=34,col=5,endLine=34,endColumn=10,"
        "title=W101 unused value::let `ratio` is never used%0Ahelp: remove it, or use it in a rule",
    ]
    assert run("--format", "github", str(CLEAN)) == (0, "")


def _sarif_schema() -> dict:
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def test_sarif_is_valid_against_the_official_schema(monkeypatch) -> None:
    schema = _sarif_schema()
    monkeypatch.chdir(DIAGNOSTICS)
    code, output = run("--format", "sarif", ".")
    assert code == 1
    log = json.loads(output)
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    run_ = log["runs"][0]
    assert log["version"] == "2.1.0"
    results = run_["results"]
    rules = run_["tool"]["driver"]["rules"]
    # every code `tenet check` reports about a file is exercised (V0xx come from `tenet
    # verify`; E213, versions of a ruleset in a folder, from tests/check/test_versions.py)
    assert {r["ruleId"] for r in results} == {r["id"] for r in rules
                                              if r["id"][0] != "V" and r["id"] != "E213"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first = next(r for r in results if r["ruleId"] == "E302")
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "E302_unknown_field.rules"},
        "region": {"startLine": 34, "startColumn": 24, "endLine": 34, "endColumn": 28}}


def test_sarif_of_a_clean_run_is_valid_and_empty() -> None:
    schema = _sarif_schema()
    code, output = run("--format", "sarif", str(CLEAN))
    log = json.loads(output)
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    assert (code, log["runs"][0]["results"]) == (0, [])


def test_the_command_line_never_shows_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules"
    broken.write_bytes(b"ruleset r\nlet x = \xff\xfe\n")
    for args in (["check", str(broken)], ["check", str(tmp_path / "missing.rules")],
                 ["check", str(DIAGNOSTICS / "E101_missing_then.rules")]):
        process = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args],
                                 capture_output=True, text=True, cwd=ROOT)
        assert "Traceback" not in process.stdout + process.stderr
        assert process.returncode in (1, 2)


def test_explain_prints_the_code_documentation() -> None:
    result = CliRunner().invoke(main, ["explain", "e402"])
    assert result.exit_code == 0
    assert result.output.startswith("E402 error: money unit mismatch\n")
    assert CliRunner().invoke(main, ["explain", "X999"]).exit_code == 2


def test_a_folder_without_rulesets_is_a_usage_error_unless_allowed(tmp_path: Path) -> None:
    code, output = run(str(tmp_path))
    assert code == 2 and "no `.rules` files in" in output
    assert run("--allow-empty", str(tmp_path)) == (
        0, "no `.rules` files found\n✓ 0 files checked, no problems\n")
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2


def test_rulesets_without_examples_fail_tenet_test_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "r.rules").write_text("ruleset r\noutputs\n  a: integer default 0\nend\n"
                                      "rule A when true then set a = 1 end\n")
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.endswith("0 passed, 0 failed\nno `example` blocks found: nothing was "
                                  "tested (pass --allow-empty if that is expected)\n")
    assert CliRunner().invoke(main, ["test", "--allow-empty", str(tmp_path)]).exit_code == 0
