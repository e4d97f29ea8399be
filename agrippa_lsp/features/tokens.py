"""Semantic tokens, whole document and range (`agrippa.ide.tokens`).

The IDE gives tokens as ranges in code points; here they are encoded as LSP wants them:
five integers each, line and start relative to the previous token, start and length in
the client's units (UTF-16 or UTF-8, `positions.py`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.tokens import TOKEN_MODIFIERS, TOKEN_TYPES, Token, semantic_tokens

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

LEGEND = lsp.SemanticTokensLegend(token_types=list(TOKEN_TYPES), token_modifiers=list(TOKEN_MODIFIERS))
_TYPE = {t: i for i, t in enumerate(TOKEN_TYPES)}
_MOD = {m: 1 << i for i, m in enumerate(TOKEN_MODIFIERS)}


def encode(tokens: list[Token], units) -> list[int]:
    data: list[int] = []
    prev_line = prev_start = 0
    columns_line, columns = -1, None
    for r, kind, mods in tokens:
        line, start, end = r.start.line, r.start.character, r.end.character
        if line != columns_line:
            columns_line, columns = line, units.line_columns(line)
        if columns is not None:
            start, end = columns(start), columns(end)
        bits = 0
        for m in mods:
            bits |= _MOD[m]
        data += (line - prev_line, start - prev_start if line == prev_line else start, end - start, _TYPE[kind], bits)
        prev_line, prev_start = line, start
    return data


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND)
    async def full(ls: AgrippaServer, params: lsp.SemanticTokensParams) -> lsp.SemanticTokens | None:
        got = await ls.query(params.text_document.uri, semantic_tokens)
        if got is None:
            return None
        return lsp.SemanticTokens(data=encode(got, ls.convert.units(uri_to_path(params.text_document.uri))))

    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE, LEGEND)
    async def in_range(ls: AgrippaServer, params: lsp.SemanticTokensRangeParams) -> lsp.SemanticTokens | None:
        path = uri_to_path(params.text_document.uri)
        got = await ls.query(params.text_document.uri, semantic_tokens, ls.convert.from_range(path, params.range))
        if got is None:
            return None
        return lsp.SemanticTokens(data=encode(got, ls.convert.units(path)))
