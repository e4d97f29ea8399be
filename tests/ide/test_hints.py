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


def test_an_output_that_is_not_float32_shows_its_element_type(tmp_path):
    from agrippa.ide.hints import hints_in
    from agrippa.sema.analysis import analyze

    (tmp_path / "main.agr").write_text(
        '<model><import from="x" dim="[3, 4]" /><block>'
        '<node op="Shape"><input src="x"/><output name="s"/></node>'
        '<node op="Relu"><input src="x"/><output name="r"/></node></block>'
        '<export from="s" dim="[2]" type="int64"/><export from="r" dim="[3, 4]"/></model>')
    an = analyze(str(tmp_path / "main.agr"))
    sf = an.graph.files[str(tmp_path / "main.agr")]
    labels = [h.label for h in hints_in(an.graph, sf, 0, 0)]
    assert any(label.endswith("[2] int64") for label in labels), labels
    assert any(label.endswith("[3, 4]") for label in labels), labels
