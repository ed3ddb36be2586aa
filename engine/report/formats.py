"""Machine formats for diagnostics: JSON, GitHub workflow commands and SARIF 2.1.0."""

from __future__ import annotations

import json
from pathlib import PurePath

import engine
from engine.codes import CODES
from engine.diagnostics import Diagnostic, Severity
from engine.syntax.source import escape_unprintable

TOOL_NAME = "tenet"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_json(diagnostics: list[Diagnostic]) -> str:
    """A JSON list with one object per diagnostic."""
    return json.dumps([_as_dict(d) for d in diagnostics], ensure_ascii=False, indent=2)


def _as_dict(diagnostic: Diagnostic) -> dict:
    span = diagnostic.span
    return {"file": span.file, "line": span.line, "column": span.column,
            "end_line": span.end_line, "end_column": span.end_column, "code": diagnostic.code,
            "severity": diagnostic.severity.value, "message": diagnostic.message,
            "help": diagnostic.help}


def to_github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands, which become annotations on the pull request."""
    lines = []
    for diagnostic in diagnostics:
        span = diagnostic.span
        properties = ",".join(f"{key}={_escape_property(str(value))}" for key, value in (
            ("file", span.file), ("line", span.line), ("col", span.column),
            ("endLine", span.end_line), ("endColumn", span.end_column),
            ("title", f"{diagnostic.code} {CODES[diagnostic.code].title}")))
        message = diagnostic.message + (f"\nhelp: {diagnostic.help}" if diagnostic.help else "")
        command = _GITHUB_COMMAND[diagnostic.severity]
        lines.append(f"::{command} {properties}::{_escape_data(message)}")
    return "\n".join(lines)


_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _escape_data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escape_unprintable(escaped)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_sarif(diagnostics: list[Diagnostic]) -> str:
    """A SARIF 2.1.0 log with one run; every code of the catalogue is listed as a rule."""
    rule_ids = sorted(CODES)
    index = {code: i for i, code in enumerate(rule_ids)}
    rules = [{
        "id": code,
        "name": _rule_name(CODES[code].title),
        "shortDescription": {"text": CODES[code].title},
        "fullDescription": {"text": CODES[code].explanation},
        "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[code].severity]},
    } for code in rule_ids]
    results = []
    for diagnostic in diagnostics:
        span = diagnostic.span
        message = diagnostic.message + (f"\nhelp: {diagnostic.help}" if diagnostic.help else "")
        results.append({
            "ruleId": diagnostic.code,
            "ruleIndex": index[diagnostic.code],
            "level": _SARIF_LEVEL[diagnostic.severity],
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": PurePath(span.file).as_posix()},
                "region": {"startLine": span.line, "startColumn": span.column,
                           "endLine": span.end_line, "endColumn": span.end_column},
            }}],
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": engine.__version__,
                                "rules": rules}},
            # Our columns count Unicode code points, not UTF-16 units.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def _rule_name(title: str) -> str:
    """SARIF rule names are identifiers in PascalCase: "unknown field" → "UnknownField"."""
    words = "".join(c if c.isalnum() else " " for c in title.replace("'s", "")).split()
    return "".join(word.capitalize() for word in words)
