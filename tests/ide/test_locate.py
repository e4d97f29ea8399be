"""What is at a cursor: the kind of thing, its text and its span."""
from __future__ import annotations

from agrippa.ide import locate as L
from agrippa.syntax import parse

from .markers import strip_markers
from .projects import MODEL


def at(snippet: str) -> L.Target:
    """What is at the `‸` of `snippet` (marked in MODEL), with `⟦ ⟧` checked as its span."""
    plain = snippet.replace("‸", "").replace("⟦", "").replace("⟧", "")
    start = MODEL.index(plain)
    m = strip_markers(MODEL[:start] + snippet + MODEL[start + len(plain):])
    sf = parse("/p/model.agr", m.text)
    t = L.at_position(None, sf, m.cursor)
    if m.ranges:
        assert [t.range] == m.ranges
    return t


def test_kinds():
    assert at('from="‸x" dim').kind == L.TENSOR_DEF  # the model's import defines x
    assert at('<import from="‸x" />').kind == L.TENSOR_REF  # a block's import reads it
    t = at('src="⟦‸h⟧"')
    assert (t.kind, t.text, t.element.tag) == (L.TENSOR_REF, "h", "input")
    assert at('name="‸h"').kind == L.TENSOR_DEF
    assert at('op="‸Relu"').kind == L.OP
    assert at('<params name="‸W"').kind == L.PARAMS_NAME
    v = at("var(⟦dhi‸dden⟧), var(dhidden)]")
    assert (v.kind, v.text, v.attr.name) == (L.VAR, "dhidden", "dim")
    assert at('init="‸zeros"').kind == L.VALUE
    assert at('i‸nit="zeros"').kind == L.ATTR_NAME
    assert at("<bl‸ock").kind == L.TAG and at('title="S‸tack"').kind == L.BLOCK_TITLE
    assert at("‸</node>").kind == L.CONTENT


def test_the_prefix_is_the_value_left_of_the_cursor():
    assert at('src="‸h"').prefix == ""
    assert at('src="h‸"').prefix == "h"


def test_a_half_typed_file_still_says_where_the_cursor_is():
    sf = parse("/p/broken.agr", '<model><node op="Relu"><input src="')
    t = L.at_position(None, sf, sf.position(len(sf.text)))
    assert (t.kind, t.element.tag, t.prefix) == (L.TENSOR_REF, "input", "")
