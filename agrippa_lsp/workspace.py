"""The server's model of the user's projects: open texts, parsed files, cached analyses.

Every feature asks `ProjectModel.analysis_for(path)` and gets the latest analysis of the
project that file belongs to (the index file's, when the file is the index or sourced by
it; the file's own otherwise). Parsed files are reused across analyses until their text
changes, so an edit re-parses one file.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from agrippa.analysis import Analysis, analyze
from agrippa.project import CONFIG_FNAME, Config, find_index, load_config, project_dir_of
from agrippa.syntax import SourceFile

log = logging.getLogger(__name__)


@dataclass
class Settings:
    """Client settings (section `agrippa`)."""

    bindings: dict[str, object] = field(default_factory=dict)
    inlay_hints: bool = True
    profile: str | None = None

    @staticmethod
    def from_json(data: object) -> Settings:
        s = Settings()
        if isinstance(data, dict):
            b = data.get("bindings")
            if isinstance(b, dict):
                s.bindings = {str(k): v for k, v in b.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
            ih = data.get("inlayHints")
            if isinstance(ih, dict) and isinstance(ih.get("enabled"), bool):
                s.inlay_hints = ih["enabled"]
            if isinstance(data.get("profile"), str) and data["profile"]:
                s.profile = data["profile"]
        return s


class ProjectModel:
    def __init__(self, open_text: Callable[[str], str | None]):
        self.open_text = open_text  # the editor's buffer for a path, or None
        self.settings = Settings()
        self.profiles: dict[str, str | None] = {}  # project dir -> chosen profile
        self._files: dict[str, SourceFile] = {}  # parsed files, shared by analyses
        self._configs: dict[str, Config] = {}
        self._analyses: dict[str, Analysis] = {}  # index path -> analysis
        self._owner: dict[str, str] = {}  # file path -> index path of the analysis covering it
        self._lock = threading.RLock()

    # -- invalidation --------------------------------------------------------------------
    def changed(self, path: str) -> list[str]:
        """A file's text changed (or it was opened/closed/saved): drop what depended on it.

        Returns the index paths whose analyses must be redone.
        """
        path = os.path.abspath(path)
        with self._lock:
            self._files.pop(path, None)
            if os.path.basename(path) == CONFIG_FNAME:
                d = os.path.dirname(path)
                self._configs.pop(d, None)
                stale = [i for i, a in self._analyses.items() if a.project_dir == d]
            else:
                stale = [i for i, a in self._analyses.items()
                         if a.graph is not None and path in a.graph.files] or []
                if path in self._analyses:
                    stale.append(path)
            for i in stale:
                self._analyses.pop(i, None)
            return stale

    def settings_changed(self, settings: Settings) -> None:
        with self._lock:
            self.settings = settings
            self._analyses.clear()

    def set_profile(self, project_dir: str, profile: str | None) -> None:
        with self._lock:
            self.profiles[project_dir] = profile
            self._analyses = {i: a for i, a in self._analyses.items() if a.project_dir != project_dir}

    # -- queries -----------------------------------------------------------------------------
    def config(self, project_dir: str) -> Config:
        with self._lock:
            cfg = self._configs.get(project_dir)
            if cfg is None:
                text = self.open_text(os.path.join(project_dir, CONFIG_FNAME))
                cfg = self._configs[project_dir] = load_config(project_dir, text)
            return cfg

    def profile_for(self, project_dir: str) -> str | None:
        return self.profiles.get(project_dir) or self.settings.profile

    def index_for(self, path: str) -> str:
        """The index file whose analysis covers `path`."""
        path = os.path.abspath(path)
        with self._lock:
            owner = self._owner.get(path)
            if owner and (owner in self._analyses or os.path.exists(owner)):
                return owner
        project_dir = project_dir_of(path)
        index, _ = find_index(project_dir, self.config(project_dir))
        if index and os.path.abspath(index) != path and os.path.exists(index):
            a = self._analyse(os.path.abspath(index))
            if a.graph is not None and path in a.graph.files:
                return os.path.abspath(index)
        return path

    def analysis_for(self, path: str) -> Analysis:
        return self._analyse(self.index_for(path))

    def cached(self, path: str) -> Analysis | None:
        with self._lock:
            owner = self._owner.get(os.path.abspath(path))
            return self._analyses.get(owner) if owner else None

    def _analyse(self, index: str) -> Analysis:
        with self._lock:
            a = self._analyses.get(index)
            if a is not None:
                return a
            project_dir = project_dir_of(index)
            cfg = self.config(project_dir)
            profile = self.profile_for(project_dir)
            if profile and profile not in cfg.profiles:
                profile = None
            a = analyze(index, bindings=self.settings.bindings, index=None, profile=profile,
                        provider=self.open_text, config=cfg, files=self._files)
            self._analyses[index] = a
            if a.graph is not None:
                for f in a.graph.files:
                    self._owner[f] = index
            self._owner[index] = index
            return a

    def source_file(self, path: str) -> SourceFile | None:
        """The parsed file, as the latest analysis saw it."""
        path = os.path.abspath(path)
        a = self.analysis_for(path)
        if a.graph is not None and path in a.graph.files:
            return a.graph.files[path]
        return None
