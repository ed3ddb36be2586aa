"""Where `tenet batch` writes: clashing or unwritable paths are usage errors before anything is
read, on both engines; the outputs of a run are committed together, OUT last; files get the
user's usual mode; nothing is left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from engine.portfolio import BatchOptions, run_batch
from engine.portfolio import destinations as d
from tests.helpers import ENGINES, FIXTURES

RULES = FIXTURES / "hostile_books" / "book.rules"
BOOK = ('{"c": {"id": "a", "limit": 5, "segment": "retail"}}\n'
        '{"c": {"id": "b", "limit": 6, "segment": "nope"}}\n')


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["batch", str(RULES), "--as-of", "2026-12-15", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.jsonl"
    path.write_text(BOOK, encoding="utf-8")
    return path


def clashes(tmp: Path, book: Path, engine: str) -> dict[str, tuple[list[str], str]]:
    """Options naming one file twice, and what the error says."""
    out = tmp / ("out.parquet" if engine == "spark" else "out.jsonl")
    (tmp / "link.jsonl").symlink_to(book)
    os.link(book, tmp / "hard.jsonl")
    default_errors = tmp / ("out.errors.parquet" if engine == "spark" else "out.errors.jsonl")
    return {
        "out is errors": (["--out", str(out), "--errors", str(out)],
                          "OUT (--out) and the errors (--errors) are the same file"),
        "summary is out": (["--out", str(out), "--summary", str(out)],
                           "OUT (--out) and the summary (--summary) are the same file"),
        "summary is the default errors": (
            ["--out", str(out), "--summary", str(default_errors)],
            "the errors (--errors) and the summary (--summary) are the same file"),
        "summary is the book through a link": (
            ["--out", str(out), "--summary", str(tmp / "link.jsonl")],
            "the book (--facts) and the summary (--summary) are the same file through a link"),
        "errors is the book through a hard link": (
            ["--out", str(out), "--errors", str(tmp / "hard.jsonl")],
            "the book (--facts) and the errors (--errors) are the same file (a hard link)"),
    }


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", ["out is errors", "summary is out",
                                  "summary is the default errors",
                                  "summary is the book through a link",
                                  "errors is the book through a hard link"])
def test_two_roles_naming_one_file_is_a_usage_error_before_anything_is_read(
        engine: str, case: str, tmp_path: Path, book: Path, request: Any) -> None:
    if engine == "spark":
        request.getfixturevalue("spark")
    options, message = clashes(tmp_path, book, engine)[case]
    before = sorted(os.listdir(tmp_path))
    code, output = invoke("--facts", str(book), "--engine", engine, *options)
    assert code == 2
    assert output.startswith(f"error: {message}"), output
    assert sorted(os.listdir(tmp_path)) == before
    assert book.read_text(encoding="utf-8") == BOOK


@pytest.mark.parametrize("engine", ENGINES)
def test_unwritable_destinations_are_refused_before_anything_is_written(
        engine: str, tmp_path: Path, book: Path, request: Any) -> None:
    if engine == "spark":
        request.getfixturevalue("spark")
    out = str(tmp_path / ("out.parquet" if engine == "spark" else "out.jsonl"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    (tmp_path / "folder.json").mkdir()
    cases = {
        "--summary": (["--summary", str(tmp_path / "no" / "such" / "summary.json")],
                      f"the summary (--summary): {tmp_path}/no/such/summary.json: there is no "
                      f"folder {tmp_path}/no/such"),
        "--summary folder": (["--summary", str(tmp_path / "folder.json")],
                             f"Invalid value for '--summary': File '{tmp_path}/folder.json' is "
                             "a directory"),
    }
    if os.geteuid() != 0:  # root may write anywhere
        cases["locked"] = (["--summary", str(locked / "s.json")],
                           f"this user cannot write in {locked}")
    if engine == "local":
        cases["--errors folder"] = (["--errors", str(tmp_path / "folder.json")],
                                    f"the errors (--errors): {tmp_path}/folder.json is a folder")
    for name, (options, message) in cases.items():
        before = sorted(os.listdir(tmp_path))
        code, output = invoke("--facts", str(book), "--out", out, "--engine", engine, *options)
        assert (code, message in output) == (2, True), (name, output)
        assert "Traceback" not in output
        assert sorted(os.listdir(tmp_path)) == before, name


def test_outputs_replace_the_previous_run_together_with_the_usual_mode(
        tmp_path: Path, book: Path) -> None:
    out, errors, summary = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl", \
        tmp_path / "summary.json"
    previous = os.umask(0o027)
    try:
        code, _ = invoke("--facts", str(book), "--out", str(out), "--summary", str(summary),
                         "--jobs", "1")
    finally:
        os.umask(previous)
    assert code == 1
    for path in (out, errors, summary):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert [name for name in os.listdir(tmp_path) if name.endswith(".partial")] == []
    assert '"errors": 1' in summary.read_text()


def test_a_run_stopped_while_committing_leaves_no_out_beside_other_errors(
        tmp_path: Path, book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OUT's presence marks a finished run: the previous OUT is removed before the errors file
    is replaced, and the new OUT comes last."""
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    out.write_text("the previous run's decisions\n")
    errors.write_text("")  # the previous run: no errors
    original = d.AtomicFile.commit

    def stop_at_out(self: d.AtomicFile) -> None:
        if self.path == str(out):
            raise KeyboardInterrupt  # killed between the renames
        original(self)

    monkeypatch.setattr(d.AtomicFile, "commit", stop_at_out)
    with pytest.raises(KeyboardInterrupt):
        run_batch(RULES, book, BatchOptions(out=str(out), as_of=None, jobs=1))
    assert not out.exists()
    assert errors.read_text().startswith('{"row":2,')
    assert sorted(os.listdir(tmp_path)) == ["book.jsonl", "out.errors.jsonl"]


def test_summary_replaces_a_symbolic_link_instead_of_writing_through_it(
        tmp_path: Path, book: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me")
    (tmp_path / "summary.json").symlink_to(elsewhere)
    code, _ = invoke("--facts", str(book), "--out", str(tmp_path / "out.jsonl"), "--summary",
                     str(tmp_path / "summary.json"), "--jobs", "1")
    assert code == 1
    assert elsewhere.read_text() == "keep me"
    assert not (tmp_path / "summary.json").is_symlink()
    assert '"rows": 2' in (tmp_path / "summary.json").read_text()


FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tx", "\rx"]


@pytest.mark.parametrize("raw", [False, True], ids=["neutralised", "--csv-formulas"])
def test_csv_text_cells_that_spreadsheets_would_run_get_a_quote(raw: bool,
                                                                 tmp_path: Path) -> None:
    import csv
    import json

    book = tmp_path / "book.jsonl"
    rows = [{"c": {"id": text, "limit": -1 if index == 0 else 3, "segment": "retail",
                   "note": text}} for index, text in enumerate(FORMULAS)]
    book.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _ = invoke("--facts", str(book), "--out", str(out), "--id", "c.id", "--jobs", "1",
                     *(["--csv-formulas"] if raw else []))
    assert code == 0
    with open(out, newline="", encoding="utf-8") as file:
        cells = [(row["id"], row["note"], row["kept_limit"]) for row in csv.DictReader(file)]
    quote = "" if raw else "'"
    assert cells == [(quote + text, quote + text, "0" if index == 0 else "3")
                     for index, text in enumerate(FORMULAS)]


def _big_book(path: Path, rows: int) -> None:
    line = '{"c": {"id": "r", "limit": 12.5, "segment": "retail", "note": "a note"}}\n'
    path.write_text(line * rows, encoding="utf-8")


def _start(tmp_path: Path, *extra: str) -> Any:
    import subprocess
    import sys

    from tests.helpers import ROOT

    book = tmp_path / "book.jsonl"
    _big_book(book, 300_000)
    # Output to a file beside the folder: a worker holding a pipe open would keep a reader
    # waiting after its parent died.
    log = open(tmp_path.parent / f"{tmp_path.name}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "batch", str(RULES), "--facts", str(book),
         "--out", str(tmp_path / "out.csv"), "--as-of", "2026-12-15", "--quiet", *extra],
        stdout=log, stderr=log, text=True)


def _output(tmp_path: Path) -> str:
    return (tmp_path.parent / f"{tmp_path.name}.log").read_text()


def _wait_for_partial(tmp_path: Path, process: Any) -> None:
    import time

    for _ in range(600):  # until the run is writing (or gone)
        if any(name.endswith(".partial") for name in os.listdir(tmp_path)) or \
                process.poll() is not None:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("stop, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_stopped_run_exits_with_the_shells_status_and_leaves_no_files(
        stop: str, status: int, tmp_path: Path) -> None:
    import signal

    process = _start(tmp_path, "--jobs", "2")
    _wait_for_partial(tmp_path, process)
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(getattr(signal, stop))
    process.wait(timeout=120)
    stderr = _output(tmp_path)
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert sorted(os.listdir(tmp_path)) == ["book.jsonl"]


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    process = _start(tmp_path, "--jobs", "2")
    _wait_for_partial(tmp_path, process)
    for _ in range(600):  # until both workers run
        workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                 text=True).stdout.split()
        if len(workers) == 2 or process.poll() is not None:
            break
        time.sleep(0.05)
    assert len(workers) == 2, "no worker processes"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    for _ in range(200):
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
                 and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]]
        if not alive:
            break
        time.sleep(0.05)
    assert alive == []


def test_with_out_on_standard_output_the_summary_says_where_the_errors_go(
        tmp_path: Path, book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["batch", str(RULES), "--facts", str(book), "--out", "-",
                                       "--as-of", "2026-12-15", "--jobs", "1", "--quiet"])
    assert result.exit_code == 1
    assert "1 errors → tenet-batch.errors.jsonl" in result.stderr
    assert (tmp_path / "tenet-batch.errors.jsonl").read_text().startswith('{"row":2,')


def test_on_spark_a_failed_errors_write_leaves_no_out_beside_old_errors(
        spark: Any, tmp_path: Path, book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyspark.sql import DataFrameWriter

    from engine import spark as tenet_spark

    out, errors = tmp_path / "out", tmp_path / "errors"
    tenet_spark.run_files(str(RULES), str(book), str(out), str(errors), None, None)
    assert (out / "_SUCCESS").exists() and (errors / "_SUCCESS").exists()
    write = DataFrameWriter.parquet

    def failing(self: Any, path: str, *args: Any, **kwargs: Any) -> None:
        if path == str(errors):
            raise OSError("No space left on device")
        write(self, path, *args, **kwargs)

    monkeypatch.setattr(DataFrameWriter, "parquet", failing)
    with pytest.raises(OSError):
        tenet_spark.run_files(str(RULES), str(book), str(out), str(errors), None, None)
    assert not out.exists()  # no new decisions beside the previous run's errors
