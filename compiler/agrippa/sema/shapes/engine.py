"""The walk: every node in topological order, through its hand-written rule or ONNX's."""
from __future__ import annotations

from agrippa.base.diagnostics import Diagnostic
from agrippa.sema.ir import Graph, Node
from agrippa.sema.shapes import elementwise, layout, linalg, reduce  # noqa: F401 - they register their rules
from agrippa.sema.shapes.context import RULES, Ctx, Fail, Run
from agrippa.sema.shapes.dims import norm_shape
from agrippa.sema.shapes.fallback import fallback
from agrippa.sema.shapes.hints import check_hints

DEBUG = False  # re-raise unexpected exceptions from rules (the tests turn this on)


def infer(graph: Graph) -> list[Diagnostic]:
    run = Run(graph)
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
        _node(run, node)
    check_hints(run)
    return run.diags


def _node(run: Run, node: Node) -> None:
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
    for k, t in enumerate(node.outputs):
        t.shape = shapes[k] if k < n else None
        t.dtype = dtypes.get(k, default) if dtypes else default
        if values and k in values:
            run.values[t.name] = values[k]
