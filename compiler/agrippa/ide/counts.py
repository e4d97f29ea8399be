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


def _add(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


def block_counts(graph: Graph) -> dict[Element, tuple[Any, Any]]:
    """Each block element → (trainable, frozen) parameter counts made under it, in one pass:
    every copy, a shared parameter once (wherever it is declared again), a frozen one
    apart. A non-shared parameter made in a copy whose count is symbolic stands for that
    many copies; a shared one stays one parameter. The code lenses, the hover and the
    graph view all count with this, so their figures agree."""
    out: dict[Element, tuple[Any, Any]] = {}
    for p in graph.params.values():
        n = element_count(p.dims)
        blocks: dict[Element, None] = {}
        for k, origin in enumerate(p.declarations):
            if k == 0 and not p.shared and n is not None:
                for f in origin.chain:  # a symbolic copy count stands for the copies not made
                    c = graph.copies.get(f.element)
                    if f.kind != "source" and c is not None and not isinstance(c, int):
                        n = n * c
            for el in (origin.element, *(f.element for f in origin.chain)):
                e: Element | None = el
                while e is not None:
                    if e.tag == "block":
                        blocks[e] = None
                    e = e.parent
        for b in blocks:
            t, f = out.get(b, (0, 0))
            out[b] = (t, _add(f, n)) if p.frozen else (_add(t, n), f)
    return out


def count_title(trainable: Any, frozen: Any) -> str:
    """`4,097 parameters (1 frozen)`: every parameter, the frozen ones said apart."""
    whole = _add(trainable, frozen)
    text = f"{count_text(whole)} parameters" if whole is not None else "unknown number of parameters"
    if frozen not in (0, None):
        text += f" ({count_text(frozen)} frozen)"
    return text
