"""The house as built: every dotted name the docs mention imports, pyproject.toml ships every
package, the check cache fingerprints every engine file, and the installed wheel (not this
checkout) runs `tenet check`, `tenet run` and `tenet batch`."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from engine.check import cache
from engine.syntax.grammar import grammar_text
from tests.helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _dotted_names() -> set[str]:
    names = set()
    for page in DOCS:
        for name in re.findall(r"`(engine(?:\.[A-Za-z_]\w*)+)", page.read_text(encoding="utf-8")):
            names.add(name)
    return names


def _resolve(dotted: str) -> object:
    """The module or attribute a dotted name means: the longest importable module, then
    attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


def test_every_dotted_name_in_the_docs_imports() -> None:
    names = _dotted_names()
    assert {"engine.load", "engine.portfolio.run_batch", "engine.portfolio.diff.diff_books",
            "engine.spark.decide", "engine.report.diff"} <= names
    for name in sorted(names):
        _resolve(name)


def test_pyproject_ships_every_package_of_engine() -> None:
    configured = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for init in (ROOT / "engine").rglob("__init__.py")}
    assert set(configured["packages"]) == found | {"engine.grammar"}
    assert configured["package-dir"] == {"engine.grammar": "grammar"}


def test_the_check_cache_fingerprints_every_engine_file_and_the_grammar(
        monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[Path] = []
    original = Path.read_bytes

    def recording(path: Path) -> bytes:
        read.append(path)
        return original(path)

    cache.fingerprint.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", recording)
    cache.fingerprint()
    cache.fingerprint.cache_clear()
    engine_files = {path.resolve() for path in (ROOT / "engine").rglob("*.py")}
    assert engine_files <= {path.resolve() for path in read}
    assert (ROOT / "grammar" / "tenet.lark").resolve() in {path.resolve() for path in read}
    assert grammar_text() == (ROOT / "grammar" / "tenet.lark").read_text(encoding="utf-8")


def test_the_installed_wheel_runs_check_run_and_batch(tmp_path: Path) -> None:
    """Built and installed as a user would (not editable); the packages it needs come from
    this environment, the engine only from the wheel."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True, timeout=600)
    [wheel] = wheels.glob("tenet-*.whl")
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True)
    python = fresh / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", site, str(wheel)], check=True, capture_output=True, timeout=600)
    # This environment's packages, after the wheel's: its editable Tenet is not activated
    # (a path listed in a .pth file has its own .pth files ignored).
    Path(site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    tenet = [str(python), "-m", "cli"]
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*tenet, *args], cwd=tmp_path, env=environment,
                              capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(python), "-c", "import engine; print(engine.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(site)
    rulesets = ROOT / "rulesets"
    checked = run("check", str(rulesets))
    assert (checked.returncode, checked.stdout) == (0, "✓ 4 files checked, no problems\n"), \
        checked.stderr
    decided = run("run", str(rulesets / "limit_review.rules"), "--facts",
                  str(rulesets / "facts" / "limit_review_strong_payer.json"), "--as-of",
                  "2026-12-15", "--format", "json", "--no-trace")
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["decision"] == {"action": "increase", "new_limit": 200000}
    batch = run("batch", str(rulesets / "limit_review.rules"), "--facts",
                str(rulesets / "facts" / "book.csv"), "--out", str(tmp_path / "out.jsonl"),
                "--as-of", "2026-12-15", "--jobs", "2", "--quiet")
    assert batch.returncode == 0, batch.stderr
    assert batch.stderr.startswith("Portfolio 1,000 rows: 1,000 decided")


def test_one_version_a_short_repr_and_one_base_for_every_public_error() -> None:
    import engine

    assert engine.__version__ == tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"]["version"]
    ruleset = engine.load(ROOT / "rulesets" / "limit_review.rules")
    assert repr(ruleset) == ("Ruleset(name='limit_review', version='2026.12.1', "
                             f"digest='{ruleset.info.digest[:19]}…')")
    for name in ("DecisionConflict", "FactsError", "OutsideWindow", "RulesetError",
                 "UnknownRule"):
        assert issubclass(getattr(engine, name), engine.TenetError), name
    from engine.exceptions import BookError, FactsJsonError, SparkUnavailable
    from engine.portfolio.destinations import DestinationError
    from engine.portfolio.formats import FormatError

    for error in (BookError, FactsJsonError, SparkUnavailable, DestinationError, FormatError):
        assert issubclass(error, engine.TenetError), error
    assert issubclass(FormatError, ValueError) and issubclass(engine.UnknownRule, ValueError)
