"""`tenet lsp` end to end: the real server process, driven by pytest-lsp's client over stdio, as
an editor drives it. Every feature is asked for once here; the answers themselves are held
exactly in test_features.py."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.helpers import ROOT
from tests.lsp.workspace import MAIN, make_workspace, position_of_text

pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, str(ROOT / "cli.py"), "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    folder = make_workspace(tmp_path)
    lsp_client.lens_refreshes = 0

    @lsp_client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params: None) -> None:  # the server asks the editor to show new lens titles
        lsp_client.lens_refreshes += 1

    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=folder.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(folder.as_uri(), "workspace")]))
    lsp_client.folder = folder
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, text: str, name: str = "main.rules") -> str:
    uri = (client.folder / name).as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="tenet", version=1, text=text)))
    return uri


async def _diagnostics(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    await asyncio.wait_for(client.wait_for_notification(
        lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30)
    while uri not in client.diagnostics:
        await asyncio.wait_for(client.wait_for_notification(
            lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30)
    return list(client.diagnostics[uri])


def _at(needle: str, offset: int = 0, text: str = MAIN) -> lsp.Position:
    return lsp.Position(*position_of_text(text, needle, 0, offset))


async def test_a_mistake_is_reported_as_you_type_and_its_quick_fix_applies(
        client: LanguageClient) -> None:
    uri = _open(client, MAIN)
    assert await _diagnostics(client, uri) == []
    typo = MAIN.replace("customer.segment =", "customer.segmnt =")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [lsp.TextDocumentContentChangeWholeDocument(typo)]))
    found = await _diagnostics(client, uri)
    while not found:
        found = await _diagnostics(client, uri)
    assert [(d.code, d.message, d.range.start.line, d.range.start.character) for d in found] == [
        ("E302", "`customer` has no field `segmnt`\nhelp: did you mean `segment`?", 32, 35)]
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        lsp.TextDocumentIdentifier(uri), found[0].range, lsp.CodeActionContext(found)))
    assert [a.title for a in actions] == ["Replace with `segment`"]
    assert list(actions[0].edit.changes[uri]) == [lsp.TextEdit(found[0].range, "segment")]


async def test_hover_definition_references_and_rename(client: LanguageClient) -> None:
    uri = _open(client, MAIN)
    document = lsp.TextDocumentIdentifier(uri)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        document, _at("customer.balance", 10)))
    assert hover.contents.value.startswith("**balance**: money")
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        document, _at("l.drawn_amount", 3)))
    assert found.uri.endswith("/parts/shared.rules") and found.range.start.line == 1
    used = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=document, position=_at("let drawn", 5),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert [r.range.start.line for r in used] == [22, 25, 32, 47]
    edit = await client.text_document_rename_async(lsp.RenameParams(
        document, _at("let drawn", 5), "exposure"))
    assert [e.range.start.line for e in edit.changes[uri]] == [22, 25, 32, 47]
    shared = await client.text_document_rename_async(lsp.RenameParams(
        document, _at("list of loan", 9), "credit_line"))
    assert sorted(Path(uri).name for uri in shared.changes) == [
        "main.rules", "other.rules", "shared.rules"]
    with pytest.raises(Exception, match="cannot be a name"):
        await client.text_document_rename_async(lsp.RenameParams(
            document, _at("let drawn", 5), "when"))


async def test_completion_symbols_and_formatting(client: LanguageClient) -> None:
    uri = _open(client, MAIN)
    document = lsp.TextDocumentIdentifier(uri)
    items = await client.text_document_completion_async(lsp.CompletionParams(
        document, _at("customer.balance +", 9)))
    labels = [i.label for i in (items.items if isinstance(items, lsp.CompletionList) else items)]
    assert labels == ["balance", "segment", "loans"]
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(document))
    assert [s.name for s in symbols] == ["customer", "action", "raise_by", "drawn", "HIGH", "LOW",
                                         "small", "P1"]
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        document, lsp.FormattingOptions(2, True)))
    assert list(edits) == []


async def test_lenses_run_examples_and_verify(client: LanguageClient) -> None:
    uri = _open(client, MAIN)
    document = lsp.TextDocumentIdentifier(uri)
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(document))
    assert [lens.command.title for lens in lenses] == ["▶ Run examples", "▶ Verify"]
    for lens in lenses:
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            lens.command.command, lens.command.arguments))
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(document))
    assert [lens.command.title for lens in lenses] == ["✓ 1 example passed", "✓ proved"]
    assert client.lens_refreshes == 2


async def test_hostile_text_never_stops_the_server_and_answers_follow_the_latest_version(
        client: LanguageClient) -> None:
    uri = _open(client, "\x00\ufeff rule (((( 𝄞 " * 2_000 + "\n" + "end\n" * 5_000)
    await _diagnostics(client, uri)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [lsp.TextDocumentContentChangeWholeDocument(MAIN)]))
    # At once, before the debounced check: the answer comes from version 2's text.
    hover = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri), _at("rule HIGH", 6)))
    assert hover.contents.value.startswith("**rule HIGH**")
    assert all(m.type != lsp.MessageType.Error for m in client.log_messages)


async def test_an_includes_findings_are_shown_on_it_and_cleared_once_mended(
        client: LanguageClient) -> None:
    shared = client.folder / "parts" / "shared.rules"
    good = shared.read_text(encoding="utf-8")
    shared.write_text(good.replace("drawn_amount: money", "drawn_amount money"),
                      encoding="utf-8")
    uri = _open(client, MAIN)
    await _diagnostics(client, uri)
    while not client.diagnostics.get(shared.as_uri()):
        await asyncio.wait_for(client.wait_for_notification(
            lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30)
    assert [d.code for d in client.diagnostics[shared.as_uri()]] == ["E101"]
    shared.write_text(good, encoding="utf-8")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    while client.diagnostics.get(shared.as_uri()):
        await asyncio.wait_for(client.wait_for_notification(
            lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30)
    assert list(client.diagnostics[shared.as_uri()]) == []


async def test_an_include_being_edited_is_read_as_the_editor_holds_it(
        client: LanguageClient) -> None:
    """Renaming a field in the open, unsaved include: the ruleset that uses it is checked
    again with the include's new text, not the saved one."""
    uri = _open(client, MAIN)
    assert await _diagnostics(client, uri) == []
    shared_path = client.folder / "parts" / "shared.rules"
    shared = _open(client, shared_path.read_text(encoding="utf-8"), "parts/shared.rules")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=shared, version=2),
        [lsp.TextDocumentContentChangeWholeDocument(
            shared_path.read_text(encoding="utf-8").replace("drawn_amount", "used"))]))
    while not client.diagnostics.get(uri):
        await asyncio.wait_for(client.wait_for_notification(
            lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30)
    # `loan` has no `drawn_amount` any more: in the let (E302) and in the example (E503)
    assert {d.code for d in client.diagnostics[uri]} == {"E302", "E503"}
    assert "drawn_amount" in shared_path.read_text(encoding="utf-8")  # nothing was saved
