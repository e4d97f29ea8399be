"""Signature help inside a `<node>`: the op's input slots and the one being filled.

The node's `<input>` and `<params>` children, taken together in document order, fill the
op's inputs one by one (docs/language.md §5); a variadic last input takes the rest. The
slot under the cursor is the child holding it, or, between children, the next one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agrippa.base.diagnostics import Position

from . import locate as L
from .host import AnalysisHost

OPERANDS = ("input", "params")


@dataclass(frozen=True)
class Slot:
    label: str  # `A: T`, `[B]: T`, `inputs...: T`
    start: int  # where `label` stands in the signature's label
    end: int
    doc: str


@dataclass(frozen=True)
class Signature:
    label: str  # `MatMul(A: T, B: T) -> Y: T`
    doc: str
    slots: tuple[Slot, ...]
    active: int | None  # the slot being filled (None: past the last one)


def _types(allowed: tuple[str, ...]) -> str:
    return ", ".join(t.removeprefix("tensor(").removesuffix(")") for t in allowed)


def signature_help(host: AnalysisHost, path: str, pos: Position) -> Signature | None:
    """The signature of the op of the `<node>` around `pos`, or None outside a node."""
    from agrippa.sema.ops import get_op
    from agrippa.sema.ops.inputs import attribute_inputs

    got = host.file_analysis(path)
    if got is None:
        return None
    analysis, sf = got
    offset = sf.offset(pos)
    t = L.what_is_at(analysis, sf, offset)
    node = L.enclosing(t.element, "node")
    if node is None or not node.get("op"):
        return None
    graph = analysis.graph
    schema = get_op(node.get("op") or "", graph.opset if graph is not None else 13)
    if schema is None or not schema.inputs:
        return None
    as_attr = {i: n for n, i in attribute_inputs(schema).items()}
    parts, slots = [], []
    label = f"{schema.name}("
    for i, inp in enumerate(schema.inputs):
        name = f"{inp.name}..." if inp.variadic else inp.name
        text = f"[{name}]" if inp.optional else name
        text += f": {inp.type_str}"
        start = len(label) + sum(len(p) + 2 for p in parts)
        parts.append(text)
        flags = [f for f, on in (("optional", inp.optional), ("variadic", inp.variadic)) if on]
        if i in as_attr:
            flags.append(f"or the attribute `{as_attr[i]}`")
        doc = f"`{inp.name}`" + (f" ({', '.join(flags)})" if flags else "")
        if inp.allowed_types:
            doc += f", `{inp.type_str}` ∈ {_types(inp.allowed_types)}"
        doc += f"\n\n{' '.join(inp.description.split())}" if inp.description else ""
        slots.append(Slot(text, start, start + len(text), doc))
    outs = ", ".join(o.name for o in schema.outputs)
    label += ", ".join(parts) + ")" + (f" -> {outs}" if outs else "")
    operands = [c for c in node.children if c.tag in OPERANDS]
    k = 0
    for c in operands:
        if c.end >= 0 and c.end <= offset and not (c.start <= offset < c.end):
            k += 1
    active: int | None = k
    if k >= len(schema.inputs):
        active = len(schema.inputs) - 1 if schema.inputs[-1].variadic else None
    first = re.split(r"(?<=[.!?])\s", " ".join(schema.doc.split()))[0] if schema.doc else ""
    return Signature(label, first, tuple(slots), active)
