"""Go to definition, find references, document links (`agrippa.ide.navigation`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide import navigation

from ..convert import from_lsp_position, path_to_uri, to_lsp_locations, to_lsp_range

if TYPE_CHECKING:
    from ..language_server import AgrippaServer


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: AgrippaServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        pos = from_lsp_position(params.position)
        return to_lsp_locations(await ls.query(params.text_document.uri, navigation.definitions, pos) or ()) or None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: AgrippaServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        pos, decl = from_lsp_position(params.position), params.context.include_declaration
        got = await ls.query(params.text_document.uri, navigation.references, pos, decl)
        return to_lsp_locations(got or ()) or None

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_LINK, lsp.DocumentLinkOptions())
    async def links(ls: AgrippaServer, params: lsp.DocumentLinkParams) -> list[lsp.DocumentLink] | None:
        got = await ls.query(params.text_document.uri, navigation.document_links)
        if got is None:
            return None
        caps = ls.client_capabilities.text_document
        tips = bool(caps and caps.document_link and caps.document_link.tooltip_support)
        return [lsp.DocumentLink(range=to_lsp_range(k.range), target=path_to_uri(k.target),
                                 tooltip=k.tooltip if tips else None) for k in got]
