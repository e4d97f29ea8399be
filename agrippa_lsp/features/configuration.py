"""Configuration: client settings (section `agrippa`) and the projects' `agrippa.toml`.

Settings are pulled with `workspace/configuration` after `initialized` (lifecycle.py,
when the client supports it) and again on `workspace/didChangeConfiguration`; clients
that push settings instead are read from the notification. `agrippa.toml` changes arrive as buffer edits or
watched-file events (documents.py). Every change re-publishes diagnostics and asks the
client to refresh inlay hints.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.host import Settings

from . import inlay_hints

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

log = logging.getLogger(__name__)
SECTION = "agrippa"


def supports_pull(server: AgrippaServer) -> bool:
    ws = server.client_capabilities.workspace
    return bool(ws is not None and ws.configuration)


def refresh_views(server: AgrippaServer, delay: float = 0) -> None:
    """Re-publish diagnostics of every open project and refresh inlay hints."""
    server.publisher.schedule_open(delay)
    try:
        inlay_hints.refresh(server)
    except Exception:
        log.exception("inlay hint refresh failed")


def apply(server: AgrippaServer, data: object) -> None:
    settings = Settings.from_json(data)
    if settings != server.host.settings:
        server.host.settings_changed(settings)
        refresh_views(server)


async def pull(server: AgrippaServer) -> None:
    """Ask the client for the `agrippa` section and apply it."""
    result = await server.workspace_configuration_async(
        lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=SECTION)]))
    apply(server, result[0] if result else None)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def changed(ls: AgrippaServer, params: lsp.DidChangeConfigurationParams) -> None:
        pushed = params.settings.get(SECTION) if isinstance(params.settings, dict) else None
        if pushed is not None:
            apply(ls, pushed)
        elif supports_pull(ls):
            await pull(ls)
