"""The server object: a pygls LanguageServer wiring one module per LSP feature."""
from __future__ import annotations

import importlib
import logging
import os

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


class AgrippaServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("agrippa-lsp", __version__)
        self.model = ProjectModel(self.open_text)

    def open_text(self, path: str) -> str | None:
        """The editor's text for `path` when the file is open, else None (read the disk)."""
        doc = self.workspace.text_documents.get(path_to_uri(path))
        if doc is None:
            for uri, d in self.workspace.text_documents.items():
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
            raise
        mod.register(server)
    return server
