"""The analysed grammar kept between runs, as JSON: building Lark's LALR tables takes about half
a second, which every `tenet` command would pay.

Lark's own cache is a pickle: whoever can write it (a CI cache restored from a pull request, a
shared cache folder, a backup put back) can run code in every later `tenet`. This cache holds
Lark's serialised tables as plain JSON, which loading can only read, never run; tuples and
dictionaries with non-text keys are tagged so that they come back as Lark wrote them. It lives
in Tenet's private cache folder, is used only when that file is this user's and nobody else can
write it, and is keyed by the grammar's text, Lark's version and the options. Anything wrong
with it means building the tables again, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from lark import Lark
from lark import __version__ as lark_version
from lark.grammar import Rule
from lark.lexer import TerminalDef

from engine.syntax.source import is_private, private_cache_folder

_DICT, _TUPLE = "\0dict", "\0tuple"  # tags no key of Lark's data starts with


def cached_lark(grammar: str, **options: Any) -> Lark:
    """``Lark(grammar, **options)`` (LALR), from the cache when it holds these tables."""
    path = _cache_path(grammar, options)
    if path is not None:
        # Whatever a broken or edited file makes Lark raise, the tables are built again.
        with contextlib.suppress(Exception):
            if is_private(path, directory=False):
                stored = _decoded(json.loads(path.read_text(encoding="utf-8")))
                return Lark.load(stored)  # Lark's own loader takes the dict as it is
    lark = Lark(grammar, **options)
    if path is not None:
        _store(path, lark)
    return lark


def _cache_path(grammar: str, options: dict[str, Any]) -> Path | None:
    folder = private_cache_folder()
    if folder is None:
        return None
    key = hashlib.sha256(json.dumps([grammar, lark_version, sorted(options.items())])
                         .encode()).hexdigest()[:32]
    return folder / f"grammar-{key}.json"


def _store(path: Path, lark: Lark) -> None:
    data, memo = lark.memo_serialize([TerminalDef, Rule])
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    with contextlib.suppress(OSError, TypeError, ValueError):
        temporary.write_text(json.dumps(_encoded({"data": data, "memo": memo})),
                             encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    with contextlib.suppress(OSError):
        temporary.unlink()


def _encoded(value: Any) -> Any:
    if isinstance(value, dict):
        if all(type(key) is str for key in value):
            return {key: _encoded(item) for key, item in value.items()}
        return {_DICT: [[_encoded(key), _encoded(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_encoded(item) for item in value]}
    if isinstance(value, list):
        return [_encoded(item) for item in value]
    if value is None or type(value) in (str, int, bool):
        return value
    raise TypeError(f"Lark's tables hold a {type(value).__name__}, which JSON cannot keep")


def _decoded(value: Any) -> Any:
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    if isinstance(value, dict):
        if _DICT in value:
            return {_decoded(key): _decoded(item) for key, item in value[_DICT]}
        if _TUPLE in value:
            return tuple(_decoded(item) for item in value[_TUPLE])
        return {key: _decoded(item) for key, item in value.items()}
    return value
