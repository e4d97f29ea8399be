"""Document highlight: every definition and use in the file of what is under the cursor."""
from __future__ import annotations

from agrippa.ide.highlight import READ, WRITE, highlights

from .markers import marked, open_project
from .projects import MODEL, SOURCED_PROJECT, TOML


def test_a_tensor_its_definition_and_uses_across_copies(tmp_path):
    text = marked(MODEL, '<output name="⟦h⟧"', '<input src="⟦‸h⟧"')
    p = open_project(tmp_path, {"model.agr": text, "agrippa.toml": TOML})
    got = highlights(p.host, p.file, p.cursor)
    assert [h.range for h in got] == p.ranges("model.agr")
    assert [h.kind for h in got] == [WRITE, READ]


def test_y_is_used_by_the_next_copy_and_exported(tmp_path):
    text = marked(MODEL, '<output name="⟦‸y⟧"', '<export from="⟦y⟧" />', '<export from="⟦y⟧" dim')
    p = open_project(tmp_path, {"model.agr": text, "agrippa.toml": TOML})
    assert [h.range for h in highlights(p.host, p.file, p.cursor)] == p.ranges("model.agr")


def test_a_binding_everywhere_in_the_file(tmp_path):
    text = marked(MODEL, "var(⟦‸batch⟧), var(dhidden)]\" />\n    <block", "var(⟦batch⟧), var(dhidden)]\" />\n</model>")
    p = open_project(tmp_path, {"model.agr": text, "agrippa.toml": TOML})
    got = highlights(p.host, p.file, p.cursor)
    assert [h.range for h in got] == p.ranges("model.agr") and {h.kind for h in got} == {READ}


def test_a_shared_parameter_each_declaration(tmp_path):
    enc = SOURCED_PROJECT["sub/enc.agr"]
    first = enc.index('name="W"')
    second = enc.index('name="W"', first + 1)
    text = enc[:first] + 'name="⟦‸W⟧"' + enc[first + 8:second] + 'name="⟦W⟧"' + enc[second + 8:]
    p = open_project(tmp_path, {**SOURCED_PROJECT, "sub/enc.agr": text})
    got = highlights(p.host, p.file, p.cursor)
    assert [h.range for h in got] == p.ranges("sub/enc.agr") and {h.kind for h in got} == {WRITE}


def test_a_prefixed_use_in_the_index_and_nothing_on_a_keyword(tmp_path):
    text = marked(SOURCED_PROJECT["main.agr"], 'src="⟦enc$res‸ult⟧"')
    p = open_project(tmp_path, {**SOURCED_PROJECT, "main.agr": text})
    assert [h.range for h in highlights(p.host, p.file, p.cursor)] == p.ranges("main.agr")
    p.put_cursor("main.agr", "<mo‸del>")
    assert highlights(p.host, p.file, p.cursor) == []
