"""`agrippa/graph` over stdio: the graph view's request answers from the server's analysis
(the one the diagnostics come from), follows edits, and marks the nodes with errors."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest_lsp
from lsp import helpers  # noqa: F401  (the client answers the server's requests, as editors do)
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from agrippa_lsp.convert import path_to_uri

REPO = Path(__file__).resolve().parents[1]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "agrippa_lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def _nodes(g: dict):
    yield from g["nodes"]
    for c in g["children"]:
        yield from _nodes(c)


async def _graph(client: LanguageClient, uri: str) -> dict:
    got = await client.protocol.send_request_async("agrippa/graph", {"uri": uri})
    return got.graph if hasattr(got, "graph") else got["graph"]


def _plain(obj):
    """pygls hands custom results back as namedtuple-like objects: make them dicts."""
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


async def test_graph_request_follows_edits(client: LanguageClient, tmp_path):
    import shutil

    work = tmp_path / "gpt"
    shutil.copytree(REPO / "examples" / "gpt", work)
    path = work / "gpt.agr"
    text = path.read_text()
    uri = path_to_uri(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id="agrippa", version=1, text=text)))
    graph = _plain(await _graph(client, uri))
    assert [g["title"] for g in graph["root"]["children"]] == ["Embedding", "Decoder Layer", "Output"]
    assert graph["errors"] == 0 and graph["params"] > 0
    assert graph["tensors"]["token_embeddings"]["symbolic"] == ["ntokens", "dmodel"]
    # an edit that breaks a reference: the graph marks the node that reads it
    broken = text.replace('<input src="token_embeddings" />', '<input src="token_embedingz" />', 1)
    assert broken != text
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=broken)]))
    graph = _plain(await _graph(client, uri))
    assert graph["errors"] > 0
    assert any(n["title"] == "Position Embedding" and n["errors"] for n in _nodes(graph["root"]))
