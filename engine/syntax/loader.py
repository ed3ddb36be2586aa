"""Read a ruleset file and everything it includes.

Includes are resolved relative to the including file and must stay inside the ruleset's root
folder (see ``engine.syntax.source``). A file included twice (say, a shared schema that two files
include) is read once; a file that includes itself, directly or through others, is an include
cycle. A file that cannot be read is a diagnostic, never an exception.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from engine.diagnostics import Diagnostic, Severity, Span
from engine.syntax import ast
from engine.syntax.parser import parse_module
from engine.syntax.source import SourceError, display_path, normalize_newlines, read_bytes


@dataclass
class SourceSet:
    """The parsed modules of one ruleset, root first, and the text of every file read."""

    root: str
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Where each file was read (by its shown name), and the folder they all stay inside: what
    # it takes to ship the ruleset as texts and read it again elsewhere (``read_bundle``).
    files: dict[str, PurePath] = field(default_factory=dict)
    folder: PurePath | None = None


Fetch = Callable[[PurePath, str], tuple[PurePath, bytes]]


def read_sources(path: Path, root: Path | None = None) -> SourceSet:
    """Parse ``path`` and, depth first, every file it includes, all inside ``root`` (by
    default the folder of ``path``)."""
    shown = display_path(path)
    root = root if root is not None else path.parent
    sources = SourceSet(shown, folder=root.resolve())
    reader = _Reader(sources, lambda target, name: read_bytes(target, root, name))
    reader.read(path, shown, chain=[], include=None)
    return sources


def parse_text(text: str, path: str, root: Path | None = None, folder: Path | None = None,
               overlay: Mapping[Path, str] | None = None) -> SourceSet:
    """A ruleset given as text; its includes are resolved from ``folder`` (an editor's: the
    file's own; by default the working directory) inside ``root`` (by default the working
    directory). ``overlay`` gives texts to read instead of the files' (by resolved path: an
    editor's unsaved documents); the files must still exist and pass every check."""
    root = root if root is not None else Path.cwd()
    sources = SourceSet(path, folder=root.resolve())

    def fetch(target: PurePath, name: str) -> tuple[PurePath, bytes]:
        resolved, data = read_bytes(Path(target), root, name)
        held = overlay.get(resolved) if overlay else None
        return resolved, data if held is None else held.encode("utf-8")

    reader = _Reader(sources, fetch)
    # An editor's text is the file at ``path``: an include that comes back to it is a cycle.
    resolved = Path(path).resolve() if folder is not None else None
    if resolved is not None:
        reader.seen.add(resolved)
    reader.parse(normalize_newlines(text), path, folder or Path.cwd(),
                 chain=[resolved] if resolved is not None else [], resolved=resolved)
    return sources


BUNDLE_ROOT = PurePosixPath("/")


def read_bundle(files: dict[str, str], main: str) -> SourceSet:
    """A ruleset shipped as texts (``Ruleset.bundle``): ``files`` maps each file's path inside
    the ruleset's folder (POSIX, relative) to its text, ``main`` names the ruleset file.
    Includes resolve among those texts exactly as they did on disk; nothing else is read."""

    def fetch(target: PurePath, shown: str) -> tuple[PurePath, bytes]:
        resolved = PurePosixPath(posixpath.normpath(target.as_posix()))
        text = files.get(resolved.relative_to(BUNDLE_ROOT).as_posix())
        if text is None:
            raise SourceError("E203", f"`{shown}` does not exist")
        return resolved, text.encode("utf-8")

    sources = SourceSet(main, folder=BUNDLE_ROOT)
    reader = _Reader(sources, fetch, lambda path: path.relative_to(BUNDLE_ROOT).as_posix())
    reader.read(BUNDLE_ROOT / main, main, chain=[], include=None)
    return sources


class _Reader:
    def __init__(self, sources: SourceSet, fetch: Fetch,
                 display: Callable[[PurePath], str] = display_path) -> None:
        self.sources, self.fetch, self.display = sources, fetch, display
        self.seen: set[PurePath] = set()

    def read(self, path: PurePath, shown: str, chain: list[PurePath],
             include: ast.IncludeDecl | None) -> None:
        try:
            resolved, data = self.fetch(path, shown)
        except SourceError as error:
            self._cannot_read(error, path, shown, include)
            return
        if resolved in chain:
            cycle = " → ".join(self.display(p) for p in chain[chain.index(resolved):] + [resolved])
            self.sources.diagnostics.append(Diagnostic(
                "E204", Severity.ERROR, f"include cycle: {cycle}", include.span,
                help="move the shared declarations to a file that includes nothing"))
            return
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        shown = self.display(resolved) if include is not None else shown
        try:
            text = normalize_newlines(data.decode("utf-8"))
        except UnicodeDecodeError as error:
            self.sources.sources[shown] = data.decode("utf-8", errors="replace")
            self.sources.modules.append(ast.Module(shown, ()))
            self.sources.diagnostics.append(not_utf8(shown, data, error))
            return
        self.parse(text, shown, resolved.parent, chain + [resolved], resolved)

    def parse(self, text: str, shown: str, folder: PurePath, chain: list[PurePath],
              resolved: PurePath | None) -> None:
        module, diagnostics = parse_module(text, shown)
        self.sources.sources[shown] = text
        self.sources.files[shown] = resolved if resolved is not None else folder / shown
        self.sources.modules.append(module)
        self.sources.diagnostics.extend(diagnostics)
        for declaration in module.declarations:
            if not isinstance(declaration, ast.IncludeDecl):
                continue
            written = declaration.path
            if PurePosixPath(written).is_absolute() or PureWindowsPath(written).is_absolute():
                self.sources.diagnostics.append(Diagnostic(
                    "E211", Severity.ERROR, f"included file `{written}` is an absolute path",
                    declaration.span,
                    help="write the path relative to this file's folder, inside the ruleset's "
                         "folder"))
                continue
            target = folder / written
            self.read(target, written, chain, declaration)

    def _cannot_read(self, error: SourceError, path: PurePath, shown: str,
                     include: ast.IncludeDecl | None) -> None:
        span = include.span if include is not None else Span(shown, 1, 1, 1, 1)
        message = error.message if include is None else f"included file {error.message}"
        help = error.help
        if error.code == "E203" and include is not None:
            message = f"included file `{shown}` does not exist"
            help = f"the path is relative to this file's folder (looked for {self.display(path)})"
        self.sources.diagnostics.append(Diagnostic(error.code, Severity.ERROR, message, span,
                                                   help=help))


def not_utf8(shown: str, data: bytes, error: UnicodeDecodeError) -> Diagnostic:
    """E103 at the first byte that is not UTF-8."""
    before = normalize_newlines(data[: error.start].decode("utf-8", errors="replace"))
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return Diagnostic("E103", Severity.ERROR, "the file is not valid UTF-8 text",
                      Span(shown, line, column, line, column + 1),
                      help="save the file as UTF-8 (byte "
                           f"0x{data[error.start]:02x} cannot start a character)")
