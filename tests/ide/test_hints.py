"""Inlay hints: each output's shape right after its name; none when the user turns them off."""
from __future__ import annotations

from agrippa.ide.hints import inlay_hints

from .markers import marked, open_project
from .projects import MODEL, TOML


def test_each_output_shows_its_shape_after_its_name(tmp_path):
    p = open_project(tmp_path, {"model.agr": marked(MODEL, 'name="h"‸'), "agrippa.toml": TOML})
    hints = inlay_hints(p.host, p.file, 0, 100)
    assert [h.label for h in hints] == ["[4, 16]", "[4, 16]"]  # h and y
    assert hints[0].position == p.cursor


def test_unknown_shapes_get_no_hint_and_a_range_limits_them(tmp_path):
    p = open_project(tmp_path, {"model.agr": marked(MODEL, 'name="y"‸'), "agrippa.toml": TOML})
    [h] = inlay_hints(p.host, p.file, p.cursor.line, p.cursor.line)
    assert h.position == p.cursor
    p.write("model.agr", marked(MODEL.replace('op="Relu"', 'op="Nope"'), 'name="h"‸'))
    [h] = inlay_hints(p.host, p.file, 0, 100)  # y's shape cannot be known: no hint
    assert (h.position, h.label) == (p.cursor, "[4, 16]")


def test_hints_can_be_turned_off(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    p.settings(inlayHints={"enabled": False})
    assert inlay_hints(p.host, p.path("model.agr"), 0, 100) == []
