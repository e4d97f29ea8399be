"""Text synchronisation: open, change, save and close of documents, and watched files.

Each change invalidates what the host derived from that file and schedules diagnostics;
an `agrippa.toml` change re-checks every open project and refreshes the views.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.project.config import CONFIG_FNAME

from ..convert import uri_to_path
from ..diagnostics import DEBOUNCE_S
from .configuration import refresh_views

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

WATCHED = ("**/agrippa.toml", "**/*.agr", "**/*.xml")


def touched(ls: AgrippaServer, uri: str, delay: float) -> None:
    path = uri_to_path(uri)
    ls.host.changed(path)
    if os.path.basename(path) == CONFIG_FNAME:  # bindings may change every open project
        refresh_views(ls, delay)
    ls.publisher.schedule(path, delay)


async def watch_files(server: AgrippaServer) -> None:
    """Ask the client to report changes on disk to the project files (when it can)."""
    ws = server.client_capabilities.workspace
    dyn = ws.did_change_watched_files if ws is not None else None
    if dyn is None or not dyn.dynamic_registration:
        return
    options = lsp.DidChangeWatchedFilesRegistrationOptions(
        watchers=[lsp.FileSystemWatcher(glob_pattern=g) for g in WATCHED])
    await server.client_register_capability_async(lsp.RegistrationParams(registrations=[
        lsp.Registration(id="agrippa-watch", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                         register_options=options)]))


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AgrippaServer, params: lsp.DidOpenTextDocumentParams) -> None:
        touched(ls, params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AgrippaServer, params: lsp.DidChangeTextDocumentParams) -> None:
        touched(ls, params.text_document.uri, DEBOUNCE_S)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AgrippaServer, params: lsp.DidSaveTextDocumentParams) -> None:
        touched(ls, params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AgrippaServer, params: lsp.DidCloseTextDocumentParams) -> None:
        touched(ls, params.text_document.uri, 0)  # the disk's text applies again

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: AgrippaServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for ch in params.changes:
            touched(ls, ch.uri, DEBOUNCE_S)
