"""The formatter: indentation and attribute layout from the syntax tree's exact offsets.

It only rewrites white space between the things the tree records (tags, attributes,
comments): comments, attribute values and the content of `<desc>` (any element with
text) stay exactly as written, and so does everything before the root element. Blank
lines between elements are kept (at most one). Attributes:

- ``preserve`` (default) keeps each element's attribute line breaks; a wrapped attribute
  keeps its column relative to its element, which moves with the element's indentation;
- ``align`` puts each attribute after the first on its own line, under the first;
- ``onePerLine`` puts every attribute on its own line, one level in.

A file with XML syntax errors is not formatted (`format_edits` gives None). Formatting
is idempotent: a formatted file formats to itself.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from agrippa.base.diagnostics import Range, Severity
from agrippa.syntax import Attr, Element, SourceFile, parse

PRESERVE, ALIGN, ONE_PER_LINE = "preserve", "align", "onePerLine"
ATTRIBUTE_MODES = (PRESERVE, ALIGN, ONE_PER_LINE)
MAX_BLANK = 1
WHOLE_TEXT_EDITS = 2_000
"""Past this many edits, a document's formatting is sent as one edit of the whole text."""


@dataclass(frozen=True)
class Options:
    tab_size: int = 4
    insert_spaces: bool = True
    attributes: str = PRESERVE


@dataclass(frozen=True)
class Edit:
    start: int  # offsets of the original text
    end: int
    new_text: str


def _breaks(s: str) -> int:
    return s.count("\n") + s.count("\r") - s.count("\r\n")


class _Formatter:
    def __init__(self, sf: SourceFile, opts: Options):
        self.sf, self.text, self.opts = sf, sf.text, opts
        first = self.text.find("\n")
        self.nl = "\r\n" if first > 0 and self.text[first - 1] == "\r" else ("\r" if "\n" not in self.text and "\r" in self.text else "\n")
        self.unit = " " * opts.tab_size if opts.insert_spaces else "\t"
        self.width = opts.tab_size if not opts.insert_spaces else len(self.unit)
        self.comment_starts = [c[0] for c in sf.comments]
        self.edits: list[Edit] = []

    # -- helpers -----------------------------------------------------------------------
    def put(self, start: int, end: int, new: str) -> None:
        if self.text[start:end] != new:
            self.edits.append(Edit(start, end, new))

    def indent(self, depth: int) -> str:
        return self.unit * depth

    def spaces(self, col: int) -> str:
        if self.opts.insert_spaces:
            return " " * col
        return "\t" * (col // self.opts.tab_size) + " " * (col % self.opts.tab_size)

    def column(self, offset: int) -> int:
        """The display column of `offset` (tabs to the tab size)."""
        line_start = max(self.text.rfind("\n", 0, offset), self.text.rfind("\r", 0, offset)) + 1
        col = 0
        for ch in self.text[line_start:offset]:
            col = (col // self.opts.tab_size + 1) * self.opts.tab_size if ch == "\t" else col + 1
        return col

    def line_break(self, ws: str, depth: int, keep_blank: bool = True) -> str:
        n = max(1, min(_breaks(ws), 1 + MAX_BLANK)) if keep_blank else 1
        return self.nl * n + self.indent(depth)

    # -- start tags --------------------------------------------------------------------
    def attr_end(self, a: Attr) -> int:
        return a.value_start + len(a.raw) + 1  # past the closing quote

    def start_tag(self, el: Element, depth: int, col: int) -> None:
        """`col`: the new display column of the element's `<`."""
        attrs = list(el.attrs.values())  # in document order
        mode = self.opts.attributes
        old_col = -1
        prev = el.start + 1 + len(el.tag)
        first_col = col + 1 + len(el.tag) + 1
        for i, a in enumerate(attrs):
            ws = self.text[prev:a.name_start]
            if ws.strip():
                return  # not a plain start tag: leave it
            wrap = len(attrs) > 1 and (mode == ONE_PER_LINE or (mode == ALIGN and i > 0))
            if mode == PRESERVE and _breaks(ws):
                old_col = self.column(el.start) if old_col < 0 else old_col
                new_col = self.column(a.name_start) - old_col + col
                new = self.nl + self.spaces(max(new_col, col + self.width))
            elif wrap:
                new = self.nl + (self.spaces(first_col) if mode == ALIGN else self.indent(depth + 1))
            else:
                new = " "
            self.put(prev, a.name_start, new)
            eq = self.text[a.name_end:a.value_start - 1]
            if eq.strip() == "=":
                self.put(a.name_end, a.value_start - 1, "=")
            prev = self.attr_end(a)
        close = el.start_tag_end - (2 if el.self_closing else 1)
        ws = self.text[prev:close]
        if ws.strip() or close < prev:
            return
        if mode == PRESERVE and _breaks(ws):
            self.put(prev, close, self.nl + self.indent(depth))
        else:
            self.put(prev, close, " " if el.self_closing else "")

    # -- content -----------------------------------------------------------------------
    def items(self, start: int, end: int) -> list[tuple[int, int]] | None:
        """The comments between `start` and `end`, if only they and white space are there."""
        i = bisect.bisect_left(self.comment_starts, start)
        out, at = [], start
        while i < len(self.comment_starts) and self.comment_starts[i] < end:
            c = self.sf.comments[i]
            if self.text[at:c[0]].strip():
                return None
            out.append(c)
            at = c[1]
            i += 1
        return out if not self.text[at:end].strip() else None

    def gap(self, start: int, end: int, depth: int, end_depth: int) -> bool:
        """Lay out white space and comments between `start` and `end`: comments at `depth`,
        what follows at `end_depth`. False when the gap holds anything else."""
        comments = self.items(start, end)
        if comments is None:
            return False
        at = start
        for c0, c1 in comments:
            ws = self.text[at:c0]
            if _breaks(ws):  # else a comment after something on its line: it stays there
                self.put(at, c0, self.line_break(ws, depth))
            at = c1
        self.put(at, end, self.line_break(self.text[at:end], end_depth))
        return True

    def element(self, el: Element, depth: int, col: int) -> None:
        self.start_tag(el, depth, col)
        if el.self_closing or el.start_tag_end < 0:
            return
        if el.text.strip():
            return  # <desc> and any element with text: its content as written
        end_lt = self.sf.text.rfind("</", el.start_tag_end, el.end)
        if end_lt < 0:
            return
        inner = [c for c in el.children if c.end >= 0]
        at = el.start_tag_end
        if not inner:
            ws = self.text[at:end_lt]
            if ws and not ws.strip():
                self.put(at, end_lt, self.line_break(ws, depth, keep_blank=False) if _breaks(ws) else "")
            elif ws.strip():
                self.gap(at, end_lt, depth + 1, depth)
            return
        child_col = len(self.indent(depth + 1).expandtabs(self.opts.tab_size))
        for c in inner:
            if not self.gap(at, c.start, depth + 1, depth + 1):
                return
            self.element(c, depth + 1, child_col)
            at = c.end
        self.gap(at, end_lt, depth + 1, depth)

    def run(self) -> list[Edit]:
        root = self.sf.root
        if root is None:
            return []
        self.element(root, 0, self.column(root.start))
        tail = self.text[root.end:] if root.end >= 0 else ""
        if not tail.strip():
            self.put(root.end, len(self.text), self.nl)
        return sorted(self.edits, key=lambda e: e.start)


def has_syntax_errors(sf: SourceFile) -> bool:
    return any(d.severity == Severity.ERROR for d in sf.diagnostics)


def format_source(sf: SourceFile, opts: Options = Options()) -> list[Edit] | None:
    """The edits formatting `sf` (offsets of its text), or None when it has syntax errors."""
    if has_syntax_errors(sf) or sf.root is None:
        return None
    return _Formatter(sf, opts).run()


def apply(text: str, edits: list[Edit]) -> str:
    out, at = [], 0
    for e in edits:
        out.append(text[at:e.start])
        out.append(e.new_text)
        at = e.end
    out.append(text[at:])
    return "".join(out)


def format_text(text: str, opts: Options = Options(), path: str = "<text>") -> str | None:
    """`text` formatted, or None when it has syntax errors."""
    edits = format_source(parse(path, text), opts)
    return None if edits is None else apply(text, edits)


def format_edits(sf: SourceFile, opts: Options = Options(), within: Range | None = None) -> list[tuple[Range, str]] | None:
    """The formatting edits as ranges of `sf` (only those inside `within`, if given)."""
    edits = format_source(sf, opts)
    if edits is None:
        return None
    if within is not None:
        lo, hi = sf.offset(within.start), sf.offset(within.end)
        edits = [e for e in edits if e.start >= lo and e.end <= hi]
    elif len(edits) > WHOLE_TEXT_EDITS:  # one edit is cheaper to send and apply
        return [(sf.range(0, len(sf.text)), apply(sf.text, edits))]
    return [(sf.range(e.start, e.end), e.new_text) for e in edits]
