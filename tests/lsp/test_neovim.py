"""A real editor as the client: Neovim (headless, its built-in LSP client) opens a ruleset with
a mistake, receives the diagnostic from `tenet lsp`, asks for the quick fix and applies it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.lsp.workspace import MAIN, make_workspace

CLIENT = Path(__file__).with_name("neovim_client.lua")


def _lua_text(value: str) -> str:
    return json.dumps(value)  # a JSON string is a Lua string here: no control characters


def test_neovim_receives_the_diagnostic_and_applies_the_quick_fix(tmp_path: Path) -> None:
    if shutil.which("nvim") is None:
        if os.environ.get("TENET_REQUIRE_TOOLS"):  # CI: .ci/run installs it
            pytest.fail("nvim is not installed")
        pytest.skip("Neovim is not installed (Debian: apt-get install neovim)")
    folder = make_workspace(tmp_path / "workspace")
    ruleset = folder / "main.rules"
    ruleset.write_text(MAIN.replace("customer.segment =", "customer.segmnt ="), encoding="utf-8")
    report = tmp_path / "report.json"
    server = "{" + ", ".join(_lua_text(part) for part in (
        sys.executable, str(ROOT / "cli.py"), "lsp")) + "}"
    setup = (f"lua _G.tenet_server = {server}; _G.tenet_root = {_lua_text(str(folder))}; "
             f"_G.tenet_report = {_lua_text(str(report))}")
    done = subprocess.run(
        ["nvim", "--headless", "--clean", "-n", "-c", setup, "-c", f"luafile {CLIENT}",
         str(ruleset)], cwd=folder, capture_output=True, text=True, timeout=120,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)})
    assert report.exists(), done.stderr
    outcome = json.loads(report.read_text(encoding="utf-8"))
    assert outcome.get("error") is None, outcome
    assert outcome["diagnostics"] == [{
        "code": "E302", "line": 32, "column": 35,
        "message": "`customer` has no field `segmnt`\nhelp: did you mean `segment`?"}]
    assert outcome["actions"] == ["Replace with `segment`"] and outcome["applied"]
    assert ruleset.read_text(encoding="utf-8") == MAIN
