"""Hover: shapes, op docs, parameters, blocks and bound names (`agrippa.ide.hover`); in
agrippa.toml, its tables' and keys' documentation (`agrippa.ide.toml_hover`)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.hover import hover
from agrippa.ide.toml_context import is_config
from agrippa.ide.toml_hover import toml_hover

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer


def markup_kind(server: AgrippaServer) -> lsp.MarkupKind:
    """Markdown unless the client says it only shows plain text."""
    try:
        formats = server.client_capabilities.text_document.hover.content_format
    except AttributeError:
        formats = None
    if formats and lsp.MarkupKind.Markdown not in formats:
        return lsp.MarkupKind.PlainText
    return lsp.MarkupKind.Markdown


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: AgrippaServer, params: lsp.HoverParams) -> lsp.Hover | None:
        path = uri_to_path(params.text_document.uri)
        pos = ls.convert.from_position(path, params.position)
        if is_config(path):
            got = toml_hover(ls.workspace.get_text_document(params.text_document.uri).source, pos)
        else:
            got = await asyncio.to_thread(hover, ls.host, path, pos)  # may wait for the symbolic shapes
        if got is None:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=markup_kind(ls), value=got.text),
                         range=ls.convert.range(path, got.range) if got.range is not None else None)
