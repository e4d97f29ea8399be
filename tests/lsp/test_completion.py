"""Completion end to end: names above the cursor, mid-edit buffers, elements, op docs on resolve.
(Every kind of completion is tested on `agrippa.ide.completion` in tests/ide/test_completion.py.)"""
from __future__ import annotations

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import SOURCED_PROJECT, change_file, open_project, position_of


async def complete(client: LanguageClient, uri: str, text: str, needle: str, offset: int,
                   trigger: str | None = None) -> list[lsp.CompletionItem]:
    ctx = (lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter, trigger_character=trigger)
           if trigger else lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.Invoked))
    got = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, needle, offset), context=ctx))
    if got is None:
        return []
    return list(got.items if isinstance(got, lsp.CompletionList) else got)


def labels(items: list[lsp.CompletionItem]) -> list[str]:
    return [i.label for i in items]


async def test_src_offers_only_names_defined_above(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    # in the Add node: everything before it, the sourced block's names with their prefix
    items = await complete(client, uri, text, '<input src="y"', 12)
    assert set(labels(items)) == {"x", "enc$inp", "enc$h", "enc$result", "y"}
    assert labels(items)[0] == "y"  # the nearest definition first
    assert next(i for i in items if i.label == "x").detail == "[3, 4]"
    # in the Relu node: neither its own output nor what comes later
    items = await complete(client, uri, text, 'src="enc$result"', 5)
    assert "y" not in labels(items) and "z" not in labels(items) and "enc$result" in labels(items)
    # inside the sourced file, the parent's enc$inp is seen as inp, and nothing from below
    enc_uri = path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    enc = SOURCED_PROJECT["sub/enc.agr"]
    assert labels(await complete(client, enc_uri, enc, 'src="h"', 5)) == ["h", "inp"]


async def test_names_while_the_buffer_is_mid_edit(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    assert await complete(client, uri, text, '<input src="y"', 12)
    edited = text.replace('<input src="x" />\n            <output name="z"',
                          '<input src="x" />\n            <input src="" />\n            <output name="z"')
    change_file(client, uri, edited, 2)  # no waiting: the server answers from the older analysis
    items = await complete(client, uri, edited, '<input src="" />', 12, '"')
    assert set(labels(items)) == {"x", "enc$inp", "enc$h", "enc$result", "y"}
    edit = items[0].text_edit
    assert edit.range.start == edit.range.end == position_of(edited, '<input src="" />', 12)


async def test_elements_valid_where_the_cursor_is(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    in_node = text.replace('<input src="y" />', '<\n            <input src="y" />')
    change_file(client, uri, in_node, 2)
    items = await complete(client, uri, in_node, '<\n            <input src="y"', 1, "<")
    assert labels(items) == ["input", "params", "output", "desc"]
    assert items[0].insert_text_format == lsp.InsertTextFormat.Snippet
    assert items[0].text_edit.new_text == 'input src="$1" />'
    in_block = text.replace('<node op="Relu"', '<\n        <node op="Relu"')
    change_file(client, uri, in_block, 3)
    items = await complete(client, uri, in_block, '<\n        <node op="Relu"', 1, "<")
    assert {"node", "block", "import", "export", "desc"} <= set(labels(items))
    assert "input" not in labels(items)
    assert any(i.kind == lsp.CompletionItemKind.Snippet and "rep" in i.label for i in items)


async def test_op_names_with_their_docs(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    items = await complete(client, uri, text, 'op="Relu"', 4)
    matmul = next(i for i in items if i.label == "MatMul")
    assert "ONNX" in matmul.detail  # the docs come inline, or on resolve where the client asks so
    assert matmul.text_edit.new_text == "MatMul"
    resolved = await client.completion_item_resolve_async(matmul)
    assert "**MatMul**" in resolved.documentation.value
