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
from agrippa.sema.shapes.operands import check_operands
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
            check_operands(ctx)
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
            if d:
                _check_decided(ctx, k, d)
        if not d:
            d = default
            types.untyped.add(t.name)
        t.dtype = d
        if values and k in values:
            run.values[t.name] = values[k]


def _check_decided(ctx: Ctx, k: int, dtype: str) -> None:
    """An output type an attribute decides (RandomNormalLike's dtype, ...) must be one the op's
    schema allows for that output (the checker refuses the model otherwise)."""
    from agrippa.base.diagnostics import Severity
    from agrippa.sema.dtypes import type_str_name
    from agrippa.sema.ops import get_op
    from agrippa.sema.ops.attributes import ELEMENT_TYPE_ATTRS

    schema = get_op(ctx.op, ctx.run.graph.opset) if not ctx.node.domain else None
    if schema is None or not schema.outputs:
        return
    formal = schema.outputs[min(k, len(schema.outputs) - 1)]
    allowed = {type_str_name(x) for x in formal.allowed_types}
    if None in allowed or not allowed or dtype in allowed:
        return
    at = next((a for a in ELEMENT_TYPE_ATTRS if a in ctx.node.attributes), None)
    ctx.report(Severity.ERROR, "type-mismatch", f"{ctx.op}: output {k + 1} cannot be {dtype}; the op makes "
               f"{', '.join(sorted(x for x in allowed if x))}", at=at)
