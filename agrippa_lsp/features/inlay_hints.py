"""Inlay hints: each output's inferred shape after its `name="..."` (`agrippa.ide.hints`)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.hints import InlayHint, inlay_hints

from ..convert import Converter, uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer


def to_lsp(h: InlayHint, convert: Converter, path: str) -> lsp.InlayHint:
    return lsp.InlayHint(position=convert.position(path, h.position), label=h.label, kind=lsp.InlayHintKind.Type,
                         padding_left=True, tooltip=h.tooltip)


def refresh(server: AgrippaServer) -> None:
    """Ask the client to re-request inlay hints, when it supports that."""
    caps = server.client_capabilities.workspace
    ih = caps.inlay_hint if caps is not None else None
    if ih is not None and ih.refresh_support:
        server.workspace_inlay_hint_refresh(None)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintOptions(resolve_provider=False))
    async def hints(ls: AgrippaServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
        path, rng = uri_to_path(params.text_document.uri), params.range
        got = await asyncio.to_thread(inlay_hints, ls.host, path, rng.start.line, rng.end.line)
        return [to_lsp(h, ls.convert, path) for h in got]
