"""Where a tensor got its element type, for messages: "(imported at ed.agr:8)".

Walked back only when a message needs it: through every op whose output takes its type
from an input (T → T) to the import, parameter, constant or op (Cast, Shape) that fixed it.
"""
from __future__ import annotations

import os

from agrippa.base.diagnostics import Location, Range, RelatedInfo
from agrippa.sema.ir import Graph, Origin, Tensor
from agrippa.sema.types.signatures import signature
from agrippa.syntax.tree import Element

MAX_STEPS = 100_000


def where_typed(graph: Graph, t: Tensor, untyped: set[str]) -> tuple[Tensor, str, Origin, Range]:
    """The tensor `t`'s type comes from, how it got it (`imported`, `declared`, `made by Cast`),
    and where."""
    for _ in range(MAX_STEPS):
        node = t.producer
        if t.kind == "input" or node is None:
            break
        sig = signature(node.op, graph.opset) if node.domain in ("", "ai.onnx") else None
        k = next((k for k, o in enumerate(node.outputs) if o is t), -1)
        f = sig.formal_out(k) if sig is not None and k >= 0 else None
        nxt = None
        if f is not None and f.fixed is None:
            for i, use in enumerate(node.inputs):
                u = use.tensor
                fi = sig.formal_in(i)  # type: ignore[union-attr]
                if (u.name and u.name not in untyped and fi is not None and fi.var == f.var
                        and u.dtype == t.dtype):
                    nxt = u
                    break
        if nxt is None:
            el = node.origin.element
            op = el.attrs.get("op")
            return t, f"made by {node.op}", node.origin, op.value_range if op is not None else el.tag_range
        t = nxt
    el = t.origin.element
    verb = {"input": "imported", "param": "declared", "constant": "a constant made"}.get(t.kind, "defined")
    return t, verb, t.origin, _type_range(el)


def _type_range(el: Element) -> Range:
    for name in ("type", "from", "name"):
        a = el.attrs.get(name)
        if a is not None:
            return a.value_range
    return el.tag_range


def explain(graph: Graph, t: Tensor, untyped: set[str], shown: str | None = None) -> tuple[str, RelatedInfo | None]:
    """` (from `x`, imported at ed.agr:8)`, and a related location for the place it names."""
    if t.origin is None:
        return "", None
    root, verb, origin, rng = where_typed(graph, t, untyped)
    base = os.path.dirname(graph.index) if graph.index else ""
    try:
        where = os.path.relpath(origin.file, base) if base else os.path.basename(origin.file)
    except ValueError:
        where = os.path.basename(origin.file)
    via = f"from `{root.logical}`, " if root is not t else ""
    name = shown or t.logical
    if root.kind in ("input", "param") and "type" not in origin.element.attrs:
        note = f"`{root.logical}` has no `type` here, so it is float32"
    elif root is t:
        note = f"`{name}` gets its type {t.dtype} here"
    else:
        note = f"`{name}` gets its type {t.dtype} from `{root.logical}` here"
    return f" ({via}{verb} at {where}:{rng.start.line + 1})", RelatedInfo(Location(origin.file, rng), note)
