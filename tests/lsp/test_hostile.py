"""Hostile input to the language server (issue 12), through pytest-lsp over stdio.

Positions in the negotiated encoding (UTF-16 by default, UTF-8 when offered), CR-only
files, byte order marks, UTF-16 files, incremental edits after characters that pygls
but not LSP takes for line breaks, lone surrogates and bidirectional controls, diagnostic
floods, commands on files outside the workspace. Every test ends with a hover that still
answers. Malformed JSON-RPC frames are in test_transport.py. Times are printed.
"""
from __future__ import annotations

import asyncio
import sys
import time

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from agrippa_lsp.convert import path_to_uri

from .helpers import client_position, diagnostics_for, hover_text, make_project, open_file
from .helpers import units_of as _units

IO = '<import from="x" dim="[3, 4]" />'
GOOD = (f'<model>{IO}\n<block>\n<node op="MatMul"><input src="x"/><params name="W" dim="[4, 2]"/>'
        '<output name="y"/></node>\n</block>\n<export from="y" dim="[3, 2]"/>\n</model>\n')
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "agrippa_lsp"])


async def _start(lsp_client: LanguageClient, workspace, encodings: list[str] | None) -> None:
    caps = client_capabilities("visual-studio-code")
    caps.general = lsp.GeneralClientCapabilities(position_encodings=encodings)
    result = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=caps, workspace_folders=[lsp.WorkspaceFolder(uri=path_to_uri(str(workspace)), name="ws")]))
    lsp_client.encoding = result.capabilities.position_encoding or lsp.PositionEncodingKind.Utf16
    lsp_client.workspace_dir = workspace


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path_factory):
    await _start(lsp_client, tmp_path_factory.mktemp("ws"), None)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, params=[None, ["utf-16"], ["utf-16", "utf-8"]])
async def enc_client(request, lsp_client: LanguageClient, tmp_path_factory):
    await _start(lsp_client, tmp_path_factory.mktemp("ws"), request.param)
    yield
    await lsp_client.shutdown_session()


async def _still_answers(client: LanguageClient) -> None:
    """A hover on a well-formed file in another project answers (the server is alive and free)."""
    root = client.workspace_dir / f"good{time.monotonic_ns()}"
    make_project(root, {"main.agr": GOOD})
    uri = open_file(client, root / "main.agr")
    t = time.perf_counter()
    assert "**MatMul**" in await asyncio.wait_for(hover_text(client, uri, GOOD, 'op="MatMul"', 6), 20)
    print(f"hover afterwards: {(time.perf_counter() - t) * 1000:.0f} ms")


def _of(diags: list[lsp.Diagnostic], code: str) -> list[lsp.Diagnostic]:
    return [d for d in diags if d.code == code]


async def test_positions_after_astral_characters_follow_the_negotiated_encoding(enc_client: LanguageClient):
    client = enc_client
    expected = lsp.PositionEncodingKind.Utf8 if client.encoding == "utf-8" else lsp.PositionEncodingKind.Utf16
    assert client.encoding == expected
    text = (f'<model>{IO}<block title="😀 é 😀"><node op="Relux"><input src="x"/><output name="y"/></node>'
            '<node op="MatMul"><input src="x"/><params name="W" dim="[4, 2]"/><output name="z"/></node>'
            '</block></model>')
    root = client.workspace_dir / "astral"
    uri = open_file(client, make_project(root, {"main.agr": text}) / "main.agr")
    [d] = _of(await diagnostics_for(client, uri, until=lambda ds: bool(_of(ds, "unknown-op"))), "unknown-op")
    at = text.index("Relux")
    assert d.range == lsp.Range(start=client_position(text, at, expected), end=client_position(text, at + 5, expected))
    col = _units(text[:text.index('op="MatMul"') + 6], expected)  # a hover after the emoji
    h = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=col)))
    assert h is not None and "**MatMul**" in h.contents.value


async def test_cr_only_line_endings_give_exact_ranges(client: LanguageClient):
    text = "\r".join(["<model>", IO, "<block>", '<node op="Relux"><input src="x"/><output name="y"/></node>',
                      "</block>", "</model>", ""])
    uri = open_file(client, make_project(client.workspace_dir / "cr", {"main.agr": "<model/>"}) / "main.agr", text)
    [d] = _of(await diagnostics_for(client, uri, until=lambda ds: bool(_of(ds, "unknown-op"))), "unknown-op")
    assert d.range == lsp.Range(start=lsp.Position(line=3, character=10), end=lsp.Position(line=3, character=15))
    await _still_answers(client)


async def test_a_byte_order_mark_is_not_text_outside_the_root(client: LanguageClient):
    text = "\ufeff" + GOOD.replace('op="MatMul"', 'op="Relux"')
    uri = open_file(client, make_project(client.workspace_dir / "bom", {"main.agr": "<model/>"}) / "main.agr", text)
    diags = await diagnostics_for(client, uri, until=lambda ds: bool(_of(ds, "unknown-op")))
    assert not _of(diags, "xml-syntax"), diags
    await _still_answers(client)


async def test_a_utf16_file_gets_one_clear_diagnostic(client: LanguageClient):
    root = client.workspace_dir / "utf16"
    text = f'<model>{IO}<block src="lib.agr" name="l"/></model>'
    make_project(root, {"main.agr": text})
    (root / "lib.agr").write_bytes('<block><node op="Relu"/></block>'.encode("utf-16"))
    uri = open_file(client, root / "main.agr")
    diags = await diagnostics_for(client, uri, until=lambda ds: any("UTF-16" in d.message for d in ds))
    [d] = [d for d in diags if "UTF-16" in d.message]
    at = text.index("lib.agr")
    assert (d.range.start.character, d.range.end.character) == (at, at + 7)
    await _still_answers(client)


async def test_incremental_edits_after_line_separator_lookalikes(enc_client: LanguageClient):
    """After a form feed, U+2028, U+0085 and astral characters in <desc>, edits land where the
    editor made them: the server's copy equals the editor's text, edit after edit."""
    client, enc = enc_client, enc_client.encoding
    text = (f'<model>{IO}\n<desc>a\fb\u2028c\u0085d 😀 e\u2029f\x1cg</desc>\n<block>\n'
            '<node op="Relu"><input src="x"/><output name="y"/></node>\n</block>\n</model>\n')
    uri = open_file(client, make_project(client.workspace_dir / "ff", {"main.agr": text}) / "main.agr")
    await diagnostics_for(client, uri)
    edits = [("Relu", "Relux"), ("😀", "😀😀"), ('name="y"', 'name="\fy\u2028"'), ("</block>", "</block>\r\n")]
    for version, (old, new) in enumerate(edits, start=2):
        a = text.index(old)
        rng = lsp.Range(start=client_position(text, a, enc), end=client_position(text, a + len(old), enc))
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(range=rng, text=new)]))
        text = text[:a] + new + text[a + len(old):]
        got = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="agrippa.debug.text", arguments=[uri]))
        assert got["text"] == text and got["version"] == version
    [d] = _of(await diagnostics_for(client, uri, until=lambda ds: bool(_of(ds, "unknown-op"))), "unknown-op")
    at = text.index("Relux")
    assert d.range.start == client_position(text, at, enc)
    await _still_answers(client)


async def test_surrogates_and_bidi_controls_in_names(client: LanguageClient):
    text = (f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a&#xD800;b"/></node>'
            '<node op="Relu"><input src="x"/><output name="c\ud800d"/></node>'
            '<node op="Relu"><input src="x"/><output name="ab\u202ec"/></node></block></model>')
    uri = open_file(client, make_project(client.workspace_dir / "names", {"main.agr": "<model/>"}) / "main.agr",
                    text)
    diags = await diagnostics_for(client, uri, until=lambda ds: bool(_of(ds, "bidi-control")))
    bad = _of(diags, "xml-bad-char")
    assert len(bad) == 2 and all("surrogate" in d.message for d in bad)
    assert bad[0].range.start.character == _units(text[:text.index("&#xD800;")], "utf-16")
    [bidi] = _of(diags, "bidi-control")
    assert bidi.severity == lsp.DiagnosticSeverity.Warning and "Trojan Source" in bidi.message
    assert bidi.range.start.character == _units(text[:text.index("\u202e")], "utf-16")
    await _still_answers(client)


FLOODS = {
    "1,000,000 unknown entity references": (
        f"<model>{IO}<block><node op='Relu' title='" + "&foo;" * 1_000_000 + "'><input src='x'/>"
        "<output name='y'/></node></block></model>"),
    "1,000,000 stray <": f"<model>{IO}" + "< " * 1_000_000 + "</model>",
    "100,000 unknown attributes": (
        f"<model>{IO}<block><node op='Relu' " + " ".join(f'a{i}="1"' for i in range(100_000))
        + "><input src='x'/><output name='y'/></node></block></model>"),
}


@pytest.mark.parametrize("case", sorted(FLOODS))
async def test_a_flood_is_capped_and_other_files_are_answered_meanwhile(client: LanguageClient, case):
    good_root = make_project(client.workspace_dir / "calm", {"main.agr": GOOD})
    good = open_file(client, good_root / "main.agr")
    await diagnostics_for(client, good)
    root = make_project(client.workspace_dir / "flood", {"main.agr": "<model/>"})
    t = time.perf_counter()
    uri = open_file(client, root / "main.agr", FLOODS[case])
    hover = await asyncio.wait_for(hover_text(client, good, GOOD, 'op="MatMul"', 6), 20)  # while the flood is read
    hover_s = time.perf_counter() - t
    diags = await diagnostics_for(client, uri, timeout=30,
                                  until=lambda ds: any(d.code == "too-many-diagnostics" for d in ds))
    elapsed = time.perf_counter() - t
    print(f"{case}: diagnostics in {elapsed:.2f} s ({len(diags)}), a hover elsewhere meanwhile in {hover_s:.2f} s")
    assert "**MatMul**" in hover
    assert len(diags) <= 1001 and elapsed < 10
    await _still_answers(client)


async def test_commands_act_only_inside_the_workspace(client: LanguageClient, tmp_path):
    outside = make_project(tmp_path / "elsewhere", {"main.agr": GOOD})
    uri = open_file(client, outside / "main.agr")
    await diagnostics_for(client, uri)  # analysis works anywhere
    for command in ("agrippa.compile", "agrippa.train"):
        got = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=command, arguments=[uri]))
        assert "outside the workspace" in got["error"], got
    assert not (outside / "main.onnx").exists()
    inside = make_project(client.workspace_dir / "proj", {"main.agr": GOOD})
    got = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="agrippa.compile", arguments=[open_file(client, inside / "main.agr")]))
    assert got.get("path") == str(inside / "main.onnx"), got
    await _still_answers(client)


async def test_a_cr_only_agrippa_toml_and_a_deeply_nested_one(client: LanguageClient):
    """The config's mistakes land on the lines the editor shows (lines end at \\r), and a
    toml nested 100,000 deep is one diagnostic, not a silent project."""
    root = client.workspace_dir / "toml"
    cr = "[model]\ropset = 99\r\r[bindings]\rn = true\r"
    make_project(root, {"main.agr": GOOD, "agrippa.toml": cr})
    open_file(client, root / "main.agr")
    toml_uri = path_to_uri(str(root / "agrippa.toml"))
    diags = await diagnostics_for(client, toml_uri, 20, until=lambda ds: len(_of(ds, "config")) == 2)
    assert sorted(d.range.start.line for d in _of(diags, "config")) == [1, 4]
    deep = "[bindings]\nn = " + "[" * 100_000 + "]" * 100_000 + "\n"
    deep_root = client.workspace_dir / "deep"
    make_project(deep_root, {"main.agr": GOOD, "agrippa.toml": deep})
    open_file(client, deep_root / "main.agr")
    deep_uri = path_to_uri(str(deep_root / "agrippa.toml"))
    [d] = _of(await diagnostics_for(client, deep_uri, 20, until=lambda ds: bool(_of(ds, "config-syntax"))),
              "config-syntax")
    assert d.range.start == lsp.Position(line=1, character=4 + 64) and "nest more than 64" in d.message
    await _still_answers(client)
