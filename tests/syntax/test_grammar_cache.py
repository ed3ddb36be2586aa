"""The analysed grammar's cache is JSON read from a private folder: a planted file runs no code,
an edited one is rebuilt, and the cached tables parse as the built ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _plant_cache(tmp_path: Path, folder_mode: int) -> tuple[dict, Path]:
    """A genuine grammar cache, then a pickle that would create a marker file put where the
    cache is (and where Lark's own pickle cache used to be), as a restored CI cache could."""
    import pickle

    from lark import __version__ as lark_version

    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    subprocess.run([sys.executable, str(ROOT / "cli.py"), "check",
                    str(ROOT / "rulesets" / "cross_sell.rules")], env=environment,
                   capture_output=True, check=True)
    folder = tmp_path / "cache" / "tenet"
    [cache] = folder.glob("grammar-*.json")
    marker = tmp_path / "pwned"
    for path in (cache, folder / f"grammar-lark-{lark_version}.cache"):
        path.write_bytes(pickle.dumps(_Payload(marker)))
        path.chmod(0o600)
    folder.chmod(folder_mode)
    return environment, marker


def _check_cross_sell(environment: dict) -> subprocess.CompletedProcess:
    """`tenet check` that parses (not the findings' cache), so it needs the grammar."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", "--no-cache",
                           str(ROOT / "rulesets" / "cross_sell.rules")],
                          capture_output=True, text=True, env=environment)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
@pytest.mark.parametrize("folder_mode", [0o700, 0o777], ids=["private", "writable by all"])
def test_a_planted_grammar_cache_never_runs_code(tmp_path: Path, folder_mode: int) -> None:
    """Even a cache file of this user's own, in its private folder, is only read as JSON."""
    environment, marker = _plant_cache(tmp_path, folder_mode)
    process = _check_cross_sell(environment)
    assert process.returncode == 0, process.stderr
    assert not marker.exists()
    assert process.stdout == "✓ 1 file checked, no problems\n"


def test_an_edited_grammar_cache_is_built_again(tmp_path: Path) -> None:
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert _check_cross_sell(environment).returncode == 0
    [cache] = (tmp_path / "cache" / "tenet").glob("grammar-*.json")
    for edited in ('{"data": {}, "memo": {}}', "[1, 2", '{"\\u0000dict": 5}'):
        cache.write_text(edited)
        process = _check_cross_sell(environment)
        assert (process.returncode, process.stderr) == (0, ""), edited
        assert json.loads(cache.read_text())["data"]  # written again, whole


def test_the_cached_grammar_parses_as_the_built_one() -> None:
    from lark import Lark

    from engine.syntax import grammar_cache
    from engine.syntax.grammar import grammar_text

    built = Lark(grammar_text(), parser="lalr", lexer="basic", strict=True,
                 keep_all_tokens=True, maybe_placeholders=True)
    data, memo = built.memo_serialize([grammar_cache.TerminalDef, grammar_cache.Rule])
    stored = grammar_cache._decoded(json.loads(json.dumps(grammar_cache._encoded(
        {"data": data, "memo": memo}))))
    loaded = Lark._load_from_dict(stored["data"], stored["memo"])
    table = lambda lark: lark.parser.parser.parser.parse_table  # noqa: E731
    assert table(loaded).states == table(built).states
    assert [t.name for t in loaded.terminals] == [t.name for t in built.terminals]
    text = (ROOT / "rulesets" / "limit_review.rules").read_text(encoding="utf-8")
    assert [(t.type, t.value) for t in loaded.lex(text)] == \
        [(t.type, t.value) for t in built.lex(text)]


def test_a_genuine_grammar_cache_is_used_without_building_the_tables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lark

    from engine.syntax import grammar_cache
    from engine.syntax.grammar import grammar_text

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    options = dict(parser="lalr", lexer="basic", strict=True, keep_all_tokens=True,
                   maybe_placeholders=True)
    built = grammar_cache.cached_lark(grammar_text(), **options)

    def never(*args, **kwargs):
        raise AssertionError("the tables were built again")

    monkeypatch.setattr(lark.Lark, "__init__", never)
    loaded = grammar_cache.cached_lark(grammar_text(), **options)
    assert [t.name for t in loaded.terminals] == [t.name for t in built.terminals]
