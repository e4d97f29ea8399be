"""Where a cursor is in markup being typed: inside a tag name, an attribute, a value, content.

Completion runs on the editor's current text, which is usually a few keystrokes ahead of
the last parse. `EditedText` pairs the two (the common prefix and suffix locate the
edit), and `cursor_context` scans only around the cursor, taking the elements open
before the edit from the parsed tree, so a request on a large file stays local.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from agrippa.base.diagnostics import Position
from agrippa.base.text import LINE_BREAK, common_ends
from agrippa.syntax import SourceFile

_NAME = re.compile(r"[A-Za-z_:][-\w:.]*")
_ATTR = re.compile(r"\s+([A-Za-z_:][-\w:.]*)(\s*=\s*(?:\"([^\"<]*)\"?|'([^'<]*)'?)?)?")
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)|</([^\s>]*)\s*>?"
                    r"|<([A-Za-z_:][-\w:.]*)(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?(/?)>", re.S)
_WORD = re.compile(r"[\w-]*$")
_BREAK = re.compile(LINE_BREAK)

ELEMENT, CLOSE, ATTR, VALUE, CONTENT, NONE = "element", "close", "attr", "value", "content", "none"


@dataclass(frozen=True)
class EditedText:
    """The current text of a file beside its last parse (`old`, None when there is none)."""

    text: str
    old: SourceFile | None = None
    prefix: int = 0  # the texts agree on text[:prefix] ...
    suffix: int = 0  # ... and on their last `suffix` characters

    @staticmethod
    def of(text: str, old: SourceFile | None) -> EditedText:
        prefix, suffix = common_ends(old.text, text) if old is not None else (0, 0)
        return EditedText(text, old, prefix, suffix)

    @property
    def delta(self) -> int:
        return len(self.text) - len(self.old.text) if self.old is not None else 0

    def line_start(self, line: int) -> int:
        """The offset where `line` starts (the parse's line index serves up to the edit)."""
        i, known = 0, 0
        if self.old is not None:
            known = min(line, self.old.position(self.prefix).line)
            i = self.old.offset(Position(known, 0))
        for _ in range(line - known):
            m = _BREAK.search(self.text, i)
            if m is None:
                return len(self.text)
            i = m.end()
        return i

    def line_end(self, offset: int) -> int:
        m = _BREAK.search(self.text, offset)
        return len(self.text) if m is None else m.start()

    def offset(self, pos: Position) -> int:
        """The offset of `pos`, clamped to its line."""
        start = self.line_start(pos.line)
        return min(start + pos.character, self.line_end(start))

    def old_offset(self, offset: int) -> int:
        """`offset` mapped into the parsed text (an edit inside a tag maps before that tag)."""
        if self.old is None or offset <= self.prefix:
            return offset
        if offset >= len(self.text) - self.suffix:
            return offset - self.delta
        lt, gt = self.old.text.rfind("<", 0, self.prefix), self.old.text.rfind(">", 0, self.prefix)
        return lt if lt > gt else self.prefix


@dataclass
class CursorContext:
    """What the cursor is in; `start`/`end` is the span a completion replaces."""

    kind: str  # ELEMENT, CLOSE, ATTR, VALUE or CONTENT
    start: int
    end: int
    stack: list[str] = field(default_factory=list)  # open elements, outermost first
    tag: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    attr: str = ""
    typed: str = ""  # the text before the cursor in what is replaced (a value: all of it so far)
    has_rest: bool = False  # element: attributes follow the name; attr: '=' follows

    @property
    def parent(self) -> str:
        """The innermost open element ('' at the top)."""
        return self.stack[-1] if self.stack else ""


def _base(sf: SourceFile, p: int) -> tuple[list[str], int]:
    """The elements open at offset `p` of the parse and an offset <= p to scan on from."""
    el = sf.element_at(p)
    if el is None:
        return [], 0 if sf.root is None or p >= sf.root.start else p
    anc: list[str] = []
    a = el.parent
    while a is not None:
        anc.insert(0, a.tag)
        a = a.parent
    ste = el.start_tag_end if el.start_tag_end >= 0 else el.end
    if p < ste or p == el.start:
        return anc, el.start
    if el.self_closing or p >= el.end:
        return anc, p
    et = sf.text.rfind("</", ste, el.end)
    if et >= 0 and p > et:
        return anc + [el.tag], et
    for c0, c1 in sf.comments[max(0, bisect.bisect_right(sf.comments, (p, p)) - 1):][:2]:
        if c0 < p < c1:
            return anc + [el.tag], c0
    return anc + [el.tag], p


def _scan(text: str, stack: list[str], s: int, q: int) -> list[str]:
    stack = list(stack)
    for m in _TOKEN.finditer(text, s, q):
        close, opened, selfclose = m.group(1), m.group(2), m.group(3)
        if close and close in stack:
            del stack[len(stack) - 1 - stack[::-1].index(close):]
        elif opened and not selfclose:
            stack.append(opened)
    return stack


def open_tags(doc: EditedText, q: int) -> list[str]:
    """The elements open at offset `q` of the current text."""
    old, text = doc.old, doc.text
    if old is None:
        return _scan(text, [], 0, q)
    delta = doc.delta
    if q >= len(text) - doc.suffix and q - delta >= doc.prefix:  # in the unchanged tail
        stack, s_old = _base(old, q - delta)
        if s_old >= len(old.text) - doc.suffix:
            return _scan(text, stack, s_old + delta, q)
        if s_old <= doc.prefix:
            return _scan(text, stack, s_old, q)
    stack, s = _base(old, min(q, doc.prefix))
    return _scan(text, stack, s, q)


def tag_context(text: str, lt: int, off: int) -> CursorContext | None:
    """The context when `off` is inside the tag starting at `lt`; None if that tag ended."""
    if text.startswith("</", lt):
        m = _NAME.match(text, lt + 2)
        end = m.end() if m else lt + 2
        return CursorContext(CLOSE, lt + 2, end, typed=text[lt + 2:off]) if off <= end else None
    m = _NAME.match(text, lt + 1)
    name_end = m.end() if m else lt + 1
    if off <= name_end:
        rest = text[name_end:name_end + 200].lstrip(" \t")
        return CursorContext(ELEMENT, lt + 1, name_end, typed=text[lt + 1:off],
                             has_rest=bool(rest) and rest[0] not in "<\n")
    ctx, found, i = CursorContext(ATTR, off, off, tag=m.group(0) if m else ""), False, name_end
    while (am := _ATTR.match(text, i)) is not None:
        g = 3 if am.group(3) is not None else 4
        (ns, ne), (vs, ve) = am.span(1), am.span(g)
        ctx.attrs[am.group(1)] = am.group(g) or ""
        if not found and ns <= off <= ne:
            ctx.start, ctx.end, ctx.typed, ctx.has_rest, found = ns, ne, text[ns:off], am.group(2) is not None, True
        elif not found and 0 <= vs <= off <= ve:
            ctx.kind, ctx.attr, ctx.start, ctx.end, ctx.typed, found = VALUE, am.group(1), vs, ve, text[vs:off], True
        i = am.end()
    if not found and (len(text[i:off].strip()) or not text[off - 1].isspace()):
        # past the tag, or just after a closing quote
        return None if text[i:off].strip() else CursorContext(NONE, off, off)
    return ctx


def cursor_context(doc: EditedText, off: int) -> CursorContext | None:
    """What is at offset `off` of the current text; None inside a comment or past a tag."""
    text = doc.text
    c0 = text.rfind("<!--", 0, off)
    c1 = text.find("-->", c0 + 4) if c0 >= 0 else -1
    if c0 >= 0 and (c1 < 0 or c1 + 3 > off):
        return None  # inside a comment
    lt = text.rfind("<", 0, off)
    ctx = tag_context(text, lt, off) if lt >= 0 and (c0 < 0 or lt >= c1 + 3) else None
    if ctx is not None and ctx.kind == NONE:
        return None
    if ctx is None:
        word = _WORD.search(text[max(0, off - 64):off])
        typed = word.group(0) if word else ""
        ctx = CursorContext(CONTENT, off - len(typed), off, typed=typed)
        ctx.stack = open_tags(doc, off)
    else:
        ctx.stack = open_tags(doc, lt)
    return ctx
