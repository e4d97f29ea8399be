"""The server object: a pygls LanguageServer holding the analysis host, the diagnostics
publisher and the running trainings, which the feature modules use.

Every handler registered through `feature` or `command` is guarded: an exception is
logged and answered with an empty result, so one broken feature never breaks the others
and no request ever fails at the client.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from agrippa import __version__
from agrippa.ide.host import AnalysisHost
from agrippa.project.config import SOURCE_SUFFIXES

from .convert import path_to_uri, uri_to_path
from .diagnostics import Publisher

log = logging.getLogger(__name__)
T = TypeVar("T")


def guarded(name: str, f: Callable) -> Callable:
    """`f`, logging and swallowing any exception (the result is then None)."""
    if asyncio.iscoroutinefunction(f):
        @functools.wraps(f)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await f(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", name)
                return None
        return run_async

    @functools.wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except Exception:
            log.exception("%s failed", name)
            return None
    return run


class AgrippaServer(LanguageServer):
    host: AnalysisHost  # the analyses of the open projects
    publisher: Publisher  # diagnostics, pushed after edits
    trainings: dict[asyncio.subprocess.Process, str]  # running trainer -> project dir

    def __init__(self) -> None:
        super().__init__("agrippa-lsp", __version__)
        self.host = AnalysisHost(self.open_text)
        self.publisher = Publisher(self, self.host)
        self.trainings = {}

    def feature(self, feature_name: str, options: Any | None = None) -> Callable:
        register = super().feature(feature_name, options)
        return lambda f: register(guarded(feature_name, f))

    def command(self, command_name: str) -> Callable:
        register = super().command(command_name)
        return lambda f: register(guarded(command_name, f))

    def start_io(self, *args: Any, **kwargs: Any) -> None:
        # Freeze what the imports made and collect less often (agrippa.base.runtime).
        # Analyses hold no reference cycles, so a replaced one is freed at once by
        # reference counting; the cyclic collector only meets libraries' leftovers.
        from agrippa.base.runtime import tune_gc

        tune_gc((200_000, 10, 10))
        super().start_io(*args, **kwargs)

    def open_text(self, path: str) -> str | None:
        """The editor's text for `path` when the file is open, else None (read the disk)."""
        doc = self.workspace.text_documents.get(path_to_uri(path))
        if doc is None:
            for uri, d in list(self.workspace.text_documents.items()):
                if uri_to_path(uri) == os.path.abspath(path):
                    return d.source
            return None
        return doc.source

    def open_paths(self) -> list[str]:
        """The open markup files."""
        return [p for p in map(uri_to_path, list(self.workspace.text_documents)) if p.endswith(SOURCE_SUFFIXES)]

    def version_of(self, uri: str) -> int | None:
        doc = self.workspace.text_documents.get(uri)
        return doc.version if doc is not None else None

    def takes_document_changes(self, create: bool = False) -> bool:
        """The client applies `documentChanges` (and, with `create`, file creations)."""
        ws = self.client_capabilities.workspace
        we = ws.workspace_edit if ws else None
        if we is None or not we.document_changes:
            return False
        return not create or lsp.ResourceOperationKind.Create in (we.resource_operations or ())

    async def query(self, uri: str, fn: Callable[..., T], *args: Any) -> T | None:
        """`fn(host, path, *args)` for the file at `uri`: at once when its analysis is at
        hand, else in a thread (an analysis must not block the server)."""
        path = uri_to_path(uri)
        if not path.endswith(SOURCE_SUFFIXES):
            return None
        if self.host.cached(path) is not None:
            return fn(self.host, path, *args)
        return await asyncio.to_thread(fn, self.host, path, *args)
