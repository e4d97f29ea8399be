"""Which client-side commands the client implements (`initializationOptions.clientCommands`).

Lenses and code actions may run commands only the client has (the VS Code extension's
graph view and expanded view); a client lists them at `initialize`, and any other client
gets only what the server itself runs (`workspace/executeCommand`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

SHOW_GRAPH = "agrippa.showGraph"
SHOW_EXPANDED = "agrippa.showExpanded"


def supports(server: AgrippaServer, command: str) -> bool:
    return command in getattr(server, "client_commands", frozenset())


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: AgrippaServer, params: lsp.InitializeParams) -> None:
        opts = params.initialization_options
        given = opts.get("clientCommands") if isinstance(opts, dict) else None
        ls.client_commands = frozenset(c for c in given if isinstance(c, str)) if isinstance(given, list) else frozenset()
