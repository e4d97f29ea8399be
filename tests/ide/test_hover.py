"""Hover: open a file, hover somewhere, read the shape (concrete and in the user's names),
the op's documentation, a parameter's count, a block's summary, a name's binding."""
from __future__ import annotations

from agrippa.ide.hover import hover

from .markers import marked, open_project
from .projects import MODEL, SOURCED_LAYER, SOURCED_MAIN, SOURCED_TOML, TOML


def hover_at(tmp_path, *snippets: str, toml: str | None = TOML) -> str:
    files = {"model.agr": marked(MODEL, *snippets)} | ({"agrippa.toml": toml} if toml is not None else {})
    p = open_project(tmp_path, files)
    got = hover(p.host, p.file, p.cursor)
    return got.text if got is not None else ""


def test_an_output_shows_its_shape_with_and_without_bindings(tmp_path):
    text = hover_at(tmp_path, 'name="‸h"')
    assert "`[4, 16]`" in text and "`[batch, dhidden]`" in text
    assert "float32" in text
    assert "MatMul" in text and "Linear" in text and "model.agr:5" in text
    assert "2 copies" in text and "`h`, `h$1`" in text


def test_the_hover_covers_the_name(tmp_path):
    p = open_project(tmp_path, {"model.agr": marked(MODEL, 'src="⟦‸h⟧"'), "agrippa.toml": TOML})
    got = hover(p.host, p.file, p.cursor)
    assert got is not None and [got.range] == p.ranges("model.agr")


def test_uses_show_the_tensor_they_read(tmp_path):
    root_import = hover_at(tmp_path, 'from="‸x"')
    assert "`[4, 16]`" in root_import and "graph input" in root_import
    src = hover_at(tmp_path, 'src="‸h"')
    assert "`[4, 16]`" in src and "Linear" in src
    export = hover_at(tmp_path, '<export from="‸y" dim')
    assert "`[4, 16]`" in export and "Relu" in export


def test_without_bindings_shapes_stay_in_the_users_names(tmp_path):
    text = hover_at(tmp_path, 'name="‸y"', toml=None)
    assert "`[batch, dhidden]`" in text
    assert "nlayers" in text  # one copy stands for nlayers of them
    block = hover_at(tmp_path, "<bl‸ock", toml=None)
    assert "dhidden^2*nlayers parameters" in block


def test_an_op_shows_its_documentation(tmp_path):
    text = hover_at(tmp_path, 'op="‸MatMul"')
    assert "**MatMul**" in text and "numpy.matmul" in text


def test_a_misspelt_op_suggests_the_right_one(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL.replace('op="Relu"', 'op="Rel‸ux"')})
    assert "did you mean `Relu`" in hover(p.host, p.file, p.cursor).text


def test_a_parameter_shows_its_shape_and_count(tmp_path):
    text = hover_at(tmp_path, '<params name="‸W"')
    assert "`[16, 16]` = `[dhidden, dhidden]`" in text
    assert "256 parameters each, 512 in all (2 copies)" in text
    assert "`zeros`" in text and "`W$1`, `W$2`" in text


def test_a_block_sums_up_its_ends_and_parameters(tmp_path):
    text = hover_at(tmp_path, '<block title="‸Stack"')
    assert "**block** `Stack`" in text and "rep × 2" in text
    assert "- `x` `[4, 16]`" in text and "- `y` `[4, 16]`" in text
    assert "512 parameters = 2*dhidden^2" not in text  # nlayers is bound: symbolic form keeps names
    assert "512 parameters = dhidden^2*nlayers" in text


def test_a_name_shows_its_value_and_where_it_is_bound(tmp_path):
    text = hover_at(tmp_path, "var(‸batch")
    assert "`batch` = `4`" in text and "agrippa.toml line 2" in text
    p = open_project(tmp_path, {"model.agr": marked(MODEL, "var(‸nlayers"), "agrippa.toml": TOML})
    p.type("agrippa.toml", "[bindings]\nbatch = 4\n")  # the user deletes the binding, unsaved
    assert "unbound: stays symbolic" in hover(p.host, p.file, p.cursor).text


def test_settings_and_profiles_override_the_toml(tmp_path):
    toml = TOML + "\n[profiles.big]\nbatch = 64\n"
    p = open_project(tmp_path, {"model.agr": marked(MODEL, "var(‸batch"), "agrippa.toml": toml})
    p.settings(profile="big")
    assert "`batch` = `64`" in hover(p.host, p.file, p.cursor).text
    assert "profile `big` (agrippa.toml line 7)" in hover(p.host, p.file, p.cursor).text
    p.settings(bindings={"batch": 2})
    text = hover(p.host, p.file, p.cursor).text
    assert "`batch` = `2`" in text and "client settings" in text


def test_plain_markup_has_no_hover(tmp_path):
    assert hover_at(tmp_path, "<model>‸") == ""


def test_a_sourced_block_and_names_in_expressions(tmp_path):
    files = {"main.agr": SOURCED_MAIN, "layer.agr": SOURCED_LAYER, "agrippa.toml": SOURCED_TOML}
    p = open_project(tmp_path, dict(files, **{"main.agr": marked(SOURCED_MAIN, 'src="‸layer.agr"')}))
    block = hover(p.host, p.file, p.cursor).text
    assert "sourced from `layer.agr`" in block and "`enc$`" in block
    assert "- `y` `[2, 16]`" in block and "128 parameters" in block
    p = open_project(tmp_path, dict(files, **{"main.agr": marked(SOURCED_MAIN, 'from="‸enc$y"')}))
    out = hover(p.host, p.file, p.cursor).text
    assert "`[2, 16]` = `[batch, 2*dmodel]`" in out and "“Up” at layer.agr:3" in out
    p = open_project(tmp_path, dict(files, **{"main.agr": marked(SOURCED_MAIN, "2 * ‸dmodel")}))
    name = hover(p.host, p.file, p.cursor).text
    assert "`dmodel` = `8`" in name and "agrippa.toml line 6" in name
    p = open_project(tmp_path, dict(files, **{"layer.agr": marked(SOURCED_LAYER, "<pa‸rams")}))
    params = hover(p.host, p.file, p.cursor).text
    assert "`enc$W$1`" in params and "`[8, 16]` = `[dmodel, 2*dmodel]`" in params
