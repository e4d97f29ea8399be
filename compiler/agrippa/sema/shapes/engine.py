"""The walk: every node in topological order, through its hand-written rule or ONNX's, its
element types checked and inferred on the way (`sema.types`)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agrippa.base.diagnostics import Diagnostic
from agrippa.sema.dtypes import DTYPES, np_dtype_name
from agrippa.sema.ir import Graph, Node, Tensor
from agrippa.sema.shapes import elementwise, layout, linalg, reduce, spatial  # noqa: F401 - they register their rules
from agrippa.sema.shapes.context import RULES, Ctx, Fail, Run
from agrippa.sema.shapes.dims import norm_shape
from agrippa.sema.shapes.fallback import fallback
from agrippa.sema.shapes.frozen import fold
from agrippa.sema.shapes.hints import check_hints
from agrippa.sema.shapes.operands import check_kernel, check_operands
from agrippa.sema.types.infer import Types, check_exports, onnx_types, start, type_node

_TYPE_ATTRS = ("to", "dtype", "output_datatype", "output_dtype")
_TYPE_ATTR_SET = frozenset(_TYPE_ATTRS)
_STARTED = frozenset({"input", "param", "constant"})  # kinds whose shape is not a node's output
CANCEL_EVERY = 256  # nodes between two calls of the cancel hook
DEBUG = False  # re-raise unexpected exceptions from rules (the tests turn this on)


@dataclass(eq=False)
class ShapeState:
    """What one inference leaves for the next, incremental one (sema/incremental.py)."""

    node_diags: dict[Node, list[Diagnostic]]  # the diagnostics each node's inference gave (when any)
    values: dict[str, tuple]
    folded: dict[str, Any]
    untyped: set[str]
    node_units: dict[Node, Any]  # the unit (top-level element) of each node in `node_diags`


def infer(graph: Graph, cancel: Callable[[], None] | None = None, base: Graph | None = None,
          shift: Callable[[list[Diagnostic]], list[Diagnostic] | None] | None = None) -> list[Diagnostic]:
    state = getattr(base, "shape_state", None) if base is not None else None
    if state is not None and graph.expanded is not None and graph.units is not None:
        return _again(graph, state, cancel, shift)
    run = Run(graph)
    types = start(graph, run.diags)
    for t in graph.inputs:
        t.shape = norm_shape(t.declared)
    for p in graph.params.values():
        if p.tensor is not None:
            p.tensor.shape = norm_shape(p.tensor.declared)
            if p.frozen:
                fold(run, p)  # its value, when check knows it (frozen.py)
    for c in graph.constants.values():
        t = graph.tensors.get(c.name)
        if t is not None:
            t.shape = tuple(int(d) for d in c.value.shape)
    node_diags: dict[Node, list[Diagnostic]] = {}
    diags = run.diags
    for k, node in enumerate(graph.nodes):
        if cancel is not None and k % CANCEL_EVERY == CANCEL_EVERY - 1:
            cancel()  # a newer edit made this analysis outdated: it raises
        n = len(diags)
        _node(run, types, node)
        if len(diags) > n:
            node_diags[node] = diags[n:]
    return _finish(run, types, node_diags)


def _finish(run: Run, types: Types, node_diags: dict[Node, list[Diagnostic]],
            hinted: list | None = None, node_units: dict | None = None) -> list[Diagnostic]:
    check_exports(types)
    graph = run.graph
    graph.untyped = types.untyped
    check_hints(run, hinted)
    if graph.units is not None:
        if node_units is None:
            owner = {id(n): u.element for u in graph.units for n in u.nodes} if node_diags else {}
            node_units = {n: owner.get(id(n)) for n in node_diags}
        graph.shape_state = ShapeState(node_diags, run.values, run.folded, types.untyped, node_units)
    return run.diags


def _again(graph: Graph, state: ShapeState, cancel: Callable[[], None] | None,
           shift: Callable[[list[Diagnostic]], list[Diagnostic] | None] | None) -> list[Diagnostic]:
    """Inference after an incremental expansion: the tensors and nodes of the units expanded
    again, and the nodes downstream whose inputs' shape, type or value changed; every other
    node keeps its outputs and diagnostics."""
    run = Run(graph)
    types = Types(graph, run.diags)
    expanded = set(graph.expanded or ())
    fresh_list: list[Node] = []
    fresh: list[Tensor] = []
    unit_of: dict[Node, Any] = {}
    at: list[int] = []
    for k, u in enumerate(graph.units):
        if u.element in expanded:
            at.append(k)
            fresh_list.extend(u.nodes)
            unit_of.update(dict.fromkeys(u.nodes, u.element))
            for sid, w in u.writes:
                if sid == 4:  # the unit's tensors (units.py)
                    fresh.extend(w.values())
    fresh_nodes = {id(n) for n in fresh_list}
    names = {t.name for t in fresh}
    old_values = state.values
    run.values = {k: v for k, v in old_values.items() if k not in names} if names else dict(old_values)
    run.folded = {k: v for k, v in state.folded.items() if k not in names} if names else dict(state.folded)
    old_untyped = state.untyped
    types.untyped = {n for n in old_untyped if n not in names}
    before = _adopted_before(graph, old_values, old_untyped)
    changed: dict[int, Tensor] = {}
    for t in fresh:
        if t.kind in _STARTED:
            _start_tensor(run, types, t)
            b = before.get(id(t))
            if b is None or b != (t.shape, t.dtype, run.values.get(t.name), t.name in types.untyped):
                changed[id(t)] = t
    node_diags: dict[Node, list[Diagnostic]] = {}
    diags = run.diags
    values = run.values

    def again(node: Node) -> None:
        was = [before.get(id(t)) or (t.shape, t.dtype, old_values.get(t.name), t.name in old_untyped)
               for t in node.outputs]
        for t in node.outputs:  # inferred again from scratch
            types.untyped.discard(t.name)
            values.pop(t.name, None)
        n = len(diags)
        _node(run, types, node)
        if len(diags) > n:
            node_diags[node] = diags[n:]
        for t, b in zip(node.outputs, was):
            if (id(node) in fresh_nodes and id(t) not in before
                    or b != (t.shape, t.dtype, values.get(t.name), t.name in types.untyped)):
                changed[id(t)] = t

    # the edited units side by side, and no parameter or input of theirs changed: their nodes are
    # inferred first; when nothing after them reads what changed, the other nodes are kept whole
    quick = not changed and (not at or at[-1] - at[0] + 1 == len(at))
    done: set[int] = set()
    if quick:
        for node in fresh_list:
            again(node)
            done.add(id(node))
        inside = {n.name for n in fresh_list}
        quick = all(user in inside for t in changed.values() for user in t.users)
        if quick:
            quick = _keep(graph, state, expanded, shift, node_diags, diags)
    if not quick:
        for k, node in enumerate(graph.nodes):
            if cancel is not None and k % CANCEL_EVERY == CANCEL_EVERY - 1:
                cancel()
            if id(node) in done:
                continue
            redo = id(node) in fresh_nodes or (changed and any(id(u.tensor) in changed for u in node.inputs))
            kept = state.node_diags.get(node) if not redo else None
            if kept is not None and shift is not None:
                kept = shift(kept)
                redo = kept is None
            if not redo:
                if kept:
                    diags.extend(kept)
                    node_diags[node] = kept
                continue
            again(node)
    tensors = graph.tensors  # names of tensors no unit makes any more
    types.untyped = {n for n in types.untyped if n in tensors}
    run.values = {k: v for k, v in values.items() if k in tensors}
    seen: set = set()
    hinted = [el for u in graph.units for el in u.hinted if not (el in seen or seen.add(el))]
    old_units = state.node_units
    return _finish(run, types, node_diags, hinted,
                   {n: unit_of.get(n) or old_units.get(n) or _unit_of(n) for n in node_diags})


def _keep(graph: Graph, state: ShapeState, expanded: set, shift, node_diags: dict, diags: list) -> bool:
    """The previous diagnostics of the nodes of the units not expanded again, moved by the
    edit (False: one of them touches the edited text, so the nodes are walked one by one)."""
    units = {u.element for u in graph.units if u.element not in expanded}
    kept = []
    for node, d in state.node_diags.items():
        if state.node_units.get(node) in units:
            moved = shift(d) if shift is not None else d
            if moved is None:
                return False
            kept.append((node, moved))
    for node, d in kept:
        node_diags[node] = d
        diags.extend(d)
    return True


def _unit_of(node: Node) -> Any:
    """The top-level element of the index file `node` was made under."""
    o = node.origin
    el = o.chain[0].element if o.chain else o.element  # the outermost frame is in the index file
    while el.parent is not None and el.parent.parent is not None:
        el = el.parent
    return el


def _adopted_before(graph: Graph, values: dict[str, tuple], untyped: set[str]) -> dict[int, tuple]:
    """id -> (shape, dtype, value, untyped) a tensor taken over from the previous analysis had there."""
    return {k: (shape, dtype, values.get(name), name in untyped)
            for k, (name, shape, dtype) in (graph.adopted or {}).items()}


def _start_tensor(run: Run, types: Types, t: Tensor) -> None:
    """A graph input, parameter or constant made anew: its shape and type, as `start` gives them."""
    graph = run.graph
    t.shape = None
    if t.kind == "input":
        typ = t.origin.element.get("type")
        if typ and typ not in DTYPES:
            types.untyped.add(t.name)
        t.shape = norm_shape(t.declared)
    elif t.kind == "param":
        p = graph.params.get(t.name)
        if t.dtype not in DTYPES:
            t.dtype = "float32"
            types.untyped.add(t.name)
        t.shape = norm_shape(t.declared)
        if p is not None and p.frozen and p.tensor is t:
            fold(run, p)
    elif t.kind == "constant":
        c = graph.constants.get(t.name)
        if c is not None:
            t.shape = tuple(int(d) for d in c.value.shape)
            name = np_dtype_name(c.value.dtype)
            if name is None:
                types.untyped.add(t.name)
            else:
                t.dtype = name


def _node(run: Run, types: Types, node: Node) -> None:
    reported = len(types.diags)
    try:
        typed = type_node(types, node)
    except Exception:
        if DEBUG:
            raise
        typed = ("",) * len(node.outputs)  # outputs keep a guessed type, marked unknown
    ctx = Ctx(run, node)
    shapes: list = []
    if node.known:
        fn = RULES.get(node.op)
        try:
            check_operands(ctx)
            check_kernel(ctx)
            shapes = fn(ctx) if fn is not None else fallback(ctx)
        except Fail:
            shapes = []
        except Exception:
            if DEBUG:
                raise
            shapes = []  # a rule's own bug must not take the editor's analysis down
    default = "float32"
    for u in node.inputs:
        if u.tensor.name:
            default = u.tensor.dtype
            break
    dtypes, values, n = ctx.dtypes, ctx.values, len(shapes)
    attrs = node.attributes
    decided = bool(attrs) and not _TYPE_ATTR_SET.isdisjoint(attrs)  # dtype, to, ...: checked against the schema
    untyped = types.untyped
    asked = None
    for k, t in enumerate(node.outputs):
        t.shape = shapes[k] if k < n else None
        d = typed[k] if typed is not None and k < len(typed) else None
        solved = bool(d)  # the schema bound it (to a checked input's type, or its one allowed type)
        if d is None:  # an attribute decides: the rule, else ONNX's node inference
            d = dtypes.get(k)
            if d is None:
                if asked is None:
                    asked = onnx_types(types, node)
                d = asked[k] if k < len(asked) else None
        if decided and k == 0:
            _check_decided(ctx, k)
        if not d:
            d = default
            types.untyped.add(t.name)
        if (k == 0 and not solved and not decided and node.known and len(types.diags) == reported
                and not (untyped and any(u.tensor.name in untyped for u in node.inputs))):
            _check_output_type(ctx, k, d)
        t.dtype = d
        if values and k in values:
            run.values[t.name] = values[k]


def _check_decided(ctx: Ctx, k: int) -> None:
    """An output type an attribute decides (RandomNormalLike's dtype, ...) must be one the op's
    schema allows for that output (the checker refuses the model otherwise)."""
    from agrippa.base.diagnostics import Severity
    from agrippa.sema.dtypes import ELEM_TYPE_NAMES, type_str_name
    from agrippa.sema.ops import get_op

    schema = get_op(ctx.op, ctx.run.graph.opset) if not ctx.node.domain else None
    at = next((a for a in _TYPE_ATTRS if a in ctx.node.attributes), None)
    if schema is None or not schema.outputs or at is None:
        return
    dtype = ELEM_TYPE_NAMES.get(ctx.attr(at))
    formal = schema.outputs[min(k, len(schema.outputs) - 1)]
    allowed = {type_str_name(x) for x in formal.allowed_types}
    if dtype is None or None in allowed or not allowed or dtype in allowed:
        return
    ctx.report(Severity.ERROR, "type-mismatch", f"{ctx.op}: {at}={ctx.attr(at)} makes {dtype}, but the op's output "
               f"is one of {', '.join(sorted(x for x in allowed if x))}", at=at)


def _check_output_type(ctx: Ctx, k: int, dtype: str) -> None:
    """An output whose type follows no attribute must still be one the schema allows
    (RandomNormalLike of an int64 tensor makes int64, which the op cannot)."""
    if ctx.node.domain:
        return
    allowed = _allowed_output_types(ctx.op, ctx.run.graph.opset, k)
    if allowed is None or dtype in allowed:
        return
    from agrippa.base.diagnostics import Severity
    from agrippa.sema.dtypes import DTYPES

    if dtype not in DTYPES:
        return
    ctx.report(Severity.ERROR, "type-mismatch", f"{ctx.op} would make {dtype} here, but its output is one of "
               f"{', '.join(sorted(x for x in allowed if x))}; give dtype, or cast the input", at=0)


@functools.lru_cache(maxsize=4096)
def _allowed_output_types(op: str, opset: int, k: int) -> frozenset[str] | None:
    """The element types output `k` of `op` may have (None: any, or not a tensor op)."""
    from agrippa.sema.dtypes import type_str_name
    from agrippa.sema.ops import get_op

    schema = get_op(op, opset)
    if schema is None or not schema.outputs:
        return None
    formal = schema.outputs[min(k, len(schema.outputs) - 1)]
    allowed = {type_str_name(x) for x in formal.allowed_types}
    return None if None in allowed or not allowed else frozenset(allowed)
