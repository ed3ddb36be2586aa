"""Where a portfolio run writes: checked before anything is read, committed as one unit.

A run names up to four paths: the book it reads, OUT, the errors file and the summary. Two of
them being one file (by name, through a symbolic link or a hard link, or through the default
errors name) would let one output overwrite the book or another output, so it is a usage error
before anything is read; so is a destination that cannot be written (no such folder, a folder
where a file is wanted, no permission).

The outputs are written to temporary files beside their destinations and committed together
(``commit_together``): each is flushed to disk, the previous OUT is removed, the errors file
and the summary are renamed into place, and OUT last. OUT's presence thus marks a finished run:
when OUT exists, the errors file and summary beside it are from the same run. A run stopped
before the commit leaves the previous outputs as they were; one stopped during it leaves no OUT.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from engine.exceptions import BookError
from engine.syntax.source import sync_folder


class DestinationError(BookError):
    """A usage error about where a run reads or writes."""


BOOK, OUT, ERRORS, SUMMARY = ("the book (--facts)", "OUT (--out)", "the errors (--errors)",
                              "the summary (--summary)")


def check_destinations(book: str | None, out: str, errors: str, summary: str | None,
                       folders: bool = False) -> None:
    """Refuse clashing paths and destinations that cannot be written. With ``folders`` (Spark)
    OUT and the errors are folders: none may lie inside another path of the run either."""
    named = [(role, path) for role, path in ((BOOK, book), (OUT, out), (ERRORS, errors),
                                             (SUMMARY, summary))
             if path is not None and path != "-" and "://" not in path]
    for index, (role, path) in enumerate(named):
        for other_role, other in named[:index]:
            clash = _clash(other, path, folders)
            if clash:
                raise DestinationError(f"{other_role} and {role} {clash} ({other}, {path}): the "
                                       "run would overwrite one with the other; name another "
                                       "path")
    for role, path in named:
        if role != BOOK:
            _check_writable(role, path, folder=folders and role != SUMMARY)


def _clash(first: str, second: str, folders: bool) -> str | None:
    """How two paths are one file, or None."""
    one, two = os.path.realpath(first), os.path.realpath(second)
    if one == two:
        return "are the same file" if first == second else "are the same file through a link"
    with contextlib.suppress(OSError):
        a, b = os.stat(one), os.stat(two)
        if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
            return "are the same file (a hard link)"
    if folders and (two.startswith(one + os.sep) or one.startswith(two + os.sep)):
        return "lie one inside the other"
    return None


def _check_writable(role: str, path: str, folder: bool) -> None:
    target = Path(path)
    if target.is_dir() and not folder:
        raise DestinationError(f"{role}: {path} is a folder; name a file")
    parent = Path(os.path.abspath(path)).parent
    if not parent.is_dir():
        raise DestinationError(f"{role}: {path}: there is no folder {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DestinationError(f"{role}: {path}: this user cannot write in {parent}")


class AtomicFile:
    """A file that appears at ``path`` complete, or not at all (``path`` `-` is standard
    output, written as it comes). A symbolic link at ``path`` is replaced, never written
    through. The file gets the mode a new file of this user gets (the umask's)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.temporary: str | None = None
        if path == "-":
            return
        target = Path(path)
        descriptor, self.temporary = tempfile.mkstemp(
            dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.",
            suffix=".partial")
        os.close(descriptor)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temporary, 0o666 & ~umask)

    def sync(self) -> None:
        """Flush the written temporary file to disk, so a crash after the rename cannot leave
        a renamed but empty file."""
        if self.temporary is not None:
            descriptor = os.open(self.temporary, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def commit(self) -> None:
        if self.temporary is not None:
            os.replace(self.temporary, self.path)
            self.temporary = None

    def discard(self) -> None:
        if self.temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temporary)
            self.temporary = None


def commit_together(out: AtomicFile, others: Sequence[AtomicFile]) -> None:
    """Put a run's outputs in place, OUT last (see the module's doc); on an error, every file
    not yet committed is discarded."""
    files = [*others, out]
    try:
        for file in files:
            file.sync()
        if out.temporary is not None and os.path.lexists(out.path):
            os.unlink(out.path)
        for file in files:
            file.commit()
    finally:
        for file in files:
            file.discard()
    for folder in {os.path.dirname(os.path.abspath(f.path)) for f in files if f.path != "-"}:
        sync_folder(folder)

