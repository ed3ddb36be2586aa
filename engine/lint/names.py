"""Names a reader cannot tell apart: a declared name that mixes Latin with Cyrillic or Greek
letters, or that looks like another declared name (`а` Cyrillic and `a` Latin, `ℓimit` and
`limit`). A rule that reads such a name may read a different value than it seems to.

Two names look alike when their skeletons are equal (after Unicode's UTS #39): the NFKC form
(which Python itself would take as the name: full-width, mathematical and other compatibility
letters become plain ones), each character then replaced by one representative of the
characters Unicode's confusables table says look like it.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import unicodedata

from engine.lint.findings import Findings
from engine.syntax import ast

_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
# The groups of the table that hold several ASCII characters are {1, I, l} and {0, O}: each
# ASCII character stands for its group (a group's ASCII character with the lowest code), so an
# ASCII name needs no table.
_ASCII_LOOKALIKES = str.maketrans("IlO", "110")


def skeleton(name: str) -> str:
    """What ``name`` looks like: equal skeletons read as the same name."""
    name = unicodedata.normalize("NFKC", name)
    if name.isascii():
        return name.translate(_ASCII_LOOKALIKES)
    lookalike = _lookalikes()
    return "".join(lookalike.get(character, character) for character in name)


@functools.cache
def _lookalikes() -> dict[str, str]:
    """Each character of Unicode's confusables table mapped to one character of its group (the
    groups joined through the table's pairs of single characters): its lowest ASCII character,
    or its lowest character when it has none."""
    table = json.loads(importlib.resources.files("confusable_homoglyphs")
                       .joinpath("confusables.json").read_text(encoding="utf-8"))
    parent: dict[str, str] = {}

    def root(character: str) -> str:
        while parent.setdefault(character, character) != character:
            parent[character] = parent[parent[character]]
            character = parent[character]
        return character

    for character, entries in table.items():
        for entry in entries:
            if len(character) == 1 and len(entry["c"]) == 1:
                parent[root(character)] = root(entry["c"])
    groups: dict[str, list[str]] = {}
    for character in parent:
        groups.setdefault(root(character), []).append(character)
    return {character: min(group, key=lambda c: (not c.isascii(), c))
            for group in groups.values() for character in group}


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
        other = seen.setdefault(skeleton(name.name), name)
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
