"""Go to definition, find references, document links (`agrippa.ide.navigation`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide import navigation

from ..convert import path_to_uri, uri_to_path
from . import expanded

if TYPE_CHECKING:
    from ..language_server import AgrippaServer


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: AgrippaServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        if expanded.is_expanded(params.text_document.uri):  # the expanded model's names → the markup
            return await expanded.definition(ls, params.text_document.uri, params.position)
        pos = ls.convert.from_position(uri_to_path(params.text_document.uri), params.position)
        return ls.convert.locations(await ls.query(params.text_document.uri, navigation.definitions, pos) or ()) or None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: AgrippaServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        pos = ls.convert.from_position(uri_to_path(params.text_document.uri), params.position)
        got = await ls.query(params.text_document.uri, navigation.references, pos, params.context.include_declaration)
        return ls.convert.locations(got or ()) or None

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_LINK, lsp.DocumentLinkOptions())
    async def links(ls: AgrippaServer, params: lsp.DocumentLinkParams) -> list[lsp.DocumentLink] | None:
        if expanded.is_expanded(params.text_document.uri):
            return await expanded.links(ls, params.text_document.uri)
        got = await ls.query(params.text_document.uri, navigation.document_links)
        if got is None:
            return None
        caps = ls.client_capabilities.text_document
        tips = bool(caps and caps.document_link and caps.document_link.tooltip_support)
        path = uri_to_path(params.text_document.uri)
        return [lsp.DocumentLink(range=ls.convert.range(path, k.range), target=path_to_uri(k.target),
                                 tooltip=k.tooltip if tips else None) for k in got]
