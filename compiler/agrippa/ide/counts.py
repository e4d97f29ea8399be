"""Parameter counts for hover: of one parameter, of every copy, of everything in a block.

Counts are ints with bindings, sympy expressions in the user's names without them, and
None when a dim is unknown.
"""
from __future__ import annotations

from typing import Any

from agrippa.sema.ir import Graph
from agrippa.sema.shapes.dims import format_dim
from agrippa.syntax import Element


def element_count(dims: tuple) -> Any:
    """The number of elements of a tensor with these dims (None if one is unknown)."""
    n: Any = 1
    for d in dims:
        if d is None:
            return None
        n = n * d
    return n


def total(values: list[Any]) -> Any:
    """The sum of counts (None if one is unknown)."""
    if any(v is None for v in values):
        return None
    out: Any = 0
    for v in values:
        out = out + v
    return out


def count_text(n: Any) -> str:
    """`1,024`, or the expression in the markup's notation."""
    if isinstance(n, int):
        return f"{n:,}"
    return format_dim(n)


def simplify(n: Any) -> Any:
    """A symbolic count factored for reading (`dhidden^2*nlayers`), when that is cheap."""
    try:
        import sympy

        return sympy.factor(n) if len(str(n)) < 200 else n
    except Exception:
        return n


def _within(el: Element | None, block: Element) -> bool:
    while el is not None:
        if el is block:
            return True
        el = el.parent
    return False


def block_params(graph: Graph, block: Element) -> Any:
    """Parameters made under `block` (every copy; shared ones once); symbolic when unknown."""
    out: Any = 0
    for p in graph.params.values():
        for origin in p.declarations:
            frames = [f for f in origin.chain if _within(f.element, block)]
            if not (frames or _within(origin.element, block)):
                continue
            n = element_count(p.dims)
            if n is None:
                return None
            for f in origin.chain:  # a symbolic copy count stands for the copies not made
                c = graph.copies.get(f.element)
                if f.kind != "source" and c is not None and not isinstance(c, int):
                    n = n * c
            out = out + n
            break
    return out
