"""Positions between the compiler (code points) and the client (UTF-16 or UTF-8 units).

The compiler counts a line's characters in code points; LSP counts UTF-16 code units
unless client and server agreed on UTF-8 (or UTF-32, which is code points). Lines are
the same on both sides: they end at `\\r\\n`, `\\r` or `\\n` (the compiler's `LineIndex`).

`Units` converts positions of one text. A text whose every character is one unit (ASCII,
or no astral character under UTF-16) needs no conversion at all; otherwise the wide
characters' offsets and a running sum of their extra units make each conversion a
binary search, however long the line (a 5 MB line with a thousand diagnostics stays fast).
"""
from __future__ import annotations

import bisect
import re
from itertools import accumulate

from lsprotocol import types as lsp

from agrippa.base.diagnostics import Position
from agrippa.syntax.tree import LineIndex

UTF8, UTF16, UTF32 = lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf32
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_NON_ASCII_RE = re.compile("[^\x00-\x7f]")


def _extra_utf8(c: str) -> int:
    n = ord(c)
    return 1 if n < 0x800 else 2 if n < 0x10000 else 3


class Units:
    """Conversions for one text under one encoding."""

    __slots__ = ("identity", "lines", "wide", "extra")

    def __init__(self, text: str, encoding: str):
        self.identity = True
        if encoding == UTF32 or text.isascii():  # one unit per character in every encoding
            return
        wide_re = _NON_ASCII_RE if encoding == UTF8 else _ASTRAL_RE
        if encoding != UTF8 and wide_re.search(text) is None:
            return
        self.identity = False
        self.lines = LineIndex(text)
        matches = list(wide_re.finditer(text))
        self.wide = [m.start() for m in matches]  # offsets of the characters wider than one unit
        widths = [_extra_utf8(m.group()) for m in matches] if encoding == UTF8 else [1] * len(matches)
        self.extra = [0, *accumulate(widths)]  # extra[i]: extra units of the first i wide characters

    def _extra_before(self, offset: int) -> int:
        return self.extra[bisect.bisect_left(self.wide, offset)]

    def to_client(self, p: Position) -> lsp.Position:
        if self.identity:
            return lsp.Position(line=p.line, character=p.character)
        start = self.lines.offset(Position(p.line, 0))
        end = start + p.character
        return lsp.Position(line=p.line, character=p.character + self._extra_before(end) - self._extra_before(start))

    def line_columns(self, line: int):
        """A function from a column of `line` in code points to the client's, or None when
        the line's columns are the same on both sides (for converting many columns of a line)."""
        if self.identity:
            return None
        start = self.lines.offset(Position(line, 0))
        stop = self.lines.offset(Position(line + 1, 0))
        i, j = bisect.bisect_left(self.wide, start), bisect.bisect_left(self.wide, stop)
        if i == j:
            return None
        wide, extra, base = self.wide, self.extra, self.extra[i]
        return lambda col: col + extra[bisect.bisect_left(wide, start + col, i, j)] - base

    def from_client(self, p: lsp.Position) -> Position:
        if self.identity:
            return Position(p.line, p.character)
        start = self.lines.offset(Position(p.line, 0))
        base = self._extra_before(start)
        # the first offset whose client column reaches p.character (a column inside a wide
        # character rounds up past it, as pygls does)
        limit = start + p.character  # a column is never fewer code points than units
        col = bisect.bisect_left(range(start, limit + 1), p.character,
                                 key=lambda off: off - start + self._extra_before(off) - base)
        return Position(p.line, col)


IDENTITY = Units("", UTF32)
