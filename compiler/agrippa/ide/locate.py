"""What is at a cursor position: the element, the attribute part and the kind of value.

Shared by hover, navigation and rename. `what_is_at` never
raises and never re-parses the file; it only reads the syntax tree (and, when given, the
graph to tell a model-root import that defines a tensor from one that refers to it).

Kinds (`Target.kind`):

==================  ===========================================================
``tensor-def``      `<output name>`, or `<import from>` at the index's model root
``tensor-ref``      `<input src>`, block/sourced `<import from>`, `<export from>`
``op``              `<node op>`
``params-name``     `<params name>`
``node-title``      `<node title>` (``block-title`` for a block's)
``source``          `src` of a sourced `<block>`
``sourced-name``    `name` of a sourced `<block>` (its `$` prefix)
``var``             a name inside `var()` / `expr()` of any value (`Target.name`)
``value``           any other attribute value (`dim`, `axis`, `rep`, ...)
``attr-name``       an attribute's name
``tag``             the element's tag name (start tag)
``tag-space``       inside the start tag, between attributes
``content``         element content (text, `<desc>`, between children)
``none``            outside every element
==================  ===========================================================
"""
from __future__ import annotations

from dataclasses import dataclass

from agrippa.base.diagnostics import Position, Range
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph
from agrippa.sema.values import Name, ValueError_, parse_value
from agrippa.syntax import Attr, Element, SourceFile

TENSOR_DEF = "tensor-def"
TENSOR_REF = "tensor-ref"
OP = "op"
PARAMS_NAME = "params-name"
NODE_TITLE = "node-title"
BLOCK_TITLE = "block-title"
SOURCE = "source"
SOURCED_NAME = "sourced-name"
VAR = "var"
VALUE = "value"
ATTR_NAME = "attr-name"
TAG = "tag"
TAG_SPACE = "tag-space"
CONTENT = "content"
NONE = "none"


@dataclass(frozen=True, slots=True)
class Target:
    """The thing under the cursor. `start`/`end` are absolute offsets of that thing."""

    kind: str
    file: SourceFile
    offset: int
    element: Element | None = None
    attr: Attr | None = None
    start: int = 0
    end: int = 0
    name: Name | None = None  # for `var`: the Name node (offsets inside the decoded value)

    @property
    def text(self) -> str:
        """The word under the cursor: a tensor/op/var name, or the attribute value or name."""
        if self.name is not None:
            return self.name.name
        if self.kind == ATTR_NAME and self.attr is not None:
            return self.attr.name
        if self.kind == TAG and self.element is not None:
            return self.element.tag
        if self.attr is not None:
            return self.attr.value
        return ""

    @property
    def range(self) -> Range:
        return self.file.range(self.start, self.end)

    @property
    def in_value(self) -> bool:
        return self.attr is not None and self.kind != ATTR_NAME

    @property
    def prefix(self) -> str:
        """The value text left of the cursor (for completion), or '' outside a value."""
        if not self.in_value or self.attr is None:
            return ""
        return self.file.text[self.attr.value_start:self.offset]

    @property
    def is_tensor(self) -> bool:
        return self.kind in (TENSOR_DEF, TENSOR_REF)


def _graph_of(analysis_or_graph: Analysis | Graph | None) -> Graph | None:
    if isinstance(analysis_or_graph, Analysis):
        return analysis_or_graph.graph
    return analysis_or_graph


def _value_end(attr: Attr) -> int:
    return attr.value_start + len(attr.raw)


def _name_offsets(sf: SourceFile, attr: Attr) -> tuple[int, int]:
    return sf.offset(attr.name_range.start), sf.offset(attr.name_range.end)


def value_kind(el: Element, attr_name: str, graph: Graph | None = None, sf: SourceFile | None = None) -> str:
    """The kind of the value of attribute `attr_name` of `el` (no var/expr detection)."""
    tag = el.tag
    parent = el.parent
    if tag == "output" and attr_name == "name":
        return TENSOR_DEF
    if tag == "input" and attr_name == "src":
        return TENSOR_REF
    if tag in ("import", "export") and attr_name == "from":
        if tag == "import" and parent is not None and parent.tag == "model" and parent.parent is None:
            is_index = graph is None or sf is None or graph.index == sf.path
            if is_index:
                return TENSOR_DEF
        return TENSOR_REF
    if tag == "node" and attr_name == "op":
        return OP
    if tag == "node" and attr_name == "title":
        return NODE_TITLE
    if tag == "params" and attr_name == "name":
        return PARAMS_NAME
    if tag == "block":
        if attr_name == "src":
            return SOURCE
        if attr_name == "name" and "src" in el.attrs:
            return SOURCED_NAME
        if attr_name == "title":
            return BLOCK_TITLE
    return VALUE


def _var_at(attr: Attr, offset: int) -> Name | None:
    """The var()/expr() name whose text contains `offset`, if any."""
    if "var" not in attr.value and "expr" not in attr.value:
        return None
    try:
        value = parse_value(attr.value)
    except ValueError_:
        return None
    for n in value.names():
        if attr.offset_of(n.start) <= offset <= attr.offset_of(n.end):
            return n
    return None


def what_is_at(analysis_or_graph: Analysis | Graph | None, source_file: SourceFile, offset: int) -> Target:
    """Describe what is at `offset` of `source_file`; never raises."""
    sf = source_file
    try:
        return _what_is_at(_graph_of(analysis_or_graph), sf, offset)
    except Exception:  # a half-typed file must never break a feature
        return Target(NONE, sf, offset, start=offset, end=offset)


def _what_is_at(graph: Graph | None, sf: SourceFile, offset: int) -> Target:
    offset = max(0, min(offset, len(sf.text)))
    el = sf.element_at(offset)
    if el is None:
        return Target(NONE, sf, offset, start=offset, end=offset)
    tag_end = el.start_tag_end if el.start_tag_end >= 0 else el.end
    if not (el.start <= offset <= tag_end) or (offset == tag_end and sf.text[offset - 1:offset] == ">"):
        if offset == el.end and el.parent is not None:
            el = el.parent  # just past `/>` or `</x>`: the parent's content
        return Target(CONTENT, sf, offset, el, start=offset, end=offset)
    tag_start = sf.offset(el.tag_range.start)
    tag_stop = sf.offset(el.tag_range.end)
    if tag_start <= offset <= tag_stop:
        return Target(TAG, sf, offset, el, start=tag_start, end=tag_stop)
    for attr in el.attrs.values():
        n0, n1 = _name_offsets(sf, attr)
        if n0 <= offset <= n1:
            return Target(ATTR_NAME, sf, offset, el, attr, n0, n1)
        v0, v1 = attr.value_start, _value_end(attr)
        if v0 <= offset <= v1 and v0 > n1:
            name = _var_at(attr, offset)
            if name is not None:
                return Target(VAR, sf, offset, el, attr, attr.offset_of(name.start), attr.offset_of(name.end), name)
            return Target(value_kind(el, attr.name, graph, sf), sf, offset, el, attr, v0, v1)
    return Target(TAG_SPACE, sf, offset, el, start=offset, end=offset)


def at_position(analysis_or_graph: Analysis | Graph | None, source_file: SourceFile, pos: Position) -> Target:
    """`what_is_at` for a (line, character) position."""
    return what_is_at(analysis_or_graph, source_file, source_file.offset(pos))


def enclosing(el: Element | None, tag: str) -> Element | None:
    """The nearest ancestor-or-self of `el` with this tag."""
    while el is not None and el.tag != tag:
        el = el.parent
    return el


__all__ = [
    "Target", "what_is_at", "at_position", "value_kind", "enclosing",
    "TENSOR_DEF", "TENSOR_REF", "OP", "PARAMS_NAME", "NODE_TITLE", "BLOCK_TITLE", "SOURCE",
    "SOURCED_NAME", "VAR", "VALUE", "ATTR_NAME", "TAG", "TAG_SPACE", "CONTENT", "NONE",
]
