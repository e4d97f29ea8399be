"""The walk: every node in topological order, through its hand-written rule or ONNX's, its
element types checked and inferred on the way (`sema.types`)."""
from __future__ import annotations

from agrippa.base.diagnostics import Diagnostic
from agrippa.sema.ir import Graph, Node
from agrippa.sema.shapes import elementwise, layout, linalg, reduce  # noqa: F401 - they register their rules
from agrippa.sema.shapes.context import RULES, Ctx, Fail, Run
from agrippa.sema.shapes.dims import norm_shape
from agrippa.sema.shapes.fallback import fallback
from agrippa.sema.shapes.hints import check_hints
from agrippa.sema.types.infer import Types, check_exports, onnx_types, start, type_node

DEBUG = False  # re-raise unexpected exceptions from rules (the tests turn this on)


def infer(graph: Graph) -> list[Diagnostic]:
    run = Run(graph)
    types = start(graph, run.diags)
    for t in graph.inputs:
        t.shape = norm_shape(t.declared)
    for p in graph.params.values():
        if p.tensor is not None:
            p.tensor.shape = norm_shape(p.tensor.declared)
    for c in graph.constants.values():
        t = graph.tensors.get(c.name)
        if t is not None:
            t.shape = tuple(int(d) for d in c.value.shape)
    for node in graph.nodes:
        _node(run, types, node)
    check_exports(types)
    graph.untyped = types.untyped
    check_hints(run)
    return run.diags


def _node(run: Run, types: Types, node: Node) -> None:
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
    asked = None
    for k, t in enumerate(node.outputs):
        t.shape = shapes[k] if k < n else None
        d = typed[k] if typed is not None and k < len(typed) else None
        if d is None:  # an attribute decides: the rule, else ONNX's node inference
            d = dtypes.get(k)
            if d is None:
                if asked is None:
                    asked = onnx_types(types, node)
                d = asked[k] if k < len(asked) else None
        if not d:
            d = default
            types.untyped.add(t.name)
        t.dtype = d
        if values and k in values:
            run.values[t.name] = values[k]
