"""Document highlight: the tensor, parameter or binding under the cursor, everywhere in the
file (`agrippa.ide.highlight`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.highlight import READ, WRITE, highlights

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

KINDS = {READ: lsp.DocumentHighlightKind.Read, WRITE: lsp.DocumentHighlightKind.Write}


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    async def highlight(ls: AgrippaServer, params: lsp.DocumentHighlightParams) -> list[lsp.DocumentHighlight] | None:
        path = uri_to_path(params.text_document.uri)
        got = await ls.query(params.text_document.uri, highlights, ls.convert.from_position(path, params.position))
        return [lsp.DocumentHighlight(range=ls.convert.range(path, h.range),
                                      kind=KINDS.get(h.kind, lsp.DocumentHighlightKind.Text)) for h in got] if got else None
