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
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from agrippa import __version__
from agrippa.ide.host import AnalysisHost
from agrippa.project.config import SOURCE_SUFFIXES

from .convert import Converter, path_to_uri, uri_to_path
from .diagnostics import Publisher
from .workspace import AgrippaProtocol

log = logging.getLogger(__name__)
T = TypeVar("T")
REQUEST_WAIT_S = 0.05  # how long a request waits for a running analysis before using the last one
SWITCH_INTERVAL_S = 0.001


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
    client_commands: frozenset[str]  # client-side commands the client implements (client_commands.py)

    def __init__(self) -> None:
        super().__init__("agrippa-lsp", __version__, protocol_cls=AgrippaProtocol)
        self.host = AnalysisHost(self.open_text)
        self.host.request_wait = REQUEST_WAIT_S  # requests answer from the last analysis meanwhile
        self.host.defer_recording = True  # the first diagnostics come first; recording follows
        self._convert: Converter | None = None
        self.publisher = Publisher(self, self.host)
        self.trainings = {}
        self.client_commands = frozenset()

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
        # A long analysis holds the GIL in its thread; requests get it back sooner (5 ms by default).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        serve_stdio(self, *args, **kwargs)

    @property
    def convert(self) -> Converter:
        """Conversions to and from LSP types, in the position encoding agreed at initialize."""
        try:
            encoding = self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        except RuntimeError:  # not initialized yet
            encoding = lsp.PositionEncodingKind.Utf16
        if self._convert is None or self._convert.encoding != encoding:
            self._convert = Converter(encoding, self.position_text)
        return self._convert

    def position_text(self, path: str) -> str | None:
        """The text the compiler's positions in `path` count in: the open document, else its last parse."""
        text = self.open_text(path)
        return text if text is not None else self.host.parsed_text(path)

    def open_text(self, path: str) -> str | None:
        """The editor's text for `path` when the file is open, else None (read the disk)."""
        doc = self.workspace.text_documents.get(path_to_uri(path))
        if doc is None:
            for uri, d in list(self.workspace.text_documents.items()):
                if uri_to_path(uri) == os.path.abspath(path):
                    return d.source
            return None
        return doc.source

    def workspace_roots(self) -> list[str]:
        """The workspace folders' paths (the root folder when the client named no folders)."""
        try:
            ws = self.workspace
        except RuntimeError:  # not initialized
            return []
        roots = [uri_to_path(f.uri) for f in ws.folders.values()]
        return roots or ([ws.root_path] if ws.root_path else [])

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


def serve_stdio(server: AgrippaServer, stdin: Any = None, stdout: Any = None) -> None:
    """pygls' stdio loop, with a reader that survives malformed frames (`transport.py`)."""
    from pygls.io_ import StdoutWriter

    from .transport import StdinReader, read_frames

    server._stop_event = stop = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    try:
        asyncio.run(read_frames(stop, StdinReader(stdin or sys.stdin.buffer, server.thread_pool), server.protocol))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
