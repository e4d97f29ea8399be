"""Diagnostics: pushed on open, change and save, debounced, stale work dropped.

Editing a sourced file re-checks the files that source it: the analysis covering a file
is the index's, and every file of that analysis gets its diagnostics republished.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.project import CONFIG_FNAME, find_index

from .convert import path_to_uri, to_lsp_diagnostic, uri_to_path

if TYPE_CHECKING:
    from .server import AgrippaServer

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.03


class Publisher:
    def __init__(self, server: AgrippaServer):
        self.server = server
        self.generation = 0
        self.task: asyncio.Task | None = None
        self.published: dict[str, set[str]] = {}  # index -> files we published for

    def schedule(self, path: str, delay: float = DEBOUNCE_S) -> None:
        """Re-analyse what covers `path` after `delay`; a newer call supersedes this one."""
        if os.path.basename(path) == CONFIG_FNAME:  # the toml: re-check its project's index
            d = os.path.dirname(path)
            path = find_index(d, self.server.model.config(d))[0] or path
        self.generation += 1
        gen = self.generation
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = asyncio.get_running_loop().create_task(self._run(path, gen, delay))

    async def _run(self, path: str, gen: int, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            if gen != self.generation:
                return
            analysis = await asyncio.to_thread(self.server.model.analysis_for, path)
            if gen != self.generation:
                return  # a newer edit arrived while analysing: its run will publish
            self.publish(analysis)
        except asyncio.CancelledError:
            pass
        except Exception:  # never let a failure reach the client
            log.exception("diagnostics failed for %s", path)

    def publish(self, analysis) -> None:
        by_file: dict[str, list] = {}
        files = set(analysis.graph.files) if analysis.graph is not None else set()
        if analysis.index:
            files.add(os.path.abspath(analysis.index))
        for d in analysis.diagnostics:
            if d.file.endswith(".toml") or os.path.isfile(d.file) or d.file in files:
                by_file.setdefault(d.file, []).append(to_lsp_diagnostic(d))
        key = analysis.index or analysis.project_dir
        before = self.published.get(key, set())
        targets = files | set(by_file) | before
        for f in targets:
            if os.path.isdir(f):
                continue
            self.server.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=path_to_uri(f), diagnostics=by_file.get(f, [])))
        self.published[key] = set(by_file) | files


def register(server: AgrippaServer) -> None:
    pub = Publisher(server)
    server.publisher = pub

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AgrippaServer, params: lsp.DidOpenTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        ls.model.changed(path)
        pub.schedule(path, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AgrippaServer, params: lsp.DidChangeTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        ls.model.changed(path)
        pub.schedule(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AgrippaServer, params: lsp.DidSaveTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        ls.model.changed(path)
        pub.schedule(path, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AgrippaServer, params: lsp.DidCloseTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        ls.model.changed(path)  # the disk's text applies again
        pub.schedule(path, 0)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: AgrippaServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for ch in params.changes:
            path = uri_to_path(ch.uri)
            ls.model.changed(path)
            pub.schedule(path)
