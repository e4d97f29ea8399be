"""Projects written with markers, so an IDE test reads like what the user sees.

In a file's text `‸` is the cursor and `⟦ … ⟧` mark ranges the answer must cover; the
markers are removed before the files are written. `open_project` writes the files and
gives an analysis host over them, with any file also "open in the editor" on request.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from agrippa.base.diagnostics import Location, Position, Range
from agrippa.ide.host import AnalysisHost, Settings

CURSOR, OPEN, CLOSE = "‸", "⟦", "⟧"


def marked(text: str, *snippets: str) -> str:
    """`text` with each snippet's unmarked form (first occurrence) replaced by the snippet:
    `marked(MODEL, 'src="‸h"')` puts the cursor before that `h`."""
    for s in snippets:
        plain = s.replace(CURSOR, "").replace(OPEN, "").replace(CLOSE, "")
        assert plain in text, f"{plain!r} is not in the text"
        text = text.replace(plain, s, 1)
    return text


def _position(text: str, i: int) -> Position:
    return Position(text.count("\n", 0, i), i - (text.rfind("\n", 0, i) + 1))


@dataclass
class Marked:
    """A text without its markers, where the cursor was, and the marked ranges in order."""

    text: str
    cursor: Position | None = None
    ranges: list[Range] = field(default_factory=list)


def strip_markers(text: str) -> Marked:
    out: list[str] = []
    cursor, opened, spans = None, [], []
    n = 0
    for ch in text:
        if ch == CURSOR:
            cursor = n
        elif ch == OPEN:
            opened.append(n)
        elif ch == CLOSE:
            spans.append((opened.pop(), n))
        else:
            out.append(ch)
            n += 1
    plain = "".join(out)
    spans.sort()
    return Marked(plain, _position(plain, cursor) if cursor is not None else None,
                  [Range(_position(plain, a), _position(plain, b)) for a, b in spans])


@dataclass
class Project:
    root: Path
    host: AnalysisHost
    files: dict[str, Marked]
    buffers: dict[str, str] = field(default_factory=dict)  # path -> text open in the editor

    def path(self, name: str) -> str:
        return str(self.root / name)

    @property
    def file(self) -> str:
        """The path of the file holding the cursor."""
        return self.path(self._cursor_file())

    @property
    def cursor(self) -> Position:
        return self.files[self._cursor_file()].cursor

    def _cursor_file(self) -> str:
        names = [n for n, m in self.files.items() if m.cursor is not None]
        assert len(names) == 1, f"one cursor expected, found it in {names}"
        return names[0]

    def text(self, name: str) -> str:
        return self.files[name].text

    def ranges(self, name: str) -> list[Range]:
        return self.files[name].ranges

    def locations(self) -> list[Location]:
        """Every marked range of every file, sorted by file and position."""
        return sorted((Location(self.path(n), r) for n, m in self.files.items() for r in m.ranges), key=by_place)

    def put_cursor(self, name: str, snippet: str) -> None:
        """The cursor moves to `snippet` (marked with `‸`) in file `name`; its text stays."""
        for m in self.files.values():
            m.cursor = None
        self.files[name].cursor = strip_markers(marked(self.text(name), snippet)).cursor

    def open(self, name: str) -> None:
        """The user opens `name` in the editor, which gets it analysed (and diagnosed)."""
        self.buffers[self.path(name)] = self.files[name].text
        self.host.changed(self.path(name))
        self.host.analysis_for(self.path(name))

    def type(self, name: str, text: str) -> Marked:
        """The user edits file `name` in the editor (unsaved): its buffer becomes `text`."""
        m = self.files[name] = strip_markers(text)
        self.buffers[self.path(name)] = m.text
        self.host.changed(self.path(name))
        return m

    def write(self, name: str, text: str) -> None:
        """`name` changes on disk (the editor hears of it)."""
        m = self.files[name] = strip_markers(text)
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(m.text)
        self.host.changed(str(p))

    def settings(self, **data: object) -> None:
        """The user changes the `agrippa` settings (JSON names: `inlayHints`, `bindings`)."""
        self.host.settings_changed(Settings.from_json(data))


def open_project(root: Path, files: dict[str, str]) -> Project:
    """Write `files` (name → marked text) under `root`; a host over them, nothing open yet."""
    buffers: dict[str, str] = {}
    host = AnalysisHost(lambda path: buffers.get(os.path.abspath(path)))
    project = Project(root, host, {}, buffers)
    for name, text in files.items():
        project.write(name, text)
    return project


def by_place(loc: Location) -> tuple:
    """Sort key: file, then position."""
    return loc.file, loc.range
