"""Rename end to end: prepare, edits across files, refusals as error responses.
(Every case is tested on `agrippa.ide.rename` in tests/ide/test_rename.py.)"""
from __future__ import annotations

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import SOURCED_PROJECT, apply_edits, edits_by_uri, open_project, position_of


async def rename(client: LanguageClient, uri: str, text: str, needle: str, offset: int, new: str) -> dict[str, list]:
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, needle, offset), new_name=new))
    return edits_by_uri(edit)


async def test_prepare_rename_gives_the_name_without_its_prefix(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    got = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, 'src="enc$result"', 7)))
    start = position_of(text, 'src="enc$result"', 9)
    assert isinstance(got, lsp.PrepareRenamePlaceholder)
    assert got.placeholder == "result"
    assert (got.range.start, got.range.end.character) == (start, start.character + 6)
    nothing = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, 'op="Relu"', 5)))
    assert nothing is None


async def test_renaming_in_the_sourced_file_edits_the_parent_keeping_the_prefix(client: LanguageClient, tmp_path):
    await open_project(client, tmp_path, SOURCED_PROJECT)
    enc_uri = path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    enc = SOURCED_PROJECT["sub/enc.agr"]
    edits = await rename(client, enc_uri, enc, 'name="result"', 8, "out")
    main_uri = path_to_uri(str(tmp_path / "main.agr"))
    assert set(edits) == {enc_uri, main_uri}
    new_enc = apply_edits(enc, edits[enc_uri])
    assert 'name="out"' in new_enc and 'from="out"' in new_enc and "result" not in new_enc
    new_main = apply_edits(SOURCED_PROJECT["main.agr"], edits[main_uri])
    assert SOURCED_PROJECT["main.agr"].replace("enc$result", "enc$out") == new_main


@pytest.mark.parametrize("new, why", [("z", "already defined"), ("a.b", "not allowed")])
async def test_clashing_or_malformed_names_are_refused(client: LanguageClient, tmp_path, new: str, why: str):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    with pytest.raises(JsonRpcException, match=why):
        await rename(client, uri, text, '<input src="y"', 13, new)
