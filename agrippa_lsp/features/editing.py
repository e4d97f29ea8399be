"""Linked editing of tag names and selection ranges (`agrippa.ide.selection`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.selection import linked_tag_ranges, selection_ranges

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

TAG_NAME = r"[A-Za-z_][-A-Za-z0-9_.]*"


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_LINKED_EDITING_RANGE)
    async def linked(ls: AgrippaServer, params: lsp.LinkedEditingRangeParams) -> lsp.LinkedEditingRanges | None:
        path = uri_to_path(params.text_document.uri)
        got = await ls.query(params.text_document.uri, linked_tag_ranges, ls.convert.from_position(path, params.position))
        if not got:
            return None
        return lsp.LinkedEditingRanges(ranges=[ls.convert.range(path, r) for r in got], word_pattern=TAG_NAME)

    @server.feature(lsp.TEXT_DOCUMENT_SELECTION_RANGE)
    async def selection(ls: AgrippaServer, params: lsp.SelectionRangeParams) -> list[lsp.SelectionRange] | None:
        path = uri_to_path(params.text_document.uri)
        positions = [ls.convert.from_position(path, p) for p in params.positions]
        got = await ls.query(params.text_document.uri, selection_ranges, positions)
        if got is None:
            return None
        out = []
        for p, chain in zip(params.positions, got):
            node = None
            for r in reversed(chain):  # outermost first, each the parent of the next
                node = lsp.SelectionRange(range=ls.convert.range(path, r), parent=node)
            out.append(node or lsp.SelectionRange(range=lsp.Range(start=p, end=p)))
        return out
