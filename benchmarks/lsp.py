"""How quickly `tenet lsp` answers an editor (targets from issue 23), on a generated ruleset of
about 2,000 lines: diagnostics published within 150 ms (p95) of a change, completion and hover
within 50 ms (p95); and the server's memory under 150 MB with the repository's rulesets open.

The client is pygls' own, talking to the real server process over stdio, as an editor does. A
change's time runs from sending it to receiving the diagnostics of that version (the server
waits DEBOUNCE_SECONDS after the last change before checking: that wait is included).

    python benchmarks/lsp.py [--rules N] [--changes K] [--requests K]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import BaseLanguageClient  # noqa: E402

from benchmarks.generate import generate_ruleset  # noqa: E402
from benchmarks.timing import percentile  # noqa: E402


async def measure(rules: int, changes: int, requests: int) -> None:
    arrived: dict[tuple[str, int | None], float] = {}
    client = BaseLanguageClient("tenet-benchmark", "1")

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        arrived[(params.uri, params.version)] = time.perf_counter()

    with tempfile.TemporaryDirectory() as folder:
        text = generate_ruleset(rules)
        path = Path(folder) / "big.rules"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        await client.start_io(sys.executable, str(ROOT / "cli.py"), "lsp")
        await client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), root_uri=Path(folder).as_uri()))
        client.initialized(lsp.InitializedParams())
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="tenet", version=1, text=text)))
        while (uri, 1) not in arrived:
            await asyncio.sleep(0.005)
        print(f"a generated ruleset of {rules} rules, {len(text.splitlines()):,} lines")

        delays = []
        for version in range(2, changes + 2):
            text = text + f"# edit {version}\n"
            sent = time.perf_counter()
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [lsp.TextDocumentContentChangeWholeDocument(text)]))
            while (uri, version) not in arrived:
                await asyncio.sleep(0.001)
            delays.append(arrived[(uri, version)] - sent)
        print(f"  diagnostics after a change: median {statistics.median(delays) * 1e3:.0f} ms, "
              f"p95 {percentile(delays, 0.95) * 1e3:.0f} ms (target < 150 ms)")

        lines = text.split("\n")
        where = next(i for i, line in enumerate(lines) if "customer." in line)
        column = lines[where].index("customer.") + len("customer.")
        document = lsp.TextDocumentIdentifier(uri)
        for label, ask in (
                ("completion after `customer.`", lambda: client.text_document_completion_async(
                    lsp.CompletionParams(document, lsp.Position(where, column)))),
                ("hover on a field", lambda: client.text_document_hover_async(
                    lsp.HoverParams(document, lsp.Position(where, column + 1))))):
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                await ask()
                times.append(time.perf_counter() - started)
            print(f"  {label}: median {statistics.median(times) * 1e3:.1f} ms, "
                  f"p95 {percentile(times, 0.95) * 1e3:.1f} ms (target < 50 ms)")

        for ruleset in sorted((ROOT / "rulesets").rglob("*.rules")):
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
                uri=ruleset.as_uri(), language_id="tenet", version=1,
                text=ruleset.read_text(encoding="utf-8"))))
            while (ruleset.as_uri(), 1) not in arrived:
                await asyncio.sleep(0.005)
        server = _server_pid()
        busy = _resident(server)
        await asyncio.sleep(3)  # the server collects its garbage once the typing stops
        print(f"  memory with the repository's rulesets and the big one open: "
              f"{_resident(server):.0f} MB at rest, {busy:.0f} MB right after "
              "the edits (target < 150 MB)")
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def _server_pid() -> int:
    """The language server: this process's child (Linux: /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == os.getpid():
            return int(stat.parent.name)
    raise RuntimeError("the language server process was not found")


def _resident(pid: int) -> float:
    """A process's resident memory, in MB (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmRSS:")) / 1024


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rules", type=int, default=210)
    options.add_argument("--changes", type=int, default=40)
    options.add_argument("--requests", type=int, default=200)
    arguments = options.parse_args()
    asyncio.run(measure(arguments.rules, arguments.changes, arguments.requests))


if __name__ == "__main__":
    main()
