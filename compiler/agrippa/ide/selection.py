"""Selection ranges (expand selection) and linked editing of tag names.

Both read only the syntax tree: the attributes' and elements' offsets. Expanding goes
name in `var()` → attribute value → attribute → start tag → element → parent … → root.
"""
from __future__ import annotations

from agrippa.base.diagnostics import Position, Range
from agrippa.syntax import Element, SourceFile

from . import locate as L
from .host import AnalysisHost


def _source(host: AnalysisHost, path: str) -> SourceFile | None:
    got = host.file_analysis(path)
    return got[1] if got is not None else None


def _spans(sf: SourceFile, offset: int) -> list[tuple[int, int]]:
    t = L.what_is_at(None, sf, offset)
    spans: list[tuple[int, int]] = []
    el = t.element
    if el is None:
        return spans
    if t.kind == L.VAR:
        spans.append((t.start, t.end))
    a = t.attr
    if a is not None:
        v0, v1 = a.value_start, a.value_start + len(a.raw)
        if t.kind != L.ATTR_NAME:
            spans.append((v0, v1))
        else:
            spans.append((a.name_start, a.name_end))
        spans.append((a.name_start, min(v1 + 1, len(sf.text))))  # the closing quote
    elif t.kind == L.TAG:
        spans.append((t.start, t.end))
    if t.kind != L.CONTENT and el.start_tag_end > 0:
        spans.append((el.start, el.start_tag_end))
    while el is not None:
        spans.append((el.start, el.end if el.end >= 0 else len(sf.text)))
        el = el.parent
    out: list[tuple[int, int]] = []
    for s in spans:  # each strictly contains the previous one
        if not out or (s != out[-1] and s[0] <= out[-1][0] and s[1] >= out[-1][1]):
            out.append(s)
    return out


def selection_ranges(host: AnalysisHost, path: str, positions: list[Position]) -> list[list[Range]]:
    """For each position, the ranges to select, innermost first (empty: outside the tree)."""
    sf = _source(host, path)
    if sf is None:
        return [[] for _ in positions]
    return [[sf.range(a, b) for a, b in _spans(sf, sf.offset(p))] for p in positions]


def end_tag_name(sf: SourceFile, el: Element) -> tuple[int, int] | None:
    """The offsets of the name in `el`'s end tag (None when self-closing or unclosed)."""
    if el.self_closing or not el.closed or el.start_tag_end < 0 or el.end < 0:
        return None
    lt = sf.text.rfind("</", el.start_tag_end, el.end)
    if lt < 0 or sf.text[lt + 2:lt + 2 + len(el.tag)] != el.tag:
        return None
    return lt + 2, lt + 2 + len(el.tag)


def linked_tag_ranges(host: AnalysisHost, path: str, pos: Position) -> list[Range]:
    """The start and end tag names of the element whose tag name holds `pos` (else empty)."""
    sf = _source(host, path)
    if sf is None:
        return []
    offset = sf.offset(pos)
    el = sf.element_at(offset)
    candidates = [el] + ([el.parent] if el is not None and el.parent is not None else [])
    for e in candidates:
        if e is None:
            continue
        end = end_tag_name(sf, e)
        if end is None:
            continue
        start = (e.start + 1, e.start + 1 + len(e.tag))
        if start[0] <= offset <= start[1] or end[0] <= offset <= end[1]:
            return [sf.range(*start), sf.range(*end)]
    return []
