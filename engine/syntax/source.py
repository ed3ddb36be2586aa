"""The one reader of ruleset files, used by every command: what is read, and how text becomes lines.

Every pass must agree on where lines break, or a rule can hide from one command and appear in
another (a rule after `# comment\\r` was invisible to `check` and `run` but appeared after `fmt`).
So the reader decodes UTF-8 (a byte-order mark is accepted and dropped) and turns `\\r\\n` and a
lone `\\r` into `\\n`; after that, `\\n` is the only line break anywhere in Tenet. Characters that
some editors show as a line break and others do not (U+2028, U+2029, form feed, …) are rejected
by the parser (E107), so no text can look different in an editor than it reads.

Files are read only inside a root folder: a ruleset in CI must not be able to read and echo
`/proc/self/environ` through an `include` or a committed symlink. The root is the folder named
on the command line (or the folder of the file named), or `--root`.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
"""The largest ruleset file read; `TENET_MAX_FILE_BYTES` overrides it."""

# What `str.splitlines` treats as a line break besides `\n` and `\r`.
LINE_SEPARATORS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"


# The package's folder: the check cache fingerprints every file in it, and in a checkout the
# grammar lies beside it (grammar/tenet.lark); installed, inside it (engine/grammar/).
ENGINE = Path(__file__).resolve().parent.parent


class SourceError(Exception):
    """A ruleset file that is not read. The message never quotes the file's contents."""

    def __init__(self, code: str, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.help = code, message, help


@dataclass(frozen=True)
class RuleFile:
    """A ruleset file to read, and the folder that it and its includes must stay inside."""

    path: Path
    root: Path


# Characters that would move a terminal's cursor, reorder text (Trojan Source) or break a line
# where none is shown, if echoed as they are; and lone surrogates, which no output can encode.
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                         "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def private_cache_folder() -> Path | None:
    """Tenet's cache folder (`$XDG_CACHE_HOME/tenet`, or `~/.cache/tenet`), created if needed;
    None unless it is a real folder of this user that nobody else can write into."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tenet"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder if is_private(folder, directory=True) else None
    except OSError:
        return None


def is_private(path: Path, directory: bool) -> bool:
    """Owned by this user, not a symbolic link, writable by nobody else."""
    if not hasattr(os, "getuid"):  # Windows: folders under the user's profile are private
        return True
    info = path.lstat()
    kind = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    return kind and info.st_uid == os.getuid() and not info.st_mode & 0o022 and (
        not directory or not info.st_mode & 0o077)


def display_width(text: str) -> int:
    """Terminal and editor columns taken by ``text``: East Asian wide and full-width
    characters (Chinese, for instance) take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` display columns."""
    return text + " " * (width - display_width(text))


def escape_unprintable(text: str) -> str:
    """``text`` with every control, line-separator and bidi character written as `\\u…`,
    for messages that quote the user's text."""
    return UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def display_path(path: Path) -> str:
    """A path as the user should read it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def max_file_bytes() -> int:
    configured = os.environ.get("TENET_MAX_FILE_BYTES", "")
    return int(configured) if configured.isdigit() else DEFAULT_MAX_BYTES


def normalize_newlines(text: str) -> str:
    """``text`` with a leading byte-order mark dropped and every `\\r\\n` or lone `\\r` a `\\n`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_lines(text: str) -> list[str]:
    """The lines of normalised text, split at `\\n` only (``str.splitlines`` also splits at
    characters the lexer does not treat as line breaks)."""
    return text.split("\n")


def read_bytes(path: Path, root: Path, shown: str) -> tuple[Path, bytes]:
    """The resolved path and the bytes of the regular file ``path``, which must resolve
    inside ``root``; raises SourceError naming ``shown`` (the path as the user wrote it)."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise SourceError("E203", f"`{shown}` does not exist") from None
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop before Python 3.13
        if "loop" in str(error).lower() or getattr(error, "errno", None) == 40:
            raise SourceError("E212", f"`{shown}` is a symbolic link that points to itself",
                              "remove the link, or point it at a ruleset file") from None
        raise SourceError("E212", f"cannot read `{shown}`: {_reason(error)}") from None
    if not resolved.is_relative_to(root.resolve()):
        raise SourceError(
            "E211", f"`{shown}` is outside the ruleset's folder `{display_path(root)}`",
            "rulesets read files only inside their folder; pass `--root FOLDER` to widen it")
    try:
        info = resolved.stat()
        if stat.S_ISDIR(info.st_mode):
            raise SourceError("E212", f"`{shown}` is a folder, not a ruleset file")
        if not stat.S_ISREG(info.st_mode):
            raise SourceError("E212", f"`{shown}` is not a regular file")
        limit = max_file_bytes()
        with open(resolved, "rb") as file:
            data = file.read(limit + 1)
    except OSError as error:
        raise SourceError("E212", f"cannot read `{shown}`: {_reason(error)}") from None
    if len(data) > limit:
        raise SourceError("E212", f"`{shown}` is larger than {limit:,} bytes",
                          "split it into files that include each other, or raise the limit "
                          "with the environment variable TENET_MAX_FILE_BYTES")
    return resolved, data


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)


def write_atomically(path: Path, text: str, through_links: bool = True) -> None:
    """Write ``text`` as UTF-8 to the file at ``path`` (the file a symbolic link points to;
    without ``through_links``, the link itself is replaced), all or nothing: the text goes to a
    temporary file in the same folder, is flushed to disk, takes the original's mode and owner,
    and then replaces the original in one step. Raises OSError, and the original is then
    intact."""
    target = path.resolve() if through_links else Path(os.path.abspath(path))
    original = target.stat() if target.exists() and not target.is_symlink() else None
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        if original is None:  # a new file: the usual mode for this user
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        else:
            os.chmod(temporary, stat.S_IMODE(original.st_mode))
            written = os.stat(temporary)
            if (written.st_uid, written.st_gid) != (original.st_uid, original.st_gid):
                os.chown(temporary, original.st_uid, original.st_gid)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_folder(target.parent)


def sync_folder(folder: Path | str) -> None:
    """Make the replacement itself durable (where the platform can open a folder)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
