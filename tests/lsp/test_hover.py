"""Hover end to end: a tensor's shapes, a bound name's origin, nothing on plain markup.
(Every kind of hover is tested on `agrippa.ide.hover` in tests/ide/test_hover.py.)"""
from __future__ import annotations

from ide.projects import MODEL, TOML
from pytest_lsp import LanguageClient

from .helpers import diagnostics_for, hover_text, make_project, open_file


async def _open(client: LanguageClient, tmp_path, toml: str | None = TOML) -> str:
    files = {"model.agr": MODEL} | ({"agrippa.toml": toml} if toml is not None else {})
    make_project(tmp_path, files)
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    return uri


async def test_output_shape_concrete_and_symbolic(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, 'name="h"', 7)
    assert "`[4, 16]`" in text  # the bound shape at once; the one in the user's names comes from
    # the symbolic twin, made in the background after the first diagnostics (a moment later)
    text = await hover_text(client, uri, MODEL, 'name="h"', 7, until=lambda t: "`[batch, dhidden]`" in t)
    assert "`[4, 16]`" in text and "`[batch, dhidden]`" in text
    assert "float32" in text
    assert "MatMul" in text and "Linear" in text and "model.agr:5" in text
    assert "2 copies" in text and "`h`, `h$1`" in text


async def test_var_value_and_origin(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    text = await hover_text(client, uri, MODEL, "var(batch", 5)
    assert "`batch` = `4`" in text and "agrippa.toml line 2" in text
    make_project(tmp_path, {"agrippa.toml": "[bindings]\nbatch = 4\n"})
    client.diagnostics.pop(uri, None)  # wait for the analysis with the new bindings
    open_file(client, tmp_path / "agrippa.toml")
    await diagnostics_for(client, uri)
    text = await hover_text(client, uri, MODEL, "var(nlayers", 5)
    assert "unbound: stays symbolic" in text


async def test_no_hover_on_plain_markup(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    assert await hover_text(client, uri, MODEL, "<model>", 7) == ""
