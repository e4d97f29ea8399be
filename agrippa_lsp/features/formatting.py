"""Document and range formatting (`agrippa.ide.format`): indentation from the client's
options, attribute layout from the `agrippa.format.attributes` setting. A file with XML
syntax errors gets no edits."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.format import Options, format_edits

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer


def _edits(host, path: str, opts: Options, within) -> list | None:
    got = host.file_analysis(path)
    return format_edits(got[1], opts, within) if got is not None else None


async def _format(ls: AgrippaServer, uri: str, options: lsp.FormattingOptions, rng: lsp.Range | None):
    path = uri_to_path(uri)
    opts = Options(tab_size=max(1, min(int(options.tab_size or 4), 16)), insert_spaces=bool(options.insert_spaces),
                   attributes=ls.host.settings.format_attributes)
    within = ls.convert.from_range(path, rng) if rng is not None else None
    got = await ls.query(uri, _edits, opts, within)
    if got is None:
        return None
    return [lsp.TextEdit(range=ls.convert.range(path, r), new_text=t) for r, t in got]


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    async def document(ls: AgrippaServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        return await _format(ls, params.text_document.uri, params.options, None)

    @server.feature(lsp.TEXT_DOCUMENT_RANGE_FORMATTING)
    async def in_range(ls: AgrippaServer, params: lsp.DocumentRangeFormattingParams) -> list[lsp.TextEdit] | None:
        return await _format(ls, params.text_document.uri, params.options, params.range)
