"""The server object: a pygls LanguageServer wiring one module per LSP feature.

Every handler registered through `feature` or `command` is guarded: an exception is
logged and answered with an empty result, so one broken feature never breaks the others
and no request ever fails at the client.
"""
from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

from pygls.lsp.server import LanguageServer

from agrippa import __version__

from .convert import path_to_uri, uri_to_path
from .workspace import ProjectModel

log = logging.getLogger(__name__)

FEATURES = (
    "diagnostics",
    "configuration",
    "hover",
    "inlay_hints",
    "completion",
    "navigation",
    "rename",
    "symbols",
    "code_actions",
    "commands",
)
"""Feature modules in agrippa_lsp/, each with `register(server)`."""


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
    def __init__(self) -> None:
        super().__init__("agrippa-lsp", __version__)
        self.model = ProjectModel(self.open_text)

    def feature(self, feature_name: str, options: Any | None = None) -> Callable:
        register = super().feature(feature_name, options)
        return lambda f: register(guarded(feature_name, f))

    def command(self, command_name: str) -> Callable:
        register = super().command(command_name)
        return lambda f: register(guarded(command_name, f))

    def start_io(self, *args: Any, **kwargs: Any) -> None:
        # Freeze what the imports made and collect less often (agrippa.runtime). Analyses
        # hold no reference cycles, so a replaced one is freed at once by reference
        # counting; the cyclic collector only meets libraries' leftovers.
        from agrippa.runtime import tune_gc

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


def create_server() -> AgrippaServer:
    server = AgrippaServer()
    for name in FEATURES:
        try:
            mod = importlib.import_module(f".{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name == f"{__package__}.{name}":
                continue  # feature not built yet
            log.exception("feature %s cannot be loaded", name)
            continue
        except Exception:
            log.exception("feature %s cannot be loaded", name)
            continue
        try:
            mod.register(server)
        except Exception:
            log.exception("feature %s failed to register", name)
    return server
