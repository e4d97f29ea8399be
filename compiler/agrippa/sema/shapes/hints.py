"""Dim hints (`dim`/`dims` on <output>, <input>, block <import>/<export>, root <export>):
documentation only, so a hint that disagrees with the inferred shape is a `stale-dim` warning."""
from __future__ import annotations

from agrippa.base.diagnostics import Diagnostic, Fix, Location, RelatedInfo, Severity, TextEdit
from agrippa.sema import compat
from agrippa.sema.ir import Graph, Tensor
from agrippa.sema.shapes.context import Run
from agrippa.sema.shapes.dims import (
    DIFFERENT,
    MAYBE,
    Shape,
    compare,
    format_shape,
    markup_dim,
    norm,
)
from agrippa.sema.values import ValueError_, evaluate, parse_value
from agrippa.syntax.tree import Element

STALE = "stale-dim"
SYMBOLIC = "dims-differ-symbolically"
HINTED = frozenset({"output", "input", "import", "export"})
_CACHE: dict[tuple, Shape] = {}
_CACHE_MAX = 16384


def check_hints(run: Run, hinted: list[Element] | None = None) -> None:
    """Each hint against its tensors' shapes. `hinted`: the elements that may carry one, in
    the order expansion met them (an incremental analysis knows them; else every element)."""
    graph = run.graph
    roots = {sf.root: path for path, sf in graph.files.items() if sf.root is not None}
    bkey = tuple(sorted((k, str(v)) for k, v in graph.bindings.items()))
    for el, tensors in _items(graph, hinted):
        attrs = el.attrs
        if ("dim" not in attrs and "dims" not in attrs) or el.tag not in HINTED:
            continue
        if el.tag == "import" and any(t.kind == "input" and t.origin.element is el for t in tensors):
            continue  # a graph input's dim is its declaration, not a hint
        for name in ("dim", "dims"):
            attr = el.attrs.get(name)
            if attr is None:
                continue
            hint = _hint(attr.value, graph, bkey)
            if hint is None:
                continue
            shapes = _distinct(tensors)
            if not shapes or any(_matches(hint, s, run.symbolic) for s in shapes):
                continue
            file = _file_of(el, roots, graph)
            shown = " or ".join(format_shape(s) for s in shapes)
            fixes: tuple[Fix, ...] = ()
            written = [markup_dim(d) for d in shapes[-1]]
            if run.symbolic and all(w is not None for w in written):
                text = "[" + ", ".join(written) + "]"
                fixes = (Fix(f"Change {name} to {text}", (TextEdit(file, attr.value_range, text),), True),)
            run.diags.append(Diagnostic(
                file, attr.value_range, Severity.WARNING, STALE,
                f"{name} says {format_shape(hint)} but the shape is {shown}", fixes=fixes,
                data={"shape": format_shape(shapes[-1])}))
    if not run.symbolic:
        _symbolic_disagreements(run, roots, hinted)


def _items(graph: Graph, hinted: list[Element] | None):
    et = graph.element_tensors
    if hinted is None:
        return et.items()
    return [(el, et[el]) for el in hinted if el in et]


def _symbolic_disagreements(run: Run, roots: dict[Element, str], hinted: list[Element] | None = None) -> None:
    """Hints (and root declarations) of one tensor that agree only for the bound values:
    `dim="[n, dmodel]"` on an output and `dim="[n, nvocab]"` where it is read (item 7 of
    the compatibility policy, sema/compat.py: a warning, never an error)."""
    graph = run.graph
    first: dict[int, tuple[Element, str]] = {}
    warned: set[Element] = set()
    for el, tensors in _items(graph, hinted):
        attr = el.attrs.get("dim")
        if attr is None or el.tag not in HINTED or el in warned:
            continue
        written = "".join(attr.value.split())
        sym: tuple | None = None  # the dims as sympy expressions, made only for dims written otherwise
        for t in tensors:
            seen = first.setdefault(id(t), (el, written))
            if seen[0] is el or seen[1] == written:  # the same dims, written alike: no sympy needed
                continue
            sym = compat.symbolic_dims(attr.value) if sym is None else sym
            before = compat.symbolic_dims(seen[0].attrs["dim"].value)
            if before is None:  # the first dims could not be read: these become the reference
                first[id(t)] = (el, written)
                continue
            if sym is None or before == sym:
                continue
            pairs = compat.symbolic_disagreement(before, sym)
            if not pairs:
                continue
            bkey = _bkey(graph)
            numeric = (_hint(seen[0].attrs["dim"].value, graph, bkey), _hint(attr.value, graph, bkey))
            if not pairs or numeric[0] != numeric[1]:
                continue
            warned.add(el)
            other = seen[0].attrs["dim"]
            run.diags.append(Diagnostic(
                _file_of(el, roots, graph), attr.value_range, Severity.WARNING, SYMBOLIC,
                compat.symbolic_message(f"the dim of '{t.logical}'", compat.format_dims(sym),
                                        compat.format_dims(before), pairs, True),
                related=(RelatedInfo(Location(_file_of(seen[0], roots, graph), other.value_range),
                                     "first declared here"),)))
            break


def _bkey(graph: Graph) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in graph.bindings.items()))


def _hint(text: str, graph: Graph, bkey: tuple) -> Shape:
    key = (text, bkey)
    if key in _CACHE:
        return _CACHE[key]
    try:
        v = evaluate(parse_value(text), graph.bindings, symbolic=True)
        items = v if isinstance(v, list) else [v]
        hint: Shape = tuple(norm(d) for d in items)
        if any(d is None or isinstance(d, float) or (type(d) is int and d < 0) or
               (type(d) is not int and not hasattr(d, "free_symbols")) for d in hint):
            hint = None
    except (ValueError_, ValueError, TypeError):
        hint = None
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = hint
    return hint


def _distinct(tensors: list[Tensor]) -> list[tuple]:
    if len(tensors) == 1:
        return [] if tensors[0].shape is None else [tensors[0].shape]
    out: list[tuple] = []
    for t in tensors:
        if t.shape is not None and t.shape not in out:
            out.append(t.shape)
    return out


def _matches(hint: tuple, shape: tuple, symbolic: bool) -> bool:
    if len(hint) != len(shape):
        return False
    for h, s in zip(hint, shape):
        c = compare(h, s)
        # without bindings, a name that differs from the shape's is stale; a number written
        # where the shape is an expression may be an example value, so it is let be
        if c is DIFFERENT or (c is MAYBE and symbolic and type(h) is not int):
            return False
    return True


def _file_of(el: Element, roots: dict[Element, str], graph: Graph) -> str:
    top = el
    while top.parent is not None:
        top = top.parent
    return roots.get(top, graph.index)
