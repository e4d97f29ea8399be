"""Selection ranges (name → value → attribute → start tag → element → parent … → root) and
linked editing of a tag's open and close names."""
from __future__ import annotations

from agrippa.base.diagnostics import Position
from agrippa.ide.selection import linked_tag_ranges, selection_ranges

from .markers import marked, open_project
from .projects import MODEL, TOML


def test_expanding_from_a_binding_to_the_root(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    text = p.text("model.agr")
    at = text.index("var(dhidden), var(dhidden)]\" init") + 5
    [chain] = selection_ranges(p.host, p.path("model.agr"), [Position(6, at - text.rfind("\n", 0, at) - 1)])
    lines = text.split("\n")

    def words(r):
        if r.start.line == r.end.line:
            return lines[r.start.line][r.start.character:r.end.character]
        return (r.start.line, r.end.line)

    shown = [words(r) for r in chain]
    assert shown[:4] == ["dhidden", "[var(dhidden), var(dhidden)]", 'dim="[var(dhidden), var(dhidden)]"',
                         '<params name="W" dim="[var(dhidden), var(dhidden)]" init="zeros" />']
    assert shown[4:] == [(4, 8), (2, 14), (0, 16)]  # node, block, model


def test_linked_tag_names(tmp_path):
    text = marked(MODEL, "<⟦no‸de⟧ op=\"MatMul\"", "</⟦node⟧>\n        <node op=\"Relu\"")
    p = open_project(tmp_path, {"model.agr": text, "agrippa.toml": TOML})
    assert linked_tag_ranges(p.host, p.file, p.cursor) == p.ranges("model.agr")
    p.put_cursor("model.agr", "</no‸de>\n        <node op=\"Relu\"")
    assert linked_tag_ranges(p.host, p.file, p.cursor) == p.ranges("model.agr")


def test_no_linked_names_on_a_self_closing_tag_or_a_value(tmp_path):
    p = open_project(tmp_path, {"model.agr": marked(MODEL, "<inp‸ut src=\"x\" />"), "agrippa.toml": TOML})
    assert linked_tag_ranges(p.host, p.file, p.cursor) == []
    p.put_cursor("model.agr", 'op="Mat‸Mul"')
    assert linked_tag_ranges(p.host, p.file, p.cursor) == []
