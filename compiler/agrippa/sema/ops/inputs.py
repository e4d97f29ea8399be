"""Op inputs that markup may write as XML attributes (ReduceSum ``axes``, Clip ``min``,
Reshape ``shape``, ...): which ones qualify, and the constant tensor each becomes."""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import onnx

from agrippa.sema.ops.catalog import OpSchema, attr_kind, history

MARKUP_ATTRIBUTES = frozenset({"op", "title", "expose"})
"""``<node>`` attributes that belong to Agrippa, not to the ONNX op."""

_INT_TYPES = frozenset(
    f"tensor({t})"
    for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
)


@dataclass(frozen=True, slots=True)
class AttributeInput:
    """An op input that markup may write as an XML attribute, compiled to a constant initializer.

    ``elem_type`` is an ``onnx.TensorProto`` data type (INT64 or FLOAT). ``follows_data`` means the
    input shares the first input's type parameter (e.g. Clip min/max), so the compiler should
    use the data's element type when it knows it. ``rank`` is 0 or 1 when the schema says
    so, ``None`` when the tensor takes the rank the text is written in (scalar or list).
    """

    name: str
    index: int
    elem_type: int
    follows_data: bool
    rank: int | None


def _earlier_attribute_kinds(schema: OpSchema) -> dict[str, str]:
    """Attributes of earlier versions of the op → their (latest) kind."""
    return {
        name: attr_kind(a.type)
        for v in history().get(schema.name, ())
        if v.since_version < schema.since_version
        for name, a in v.attributes.items()
    }


def _rank_hint(description: str) -> int | None:
    text = " ".join(description.lower().split())
    if re.search(r"\bscalar\b|\b0-d\b", text):
        return 0
    if re.search(r"\b1-?d\b|\blist of\b|\barray\b", text):
        return 1
    return None


def attribute_input_specs(schema: OpSchema) -> dict[str, AttributeInput]:
    """Op inputs that markup may write as XML attributes (constants), by name.

    An input qualifies when it is not the first input, not variadic, not named like one of the
    op's attributes, is a tensor of int64 or float, and either
    (a) an earlier version of the op had an attribute of that name (it was turned into an
    input, e.g. ReduceSum axes, Clip min/max, Reshape shape), or
    (b) its type is not tied to the first input's and is an integer type admitting int64
    (axes, shapes, sizes, repeats, K, indices), or exactly ``tensor(float)`` (Resize scales).
    """
    return dict(_attribute_input_specs(schema))


@functools.lru_cache(maxsize=4096)
def _attribute_input_specs(schema: OpSchema) -> dict[str, AttributeInput]:
    if not schema.inputs:
        return {}
    earlier = _earlier_attribute_kinds(schema)
    first_type = schema.inputs[0].type_str
    specs: dict[str, AttributeInput] = {}
    for index, inp in enumerate(schema.inputs[1:], start=1):
        if inp.variadic or inp.name in schema.attributes or inp.name in MARKUP_ATTRIBUTES:
            continue
        allowed = set(inp.allowed_types)
        tied = inp.type_str == first_type and inp.type_str in schema.type_constraints
        has_int64, has_float = "tensor(int64)" in allowed, "tensor(float)" in allowed
        if inp.name in earlier and (has_int64 or has_float):
            # Prefer float when the values follow float data (Clip) or only floats are allowed.
            use_float = has_float and (tied or not has_int64)
        elif not tied and has_int64 and allowed <= _INT_TYPES:
            use_float = False
        elif not tied and allowed == {"tensor(float)"}:
            use_float = True
        elif tied and inp.optional and has_float and _rank_hint(inp.description) == 0:
            use_float = True  # an optional scalar of the data's type (Pad's constant_value)
        else:
            continue
        elem = onnx.TensorProto.FLOAT if use_float else onnx.TensorProto.INT64
        rank = _rank_hint(inp.description)
        if rank is None and inp.name in earlier:
            rank = 1 if earlier[inp.name].endswith("s") else 0
        specs[inp.name] = AttributeInput(inp.name, index, elem, tied, rank)
    return specs


def attribute_inputs(schema: OpSchema) -> Mapping[str, int]:
    """XML attribute names that are op inputs (not ONNX attributes) → input index (read-only:
    one mapping per schema, asked for every node)."""
    return _attribute_inputs(schema)


@functools.lru_cache(maxsize=4096)
def _attribute_inputs(schema: OpSchema) -> Mapping[str, int]:
    return MappingProxyType({name: spec.index for name, spec in _attribute_input_specs(schema).items()})
