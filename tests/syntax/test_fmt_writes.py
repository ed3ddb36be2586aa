"""`tenet fmt` writes atomically: mode and symbolic links kept, a failed write leaves the
original, and no layout that reads back differently is ever written."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import pytest

from tests.helpers import invoke

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
