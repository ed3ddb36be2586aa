"""A cache of `tenet check`'s findings, so that an unchanged ruleset checks at once.

An entry is keyed by the content of the ruleset file, its path and root folder, the file size
limit and Tenet's own code (a fingerprint of the engine's sources and the grammar), and records
the content hash of every file it includes, and each include as the loader follows it (a
symbolic link pointed at another file is a change): any change to any of them is a miss. Entries are
JSON (never pickle: a cache must not be able to run code) in Tenet's private cache folder; a
corrupt, unreadable or unwritable cache is ignored, never fatal.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic, Severity, Span
from engine.syntax import ast
from engine.syntax.loader import SourceSet
from engine.syntax.source import (
    ENGINE,
    RuleFile,
    SourceError,
    max_file_bytes,
    normalize_newlines,
    private_cache_folder,
    read_bytes,
)


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Tenet's code as it is: the engine's sources and the grammar."""
    digest = hashlib.sha256()
    for path in sorted([*ENGINE.rglob("*.py"), *_grammar_files()]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _grammar_files() -> list[Path]:
    checkout = ENGINE.parent / "grammar"
    return list(checkout.glob("*.lark")) if checkout.is_dir() else list(
        (ENGINE / "grammar").glob("*.lark"))


def _key(file: RuleFile, data: bytes) -> str:
    digest = hashlib.sha256()
    for part in (fingerprint(), os.getcwd(), str(file.path), str(file.path.resolve()),
                 str(file.root.resolve()), str(max_file_bytes())):
        digest.update(part.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


def _entry_path(key: str) -> Path | None:
    folder = private_cache_folder()
    if folder is None:
        return None
    checks = folder / "check"
    try:
        checks.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return checks / f"{key}.json"


def lookup(file: RuleFile) -> tuple[SourceSet, list[Diagnostic], bool] | None:
    """The sources, findings and whether the file has a `ruleset` header, when nothing
    changed since they were stored; None otherwise."""
    try:
        _, data = read_bytes(file.path, file.root, str(file.path))
        entry_path = _entry_path(_key(file, data))
        if entry_path is None or not entry_path.is_file():
            return None
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
        if not _includes_unchanged(entry["includes"], file.root):
            return None
        sources = SourceSet(entry["root"])
        for index, (shown, resolved, digest) in enumerate(entry["files"]):
            content = Path(resolved).read_bytes() if resolved else data
            if hashlib.sha256(content).hexdigest() != digest:
                return None
            sources.sources[shown] = normalize_newlines(content.decode("utf-8"))
            # The root file keeps its header and window: the folder's versions are compared.
            kept = tuple(_header(item) for item in entry["header"]) if index == 0 else ()
            sources.modules.append(ast.Module(shown, kept))
        diagnostics = [_diagnostic(item) for item in entry["diagnostics"]]
        return sources, diagnostics, bool(entry["has_header"])
    except (OSError, ValueError, KeyError, TypeError, SourceError, UnicodeDecodeError):
        return None


def store(file: RuleFile, sources: SourceSet, diagnostics: list[Diagnostic],
          has_header: bool) -> None:
    """Remember a check of ``file`` (its includes are shown relative to the working folder,
    which is part of the key)."""
    try:
        _, data = read_bytes(file.path, file.root, str(file.path))
        entry_path = _entry_path(_key(file, data))
        if entry_path is None:
            return
        files = []
        for index, module in enumerate(sources.modules):
            real = "" if index == 0 else str(Path(module.path).resolve())
            content = data if index == 0 else Path(real).read_bytes()
            files.append([module.path, real, hashlib.sha256(content).hexdigest()])
        header = [_header_data(d) for d in sources.modules[0].declarations
                  if isinstance(d, ast.RulesetHeader | ast.EffectiveDecl)] if sources.modules else []
        entry = {"root": sources.root, "files": files, "has_header": has_header, "header": header,
                 "includes": _include_reads(sources, file.root),
                 "diagnostics": [_data(d) for d in diagnostics]}
        temporary = entry_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, entry_path)
        _prune(entry_path.parent)
    except (OSError, SourceError):
        return


def _include_reads(sources: SourceSet, root: Path) -> list[list[str]]:
    """Each include as the loader follows it: [the path it reads, what that resolves to now
    ("" when it could not be read), the content's hash]."""
    reads = []
    for module in sources.modules:
        if module.path not in sources.files:
            continue  # a file that is not UTF-8 text: nothing of it was read
        folder = Path(sources.files[module.path]).parent
        for declaration in module.declarations:
            if isinstance(declaration, ast.IncludeDecl):
                reads.append(_read_now(str(folder / declaration.path), root))
    return reads


def _read_now(target: str, root: Path) -> list[str]:
    try:
        resolved, content = read_bytes(Path(target), root, target)
    except SourceError:
        return [target, "", ""]
    return [target, str(resolved), hashlib.sha256(content).hexdigest()]


def _includes_unchanged(reads: list[list[str]], root: Path) -> bool:
    """Whether every include still reads the same file with the same content: a symbolic
    link pointed at another file, or out of the root, is a change."""
    return all(_read_now(target, root) == [target, resolved, digest]
               for target, resolved, digest in reads)


MAX_ENTRIES = 2_000


def _prune(folder: Path) -> None:
    """Keep the most recently written entries only: the cache must not grow without end."""
    entries = list(folder.glob("*.json"))
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda path: path.stat().st_mtime)
    for path in entries[: len(entries) - MAX_ENTRIES // 2]:
        path.unlink(missing_ok=True)


def _data(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {"code": diagnostic.code, "severity": diagnostic.severity.value,
            "message": diagnostic.message, "help": diagnostic.help,
            "span": [span.file, span.line, span.column, span.end_line, span.end_column]}


def _header_data(declaration: ast.RulesetHeader | ast.EffectiveDecl) -> dict[str, Any]:
    span = declaration.span
    data: dict[str, Any] = {"span": [span.file, span.line, span.column, span.end_line,
                                     span.end_column]}
    if isinstance(declaration, ast.RulesetHeader):
        name = declaration.name.span
        data.update(name=declaration.name.name, name_span=[name.file, name.line, name.column,
                                                          name.end_line, name.end_column])
    else:
        data.update(start=declaration.start.isoformat(),
                    until=declaration.until.isoformat() if declaration.until else None)
    return data


def _header(data: dict[str, Any]) -> ast.RulesetHeader | ast.EffectiveDecl:
    if "name" in data:
        return ast.RulesetHeader(ast.Ident(data["name"], span=Span(*data["name_span"])), None,
                                 span=Span(*data["span"]))
    until = datetime.date.fromisoformat(data["until"]) if data["until"] else None
    return ast.EffectiveDecl(datetime.date.fromisoformat(data["start"]), until,
                             span=Span(*data["span"]))


def _diagnostic(data: dict[str, Any]) -> Diagnostic:
    return Diagnostic(data["code"], Severity(data["severity"]), data["message"],
                      Span(*data["span"]), data["help"])
