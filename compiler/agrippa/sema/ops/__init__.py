"""The ONNX op catalog, read from ``onnx.defs``: schemas, attribute typing, arity, hover docs.

``catalog`` holds the schemas, ``inputs`` the op inputs written as attributes, ``attributes``
the typing of attribute text, ``docs`` the hover text; every name is importable from here.

Everything here is derived from the schemas ONNX ships; there is no hand-written op list.
Only the default ONNX domain is covered.

Attribute text conventions (what ``parse_attribute`` accepts):

* ``int``: a decimal integer (``"-1"``). A number written as a float is accepted only when it
  is integral (``"2.0"``, ``"1e3"``), since ``expr()`` results may come out that way;
  ``"1.5"`` is rejected.
* ``float``: a decimal number (``"0.1"``, ``"1e-5"``, ``"3"``), or ``inf``/``-inf``/``nan``.
* ``string``: the text as is.
* ``ints``/``floats``/``strings``: a list ``"[0, 1, 3, 2]"``; the brackets may be left out
  (``"0, 1"``), and a single scalar (``"3"``) means a one-element list. Strings in a list may
  be quoted (``'a'``, ``"a"``) or bare words.
* ``tensor``/``graph``/... kinds cannot be written in markup.

Some op inputs may also be written as XML attributes (ReduceSum ``axes``, Clip ``min``, Reshape
``shape``, ...; see ``attribute_input_specs``); their text is read as ints or floats and
becomes a constant tensor (``ParsedAttr.to_array``).
"""

from __future__ import annotations

from agrippa.project.config import DEFAULT_OPSET
from agrippa.sema.ops.attributes import (
    AttrError,
    ParsedAttr,
    parse_attribute,
    parse_node_attributes,
)
from agrippa.sema.ops.catalog import (
    OpArg,
    OpAttribute,
    OpInput,
    OpOutput,
    OpSchema,
    all_ops,
    check_node_arity,
    get_op,
    op_availability,
    suggest_op,
)
from agrippa.sema.ops.docs import op_markdown
from agrippa.sema.ops.inputs import (
    MARKUP_ATTRIBUTES,
    AttributeInput,
    attribute_input_specs,
    attribute_inputs,
)

__all__ = [
    "DEFAULT_OPSET", "MARKUP_ATTRIBUTES", "AttrError", "AttributeInput", "OpArg", "OpAttribute",
    "OpInput", "OpOutput", "OpSchema", "ParsedAttr", "all_ops", "attribute_input_specs",
    "attribute_inputs", "check_node_arity", "get_op", "op_availability", "op_markdown", "parse_attribute",
    "parse_node_attributes", "suggest_op",
]
