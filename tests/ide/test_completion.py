"""Completion: tensor names defined above the cursor, elements, attributes, ops, paths, var().

Completion answers on the text as the user is typing it, from the analysis at hand (which
may be of the text before the last keystrokes).
"""
from __future__ import annotations

import time

from agrippa.base.diagnostics import Position
from agrippa.ide.completion import Completion, Options, complete, op_documentation
from agrippa.ide.host import AnalysisHost

from .markers import open_project
from .projects import SOURCED_PROJECT

MAIN, ENC = SOURCED_PROJECT["main.agr"], SOURCED_PROJECT["sub/enc.agr"]


def project(tmp_path, files: dict[str, str] = SOURCED_PROJECT):
    p = open_project(tmp_path, files)
    p.open("main.agr")
    return p


def completions(p, trigger: str | None = None, snippets: bool = True, lazy_docs: bool = False) -> list[Completion]:
    """What completing at the cursor offers, on the text the editor holds now."""
    path = p.file
    text = p.host.read(path)  # the editor's buffer, else the disk
    got = complete(p.host, p.host.recent_for(path), path, text, p.cursor, Options(snippets, trigger, lazy_docs))
    return got.items if got is not None else []


def labels(items: list[Completion]) -> list[str]:
    return [i.label for i in items]


def test_src_offers_only_names_defined_above(tmp_path):
    p = project(tmp_path)
    p.put_cursor("main.agr", '<input src="‸y"')  # in the Add node
    items = completions(p)
    assert set(labels(items)) == {"x", "enc$inp", "enc$h", "enc$result", "y"}
    assert labels(items)[0] == "y"  # the nearest definition first
    assert next(i for i in items if i.label == "x").detail == "[3, 4]"
    p.put_cursor("main.agr", 'src="‸enc$result"')  # in the Relu node: not its own output, nor later ones
    assert {"y", "z"}.isdisjoint(labels(completions(p))) and "enc$result" in labels(completions(p))
    p.put_cursor("sub/enc.agr", 'src="‸h"')  # the parent's enc$inp is seen as inp, nothing from below
    assert labels(completions(p)) == ["h", "inp"]


def test_names_while_the_buffer_is_mid_edit(tmp_path):
    p = project(tmp_path)
    p.put_cursor("main.agr", '<input src="‸y"')
    assert completions(p)
    p.type("main.agr", MAIN.replace('<input src="x" />\n            <output name="z"',
                                    '<input src="x" />\n            <input src="‸" />\n            <output name="z"'))
    items = completions(p, '"')  # answered from the analysis of the text before the edit
    assert set(labels(items)) == {"x", "enc$inp", "enc$h", "enc$result", "y"}
    assert items[0].range.start == items[0].range.end == p.cursor


def test_outputs_typed_since_the_analysis_are_offered_too(tmp_path):
    p = project(tmp_path)
    p.put_cursor("main.agr", '<input src="‸y"')
    completions(p)
    p.type("main.agr", MAIN.replace('<input src="y" />', '<input src="y" />\n<output name="fresh" />\n<input src="‸"/>'))
    assert labels(completions(p))[0] == "fresh"


def test_elements_valid_where_the_cursor_is(tmp_path):
    p = project(tmp_path)
    p.type("main.agr", MAIN.replace('<input src="y" />', '<‸\n            <input src="y" />'))
    items = completions(p, "<")
    assert labels(items) == ["input", "params", "output", "desc"]
    assert items[0].snippet and items[0].new_text == 'input src="$1" />'
    assert completions(p, "<", snippets=False)[0].new_text == "input"
    p.type("main.agr", MAIN.replace('<node op="Relu"', '<‸\n        <node op="Relu"'))
    items = completions(p, "<")
    assert {"node", "block", "import", "export", "desc"} <= set(labels(items)) and "input" not in labels(items)
    assert any(i.kind == "snippet" and "rep" in i.label for i in items)


def test_a_closing_tag_names_the_open_element(tmp_path):
    p = project(tmp_path)
    p.type("main.agr", MAIN.replace('<output name="y" />\n        </node>', '<output name="y" />\n        </‸'))
    [close] = completions(p, "/")
    assert (close.label, close.new_text) == ("node", "node>")


def test_attributes_of_a_node_come_from_its_op(tmp_path):
    p = project(tmp_path)
    p.type("main.agr", MAIN.replace('<node op="Relu" title="R">', '<node op="ReduceSum" title="R" ‸>'))
    items = completions(p, " ")
    assert {"keepdims", "noop_with_empty_axes", "axes", "expose"} <= set(labels(items))
    assert "op" not in labels(items) and "title" not in labels(items)  # already written
    keepdims = next(i for i in items if i.label == "keepdims")
    assert keepdims.detail == "int, default 1" and keepdims.doc


def test_op_names_with_their_docs(tmp_path):
    p = project(tmp_path)
    p.put_cursor("main.agr", 'op="‸Relu"')
    matmul = next(i for i in completions(p) if i.label == "MatMul")
    assert "ONNX" in matmul.detail and matmul.new_text == "MatMul" and matmul.doc
    lazy = next(i for i in completions(p, lazy_docs=True) if i.label == "MatMul")
    assert lazy.doc is None and "**MatMul**" in op_documentation(lazy.data)  # resolved when shown


def test_block_src_offers_files_and_folders(tmp_path):
    p = project(tmp_path, dict(SOURCED_PROJECT, **{"sub/other.xml": "<block />\n", "sub/notes.txt": ""}))
    p.put_cursor("main.agr", 'src="‸sub/enc.agr"')
    assert labels(completions(p)) == ["sub/"]
    p.put_cursor("main.agr", 'src="sub/‸enc.agr"')
    assert labels(completions(p)) == ["enc.agr", "other.xml"]


def test_var_names_and_value_enumerations(tmp_path):
    main = MAIN.replace('dim="[3, 4]" />\n    <block', 'dim="[var(‸), 4]" />\n    <block')
    p = project(tmp_path, dict(SOURCED_PROJECT, **{"agrippa.toml": "[bindings]\nbatch = 8\n", "main.agr": main}))
    items = completions(p, "(")
    assert labels(items) == ["batch"] and items[0].detail == "= 8"
    p.put_cursor("sub/enc.agr", 'shared="‸yes"')
    assert labels(completions(p)) == ["yes", "no"]


def test_a_trigger_outside_its_place_offers_nothing(tmp_path):
    p = project(tmp_path)
    p.put_cursor("main.agr", 'title="‸Feed"')
    assert completions(p, "<") == []
    p.type("main.agr", MAIN.replace("<!--", "").replace('title="Feed"', 'title="Feed"><!-- a ‸ -->'))
    assert completions(p) == []  # inside a comment


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
    host = AnalysisHost(lambda p: None)
    analysis = host.analysis_for(str(path))
    edited = text.replace('<input src="h900" />', '<input src="" />\n            <input src="h900" />')
    cases = [(text, 'src="x1200"', 5), (edited, '<input src="" />', 12), (text, '<node op="Relu">', 10),
             (text, 'title="L700"', 0)]
    times = []
    for _ in range(10):
        for t, needle, k in cases:
            at = t.index(needle) + k
            pos = Position(t.count("\n", 0, at), at - (t.rfind("\n", 0, at) + 1))
            start = time.perf_counter()
            got = complete(host, analysis, str(path), t, pos)
            times.append(time.perf_counter() - start)
            assert got is not None and got.items
    times.sort()
    with capsys.disabled():
        print(f"\n[completion] 15,000 lines, {len(times)} requests: p95 "
              f"{times[int(len(times) * 0.95)] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")

