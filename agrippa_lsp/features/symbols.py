"""Document symbols, workspace symbols and folding ranges (`agrippa.ide.symbols`)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide import symbols
from agrippa.ide.symbols import Symbol

from ..convert import Converter, uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

KINDS = {"model": lsp.SymbolKind.Module, "block": lsp.SymbolKind.Namespace, "node": lsp.SymbolKind.Function}


def kind_of(tag: str) -> lsp.SymbolKind:
    return KINDS.get(tag, lsp.SymbolKind.Variable)


def to_lsp(s: Symbol, convert: Converter, path: str) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(name=s.name, kind=kind_of(s.kind), range=convert.range(path, s.range),
                              selection_range=convert.range(path, s.selection), detail=s.detail or None,
                              children=[to_lsp(c, convert, path) for c in s.children] or None)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbols(ls: AgrippaServer, params: lsp.DocumentSymbolParams) -> list | None:
        uri = params.text_document.uri
        tree = await ls.query(uri, symbols.document_symbols)
        if tree is None:
            return None
        caps, path = ls.client_capabilities.text_document, uri_to_path(uri)
        if caps and caps.document_symbol and caps.document_symbol.hierarchical_document_symbol_support:
            return [to_lsp(s, ls.convert, path) for s in tree]
        return [lsp.SymbolInformation(name=s.name, kind=kind_of(s.kind), container_name=container,
                                      location=ls.convert.location(path, s.range))
                for s, container in symbols.flatten(tree)]

    @server.feature(lsp.WORKSPACE_SYMBOL)
    async def workspace_symbols(ls: AgrippaServer, params: lsp.WorkspaceSymbolParams) -> list[lsp.WorkspaceSymbol]:
        got = await asyncio.to_thread(symbols.workspace_symbols, ls.host, ls.open_paths(), params.query)
        return [lsp.WorkspaceSymbol(name=s.name, kind=kind_of(s.kind), container_name=s.container,
                                    location=ls.convert.location(s.location.file, s.location.range)) for s in got]

    @server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding(ls: AgrippaServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange] | None:
        got = await ls.query(params.text_document.uri, symbols.folding_ranges)
        return None if got is None else [lsp.FoldingRange(
            start_line=f.start_line, end_line=f.end_line, kind=lsp.FoldingRangeKind.Comment if f.comment else None)
            for f in got]
