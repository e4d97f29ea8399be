"""Bindings from agrippa.toml (disk and buffer) and client settings; toml diagnostics."""
from __future__ import annotations

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import change_file, diagnostics_for, hover_text, make_project, open_file

TOML = "[bindings]\nn = 2\n"
MODEL = """<model>
    <import from="x" dim="[4, 8]" />
    <block title="R" rep="var(n)">
        <import from="x" />
        <node op="Relu" title="Act">
            <input src="x" />
            <output name="y" />
        </node>
        <export from="y" />
    </block>
    <export from="y" dim="[4, 8]" />
</model>
"""


def _has(code: str):
    return lambda diags: any(d.code == code for d in diags)


def _lacks(code: str):
    return lambda diags: not any(d.code == code for d in diags)


async def _open(client: LanguageClient, tmp_path, toml: str = TOML) -> str:
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": toml})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri, until=_lacks("bad-count"))
    return uri


async def test_toml_on_disk_change_republishes(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = 0\n")
    toml_uri = path_to_uri(str(tmp_path / "agrippa.toml"))
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        changes=[lsp.FileEvent(uri=toml_uri, type=lsp.FileChangeType.Changed)]))
    diags = await diagnostics_for(client, uri, until=_has("bad-count"))
    assert any("at least 1" in d.message for d in diags)


async def test_toml_buffer_edits_and_its_own_diagnostics(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    toml_uri = open_file(client, tmp_path / "agrippa.toml")
    change_file(client, toml_uri, "[bindings]\nn = = 2\n", 2)
    diags = await diagnostics_for(client, toml_uri, until=lambda d: len(d) > 0)
    assert diags[0].code == "config-syntax"
    assert (diags[0].range.start.line, diags[0].range.start.character) == (1, 4)  # at the second '='

    change_file(client, toml_uri, "[bindings]\nn = 0\n", 3)
    await diagnostics_for(client, toml_uri, until=lambda d: len(d) == 0)
    await diagnostics_for(client, uri, until=_has("bad-count"))


async def test_client_settings_bindings(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    client.set_configuration({"bindings": {"n": 0}}, section="agrippa")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await diagnostics_for(client, uri, until=_has("bad-count"))
    text = await hover_text(client, uri, MODEL, "var(n)", 4)
    assert "`n` = `0`" in text and "client settings" in text


async def test_pushed_settings(client: LanguageClient, tmp_path):
    uri = await _open(client, tmp_path)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"agrippa": {"bindings": {"n": 0}}}))
    await diagnostics_for(client, uri, until=_has("bad-count"))


async def test_profiles(client: LanguageClient, tmp_path):
    toml = TOML + "\n[profiles.broken]\nn = 0\n\n[profiles.long]\nn = 6\n"
    uri = await _open(client, tmp_path, toml)
    listed = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="agrippa.listProfiles", arguments=[uri]))
    assert listed == {"profiles": ["broken", "long"], "active": None}
    chosen = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="agrippa.selectProfile", arguments=[uri, "broken"]))
    assert chosen == {"active": "broken"}
    await diagnostics_for(client, uri, until=_has("bad-count"))
    text = await hover_text(client, uri, MODEL, "var(n)", 4)
    assert "profile `broken` (agrippa.toml line 5)" in text
    bad = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="agrippa.selectProfile", arguments=[uri, "nope"]))
    assert "No profile 'nope'" in bad["error"]
    await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="agrippa.selectProfile", arguments=[uri, None]))
    await diagnostics_for(client, uri, until=_lacks("bad-count"))


async def test_train_table_mistakes_show_in_the_toml(client: LanguageClient, tmp_path):
    await _open(client, tmp_path, TOML + '\n[train]\ndata = "data.py:batches"\nstpes = 10\n')
    toml_uri = path_to_uri(str(tmp_path / "agrippa.toml"))
    diags = await diagnostics_for(client, toml_uri, until=_has("train-config"))
    by_line = {d.range.start.line: d.message for d in diags if d.code == "train-config"}
    assert "data.py not found" in by_line[4]
    assert "did you mean 'steps'?" in by_line[5]
