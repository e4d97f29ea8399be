"""Completion: tensor names defined above the cursor, elements, attributes, ops, paths, var()."""
from __future__ import annotations

import time

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa.analysis import analyze
from agrippa_lsp.completion import complete_at
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


async def test_attributes_of_a_node_come_from_its_op(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    edited = text.replace('<node op="Relu" title="R">', '<node op="ReduceSum" title="R" >')
    change_file(client, uri, edited, 2)
    items = await complete(client, uri, edited, 'title="R" >', 10, " ")
    names = labels(items)
    assert {"keepdims", "noop_with_empty_axes", "axes", "expose"} <= set(names)
    assert "op" not in names and "title" not in names  # already written
    keepdims = next(i for i in items if i.label == "keepdims")
    assert keepdims.detail == "int, default 1" and keepdims.documentation


async def test_op_names_with_their_docs(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    items = await complete(client, uri, text, 'op="Relu"', 4)
    matmul = next(i for i in items if i.label == "MatMul")
    assert "ONNX" in matmul.detail  # the docs come inline, or on resolve where the client asks so
    assert matmul.text_edit.new_text == "MatMul"
    resolved = await client.completion_item_resolve_async(matmul)
    assert "**MatMul**" in resolved.documentation.value


async def test_block_src_offers_files_and_folders(client: LanguageClient, tmp_path):
    files = dict(SOURCED_PROJECT, **{"sub/other.xml": "<block />\n", "sub/notes.txt": ""})
    uri, text = await open_project(client, tmp_path, files)
    assert labels(await complete(client, uri, text, 'src="sub/enc.agr"', 5)) == ["sub/"]
    items = await complete(client, uri, text, 'src="sub/enc.agr"', 9)
    assert labels(items) == ["enc.agr", "other.xml"]


async def test_var_names_and_value_enumerations(client: LanguageClient, tmp_path):
    files = dict(SOURCED_PROJECT, **{"agrippa.toml": "[bindings]\nbatch = 8\n"})
    files["main.agr"] = files["main.agr"].replace('dim="[3, 4]" />\n    <block', 'dim="[var(), 4]" />\n    <block')
    uri, text = await open_project(client, tmp_path, files)
    items = await complete(client, uri, text, "var()", 4, "(")
    assert labels(items) == ["batch"] and items[0].detail == "= 8"
    enc_uri = path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    enc = files["sub/enc.agr"]
    assert labels(await complete(client, enc_uri, enc, 'shared="yes"', 8)) == ["yes", "no"]


def test_completion_on_a_15000_line_file(tmp_path, capsys):
    """Completion works at every kind of place in a large file; its latency is printed here
    and measured against the target in bench/bench_lsp.py (no timed assertion on a shared
    machine)."""
    lines = ["<model>", '    <import from="x0" dim="[4, 8]" />']
    i = 0
    while len(lines) < 15000:
        lines += [f'    <block title="B{i}">', f'        <node op="MatMul" title="L{i}">',
                  f'            <input src="x{i}" />', '            <params name="W" dim="[8, 8]" />',
                  f'            <output name="h{i}" />', "        </node>", '        <node op="Relu">',
                  f'            <input src="h{i}" />', f'            <output name="x{i + 1}" />', "        </node>",
                  "    </block>"]
        i += 1
    lines += [f'    <export from="x{i}" dim="[4, 8]" />', "</model>", ""]
    path = tmp_path / "big.agr"
    text = "\n".join(lines)
    path.write_text(text)
    analysis = analyze(str(path))
    edited = text.replace('<input src="h900" />', '<input src="" />\n            <input src="h900" />')
    cases = [(text, 'src="x1200"', 5), (edited, '<input src="" />', 12), (text, '<node op="Relu">', 10),
             (text, 'title="L700"', 0)]
    times = []
    for _ in range(10):
        for t, needle, k in cases:
            start = time.perf_counter()
            got = complete_at(analysis, str(path), t, position_of(t, needle, k), True)
            times.append(time.perf_counter() - start)
            assert got is not None and got.items
    times.sort()
    with capsys.disabled():
        print(f"\n[completion] 15,000 lines, {len(times)} requests: p95 "
              f"{times[int(len(times) * 0.95)] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")
