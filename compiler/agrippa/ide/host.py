"""The analysis host: open texts, parsed files and the latest analysis of each project.

Every feature asks `AnalysisHost.analysis_for(path)` and gets the latest analysis of the
project that file belongs to (the index file's, when the file is the index or sourced by
it; the file's own otherwise). Parsed files are reused across analyses until their text
changes, so an edit re-parses one file. What features derive from an analysis is kept
in `memo`, dropped with the analysis.

Analyses run without holding the host's lock (an edit must never wait for a running
analysis): each one works on a snapshot of the parse cache and is kept only if nothing
changed meanwhile. Concurrent requests for the same index share one run. A run that a
newer change made outdated stops at the next check of its `cancel` hook (between phases,
every few hundred nodes inside expansion and shape inference) and starts again on the
latest texts while its caller still wants it.

An analysis reuses the last one of its project where the edits since left it alone
(`sema/incremental.py`), taking its objects over: that one stays readable for requests
until the new one is kept, but is never reused again.

With `request_wait` set (the language server), requests never wait long for a run:
`file_analysis` and `recent_for` answer from the current analysis when it is made
within `request_wait` seconds, else from the last one made. That one is used only for
files whose text has not changed since; an edited file gets a parse of its current text
alone (no expansion, no shapes), so no answer ever carries a range of an older text.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable

from agrippa.project.config import (
    CONFIG_FNAME,
    SOURCE_SUFFIXES,
    Config,
    file_access,
    find_index,
    load_config,
    project_dir_of,
)
from agrippa.project.files import FileAccess, TextProvider
from agrippa.sema.analysis import Analysis, Cancelled, analyze
from agrippa.sema.ir import Graph
from agrippa.syntax import SourceFile
from agrippa.syntax.parser import parse

from .idle import record_when_idle
from .memo import Memo
from .settings import BindingOrigin, Settings, binding_origin

log = logging.getLogger(__name__)


class AnalysisHost:
    def __init__(self, open_text: TextProvider):
        self.open_text = open_text  # the editor's buffer for a path, or None
        self.settings = Settings()
        self.memo = Memo()
        self.profiles: dict[str, str | None] = {}  # project dir -> chosen profile
        self._files: dict[str, SourceFile] = {}  # parsed files, shared by analyses
        self._previous: dict[str, SourceFile] = {}  # the last parse of each edited file
        self._configs: dict[str, Config] = {}
        self._analyses: dict[str, Analysis] = {}  # index path -> analysis
        self._symbolic: dict[str, Analysis] = {}  # index path -> analysis without bindings
        self._owner: dict[str, str] = {}  # file path -> index path of the analysis covering it
        self._recent: dict[str, Analysis] = {}  # file path -> the last analysis `recent_for` gave
        self._run_locks: dict[tuple[str, bool], threading.Lock] = {}
        self._generation = 0  # bumped by every invalidation
        self._warming: set[str] = set()  # indexes whose symbolic analysis is being made
        self.runs = 0  # analyses made
        self.cancelled = 0  # runs stopped early because a newer change made them outdated
        self.request_wait: float | None = None  # how long a request waits for a run (None: until done)
        self.defer_recording = False  # record a project's first analysis later, in the background
        self._asked = 0.0  # when a request last asked for an analysis (`_record_later` waits for quiet)
        self._last: dict[str, Analysis] = {}  # index path -> the last analysis kept (maybe of older texts)
        self._running: dict[str, tuple[dict[str, SourceFile], float]] = {}  # index -> its run's parses, start
        self._quick: dict[str, Analysis] = {}  # file path -> its parse-only analysis (`_parsed_only`)
        self._lock = threading.RLock()
        self._made = threading.Condition(self._lock)  # notified when an analysis is kept

    # -- invalidation --------------------------------------------------------------------
    def changed(self, path: str) -> list[str]:
        """A file's text changed (or it was opened/closed/saved): drop what depended on it.

        Returns the index paths whose analyses must be redone.
        """
        path = os.path.abspath(path)
        with self._lock:
            self._generation += 1
            old = self._files.pop(path, None)
            if old is not None:  # the next parse of it reads again only what the edit touched
                self._previous[path] = old
            if os.path.basename(path) == CONFIG_FNAME:
                d = os.path.dirname(path)
                self._configs.pop(d, None)
                stale = [i for i, a in self._analyses.items() if a.project_dir == d]
                self._symbolic = {i: a for i, a in self._symbolic.items() if a.project_dir != d}
            else:
                stale = [i for i, a in self._analyses.items()
                         if a.graph is not None and path in a.graph.files]
                if path in self._analyses:
                    stale.append(path)
                for i in [i for i, a in self._symbolic.items() if i == path or (a.graph and path in a.graph.files)]:
                    self._symbolic.pop(i, None)
            for i in stale:
                self._analyses.pop(i, None)
            return stale

    def settings_changed(self, settings: Settings) -> None:
        with self._lock:
            self._generation += 1
            self.settings = settings
            self._analyses.clear()

    def set_profile(self, project_dir: str, profile: str | None) -> None:
        with self._lock:
            self._generation += 1
            self.profiles[project_dir] = profile
            self._analyses = {i: a for i, a in self._analyses.items() if a.project_dir != project_dir}

    # -- queries -----------------------------------------------------------------------------
    def read(self, path: str, project_dir: str | None = None) -> str | None:
        """A file's text: the editor's buffer, else the disk; None when it cannot be read
        or the project's file-access policy refuses it (outside the project folder and its
        `[project] roots` after symlinks, not a regular file, over the size cap).
        `project_dir`: the project asking (default: the one `path` lies in, by its name)."""
        path = os.path.abspath(path)
        return self.access(project_dir or project_dir_of(path, resolve=False)).read(path)[0]

    def access(self, project_dir: str) -> FileAccess:
        """The file-access policy of a project (`project.files`), with the editor's buffers."""
        return file_access(project_dir, self.config(project_dir), self.open_text)

    def parsed_text(self, path: str) -> str | None:
        """The text of `path` as last parsed (the text analyses' positions count in), if parsed."""
        with self._lock:
            sf = self._files.get(os.path.abspath(path))
        return sf.text if sf is not None else None

    def config(self, project_dir: str) -> Config:
        with self._lock:
            cfg = self._configs.get(project_dir)
        if cfg is None:
            text = self.open_text(os.path.join(project_dir, CONFIG_FNAME))
            cfg = load_config(project_dir, text)
            with self._lock:
                cfg = self._configs.setdefault(project_dir, cfg)
        return cfg

    def profile_for(self, project_dir: str) -> str | None:
        """The active profile of a project (chosen by command, else from settings), if it exists."""
        profile = self.profiles.get(project_dir) or self.settings.profile
        if profile and profile not in self.config(project_dir).profiles:
            return None
        return profile

    def index_for(self, path: str) -> str:
        """The index file whose analysis covers `path`."""
        path = os.path.abspath(path)
        with self._lock:
            owner = self._owner.get(path)
            if owner and (owner in self._analyses or os.path.exists(owner)):
                return owner
        project_dir = project_dir_of(path)
        index, _ = find_index(project_dir, self.config(project_dir))
        if index and os.path.abspath(index) != path and self.access(project_dir).refusal(index) is None:
            a = self._analyse(os.path.abspath(index))
            if a.graph is not None and path in a.graph.files:
                return os.path.abspath(index)
        return path

    def owner_of(self, path: str) -> str:
        """The index whose last analysis covered `path` (the path itself when none did yet)."""
        with self._lock:
            return self._owner.get(path, path)

    def analysis_for(self, path: str) -> Analysis:
        return self._analyse(self.index_for(path))

    def fresh_analysis_for(self, path: str, wanted: Callable[[], bool]) -> Analysis | None:
        """`analysis_for`, or None when `wanted()` says no before a run starts (a newer
        edit made the caller's request stale while it waited for the previous run)."""
        return self._analyse(self.index_for(path), wanted=wanted)

    def cached(self, path: str) -> Analysis | None:
        """The current analysis covering `path` when it is made, without waiting for one."""
        with self._lock:
            owner = self._owner.get(os.path.abspath(path))
            return self._analyses.get(owner) if owner else None

    def recent_for(self, path: str, make: bool = True) -> Analysis | None:
        """An analysis covering `path` without waiting when there is one: the current one,
        else the last one made or given (maybe of an older text), else (with `make`) a new one."""
        self._asked = time.monotonic()
        path = os.path.abspath(path)
        a = self.cached(path)
        with self._lock:
            a = a or self._last.get(self._owner.get(path, path)) or self._recent.get(path)
        if a is None and make:
            a = self.analysis_for(path)
        if a is not None:
            with self._lock:
                self._recent[path] = a
        return a

    def file_analysis(self, path: str) -> tuple[Analysis, SourceFile] | None:
        """The analysis covering a markup file and that file's parse in it, or None."""
        self._asked = time.monotonic()
        path = os.path.abspath(path)
        if not path.endswith(SOURCE_SUFFIXES):
            return None
        a = self.cached(path)
        current = a is not None
        if a is None:
            a, current = self._current_or_last(path)
        sf = a.graph.files.get(path) if a.graph is not None else None
        if sf is None or current:
            return (a, sf) if sf is not None else None
        text = self.read(path, a.project_dir)  # the last analysis, of older texts: is this file's text unchanged?
        if text is not None and sf.text == text:
            return a, sf
        q = self._parsed_only(path, text, a)
        return (q, q.graph.files[path]) if q is not None and q.graph is not None else None

    def _current_or_last(self, path: str) -> tuple[Analysis, bool]:
        """The current analysis covering `path` when it is made within `request_wait`, else
        the last one kept (and False: it may be of older texts); without `request_wait`
        (or a last one), the current one, waited for."""
        index = self.owner_of(path)
        with self._lock:
            last = self._last.get(index)
            if self.request_wait is not None and last is not None:
                # a run that has not ended `request_wait` after it started is a long one: no wait
                started = self._running[index][1] if index in self._running else time.monotonic()
                self._made.wait_for(lambda: index in self._analyses, started + self.request_wait - time.monotonic())
                a = self._analyses.get(index)
                return (a, True) if a is not None else (last, False)
        return self.analysis_for(path), True

    def _parsed_only(self, path: str, text: str | None, last: Analysis) -> Analysis | None:
        """An analysis of `path`'s current text parsed alone: no expansion, shapes or
        diagnostics, but every range right (while the analysis of that text runs)."""
        if text is None:
            return None
        with self._lock:
            q = self._quick.get(path)
            if q is not None and q.graph is not None and q.graph.files[path].text == text:
                return q
            sf = next((fs[path] for fs, _ in self._running.values() if path in fs), None)  # the run's parse
        if sf is None or sf.text != text:
            sf = parse(path, text)  # never an older parse as `previous`: reparse consumes it
        graph = Graph(index=last.graph.index if last.graph is not None else path, files={path: sf},
                      bindings=dict(last.bindings), opset=last.config.opset, complete=False)
        q = Analysis(last.project_dir, last.index, last.config, last.bindings, graph=graph)
        with self._lock:
            self._quick[path] = q
        return q

    def symbolic_for(self, path: str, wait: bool = True, patience: float | None = None) -> Analysis | None:
        """The project analysed with no bindings at all (shapes in the user's names).

        None when the regular analysis has no bindings either (it is already symbolic).
        With `wait=False`, a missing one is made in the background and None returned.
        `patience` (seconds) overrides the host's request wait for callers off the
        latency path (the graph view).
        """
        limit = self.request_wait if patience is None else patience
        index = self.index_for(path)
        with self._lock:
            base = self._analyses.get(index) or (self._last.get(index) if self.request_wait is not None else None)
        if not (base or self._analyse(index)).bindings:
            return None
        if wait and limit is None:
            return self._analyse(index, symbolic=True)
        with self._lock:
            a = self._symbolic.get(index)
            if a is None and index not in self._warming:
                self._warming.add(index)
                threading.Thread(target=self._warm, args=(index,), daemon=True).start()
            if a is None and wait:  # a request: waits a moment at most
                self._made.wait_for(lambda: index in self._symbolic, limit)
                a = self._symbolic.get(index)
        return a

    def _warm(self, index: str) -> None:
        try:
            self._analyse(index, symbolic=True)
        except Exception:
            log.exception("symbolic analysis of %s failed", index)
        finally:
            with self._lock:
                self._warming.discard(index)

    def _analyse(self, index: str, symbolic: bool = False, wanted: Callable[[], bool] | None = None) -> Analysis:
        store = self._symbolic if symbolic else self._analyses
        with self._lock:
            a = store.get(index)
            if a is not None:
                return a
            run_lock = self._run_locks.setdefault((index, symbolic), threading.Lock())
        while True:
            with run_lock:  # one run per index at a time, always of the latest texts
                with self._lock:
                    a = store.get(index)
                    if a is not None:
                        return a  # made by the run we waited for
                    if wanted is not None and not wanted():
                        return None  # type: ignore[return-value]  # only fresh_analysis_for passes it
                    gen = self._generation
                    files = dict(self._files)
                    previous = dict(self._previous)
                    if not symbolic:
                        self._running[index] = (files, time.monotonic())

                def cancel(gen: int = gen) -> None:
                    if self._generation != gen:
                        raise Cancelled
                try:
                    a = self._run(index, symbolic, files, previous, cancel)
                except Cancelled:  # a newer change came: start again on the latest texts, if still wanted
                    with self._lock:
                        self.cancelled += 1
                    log.info("analysis of %s stopped: a newer change made it outdated", index)
                    continue
                finally:
                    with self._lock:
                        if self._running.get(index, (None,))[0] is files:
                            del self._running[index]
                with self._lock:
                    self.runs += 1
                    if self._generation == gen:  # nothing changed while analysing: keep it
                        store[index] = a
                        self._files.update(files)
                        for f in files:
                            self._previous.pop(f, None)
                        if not symbolic:
                            if self.defer_recording and a.graph is not None and index not in self._last:
                                record_when_idle(self, index)
                            self._last[index] = a
                            for f in (a.graph.files if a.graph is not None else ()):
                                self._owner[f] = index
                                self._quick.pop(f, None)
                            self._owner[index] = index
                        self._made.notify_all()
                    elif not symbolic and a.graph is not None and a.graph.units is not None:
                        # outdated but whole: the next run reuses it, re-parsing from its parses
                        self._last[index] = a
                        for f, sf in files.items():
                            if f in self._previous:  # edited since: re-parsed from this parse
                                self._previous[f] = sf
                return a

    def _run(self, index: str, symbolic: bool, files: dict[str, SourceFile],
             previous: dict[str, SourceFile], cancel: Callable[[], None] | None = None,
             force_record: bool = False, schema: bool = True) -> Analysis:
        project_dir = project_dir_of(index)
        cfg = self.config(project_dir)
        if symbolic:
            cfg = dataclasses.replace(cfg, bindings={}, profiles={}, diagnostics=[])
            return analyze(index, bindings={}, config=cfg, provider=self.open_text, files=files, schema=False,
                           previous=previous, cancel=cancel)
        with self._lock:
            base = self._last.get(index)  # reused where the edit left it alone (sema/incremental.py)
        # with `defer_recording` (the server), the first analysis of a project is not recorded:
        # recording costs up to twice its time; `idle.record_when_idle` records it once published
        record = base is not None or not self.defer_recording or force_record
        return analyze(index, bindings=self.settings.bindings, index=None, profile=self.profile_for(project_dir),
                       provider=self.open_text, config=cfg, files=files, previous=previous, cancel=cancel,
                       record=record, base=base, schema=schema)

    def binding_origin(self, project_dir: str, name: str) -> BindingOrigin | None:
        """Where `name` gets its value: client settings over the profile over `[bindings]`."""
        cfg = self.config(project_dir)
        return binding_origin(self.settings, cfg, self.read(cfg.path, project_dir) if cfg.path else None,
                              self.profile_for(project_dir), name)
