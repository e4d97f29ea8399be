"""Lenses, semantic tokens, signature help, highlight, linked editing, selection ranges,
formatting, the expanded model and documentation links, as VS Code and Neovim see them.
(Each feature's cases are in tests/ide/test_<feature>.py.)"""
from __future__ import annotations

import sys

import pytest_lsp
from ide.projects import MODEL, TOML
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from .conftest import CLIENTS
from .helpers import SOURCED_PROJECT, apply_edits, hover_text, open_project, position_of

VSCODE_COMMANDS = ["agrippa.showGraph", "agrippa.showExpanded"]  # what the extension says it implements


@pytest_lsp.fixture(params=CLIENTS, config=ClientServerConfig(server_command=[sys.executable, "-m", "agrippa_lsp"]))
async def editor(request, lsp_client: LanguageClient):
    vscode = request.param == "visual-studio-code"
    lsp_client.name = request.param
    lsp_client.init = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities(request.param),
        initialization_options={"clientCommands": VSCODE_COMMANDS} if vscode else None))
    yield
    await lsp_client.shutdown_session()


def doc(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


async def model(editor: LanguageClient, tmp_path) -> tuple[str, str]:
    return await open_project(editor, tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML}, "model.agr")


async def test_initialize_advertises_every_capability(editor: LanguageClient):
    caps = editor.init.capabilities
    assert caps.code_lens_provider is not None
    tokens = caps.semantic_tokens_provider
    assert tokens.full and tokens.range and "tensor" in tokens.legend.token_types
    assert {"definition", "declaration", "frozen", "shared"} <= set(tokens.legend.token_modifiers)
    assert list(caps.signature_help_provider.trigger_characters) == ["<"]
    assert caps.document_highlight_provider and caps.linked_editing_range_provider and caps.selection_range_provider
    assert caps.document_formatting_provider and caps.document_range_formatting_provider
    assert caps.definition_provider and caps.document_link_provider


async def test_code_lenses_run_what_the_client_has(editor: LanguageClient, tmp_path):
    uri, _ = await model(editor, tmp_path)
    lenses = await editor.text_document_code_lens_async(lsp.CodeLensParams(text_document=doc(uri)))
    on_model = [(lens.command.title, lens.command.command) for lens in lenses if lens.range.start.line == 0]
    graph = [("Show graph", "agrippa.showGraph")] if editor.name == "visual-studio-code" else []
    assert on_model == [("▶ Train", "agrippa.train"), ("Compile", "agrippa.compile"), *graph, ("512 parameters", "")]
    assert all(list(lens.command.arguments) == [uri] for lens in lenses if lens.command.command)
    on_block = [lens.command.title for lens in lenses if lens.range.start.line == 2]
    assert on_block == ["512 parameters", "rep × 2 copies"]


def decode(data: list[int], legend: lsp.SemanticTokensLegend) -> list[tuple[int, int, int, str, set[str]]]:
    out, line, col = [], 0, 0
    for i in range(0, len(data), 5):
        dl, dc, n, t, bits = data[i:i + 5]
        line, col = line + dl, (col + dc if dl == 0 else dc)
        out.append((line, col, n, legend.token_types[t], {m for k, m in enumerate(legend.token_modifiers) if bits >> k & 1}))
    return out


async def test_semantic_tokens_in_the_clients_units(editor: LanguageClient, tmp_path):
    text = MODEL.replace('title="Linear"', 'title="𝛼 Linear"')  # an astral character before the op... on its line
    text = text.replace('<node op="MatMul" title="𝛼 Linear">', '<node title="𝛼 Linear" op="MatMul">')
    uri, _ = await open_project(editor, tmp_path, {"model.agr": text, "agrippa.toml": TOML}, "model.agr")
    legend = editor.init.capabilities.semantic_tokens_provider.legend
    got = decode((await editor.text_document_semantic_tokens_full_async(
        lsp.SemanticTokensParams(text_document=doc(uri)))).data, legend)
    encoding = editor.init.capabilities.position_encoding or lsp.PositionEncodingKind.Utf16
    line = text.split("\n")[4]
    prefix = line[:line.index("MatMul")]
    col = len(prefix.encode("utf-16-le")) // 2 if encoding == lsp.PositionEncodingKind.Utf16 else len(prefix.encode())
    assert (4, col, 6, "op", {"defaultLibrary"}) in got
    assert (7, 26, 1, "tensor", {"definition"}) in got
    assert (6, 26, 1, "parameter", {"declaration", "trainable"}) in got
    some = await editor.text_document_semantic_tokens_range_async(lsp.SemanticTokensRangeParams(
        text_document=doc(uri), range=lsp.Range(start=lsp.Position(line=6, character=0), end=lsp.Position(line=7, character=0))))
    assert {t[0] for t in decode(some.data, legend)} <= {6, 7}


async def test_signature_help_shows_the_slot_being_filled(editor: LanguageClient, tmp_path):
    uri, text = await model(editor, tmp_path)
    got = await editor.text_document_signature_help_async(lsp.SignatureHelpParams(
        text_document=doc(uri), position=position_of(text, '<params name="W"', 8)))
    [sig] = got.signatures
    assert sig.label.startswith("MatMul(A: T, B: T)") and got.active_parameter == 1
    start, end = sig.parameters[1].label
    assert sig.label[start:end] == "B: T"


async def test_document_highlight_reads_and_writes(editor: LanguageClient, tmp_path):
    uri, text = await model(editor, tmp_path)
    got = await editor.text_document_document_highlight_async(lsp.DocumentHighlightParams(
        text_document=doc(uri), position=position_of(text, 'name="h"', 6)))
    assert [(h.range.start.line, h.kind) for h in got] == [(7, lsp.DocumentHighlightKind.Write),
                                                            (10, lsp.DocumentHighlightKind.Read)]


async def test_linked_editing_and_selection_ranges(editor: LanguageClient, tmp_path):
    uri, text = await model(editor, tmp_path)
    got = await editor.text_document_linked_editing_range_async(lsp.LinkedEditingRangeParams(
        text_document=doc(uri), position=position_of(text, "<block", 2)))
    assert [(r.start.line, r.start.character, r.end.character) for r in got.ranges] == [(2, 5, 10), (14, 6, 11)]
    [sel] = await editor.text_document_selection_range_async(lsp.SelectionRangeParams(
        text_document=doc(uri), positions=[position_of(text, 'op="MatMul"', 5)]))
    chain = []
    while sel is not None:
        chain.append((sel.range.start.line, sel.range.start.character, sel.range.end.line, sel.range.end.character))
        sel = sel.parent
    assert chain[:3] == [(4, 18, 4, 24), (4, 14, 4, 25), (4, 8, 4, 41)] and chain[-1][:2] == (0, 0)


async def test_formatting_keeps_line_breaks_and_refuses_broken_files(editor: LanguageClient, tmp_path):
    messy = MODEL.replace('    <block title="Stack" rep="var(nlayers)">', '  <block title="Stack"\n         rep="var(nlayers)">')
    uri, text = await open_project(editor, tmp_path, {"model.agr": messy, "agrippa.toml": TOML}, "model.agr")
    opts = lsp.FormattingOptions(tab_size=4, insert_spaces=True)
    edits = await editor.text_document_formatting_async(lsp.DocumentFormattingParams(text_document=doc(uri), options=opts))
    assert apply_edits(text, edits) == MODEL.replace('<block title="Stack" rep', '<block title="Stack"\n           rep')
    ranged = await editor.text_document_range_formatting_async(lsp.DocumentRangeFormattingParams(
        text_document=doc(uri), options=opts, range=lsp.Range(start=lsp.Position(line=0, character=0),
                                                              end=lsp.Position(line=1, character=0))))
    assert not ranged
    broken, _ = await open_project(editor, tmp_path / "b", {"model.agr": "<model>\n<block>\n</model>\n"}, "model.agr")
    assert not await editor.text_document_formatting_async(lsp.DocumentFormattingParams(text_document=doc(broken), options=opts))


async def test_the_expanded_model_and_going_back_to_the_markup(editor: LanguageClient, tmp_path):
    uri, text = await open_project(editor, tmp_path, SOURCED_PROJECT)
    got = await editor.protocol.send_request_async("agrippa/expandedModel", {"uri": uri})
    assert got.uri == "agrippa-expanded" + uri[4:] and '<params name="enc$W"' in got.text
    ex = got.text
    [loc] = await editor.text_document_definition_async(lsp.DefinitionParams(
        text_document=doc(got.uri), position=position_of(ex, 'output name="enc$result"', 14)))
    assert loc.uri.endswith("/sub/enc.agr") and loc.range.start.line == 12
    links = await editor.text_document_document_link_async(lsp.DocumentLinkParams(text_document=doc(got.uri)))
    assert len(links) == len(got.links) and links[0].target.startswith("file://")
    actions = await editor.text_document_code_action_async(lsp.CodeActionParams(
        text_document=doc(uri), range=lsp.Range(start=position_of(text, '<block src="sub', 3), end=position_of(text, '<block src="sub', 3)),
        context=lsp.CodeActionContext(diagnostics=[])))
    # lsprotocol reads a CodeAction carrying a command as a Command (it tries Command first)
    shown = [(a.title, "agrippa.showExpanded" if "agrippa.showExpanded" in str(a.command) else a.command)
             for a in actions or []]
    assert shown == ([("Show expanded model", "agrippa.showExpanded")] if editor.name == "visual-studio-code" else [])


async def test_op_documentation_links_to_existing_pages(editor: LanguageClient, tmp_path):
    uri, text = await model(editor, tmp_path)
    md = await hover_text(editor, uri, text, 'op="Relu"', 5)
    assert "https://onnx.ai/onnx/operators/onnx__Relu.html" in md and "](Broadcasting.md)" not in md
    add = MODEL.replace('op="Relu"', 'op="Add"').replace('<input src="h" />', '<input src="h" />\n            <input src="h" />')
    uri2, text2 = await open_project(editor, tmp_path / "add", {"model.agr": add, "agrippa.toml": TOML}, "model.agr")
    md = await hover_text(editor, uri2, text2, 'op="Add"', 5)
    assert "https://onnx.ai/onnx/repo-docs/Broadcasting.html" in md and "Broadcasting.md" not in md
