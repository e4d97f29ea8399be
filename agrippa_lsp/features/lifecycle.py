"""After `initialized`: pull the client's settings and register the file watchers."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from . import configuration, documents

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

log = logging.getLogger(__name__)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: AgrippaServer, params: lsp.InitializedParams) -> None:
        if configuration.supports_pull(ls):
            try:
                await configuration.pull(ls)
            except Exception:
                log.exception("workspace/configuration failed")
        try:
            await documents.watch_files(ls)
        except Exception:
            log.exception("registering file watchers failed")
