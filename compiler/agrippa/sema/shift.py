"""Diagnostics of an earlier text moved to where the same places are after an edit.

An incremental analysis keeps the diagnostics of what it did not redo (a replayed unit, a
node whose inputs did not change). They were said with the positions of the text before
the edit; `Shifter` moves those that lie wholly before or after the edited span and
refuses (None) those that touch it, so what touches an edit is always computed again.
Line numbers written into messages ("sourced at model.agr:175") move with them.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace

from agrippa.base.diagnostics import (
    Diagnostic,
    Fix,
    Location,
    Position,
    Range,
    RelatedInfo,
    TextEdit,
)
from agrippa.base.text import common_ends
from agrippa.syntax.tree import SourceFile

_BREAK = re.compile(r"\r\n|\r|\n")


class Shifter:
    """Moves positions of `path` from the text `old` to the text of `sf` (one edited span)."""

    def __init__(self, path: str, old: str, sf: SourceFile):
        new = sf.text
        self.path = path
        self.same = old == new
        self.cite = re.compile(rf"(?<![\w.-]){re.escape(os.path.basename(path))}:(\d+)")
        if self.same:
            return
        a, suffix = common_ends(old, new)
        b_old, b_new = len(old) - suffix, len(new) - suffix
        # a line break split by the span's ends counts differently in the two texts: shift nothing
        self.broken = any(t[k - 1:k + 1] == "\r\n" for t, k in ((old, a), (old, b_old), (new, a), (new, b_new)))
        self.start = sf.position(a)
        self.new_end = sf.position(b_new)
        span = old[a:b_old]
        breaks = list(_BREAK.finditer(span))
        if not breaks:
            self.old_end = Position(self.start.line, self.start.character + len(span))
        else:
            self.old_end = Position(self.start.line + len(breaks), len(span) - breaks[-1].end())
        self.lines = self.new_end.line - self.old_end.line  # lines added (or removed, < 0)

    def range(self, r: Range) -> Range | None:
        if r.end <= self.start:
            return r
        if r.start >= self.old_end:
            return Range(self._after(r.start), self._after(r.end))
        return None

    def _after(self, p: Position) -> Position:
        o, n = self.old_end, self.new_end
        if p.line == o.line:
            return Position(n.line, n.character + p.character - o.character)
        return Position(p.line + n.line - o.line, p.character)

    def diagnostics(self, diags: list[Diagnostic]) -> list[Diagnostic] | None:
        """`diags` moved, or None when one of them touches the edited span."""
        if self.same:
            return diags
        if self.broken:
            return None if any(self._touches(d) for d in diags) else diags
        out = []
        for d in diags:
            moved = self.diagnostic(d)
            if moved is None:
                return None
            out.append(moved)
        return out

    def _touches(self, d: Diagnostic) -> bool:
        return (d.file == self.path or bool(self.cite.search(d.message)) or any(r.location.file == self.path for r in d.related)
                or any(e.file == self.path for f in d.fixes for e in f.edits))

    def text(self, text: str) -> str | None:
        """`text` with each `file:line` of the edited file moved (None: a cited line was edited)."""
        if not self.lines or ":" not in text:
            return text
        refused = False

        def move(m: re.Match) -> str:
            nonlocal refused
            line = int(m.group(1)) - 1
            if line < self.start.line:
                return m.group(0)
            if line <= self.old_end.line:
                refused = True
                return m.group(0)
            return m.group(0)[:m.start(1) - m.start(0)] + str(line + self.lines + 1)

        out = self.cite.sub(move, text)
        return None if refused else out

    def diagnostic(self, d: Diagnostic) -> Diagnostic | None:
        path = self.path
        message = self.text(d.message)
        if message is None:
            return None
        data = d.data
        if isinstance(data.get("copies_of"), str):
            label = self.text(data["copies_of"])
            if label is None:
                return None
            if label != data["copies_of"]:
                data = {**data, "copies_of": label}
        rng = d.range
        if d.file == path:
            rng = self.range(rng)
            if rng is None:
                return None
        related = d.related
        if related:
            moved = []
            for r in related:
                note = self.text(r.message)
                if note is None:
                    return None
                if r.location.file == path:
                    at = self.range(r.location.range)
                    if at is None:
                        return None
                    r = RelatedInfo(Location(path, at), note, r.instance)
                elif note != r.message:
                    r = RelatedInfo(r.location, note, r.instance)
                moved.append(r)
            related = tuple(moved) if moved != list(d.related) else d.related
        fixes = d.fixes
        if any(e.file == path for f in fixes for e in f.edits):
            out = []
            for f in fixes:
                edits = []
                for e in f.edits:
                    if e.file == path:
                        at = self.range(e.range)
                        if at is None:
                            return None
                        e = TextEdit(path, at, e.new_text)
                    edits.append(e)
                out.append(Fix(f.title, tuple(edits), f.preferred, f.creates))
            fixes = tuple(out)
        if rng is d.range and related is d.related and fixes is d.fixes and message is d.message and data is d.data:
            return d
        return replace(d, range=rng, message=message, related=related, fixes=fixes, data=dict(data))
