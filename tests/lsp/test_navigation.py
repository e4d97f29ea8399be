"""Go to definition, find references and document links end to end, across a sourced file.
(Every kind of target is tested on `agrippa.ide.navigation` in tests/ide/test_navigation.py.)"""
from __future__ import annotations

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import SOURCED_PROJECT, open_project, position_of


async def definition(client: LanguageClient, uri: str, text: str, needle: str, offset: int) -> list[lsp.Location]:
    got = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, needle, offset)))
    if got is None:
        return []
    return got if isinstance(got, list) else [got]


def at(loc: lsp.Location) -> tuple[str, int, int, int]:
    return loc.uri.rsplit("/", 1)[-1], loc.range.start.line, loc.range.start.character, loc.range.end.character


async def test_definition_through_a_prefix_lands_in_the_sourced_file(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    [loc] = await definition(client, uri, text, 'src="enc$result"', 9)
    assert loc.uri == path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    enc = SOURCED_PROJECT["sub/enc.agr"]
    p = position_of(enc, 'name="result"', 6)
    assert (loc.range.start.line, loc.range.start.character) == (p.line, p.character)


async def test_block_source_goes_to_the_file_and_is_a_document_link(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    [loc] = await definition(client, uri, text, 'src="sub/enc.agr"', 8)
    assert loc.uri == path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    links = await client.text_document_document_link_async(lsp.DocumentLinkParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [(link.target, link.range.start.line) for link in links] == [(loc.uri, 7)]


async def test_references_across_files_with_and_without_the_declaration(client: LanguageClient, tmp_path):
    uri, text = await open_project(client, tmp_path, SOURCED_PROJECT)
    enc_uri = path_to_uri(str(tmp_path / "sub" / "enc.agr"))
    enc = SOURCED_PROJECT["sub/enc.agr"]

    async def refs(u: str, t: str, needle: str, offset: int, decl: bool) -> list[tuple]:
        got = await client.text_document_references_async(lsp.ReferenceParams(
            text_document=lsp.TextDocumentIdentifier(uri=u), position=position_of(t, needle, offset),
            context=lsp.ReferenceContext(include_declaration=decl)))
        return sorted(at(loc) for loc in got or [])

    expected = sorted([("enc.agr", *_span(enc, 'name="result"', 6, 6)), ("enc.agr", *_span(enc, 'from="result"', 6, 6)),
                       ("main.agr", *_span(text, 'src="enc$result"', 5, 10))])
    assert await refs(enc_uri, enc, 'name="result"', 7, True) == expected
    assert await refs(uri, text, 'src="enc$result"', 9, True) == expected
    assert await refs(uri, text, 'src="enc$result"', 9, False) == [e for e in expected if e[1:] != _span(enc, 'name="result"', 6, 6)]
    # x: the root import, two uses
    assert len(await refs(uri, text, 'from="x"', 6, True)) == 3


def _span(text: str, needle: str, offset: int, length: int) -> tuple[int, int, int]:
    p = position_of(text, needle, offset)
    return p.line, p.character, p.character + length
