"""Rename tensors and parameters across files and prefixes (`agrippa.ide.rename`).

A refused rename answers with an error response carrying the reason, so the handler is
registered without the server's guard (which would turn it into an empty answer).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from agrippa.ide.rename import RenameRefused, prepare_rename, rename

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

log = logging.getLogger(__name__)


class RenameError(JsonRpcException):
    CODE = lsp.LSPErrorCodes.RequestFailed


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare(ls: AgrippaServer, params: lsp.PrepareRenameParams) -> lsp.PrepareRenamePlaceholder | None:
        path = uri_to_path(params.text_document.uri)
        got = await ls.query(params.text_document.uri, prepare_rename, ls.convert.from_position(path, params.position))
        return lsp.PrepareRenamePlaceholder(range=ls.convert.range(path, got[0]), placeholder=got[1]) if got else None

    async def on_rename(ls: AgrippaServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        try:
            pos = ls.convert.from_position(uri_to_path(params.text_document.uri), params.position)
            edits = await ls.query(params.text_document.uri, rename, pos, params.new_name)
        except RenameRefused as e:
            raise RenameError(str(e)) from None
        except Exception:
            log.exception("rename failed")
            return None
        if not edits:
            return None if edits is None else lsp.WorkspaceEdit(changes={})
        return ls.convert.workspace_edit(edits, ls.takes_document_changes(), ls.version_of)

    LanguageServer.feature(server, lsp.TEXT_DOCUMENT_RENAME)(on_rename)
