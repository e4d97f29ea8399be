"""Inlay hints: each output's shape after its name; off through the settings."""
from __future__ import annotations

import asyncio

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from .helpers import diagnostics_for, make_project, open_file
from .test_hover import MODEL, TOML


async def _hints(client: LanguageClient, uri: str) -> list[lsp.InlayHint]:
    return await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=100, character=0)))) or []


def _label(h: lsp.InlayHint) -> str:
    return h.label if isinstance(h.label, str) else "".join(p.value for p in h.label)


async def test_output_shapes_after_names(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    hints = await _hints(client, uri)
    at = {(h.position.line, h.position.character): _label(h) for h in hints}
    line = MODEL.splitlines()[7]  # <output name="h" />
    assert at.get((7, line.index('"h"') + 3)) == "[4, 16]"
    assert len(hints) == 2  # h and y


async def test_hints_can_be_turned_off(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    client.set_configuration({"inlayHints": {"enabled": False}}, section="agrippa")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    for _ in range(100):
        if not await _hints(client, uri):
            break
        await asyncio.sleep(0.05)
    assert await _hints(client, uri) == []
    ws = client.capabilities.workspace
    if ws.inlay_hint is not None and ws.inlay_hint.refresh_support:  # Neovim's capabilities
        assert getattr(client, "inlay_hint_refresh_count", 0) > 0
