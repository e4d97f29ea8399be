"""The cursor in text being typed (`agrippa.syntax.cursor`): what it is in, which elements
are open, using the last parse for what the edit did not touch."""
from __future__ import annotations

from agrippa.base.text import common_ends
from agrippa.syntax import parse
from agrippa.syntax.cursor import (
    ATTR,
    CLOSE,
    CONTENT,
    ELEMENT,
    VALUE,
    EditedText,
    cursor_context,
)

from .markers import strip_markers
from .projects import MODEL


def context(text: str, old: str | None = MODEL):
    """The cursor context at `‸` of `text`, typed over a parse of `old`."""
    m = strip_markers(text)
    doc = EditedText.of(m.text, parse("/p/model.agr", old) if old is not None else None)
    return cursor_context(doc, doc.offset(m.cursor))


def test_inside_a_value_an_attribute_a_tag_name_and_content():
    v = context(MODEL.replace('<input src="h" />', '<input src="h‸" />'))
    assert (v.kind, v.tag, v.attr, v.typed, v.stack) == (VALUE, "input", "src", "h", ["model", "block", "node"])
    a = context(MODEL.replace('init="zeros"', 'in‸it="zeros"'))
    assert (a.kind, a.tag, a.typed, a.has_rest, a.attrs["name"]) == (ATTR, "params", "in", True, "W")
    e = context(MODEL.replace("<output name=\"y\" />", "<out‸"))
    assert (e.kind, e.typed, e.parent) == (ELEMENT, "out", "node")
    c = context(MODEL.replace('<node op="Relu"', 'no‸\n        <node op="Relu"'))
    assert (c.kind, c.typed, c.parent) == (CONTENT, "no", "block")
    close = context(MODEL.replace("    </block>", "    </bl‸"))
    assert (close.kind, close.typed, close.parent) == (CLOSE, "bl", "block")


def test_open_elements_come_the_same_with_or_without_the_last_parse():
    text = MODEL.replace('<node op="Relu" title="Act">', '<node op="Relu" title="Act">\n<bl‸')
    assert context(text).stack == context(text, old=None).stack == ["model", "block", "node"]
    tail = MODEL.replace('<export from="y" dim', '<export from="‸y" dim')
    assert context(tail).stack == context(tail, old=None).stack == ["model"]


def test_comments_and_text_past_a_tag_have_no_context():
    assert context(MODEL.replace("<model>", "<model><!-- a ‸ -->")) is None
    assert context(MODEL.replace('<input src="h" />', '<input src="h" />‸'), old=None).kind == CONTENT


def test_the_edit_is_found_by_its_common_ends():
    assert common_ends("abcXYdef", "abcZdef") == (3, 3)
    assert common_ends("aaa", "aaa") == (3, 0)
    doc = EditedText.of("line0\nline1 typed\nline2\n", parse("/p/x.agr", "line0\nline1\nline2\n"))
    assert doc.old_offset(len(doc.text) - 3) == len(doc.old.text) - 3  # the tail moved by the edit
