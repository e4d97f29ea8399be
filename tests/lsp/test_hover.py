"""Hover: shapes (concrete and symbolic), op docs, parameters, blocks, bound names."""
from __future__ import annotations

from pytest_lsp import LanguageClient

from .helpers import diagnostics_for, hover_text, make_project, open_file

TOML = """[bindings]
batch = 4
dhidden = 16
nlayers = 2
"""

MODEL = """<model>
    <import from="x" dim="[var(batch), var(dhidden)]" />
    <block title="Stack" rep="var(nlayers)">
        <import from="x" />
        <node op="MatMul" title="Linear">
            <input src="x" />
            <params name="W" dim="[var(dhidden), var(dhidden)]" init="zeros" />
            <output name="h" />
        </node>
        <node op="Relu" title="Act">
            <input src="h" />
            <output name="y" />
        </node>
        <export from="y" />
    </block>
    <export from="y" dim="[var(batch), var(dhidden)]" />
</model>
"""


async def _open(client: LanguageClient, tmp_path, toml: str | None = TOML) -> str:
    files = {"model.agr": MODEL} | ({"agrippa.toml": toml} if toml is not None else {})
    make_project(tmp_path, files)
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    return uri


async def test_output_shape_concrete_and_symbolic(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, 'name="h"', 7)
    assert "`[4, 16]`" in text and "`[batch, dhidden]`" in text
    assert "float32" in text
    assert "MatMul" in text and "Linear" in text and "model.agr:5" in text
    assert "2 copies" in text and "`h`, `h$1`" in text


async def test_references_show_the_tensor(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    root_import = await hover_text(client, uri, MODEL, 'from="x"', 7)
    assert "`[4, 16]`" in root_import and "graph input" in root_import
    src = await hover_text(client, uri, MODEL, 'src="h"', 6)
    assert "`[4, 16]`" in src and "Linear" in src
    export = await hover_text(client, uri, MODEL, '<export from="y" dim', 14)
    assert "`[4, 16]`" in export and "Relu" in export


async def test_symbolic_shapes_without_bindings(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path, toml=None)
    text = await hover_text(client, uri, MODEL, 'name="y"', 7)
    assert "`[batch, dhidden]`" in text
    assert "nlayers" in text  # one copy stands for nlayers of them
    block = await hover_text(client, uri, MODEL, "<block", 2)
    assert "dhidden^2*nlayers parameters" in block


async def test_op_documentation(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, 'op="MatMul"', 6)
    assert "**MatMul**" in text and "numpy.matmul" in text


async def test_params(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, '<params name="W"', 15)
    assert "`[16, 16]` = `[dhidden, dhidden]`" in text
    assert "256 parameters each, 512 in all (2 copies)" in text
    assert "`zeros`" in text and "`W$1`, `W$2`" in text


async def test_block(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, '<block title="Stack"', 14)
    assert "**block** `Stack`" in text and "rep × 2" in text
    assert "- `x` `[4, 16]`" in text and "- `y` `[4, 16]`" in text
    assert "512 parameters = 2*dhidden^2" not in text  # nlayers is bound: symbolic form keeps names
    assert "512 parameters = dhidden^2*nlayers" in text


async def test_var_value_and_origin(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, "var(batch", 5)
    assert "`batch` = `4`" in text and "agrippa.toml line 2" in text
    make_project(tmp_path, {"agrippa.toml": "[bindings]\nbatch = 4\n"})
    open_file(client, tmp_path / "agrippa.toml")
    await diagnostics_for(client, uri)
    text = await hover_text(client, uri, MODEL, "var(nlayers", 5)
    assert "unbound: stays symbolic" in text


async def test_no_hover_on_plain_markup(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    assert await hover_text(client, uri, MODEL, "<model>", 7) == ""


SOURCED_MAIN = """<model>
    <import from="x" dim="[var(batch), var(dmodel)]" />
    <block title="Prep">
        <node op="Identity" title="Feed">
            <input src="x" />
            <output name="enc$x" />
        </node>
    </block>
    <block src="layer.agr" name="enc" />
    <export from="enc$y" dim="[var(batch), expr(2 * dmodel)]" />
</model>
"""
SOURCED_LAYER = """<block title="Layer">
    <import from="x" />
    <node op="MatMul" title="Up">
        <input src="x" />
        <params name="W" dim="[var(dmodel), expr(2 * dmodel)]" />
        <output name="y" />
    </node>
    <export from="y" />
</block>
"""


async def test_sourced_block_and_expr_names(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"main.agr": SOURCED_MAIN, "layer.agr": SOURCED_LAYER,
                            "agrippa.toml": "[model]\nindex = \"main.agr\"\n\n[bindings]\nbatch = 2\ndmodel = 8\n"})
    uri = open_file(client, tmp_path / "main.agr")
    await diagnostics_for(client, uri)
    block = await hover_text(client, uri, SOURCED_MAIN, 'src="layer.agr"', 6)
    assert "sourced from `layer.agr`" in block and "`enc$`" in block
    assert "- `y` `[2, 16]`" in block and "128 parameters" in block
    out = await hover_text(client, uri, SOURCED_MAIN, 'from="enc$y"', 7)
    assert "`[2, 16]` = `[batch, 2*dmodel]`" in out and "“Up” at layer.agr:3" in out
    name = await hover_text(client, uri, SOURCED_MAIN, "2 * dmodel", 5)
    assert "`dmodel` = `8`" in name and "agrippa.toml line 6" in name
    layer_uri = open_file(client, tmp_path / "layer.agr")
    await diagnostics_for(client, layer_uri)
    params = await hover_text(client, layer_uri, SOURCED_LAYER, "<params", 2)
    assert "`enc$W$1`" in params and "`[8, 16]` = `[dmodel, 2*dmodel]`" in params


def test_locate_kinds():
    from agrippa.syntax import parse
    from agrippa_lsp import locate as L

    sf = parse("/p/model.agr", MODEL)

    def at(needle: str, offset: int) -> L.Target:
        return L.what_is_at(None, sf, MODEL.index(needle) + offset)

    assert at('from="x" dim', 7).kind == L.TENSOR_DEF  # root import defines x
    assert at('<import from="x" />', 14).kind == L.TENSOR_REF
    t = at('src="h"', 5)
    assert (t.kind, t.text, MODEL[t.start:t.end], t.element.tag) == (L.TENSOR_REF, "h", "h", "input")
    assert at('name="h"', 6).kind == L.TENSOR_DEF
    assert at('op="Relu"', 5).kind == L.OP
    assert at('<params name="W"', 14).kind == L.PARAMS_NAME
    v = at("var(dhidden), var(dhidden)]", 6)
    assert (v.kind, v.text, v.attr.name, MODEL[v.start:v.end]) == (L.VAR, "dhidden", "dim", "dhidden")
    assert at('init="zeros"', 7).kind == L.VALUE
    assert at('init="zeros"', 1).kind == L.ATTR_NAME
    assert at("<block", 2).kind == L.TAG and at('title="Stack"', 8).kind == L.BLOCK_TITLE
    assert at("</node>", 0).kind == L.CONTENT
    assert at('src="h"', 5).prefix == ""
    assert at('src="h"', 6).prefix == "h"
