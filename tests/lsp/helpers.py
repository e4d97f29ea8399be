"""Small helpers so tests read like what a user does in the editor."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path_to_uri(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="agrippa", version=1,
                                           text=text if text is not None else path.read_text())))
    return uri


def change_file(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics_for(client: LanguageClient, uri: str, timeout: float = 10.0,
                          until=lambda diags: True) -> list[lsp.Diagnostic]:
    """Wait until the server has published diagnostics for `uri` satisfying `until`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        if uri in client.diagnostics and until(client.diagnostics[uri]):
            return client.diagnostics[uri]
        remaining = end - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no matching diagnostics for {uri}: {client.diagnostics.get(uri)}")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(client.wait_for_notification("textDocument/publishDiagnostics"), remaining)


def position_of(text: str, needle: str, offset: int = 0) -> lsp.Position:
    """The position of `needle` (+ offset characters) in `text`."""
    i = text.index(needle) + offset
    line = text.count("\n", 0, i)
    col = i - (text.rfind("\n", 0, i) + 1)
    return lsp.Position(line=line, character=col)
