"""Robustness: failures stay inside one feature, huge or deep files degrade gracefully,
and the server starts without the heavy libraries."""
from __future__ import annotations

import time

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.server import guarded

from .helpers import diagnostics_for, hover_text, make_project, open_file
from .test_hover import MODEL, TOML


def _hover(client: LanguageClient, uri: str, line: int, character: int):
    return client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=character)))


def test_guarded_handlers_log_and_return_none():
    def boom(ls, params):
        raise RuntimeError("feature bug")

    async def aboom(ls, params):
        raise RuntimeError("feature bug")

    import asyncio

    assert guarded("x", boom)(None, None) is None
    assert asyncio.run(guarded("x", aboom)(None, None)) is None


async def test_requests_on_odd_documents_answer_empty(client: LanguageClient, tmp_path):
    assert await _hover(client, "untitled:Untitled-1", 0, 0) is None
    assert await _hover(client, (tmp_path / "missing.agr").as_uri(), 3, 4) is None
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    assert await _hover(client, uri, 10_000, 10_000) is None  # past the end
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri="untitled:x"),
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=1, character=0))))
    assert not hints
    # the other features still work afterwards
    assert "**MatMul**" in await hover_text(client, uri, MODEL, 'op="MatMul"', 6)


async def test_a_50_mb_buffer_is_refused_quickly(client: LanguageClient, tmp_path):
    path = tmp_path / "huge.agr"
    body = '    <node op="Relu"><input src="x" /><output name="y" /></node>\n'
    text = "<model>\n" + body * (50_000_000 // len(body)) + "</model>\n"
    path.write_text("<model/>")
    start = time.monotonic()
    uri = open_file(client, path, text)
    diags = await diagnostics_for(client, uri, timeout=30, until=lambda d: len(d) > 0)
    assert any("MiB" in d.message for d in diags)
    assert await _hover(client, uri, 1, 10) is None
    assert time.monotonic() - start < 15


async def test_10000_deep_nesting(client: LanguageClient, tmp_path):
    depth = 10_000
    text = "<model>\n" + "<block>" * depth + '<node op="Relu"><input src="x" /><output name="y" /></node>' + \
        "</block>" * depth + "\n</model>\n"
    path = tmp_path / "deep.agr"
    path.write_text(text)
    start = time.monotonic()
    uri = open_file(client, path)
    diags = await diagnostics_for(client, uri, timeout=30, until=lambda d: len(d) > 0)
    assert any(d.code == "xml-too-deep" for d in diags)
    await _hover(client, uri, 1, len("<block>") * depth + 10)
    assert time.monotonic() - start < 5


async def test_heavy_modules_stay_unloaded(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    assert await hover_text(client, uri, MODEL, 'name="h"', 7)
    result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="agrippa.debug.modules", arguments=[]))
    assert "torch" not in result["modules"] and "onnxruntime" not in result["modules"]
