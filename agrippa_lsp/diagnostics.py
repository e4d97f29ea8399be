"""Publishing diagnostics: after open, change and save, debounced, stale work dropped.

Editing a sourced file re-checks the files that source it: the analysis covering a file
is the index's, and every file of that analysis gets its diagnostics republished. Each
scheduled path has its own debounce, so re-checking several projects at once (after a
settings change) does not cancel any of them. The debounce only holds back edits that
follow one another closely: the first change after a quiet moment is analysed at once.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from agrippa.ide.host import AnalysisHost
from agrippa.project.config import CONFIG_FNAME, SOURCE_SUFFIXES, find_index

from .convert import path_to_uri, uri_to_path

if TYPE_CHECKING:
    from agrippa.sema.analysis import Analysis

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.03


class Publisher:
    """Analyses what covers an edited file and publishes diagnostics for all its files."""

    def __init__(self, server: LanguageServer, host: AnalysisHost):
        self.server = server
        self.host = host
        self.generation: dict[str, int] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.published: dict[str, set[str]] = {}  # index -> files we published for
        self.last_change: dict[str, float] = {}  # path -> when a change was last scheduled
        self.warmed = False

    def schedule(self, path: str, delay: float = DEBOUNCE_S) -> float:
        """Re-analyse what covers `path` after `delay`; a newer call for it supersedes this one.
        Returns the delay used: none when nothing is pending and no change came just before."""
        path = os.path.abspath(path)
        if os.path.basename(path) == CONFIG_FNAME:  # the toml: re-check its project's index
            d = os.path.dirname(path)
            path = find_index(d, self.host.config(d))[0] or path
        gen = self.generation[path] = self.generation.get(path, 0) + 1
        old = self.tasks.get(path)
        busy = old is not None and not old.done()
        if busy:
            old.cancel()
        now = time.monotonic()
        if not busy and now - self.last_change.get(path, float("-inf")) >= delay:
            delay = 0  # nothing pending and no edit just before: no reason to wait
        self.last_change[path] = now
        self.tasks[path] = asyncio.get_running_loop().create_task(self._run(path, gen, delay))
        return delay

    def schedule_open(self, delay: float = 0) -> None:
        """Re-check every open markup file's project (after settings or toml changes)."""
        seen: set[str] = set()
        for uri in list(self.server.workspace.text_documents):
            path = uri_to_path(uri)
            if path.endswith(SOURCE_SUFFIXES):
                index = self.host.owner_of(path)
                if index not in seen:
                    seen.add(index)
                    self.schedule(path, delay)

    async def _run(self, path: str, gen: int, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            if gen != self.generation.get(path):
                return
            analysis = await asyncio.to_thread(self.host.fresh_analysis_for, path,
                                               lambda: gen == self.generation.get(path))
            if analysis is None or gen != self.generation.get(path):
                return  # a newer edit arrived meanwhile: its run will publish
            self.publish(analysis)
            if not self.warmed and analysis.graph is not None:
                self.warmed = True  # the first edit should not wait for the schema's model
                files = list(analysis.graph.files.values())
                self.host.symbolic_for(path, wait=False)  # hover's symbolic twin, made in the background
                asyncio.get_running_loop().run_in_executor(None, _warm_up, files)
        except asyncio.CancelledError:
            pass
        except Exception:  # never let a failure reach the client
            log.exception("diagnostics failed for %s", path)
        finally:
            if self.tasks.get(path) is asyncio.current_task():
                del self.tasks[path]

    def _version(self, path: str) -> int | None:
        doc = self.server.workspace.text_documents.get(path_to_uri(path))
        return doc.version if doc is not None else None

    def publish(self, analysis: Analysis) -> None:
        by_file: dict[str, list] = {}
        files = set(analysis.graph.files) if analysis.graph is not None else set()
        if analysis.index:
            files.add(os.path.abspath(analysis.index))
        if analysis.config.path:
            files.add(analysis.config.path)  # the toml's own problems, cleared when fixed
        texts = {p: sf.text for p, sf in analysis.graph.files.items()} if analysis.graph is not None else {}
        convert = self.server.convert
        for d in analysis.diagnostics:
            if d.file.endswith(".toml") or os.path.isfile(d.file) or d.file in files:
                by_file.setdefault(d.file, []).append(convert.diagnostic(d, texts.get(d.file)))
        key = analysis.index or analysis.project_dir
        before = self.published.get(key, set())
        targets = files | set(by_file) | before
        for f in targets:
            if os.path.isdir(f):
                continue
            self.server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=path_to_uri(f), diagnostics=by_file.get(f, []), version=self._version(f)))
        self.published[key] = set(by_file) | files


def _warm_up(files: list) -> None:
    """What the first edit and the first completion would otherwise wait for."""
    try:
        from agrippa.sema.ops import DEFAULT_OPSET, all_ops
        from agrippa.sema.schema.validate import warm_up

        warm_up(files)
        all_ops(DEFAULT_OPSET)
    except Exception:  # noqa: BLE001 - only a head start: validation works without it
        log.exception("schema warm-up failed")
