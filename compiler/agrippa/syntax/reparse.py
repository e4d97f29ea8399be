"""Incremental re-parsing: after an edit, read again only the top-level elements it touched.

An edit replaces one span of the text. The root's children before that span are the same
elements at the same offsets; those after it are the same elements moved by the edit's
length difference; only the children the span overlaps (and the gaps beside them) are
scanned again, by the same parser, inside the root. The result is exactly what a full
parse gives. Whenever that is not certain (the earlier parse had syntax diagnostics, the
edit touches the root's own tags, the scan does not end cleanly at the next unchanged
child, it yields any diagnostic) `reparse` returns None and the caller parses it all.

The previous parse is consumed, not copied (copying a large tree costs half a parse):
its root and unchanged elements move into the new SourceFile, their offsets moved and
their shared line index re-indexed, and the previous SourceFile is left empty. A parse
is consumed once; a second attempt on it returns None.
"""
from __future__ import annotations

import threading

from agrippa.base.text import common_ends
from agrippa.syntax.chars import has_special
from agrippa.syntax.scanner import Scanner
from agrippa.syntax.tree import Element, SourceFile

MIN_CHARS = 8_192  # below this a full parse is as quick
_lock = threading.Lock()


def reparse(old: SourceFile, text: str) -> SourceFile | None:
    """`text` parsed reusing `old` (the same file before an edit), or None: parse it all."""
    with _lock:  # take ownership of `old`, or leave it to whoever took it first
        root = old.root
        if (len(text) < MIN_CHARS or old.diagnostics or root is None or not root.closed
                or root.self_closing or root.text or text == old.text or old.consumed):
            return None
        span = _edit(old, text)
        if span is None:
            return None
        old.consumed = True
    return _splice(old, text, *span)


def _edit(old: SourceFile, text: str) -> tuple[int, int, int, int, int, int, int] | None:
    """(k1, k2, lo, hi, close, a, b): the root's children k1..k2 and the gaps around them, the
    span [lo, hi) of the old text, hold the edit (it replaced [a, b)); `close` is where the
    root's end tag is."""
    root, otext = old.root, old.text
    close = otext.rfind("</", root.start_tag_end, root.end)
    a, suffix = common_ends(otext, text)
    b = len(otext) - suffix  # otext[a:b] was replaced
    if close < 0 or a < root.start_tag_end or b > close:
        return None
    kids = root.children
    k1 = 0
    while k1 < len(kids) and kids[k1].end < a:
        k1 += 1
    k2 = k1 - 1
    while k2 + 1 < len(kids) and kids[k2 + 1].start <= b:
        k2 += 1
    lo = kids[k1 - 1].end if k1 > 0 else root.start_tag_end
    hi = kids[k2 + 1].start if k2 + 1 < len(kids) else close
    if has_special(text, lo, hi + len(text) - len(otext)):
        return None  # a character to report (a surrogate, a bidi control): the full parse does that
    return k1, k2, lo, hi, close, a, b


def _splice(old: SourceFile, text: str, k1: int, k2: int, lo: int, hi: int, close: int, a: int,
            b: int) -> SourceFile | None:
    root = old.root
    delta = len(text) - len(old.text)
    every = old.all
    first_after = _first_at(every, hi)  # elements of the children after the edit: every[first_after:]
    first_edited = _first_at(every, lo)
    kids = root.children
    before, after = kids[:k1], kids[k2 + 1:]
    sf = SourceFile(old.path, text, old.lines)
    sf.lines.splice(text, a, b, b + delta)
    sf.root = root
    sf.all = every[:first_edited]
    sf.comments = [c for c in old.comments if c[1] <= lo]
    saved = (root.end, root.text, root.closed)
    root.children = list(before)
    parser = Scanner(sf)
    parser.stack.append(root)
    stop = parser.scan(lo, hi + delta)
    if stop != hi + delta or parser.stack != [root] or sf.diagnostics or root.text:
        # rare (the edit left something open): undo, and parse the whole text instead
        for el in sf.all[first_edited:]:
            el.parent = None
        root.children = kids
        root.end, root.text, root.closed = saved
        sf.lines.reset(old.text)
        sf.all = []  # `old` keeps its tree (it stays consumed: it is parsed afresh next time)
        return None
    for el in every[first_edited:first_after]:  # the replaced elements: no parent links left
        el.parent = None
    moved = every[first_after:]
    if delta:
        for el in moved:
            el.start += delta
            el.end += delta
            el.start_tag_end += delta
            for at in el.attrs.values():
                at.name_start += delta
                at.name_end += delta
                at.value_start += delta
    root.children.extend(after)
    root.end += delta
    sf.all.extend(moved)
    sf.comments.extend((s + delta, e + delta) for s, e in old.comments if s >= hi)
    old.root, old.all, old.comments = None, [], []
    return sf


def _first_at(every: list[Element], offset: int) -> int:
    """The index of the first element (in document order) starting at or after `offset`."""
    lo, hi = 1, len(every)  # every[0] is the root
    while lo < hi:
        mid = (lo + hi) // 2
        if every[mid].start < offset:
            lo = mid + 1
        else:
            hi = mid
    return lo

