"""Read a ruleset file and everything it includes.

Includes are resolved relative to the including file. A file included twice (say, a shared
schema that two files include) is read once; a file that includes itself, directly or through
others, is an include cycle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine import ast
from engine.diagnostics import Diagnostic, Severity, Span
from engine.parser import parse_module


@dataclass
class SourceSet:
    """The parsed modules of one ruleset, root first, and the text of every file read."""

    root: str
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def display_path(path: Path) -> str:
    """A path as the user should read it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def read_sources(root: Path) -> SourceSet:
    """Parse ``root`` and, depth first, every file it includes."""
    sources = SourceSet(display_path(root))
    _read(root.resolve(), sources, chain=[], seen=set())
    return sources


def parse_text(text: str, path: str) -> SourceSet:
    """A ruleset given as text (includes are resolved relative to the working directory)."""
    sources = SourceSet(path)
    module, diagnostics = parse_module(text, path)
    sources.sources[path] = text
    sources.modules.append(module)
    sources.diagnostics.extend(diagnostics)
    _read_includes(module, Path.cwd(), sources, chain=[], seen=set())
    return sources


def _read(path: Path, sources: SourceSet, chain: list[Path], seen: set[Path]) -> None:
    shown = display_path(path)
    seen.add(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        sources.sources[shown] = data.decode("utf-8", errors="replace")
        sources.modules.append(ast.Module(shown, ()))
        sources.diagnostics.append(_not_utf8(shown, data, error))
        return
    module, diagnostics = parse_module(text, shown)
    sources.sources[shown] = text
    sources.modules.append(module)
    sources.diagnostics.extend(diagnostics)
    _read_includes(module, path.parent, sources, chain + [path], seen)


def _read_includes(module: ast.Module, folder: Path, sources: SourceSet, chain: list[Path],
                   seen: set[Path]) -> None:
    for declaration in module.declarations:
        if not isinstance(declaration, ast.IncludeDecl):
            continue
        target = (folder / declaration.path).resolve()
        if target in chain:
            cycle = " → ".join(display_path(p) for p in chain[chain.index(target):] + [target])
            sources.diagnostics.append(Diagnostic(
                "E204", Severity.ERROR, f"include cycle: {cycle}", declaration.span,
                help="move the shared declarations to a file that includes nothing"))
        elif not target.is_file():
            sources.diagnostics.append(Diagnostic(
                "E203", Severity.ERROR, f"included file `{declaration.path}` does not exist",
                declaration.span,
                help=f"the path is relative to this file's folder (looked for {display_path(target)})"))
        elif target not in seen:
            try:
                _read(target, sources, chain, seen)
            except OSError as error:
                sources.diagnostics.append(Diagnostic(
                    "E203", Severity.ERROR, f"cannot read included file `{declaration.path}`",
                    declaration.span, help=str(error)))


def _not_utf8(shown: str, data: bytes, error: UnicodeDecodeError) -> Diagnostic:
    before = data[: error.start].decode("utf-8", errors="replace")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return Diagnostic("E103", Severity.ERROR, "the file is not valid UTF-8 text",
                      Span(shown, line, column, line, column + 1),
                      help="save the file as UTF-8 (byte "
                           f"0x{data[error.start]:02x} cannot start a character)")
