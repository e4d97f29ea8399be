"""The syntax tree of one markup file: elements and attributes with exact source ranges.

`SourceFile` holds a file's text, its recovered tree and the syntax diagnostics; every
`Element` and `Attr` keeps the offsets it was read at and turns them into line/column
ranges through the file's shared `LineIndex`. The scanner (`scanner.py`) builds these;
everything after parsing only reads them.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from agrippa.base.diagnostics import Diagnostic, Position, Range, Severity
from agrippa.base.text import LINE_BREAK

ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_][-A-Za-z0-9_.]*);?")
"""A character or entity reference (the `;` may be missing: the scanner reports that)."""
_BREAK_RE = re.compile(LINE_BREAK)
_LF_RE = re.compile("\n")


@dataclass(eq=False, slots=True)
class Attr:
    """An attribute: its decoded value and where its name and value stand."""

    name: str
    value: str
    lines: LineIndex
    name_start: int
    name_end: int
    value_start: int  # offset of the first character of the value (after the quote)
    raw: str  # the value as written, entities undecoded

    @property
    def name_range(self) -> Range:
        return self.lines.range(self.name_start, self.name_end)

    @property
    def value_range(self) -> Range:
        """The text between the quotes."""
        return self.lines.range(self.value_start, self.value_start + len(self.raw))

    def offset_of(self, index: int) -> int:
        """Absolute offset of character `index` of the decoded value."""
        if "&" not in self.raw:
            return self.value_start + index
        # walk the raw text, counting decoded characters
        decoded = 0
        i = 0
        while i < len(self.raw) and decoded < index:
            if self.raw[i] == "&":
                m = ENTITY_RE.match(self.raw, i)
                i = m.end() if m else i + 1
            else:
                i += 1
            decoded += 1
        return self.value_start + i


@dataclass(eq=False, slots=True)
class Element:
    tag: str
    lines: LineIndex
    start: int  # offset of '<'
    end: int = -1  # offset just past the element (end tag or '/>')
    start_tag_end: int = -1  # offset just past the start tag's '>'
    attrs: dict[str, Attr] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    parent: Element | None = None
    text: str = ""
    self_closing: bool = False
    closed: bool = False

    @property
    def tag_range(self) -> Range:
        """The name in the start tag."""
        return self.lines.range(self.start + 1, self.start + 1 + len(self.tag))

    @property
    def range(self) -> Range:
        end = self.end if self.end >= 0 else max(self.start_tag_end, self.start + 1)
        return self.lines.range(self.start, end)

    def get(self, name: str) -> str | None:
        a = self.attrs.get(name)
        return a.value if a is not None else None

    def iter(self) -> Iterator[Element]:
        """This element and all its descendants in document order."""
        stack = [self]
        while stack:
            e = stack.pop()
            yield e
            stack.extend(reversed(e.children))

    @property
    def depth(self) -> int:
        d, p = 0, self.parent
        while p is not None:
            d, p = d + 1, p.parent
        return d


class LineIndex:
    """Offsets ↔ 0-based (line, character) positions of one text.

    Elements and attributes point here rather than to their SourceFile, so a parsed tree
    holds no reference cycle through its file and is freed as soon as nothing uses it.
    """

    __slots__ = ("_starts", "_length")

    def __init__(self, text: str):
        self.reset(text)

    def reset(self, text: str) -> None:
        """Index `text` instead (an incremental re-parse moves the elements to a new text)."""
        # lines end at \r\n, \r or \n, as LSP counts them (not at a form feed or U+2028)
        breaks = _BREAK_RE if "\r" in text else _LF_RE
        self._starts = [0] + [m.end() for m in breaks.finditer(text)]
        self._length = len(text)

    def splice(self, text: str, a: int, b_old: int, b_new: int) -> None:
        """Index `text`, the indexed text with [a, b_old) replaced by what is now [a, b_new):
        the lines before stay, those after move, only the replaced span is scanned."""
        if "\r" in text[max(a - 1, 0):b_new + 1]:
            return self.reset(text)  # a \r\n pair may straddle the span's ends
        starts = self._starts
        i = bisect.bisect_right(starts, a)
        j = bisect.bisect_right(starts, b_old)
        delta = b_new - b_old
        middle = [m.end() for m in _LF_RE.finditer(text, a, b_new)]
        after = [s + delta for s in starts[j:]] if delta else starts[j:]
        self._starts = starts[:i] + middle + after
        self._length = len(text)

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._starts, offset) - 1
        return Position(line, offset - self._starts[line])

    def range(self, start: int, end: int) -> Range:
        return Range(self.position(start), self.position(end))

    def offset(self, pos: Position) -> int:
        if pos.line >= len(self._starts):
            return self._length
        return min(self._starts[pos.line] + pos.character, self._length)

    def __len__(self) -> int:
        return len(self._starts)


class SourceFile:
    """One parsed file: its text, the recovered tree and what went wrong while parsing.

    The tree's parent links are cleared when the file is freed, so replaced parses never
    wait for the cyclic garbage collector.
    """

    def __init__(self, path: str, text: str, lines: LineIndex | None = None):
        self.path = path
        self.text = text
        self.lines = lines if lines is not None else LineIndex(text)
        self.root: Element | None = None
        self.all: list[Element] = []  # every element of the tree, in document order
        self.diagnostics: list[Diagnostic] = []
        self.comments: list[tuple[int, int]] = []
        self.consumed = False  # True once an incremental re-parse took its elements

    def __del__(self) -> None:
        for el in self.all:
            el.parent = None

    # -- positions -----------------------------------------------------------------------
    def position(self, offset: int) -> Position:
        return self.lines.position(offset)

    def range(self, start: int, end: int) -> Range:
        return self.lines.range(start, end)

    def offset(self, pos: Position) -> int:
        return self.lines.offset(pos)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def elements(self) -> Iterator[Element]:
        return iter(self.all)

    def element_at(self, offset: int) -> Element | None:
        """The innermost element whose span contains `offset`."""
        best = None
        node = self.root
        while node is not None:
            if node.start <= offset <= (node.end if node.end >= 0 else len(self.text)):
                best = node
                nxt = None
                for c in node.children:
                    if c.start <= offset <= (c.end if c.end >= 0 else len(self.text)):
                        nxt = c
                        break
                    if c.start > offset:
                        break
                node = nxt
            else:
                break
        return best

    def error(self, start: int, end: int, code: str, message: str,
              severity: Severity = Severity.ERROR) -> None:
        self.diagnostics.append(Diagnostic(self.path, self.range(start, end), severity, code, message))
