"""Mapping an `Issue` back to the user's text: the range it marks and its quick fix,
the way lemminx does (a missing attribute marks the tag name, a bad value the value, an
unexpected child the child's tag name)."""
from __future__ import annotations

import re

from agrippa.base.diagnostics import Diagnostic, Fix, Range, Severity, TextEdit
from agrippa.sema.schema.issues import Issue
from agrippa.syntax.tree import Element, SourceFile

_BLANK_RE = re.compile(r"(?:\s|<!--.*?-->)*", re.S)
_END_TAG_RE = re.compile(r"</([^\s>]+)\s*>?")


def _text_range(sf: SourceFile, el: Element) -> Range:
    """The first run of text directly inside `el` (not in a child or a comment)."""
    end = el.end if el.end >= 0 else len(sf.text)
    close = _end_tag_start(sf, el)
    end = close if close is not None else end
    bounds = [el.start_tag_end] + [x for c in el.children for x in (c.start, c.end)] + [end]
    for a, b in zip(bounds[::2], bounds[1::2]):
        i = _BLANK_RE.match(sf.text, a, b).end()
        if i < b:
            stop = sf.text.find("<", i, b)
            stop = b if stop < 0 else stop
            return sf.range(i, i + len(sf.text[i:stop].rstrip()))
    return el.tag_range


def _end_tag_start(sf: SourceFile, el: Element) -> int | None:
    """Offset of the element's own end tag `</tag>`, if it has one."""
    if el.self_closing or el.end < 0:
        return None
    close = sf.text.rfind("</", el.start_tag_end, el.end)
    m = _END_TAG_RE.fullmatch(sf.text, close, el.end) if close >= 0 else None
    return close if m is not None and m.group(1) == el.tag else None


def _end_tag_range(sf: SourceFile, el: Element) -> Range | None:
    close = _end_tag_start(sf, el)
    return sf.range(close + 2, close + 2 + len(el.tag)) if close is not None else None


def to_diagnostic(sf: SourceFile, el: Element, issue: Issue) -> Diagnostic:
    attr = el.attrs.get(issue.attr) if issue.attr else None
    if issue.target == "value" and attr is not None:
        rng = attr.value_range
        quoted = 0 < attr.value_start <= len(sf.text) and sf.text[attr.value_start - 1] in "\"'"
        if not attr.raw and quoted:  # an empty value: mark its quotes
            rng = sf.range(attr.value_start - 1, attr.value_start + 1)
    elif issue.target == "name" and attr is not None:
        rng = attr.name_range
    elif issue.target == "text":
        rng = _text_range(sf, el)
    else:
        rng = el.tag_range
    fixes: tuple[Fix, ...] = ()
    if issue.fix is not None:
        title, target, fix_attr, new = issue.fix
        edits: list[TextEdit] = []
        fattr = el.attrs.get(fix_attr) if fix_attr else None
        if target == "value" and fattr is not None:
            edits.append(TextEdit(sf.path, fattr.value_range, new))
        elif target == "name" and fattr is not None:
            edits.append(TextEdit(sf.path, fattr.name_range, new))
        elif target == "insert":
            end = el.tag_range.end
            edits.append(TextEdit(sf.path, Range(end, end), new))
        elif target == "tag":
            edits.append(TextEdit(sf.path, el.tag_range, new))
            end_tag = _end_tag_range(sf, el)
            if end_tag is not None:
                edits.append(TextEdit(sf.path, end_tag, new))
        if edits:
            fixes = (Fix(title, tuple(edits), preferred=target != "insert"),)
    data = {"element": el.tag, "attribute": issue.attr} if issue.attr else {"element": el.tag}
    return Diagnostic(sf.path, rng, Severity.ERROR, issue.code, issue.message, fixes=fixes, data=data)
