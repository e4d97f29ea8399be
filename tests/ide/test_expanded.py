"""The expanded model: the flat graph as markup under ONNX names, linked back to the source."""
from __future__ import annotations

from agrippa.base.diagnostics import Location, Position
from agrippa.ide.expanded import expanded_definition, expanded_model, expands_at

from .markers import marked, open_project
from .projects import MODEL, SOURCED_PROJECT, TOML


def position_in(text: str, needle: str, offset: int = 0) -> Position:
    i = text.index(needle) + offset
    return Position(text.count("\n", 0, i), i - text.rfind("\n", 0, i) - 1)


def test_rep_copies_appear_under_their_onnx_names(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    ex = expanded_model(p.host, p.path("model.agr"))
    assert '<node op="MatMul" name="Linear$2">' in ex.text
    assert '<params name="W$2" dim="[16, 16]" />' in ex.text
    assert '<output name="h$1" dim="[4, 16]" />' in ex.text
    assert "<!-- model.agr:5 via rep 'Stack' copy 2 -->" in ex.text
    assert ex.text.rstrip().endswith('<export from="y$1" dim="[4, 16]" />\n</model>')


def test_go_to_definition_from_the_expanded_model_into_the_markup(tmp_path):
    text = marked(MODEL, '<output name="⟦h⟧" />', '<params name="⟦W⟧"', '<input src="⟦h⟧" />')
    p = open_project(tmp_path, {"model.agr": text, "agrippa.toml": TOML})
    param_w, out_h, use_h = (Location(p.path("model.agr"), r) for r in sorted(p.ranges("model.agr")))
    ex = expanded_model(p.host, p.path("model.agr"))
    path = p.path("model.agr")
    assert expanded_definition(p.host, path, position_in(ex.text, 'output name="h$1"', 14)) == [out_h]
    assert expanded_definition(p.host, path, position_in(ex.text, 'params name="W$2"', 14)) == [param_w]
    assert expanded_definition(p.host, path, position_in(ex.text, 'input src="h$1"', 12)) == [use_h]
    assert expanded_definition(p.host, path, position_in(ex.text, "<model", 1)) == []


def test_sourced_blocks_carry_their_prefix_and_file(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    ex = expanded_model(p.host, p.path("main.agr"))
    assert '<params name="enc$W" dim="[4, 4]" shared="yes" />' in ex.text
    assert "<!-- sub/enc.agr:5 via enc$ -->" in ex.text
    [link] = [k for k in ex.links if k.range.start == position_in(ex.text, 'output name="enc$result"', 13)]
    assert link.target.file == p.path("sub/enc.agr")


def test_the_code_action_is_on_expanding_block_tags_only(tmp_path):
    p = open_project(tmp_path, {"model.agr": marked(MODEL, '<block ‸title="Stack"'), "agrippa.toml": TOML})
    assert expands_at(p.host, p.file, p.cursor)
    p.put_cursor("model.agr", '<node ‸op="MatMul"')
    assert not expands_at(p.host, p.file, p.cursor)
    q = open_project(tmp_path / "s", SOURCED_PROJECT)
    q.put_cursor("main.agr", '<block ‸src="sub/enc.agr"')
    assert expands_at(q.host, q.file, q.cursor)
