"""Names a reader cannot tell apart: a declared name that mixes Latin with Cyrillic or Greek
letters, or that looks like another declared name (`а` Cyrillic and `a` Latin). A rule that
reads such a name may read a different value than it seems to."""

from __future__ import annotations

import unicodedata

from engine import ast
from engine.lint.findings import Findings

# Cyrillic and Greek letters drawn like Latin ones (after Unicode's confusables list).
_LOOKALIKES = str.maketrans(
    "аеорсхуіјѕԁԛԝкмнтвАВЕКМНОРСТХІЈЅ" "αορνικτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcxyijsdqwkmhtbABEKMHOPCTXIJS" "aopviktuxABEZHIKMNOPTYX")
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def lint_names(findings: Findings) -> None:
    symbols = findings.symbols
    declared: list[ast.Ident] = []
    for table in (symbols.facts, symbols.types, symbols.lets, symbols.tables, symbols.outputs,
                  symbols.rules, symbols.offers, symbols.budgets):
        declared.extend(declaration.name for declaration in table.values())
    _check(findings, declared, "declared name")
    for record in (*symbols.facts.values(), *symbols.types.values()):
        _check(findings, [field.name for field in record.fields], f"field of `{record.name.name}`")


def _check(findings: Findings, names: list[ast.Ident], kind: str) -> None:
    seen: dict[str, ast.Ident] = {}
    for name in sorted(names, key=lambda ident: (ident.span.file, ident.span.line,
                                                 ident.span.column)):
        scripts = _scripts(name.name)
        if len(scripts) > 1:
            findings.report(
                "W302", f"`{name.name}` mixes {' and '.join(scripts)} letters", name.span,
                help="write the name in one script; letters that look alike are different")
        skeleton = name.name.translate(_LOOKALIKES)
        other = seen.setdefault(skeleton, name)
        if other is not name and other.name != name.name:
            findings.report(
                "W302", f"`{name.name}` looks like `{other.name}`, another {kind} "
                        f"({other.span.file}:{other.span.line}), but is a different name",
                name.span, help="rename one of them so that they look different")


def _scripts(name: str) -> list[str]:
    found = []
    for character in name:
        if character.isalpha():
            script = unicodedata.name(character, "").split(" ")[0]
            if script in _CONFUSABLE_SCRIPTS and script not in found:
                found.append(script)
    return [script.capitalize() for script in sorted(found, key=_CONFUSABLE_SCRIPTS.index)]
