"""The outline (model → blocks → nodes), workspace symbols and folding."""
from __future__ import annotations

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import SOURCED_PROJECT, open_project


def tree(symbols: list[lsp.DocumentSymbol]) -> list:
    return [(s.name, s.detail, tree(s.children or [])) if s.children else (s.name, s.detail) for s in symbols]


async def test_document_symbols_are_a_tree_with_ops(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    got = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert isinstance(got[0], lsp.DocumentSymbol)  # both editors ask for the hierarchy
    [model] = tree(got)
    name, _, children = model
    assert name == "model"
    assert children[0][0] == "import x" and children[-1][0] == "export z"
    block_name, _, nodes = children[1]
    assert block_name == "Main"
    assert [n[0] for n in nodes] == ["Feed", "enc ← sub/enc.agr", "R", "Sum"]
    assert nodes[2][1].startswith("Relu → y: ") and nodes[3][1].startswith("Add → z: ")
    for s in got[0].children:  # selection ranges lie inside the ranges
        assert (s.range.start.line, s.range.start.character) <= (s.selection_range.start.line,
                                                                  s.selection_range.start.character)


async def test_workspace_symbols_search_every_file_of_the_open_project(client: LanguageClient, tmp_path):
    await open_project(client, tmp_path, SOURCED_PROJECT)
    got = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="res"))
    found = {(s.name, s.location.uri.rsplit("/", 1)[-1]) for s in got}
    assert ("result", "enc.agr") in found
    got = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="Lin"))
    assert {s.name for s in got} >= {"Lin", "Lin2"}
    assert all(s.kind == lsp.SymbolKind.Function for s in got if s.name.startswith("Lin"))


async def test_folding_covers_multi_line_elements_and_comments(client: LanguageClient, tmp_path):
    await open_project(client, tmp_path, SOURCED_PROJECT)
    enc_uri = path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    got = await client.text_document_folding_range_async(lsp.FoldingRangeParams(
        text_document=lsp.TextDocumentIdentifier(uri=enc_uri)))
    ranges = {(r.start_line, r.end_line, r.kind) for r in got}
    # <block> 0..15 keeps its end tag visible; the two nodes; the two-line comment
    assert (0, 14, None) in ranges
    assert (4, 7, None) in ranges and (9, 12, None) in ranges
    assert (2, 3, lsp.FoldingRangeKind.Comment) in ranges
