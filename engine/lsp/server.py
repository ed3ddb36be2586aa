"""`tenet lsp`: the language server (pygls, over stdio).

Each document is analysed (checked and indexed, ``engine.lsp.features.analyze``) when it is
opened or saved, and a short while after the typing stops; a request is answered from the
analysis of the document's current version, made then if the debounced one is not ready, so an
answer never comes from older text. Any failure inside a handler is logged to the client and
answered with nothing: a half-typed or hostile file must never stop the server.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

import engine
from engine.lsp import features
from engine.lsp.features import Analysis, Lenses

DEBOUNCE_SECONDS = 0.03  # after the last keystroke, before the check runs
# The cyclic garbage collector runs when the user has stopped typing, not in the middle of a
# check: on a 2,000-line ruleset a collection over two syntax trees adds tens of milliseconds.
IDLE_COLLECT_SECONDS = 2.0
MAX_NEIGHBOURS = 2_000  # rulesets read to rename a name of a shared file


class TenetServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tenet", engine.__version__)
        self.analyses: dict[str, Analysis] = {}
        self.parsed: dict[str, Analysis] = {}  # the last analysis that parsed, for completion
        self.lenses: dict[str, Lenses] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.collection: asyncio.TimerHandle | None = None
        self.published: dict[str, set[str]] = {}  # by document: the files with findings

    def root(self, path: Path) -> Path:
        """Where includes may be read: the workspace's folder when the file is inside it."""
        root = self.workspace.root_path
        if root and path.resolve().is_relative_to(Path(root).resolve()):
            return Path(root).resolve()
        return path.resolve().parent

    def current(self, uri: str) -> Analysis:
        """The analysis of the document's current text, with its includes as the editor holds
        them when they are open."""
        document = self.workspace.get_text_document(uri)
        found = self.analyses.get(uri)
        if found is None or found.version != document.version or found.text != document.source:
            path = Path(document.path)
            found = features.analyze(document.source, path, self.root(path), document.version,
                                     uri, self.unsaved(uri))
            self.analyses[uri] = found
            if found.result.program is not None:
                self.parsed[uri] = found
        return found

    def unsaved(self, uri: str) -> dict[Path, str]:
        """The texts of the other open documents, by resolved path."""
        return {Path(document.path).resolve(): document.source
                for other, document in self.workspace.text_documents.items() if other != uri}

    def includers(self, uri: str) -> list[str]:
        """The other open documents whose last analysis read the document at ``uri``."""
        path = Path(self.workspace.get_text_document(uri).path).resolve()
        return [other for other, analysis in self.analyses.items() if other != uri
                and path in {Path(read).resolve()
                             for read in analysis.result.sources.files.values()}]

    def neighbours(self, uri: str) -> Iterator[Analysis]:
        """The workspace's other rulesets, analysed: open ones as the editor holds them, the
        rest as saved (at most MAX_NEIGHBOURS files)."""
        root = self.workspace.root_path
        if not root:
            return
        this = Path(self.workspace.get_text_document(uri).path).resolve()
        for path in sorted(Path(root).rglob("*.rules"))[:MAX_NEIGHBOURS]:
            if path.resolve() == this:
                continue
            other = path.resolve().as_uri()
            if other in self.workspace.text_documents:
                yield self.current(other)
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            yield features.analyze(text, path, self.root(path))

    def publish(self, uri: str) -> None:
        """The document's diagnostics, and its includes' that have any; an include whose
        findings are gone since the last time is cleared."""
        self.pending.pop(uri, None)
        analysis = self.current(uri)
        found = features.diagnostics(analysis)
        for target in self.published.get(uri, set()) - set(found):
            found[target] = []
        for target, diagnostics in found.items():
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                target, diagnostics, version=analysis.version if target == uri else None))
        self.published[uri] = {target for target, diagnostics in found.items() if diagnostics}
        self.collect_when_idle()

    def collect_when_idle(self) -> None:
        if self.collection is not None:
            self.collection.cancel()
        self.collection = asyncio.get_running_loop().call_later(IDLE_COLLECT_SECONDS, gc.collect)

    def schedule(self, uri: str) -> None:
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.pending[uri] = asyncio.get_running_loop().call_later(
            DEBOUNCE_SECONDS, _guarded(self, "diagnostics", self.publish), uri)


def _guarded(server: TenetServer, what: str, handler, default: Any = None):
    """``handler`` that logs any failure to the client and answers ``default`` instead."""
    @functools.wraps(handler)
    def run(*arguments):
        try:
            return handler(*arguments)
        except Exception as error:  # a bug: it must not take the server down
            server.window_log_message(lsp.LogMessageParams(
                lsp.MessageType.Error, f"tenet: {what} failed: {type(error).__name__}: {error}\n"
                                       + traceback.format_exc(limit=6)))
            return default
    return run


def create_server() -> TenetServer:
    server = TenetServer()

    def feature(method: str, options: Any = None, default: Any = None):
        def register(handler):
            server.feature(method, options)(_guarded(server, method, handler, default))
            return handler
        return register

    @feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        server.lenses.pop(params.text_document.uri, None)
        server.publish(params.text_document.uri)

    @feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        # The open rulesets that include it are checked again with its new text.
        for target in [uri, *server.includers(uri)]:
            server.lenses.pop(target, None)
            if target != uri:
                server.analyses.pop(target, None)
            server.schedule(target)

    @feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
        # Checked afresh: its includes may have changed on disk meanwhile.
        server.analyses.pop(params.text_document.uri, None)
        server.publish(params.text_document.uri)

    @feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        for target in server.published.pop(uri, set()) - {uri}:
            server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(target, []))
        for table in (server.analyses, server.parsed, server.lenses):
            table.pop(uri, None)
        waiting = server.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))

    @feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(params: lsp.HoverParams) -> lsp.Hover | None:
        return features.hover(server.current(params.text_document.uri), params.position)

    @feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(params: lsp.DefinitionParams) -> lsp.Location | None:
        return features.definition(server.current(params.text_document.uri), params.position)

    @feature(lsp.TEXT_DOCUMENT_REFERENCES, default=[])
    def references(params: lsp.ReferenceParams) -> list[lsp.Location]:
        return features.references(server.current(params.text_document.uri), params.position,
                                   params.context.include_declaration)

    @feature(lsp.TEXT_DOCUMENT_COMPLETION,
             lsp.CompletionOptions(trigger_characters=[".", '"', " "]), default=[])
    def completion(params: lsp.CompletionParams) -> list[lsp.CompletionItem]:
        uri = params.text_document.uri
        return features.completion(server.current(uri), params.position, server.parsed.get(uri))

    @feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        return features.formatting(server.current(params.text_document.uri))

    @feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, default=[])
    def symbols(params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
        return features.document_symbols(server.current(params.text_document.uri))

    @feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(params: lsp.PrepareRenameParams) -> lsp.Range | None:
        return features.prepare_rename(server.current(params.text_document.uri),
                                       params.position)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        # Not guarded: a name that cannot be one is the user's error, answered as such.
        uri = params.text_document.uri
        return features.rename(server.current(uri), params.position, params.new_name,
                               lambda: server.neighbours(uri))

    @feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
             lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]), default=[])
    def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        return features.quick_fixes(server.current(uri), uri, params.context.diagnostics)

    @feature(lsp.TEXT_DOCUMENT_CODE_LENS, default=[])
    def code_lens(params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        uri = params.text_document.uri
        return features.code_lenses(server.current(uri), server.lenses.setdefault(uri, Lenses()))

    @server.command("tenet.runExamples")
    def run_examples(uri: str) -> str:
        outcome = _guarded(server, "run examples", features.run_examples,
                           "✗ internal error")(server.current(uri))
        server.lenses.setdefault(uri, Lenses()).examples = outcome
        _refresh_lenses(server)
        return outcome

    @server.command("tenet.verifyProperty")
    def verify_property(uri: str, name: str) -> str:
        outcome = _guarded(server, "verify", features.verify_property,
                           "✗ internal error")(server.current(uri), name)
        server.lenses.setdefault(uri, Lenses()).properties[name] = outcome
        _refresh_lenses(server)
        return outcome

    return server


def _refresh_lenses(server: TenetServer) -> None:
    capabilities = server.client_capabilities.workspace
    lenses = capabilities.code_lens if capabilities is not None else None
    if lenses is not None and lenses.refresh_support:
        server.workspace_code_lens_refresh(None)


def serve() -> None:
    """Serve over stdin and stdout until the client says exit."""
    gc.disable()  # collected when idle (IDLE_COLLECT_SECONDS)
    create_server().start_io()
