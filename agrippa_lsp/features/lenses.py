"""Code lenses: ▶ Train · Compile · Show graph · parameter counts (`agrippa.ide.lenses`).

Train and Compile run the commands every client has (the server's `agrippa.train` and
`agrippa.compile`, which the VS Code extension wraps with the same names); Show graph
only when the client said it implements `agrippa.showGraph`. Counts are labels (no command).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.lenses import COMPILE, GRAPH, TRAIN, code_lenses

from ..convert import uri_to_path
from .client_commands import SHOW_GRAPH, supports

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

COMMANDS = {TRAIN: "agrippa.train", COMPILE: "agrippa.compile", GRAPH: SHOW_GRAPH}  # commands.py's TRAIN, COMPILE


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
    async def lenses(ls: AgrippaServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens] | None:
        uri = params.text_document.uri
        got = await ls.query(uri, code_lenses, supports(ls, SHOW_GRAPH))
        if not got:
            return None
        path = uri_to_path(uri)
        out = []
        for lens in got:
            command = COMMANDS.get(lens.action or "", "")
            out.append(lsp.CodeLens(range=ls.convert.range(path, lens.range), command=lsp.Command(
                title=lens.title, command=command, arguments=[uri] if command else None)))
        return out
