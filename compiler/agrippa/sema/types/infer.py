"""Element types through the graph, driven by the ONNX schemas' type constraints.

`start` types the graph's inputs, parameters and constants; `type_node`, called for each
node in topological order (by the shape walk), checks its inputs against the schema and
gives the types of its outputs that the schema decides: bound by an input (T → T) or
fixed by the constraint (Shape → int64, comparisons → bool). Outputs whose type an
attribute decides (Cast's `to`, Constant, RandomNormal's `dtype`) come from the shape
rules or ONNX's own node inference (`onnx_types`). A tensor whose type is not known is
kept in `Types.untyped` and never reported against, so one mistake does not cascade.
"""
from __future__ import annotations

from onnx import TensorProto, helper, shape_inference

from agrippa.base.diagnostics import Diagnostic, Location, Range, RelatedInfo, Severity
from agrippa.sema.dtypes import DTYPES, ELEM_TYPE_CODES, ELEM_TYPE_NAMES, NP_TYPES, np_dtype_name
from agrippa.sema.ir import Graph, Node, Tensor
from agrippa.sema.types.explain import explain
from agrippa.sema.types.signatures import NARROWED, Formal, Signature, signature
from agrippa.syntax.tree import Element

TYPE_MISMATCH = "type-mismatch"
_DOMAINS = ("", "ai.onnx")


class Types:
    """State of type inference over one graph."""

    __slots__ = ("graph", "diags", "untyped", "opset")

    def __init__(self, graph: Graph, diags: list[Diagnostic]):
        self.graph = graph
        self.diags = diags
        self.untyped: set[str] = set()  # names of tensors whose element type is not known
        self.opset = graph.opset


def start(graph: Graph, diags: list[Diagnostic]) -> Types:
    """Types of graph inputs (their `type`), parameters (`type`) and constants (their values)."""
    types = Types(graph, diags)
    for t in graph.inputs:
        typ = t.origin.element.get("type")
        if typ and typ not in DTYPES:
            types.untyped.add(t.name)  # a schema error says why
    for p in graph.params.values():
        t = p.tensor
        if t is not None and t.dtype not in DTYPES:
            t.dtype = "float32"  # what the back end writes
            types.untyped.add(t.name)
    for c in graph.constants.values():
        t = graph.tensors.get(c.name)
        if t is not None:
            name = np_dtype_name(c.value.dtype)
            if name is None:
                types.untyped.add(t.name)
            else:
                t.dtype = name
    return types


def type_node(types: Types, node: Node) -> tuple[str | None, ...] | None:
    """Check `node`'s inputs against its schema; the output types the schema decides: a name,
    None when the schema leaves it to an attribute, "" when it follows an input of unknown type.

    Memoised by op, opset and input types: a model's many copies of one layer solve once."""
    if node.domain not in _DOMAINS:
        return None
    untyped = types.untyped
    if untyped:
        ins = tuple([(t.name and ("?" if t.name in untyped else t.dtype)) for t in [u.tensor for u in node.inputs]])
    else:
        ins = tuple([u.tensor.name and u.tensor.dtype for u in node.inputs])
    key = (node.op, types.opset, len(node.outputs), ins)
    got = _SOLVED.get(key)
    if got is None:
        sig = signature(node.op, types.opset)
        if sig is None:
            return None
        if len(_SOLVED) >= 8192:
            _SOLVED.clear()
        got = _SOLVED[key] = _solve(sig, ins, len(node.outputs))
    outs, problems = got
    if problems and _retype_constants(types, node):
        return type_node(types, node)
    for i, j in problems:
        sig = signature(node.op, types.opset)
        if j < 0:
            _not_allowed(types, node, sig, i, sig.formal_in(i))  # type: ignore[arg-type]
        else:
            _differ(types, node, sig, i, j)  # type: ignore[arg-type]
    return outs


def _retype_constants(types: Types, node: Node) -> bool:
    """Inputs written as attributes (Clip's `min="0"`) have no type of their own: give each the
    type of an input bound to the same variable, when its values keep. True if any changed."""
    sig = signature(node.op, types.opset)
    el, graph, changed = node.origin.element, types.graph, False
    if sig is None:
        return False
    typed: dict[str, str] = {}
    for i, use in enumerate(node.inputs):
        f, t = sig.formal_in(i), use.tensor
        if f is not None and use.element is not el and t.name and t.name not in types.untyped:
            typed.setdefault(f.var, t.dtype)
    for i, use in enumerate(node.inputs):
        f, t = sig.formal_in(i), use.tensor
        c = graph.constants.get(t.name) if use.element is el else None
        want = typed.get(f.var) if f is not None else None
        if c is None or want is None or want == t.dtype or want not in NP_TYPES:
            continue
        import numpy as np

        new = c.value.astype(NP_TYPES[want])
        if np.array_equal(new.astype(c.value.dtype), c.value):
            c.value, t.dtype, changed = new, want, True
    return changed


_SOLVED: dict[tuple, tuple[tuple[str | None, ...], tuple[tuple[int, int], ...]]] = {}


def _solve(sig: Signature, ins: tuple, n_out: int) -> tuple[tuple[str | None, ...], tuple[tuple[int, int], ...]]:
    """Output types and problems ((input, -1): a type the formal does not allow; (input, other):
    a type differing from the other input's, bound to the same variable) for inputs of types
    `ins` ("" for an omitted input, "?" for an unknown type)."""
    bound: dict[str, tuple[str, int]] = {}  # type variable -> (its type, the input that bound it)
    unknown: set[str] = set()  # type variables an input of unknown type stands for
    refused: set[str] = set()  # type variables an input of a refused type stands for (reported once, there)
    problems: list[tuple[int, int]] = []
    for i, d in enumerate(ins):
        if not d:
            continue
        f = sig.formal_in(i)
        if f is None or f.allowed is None:
            continue
        if d == "?":
            unknown.add(f.var)
            continue
        if d not in f.allowed:
            problems.append((i, -1))
            refused.add(f.var)
            continue
        if f.variadic and not f.homogeneous:
            continue
        b = bound.get(f.var)
        if b is None:
            bound[f.var] = (d, i)
        elif b[0] != d:
            problems.append((i, b[1]))
    out: list[str | None] = []
    for k in range(n_out):
        f = sig.formal_out(k)
        if f is None or f.allowed is None:
            out.append(None)
            continue
        b = bound.get(f.var)
        out.append(b[0] if b is not None else "" if f.var in refused else f.fixed or ("" if f.var in unknown else None))
    return tuple(out), tuple(problems)


def check_exports(types: Types) -> None:
    """An export's `type` must be the type its tensor has (onnxruntime refuses the model)."""
    graph = types.graph
    for t, el in graph.outputs:
        kind = _non_tensor(t, types.opset)
        if kind:
            a = el.attrs.get("from")
            types.diags.append(Diagnostic(graph.index, a.value_range if a is not None else el.tag_range, Severity.ERROR,
                                          TYPE_MISMATCH, f"`{t.logical}` is a {kind}, not a tensor: a graph output "
                                          "must be a tensor"))
            continue
        a = el.attrs.get("type")
        if a is None or a.value not in DTYPES or t.name in types.untyped or t.dtype == a.value:
            continue
        text, rel = explain(graph, t, types.untyped)
        related = (rel,) if rel else ()
        types.diags.append(Diagnostic(graph.index, a.value_range, Severity.ERROR, TYPE_MISMATCH,
                                      f"`{t.logical}` is exported as {a.value}, but it is {t.dtype}{text}",
                                      related))


def _non_tensor(t, opset: int) -> str | None:
    """'sequence' or 'optional' when `t` comes out of an op output that is not a tensor."""
    from agrippa.sema.ops import get_op

    node = t.producer
    schema = get_op(node.op, opset) if node is not None and not node.domain else None
    if schema is None or not schema.outputs:
        return None
    k = next((i for i, o in enumerate(node.outputs) if o is t), 0)
    formal = schema.outputs[min(k, len(schema.outputs) - 1)]
    types = formal.allowed_types or (formal.type_str,)
    if all(x.startswith("seq(") for x in types):
        return "sequence"
    if all(x.startswith("optional(") for x in types):
        return "optional value"
    return None


# -- ONNX's own inference, for outputs an attribute types ---------------------------------------
_CACHE: dict[tuple, list[str | None]] = {}


def onnx_types(types: Types, node: Node) -> list[str | None]:
    """The output types ONNX's node inference gives from the input types and attributes."""
    if node.domain not in _DOMAINS or not node.known:
        return []
    ins = tuple(None if not u.tensor.name or u.tensor.name in types.untyped else u.tensor.dtype
                for u in node.inputs)
    key = (node.op, types.opset, tuple((k, repr(a.value)) for k, a in node.attributes.items()), ins,
           len(node.outputs))
    got = _CACHE.get(key)
    if got is None:
        if len(_CACHE) >= 4096:
            _CACHE.clear()
        got = _CACHE[key] = _onnx_types(node, types.opset, ins)
    return got


def _onnx_types(node: Node, opset: int, ins: tuple) -> list[str | None]:
    from onnx import defs

    names = [f"i{k}" if d is not None else "" for k, d in enumerate(ins)]
    outs = [f"o{k}" for k in range(len(node.outputs))]
    try:
        schema = defs.get_schema(node.op, opset, "")
        proto = helper.make_node(node.op, names, outs)
        proto.attribute.extend(a.to_proto() for a in node.attributes.values())
        tps = {n: helper.make_tensor_type_proto(ELEM_TYPE_CODES.get(d, TensorProto.FLOAT), None)
               for n, d in zip(names, ins) if d is not None}
        got = shape_inference.infer_node_outputs(schema, proto, tps, {},
                                                 opset_imports=[helper.make_opsetid("", opset)])
    except Exception:  # noqa: BLE001 - ONNX raises many kinds; the types then stay unknown
        return [None] * len(outs)
    result: list[str | None] = []
    for name in outs:
        tp = got.get(name)
        ok = tp is not None and tp.HasField("tensor_type") and tp.tensor_type.elem_type
        result.append(ELEM_TYPE_NAMES.get(tp.tensor_type.elem_type) if ok else None)  # type: ignore[union-attr]
    return result


# -- reporting ------------------------------------------------------------------------------------
def _use_range(el: Element, node: Node, formal: str) -> Range:
    if el is node.origin.element:  # an input made from an attribute (`axes="[1]"`)
        a = el.attrs.get(formal) or el.attrs.get("op")
        return a.value_range if a is not None else el.tag_range
    for name in ("src", "type", "name"):
        a = el.attrs.get(name)
        if a is not None:
            return a.value_range
    return el.tag_range


def _shown(use_el: Element, t: Tensor) -> str:
    return use_el.get("src") or use_el.get("name") or t.logical


def _report(types: Types, node: Node, sig: Signature, i: int, message: str, related: list[RelatedInfo]) -> None:
    for f in node.origin.chain:
        if f.kind == "source":
            related.append(RelatedInfo(Location(f.file, f.element.tag_range),
                                       f"sourced here as '{f.element.get('name')}'"))
    el, f = node.inputs[i].element, sig.formal_in(i)
    types.diags.append(Diagnostic(node.origin.file, _use_range(el, node, f.name if f else ""), Severity.ERROR,
                                  TYPE_MISMATCH,
                                  message, tuple(related)))


def _typed_here(types: Types, t: Tensor, shown: str) -> tuple[str, list[RelatedInfo]]:
    text, rel = explain(types.graph, t, types.untyped, shown)
    return text, [rel] if rel else []


def _not_allowed(types: Types, node: Node, sig: Signature, i: int, f: Formal) -> None:
    use = node.inputs[i]
    shown = _shown(use.element, use.tensor)
    text, related = _typed_here(types, use.tensor, shown)
    why = NARROWED.get(node.op, (None, ""))[1] if node.domain in _DOMAINS else ""
    _report(types, node, sig, i, f"{node.op}: {f.name} must be {f.allowed_text()}, but `{shown}` is "
                            f"{use.tensor.dtype}{text}" + (f" ({why})" if why else ""), related)


def _differ(types: Types, node: Node, sig: Signature, i: int, j: int) -> None:
    a, b = node.inputs[j], node.inputs[i]
    fa, fb = sig.formal_in(j), sig.formal_in(i)
    sa, sb = _shown(a.element, a.tensor), _shown(b.element, b.tensor)
    ta, ra = _typed_here(types, a.tensor, sa)
    tb, rb = _typed_here(types, b.tensor, sb)
    names = f"{fa.name} and {fb.name}" if fa and fb and fa.name != fb.name else "its inputs"
    _report(types, node, sig, i, f"{node.op}: `{sb}` is {b.tensor.dtype}{tb}, but `{sa}` is {a.tensor.dtype}{ta}; "
                            f"{names} must have the same element type ({fa.var if fa else 'T'})", rb + ra)


__all__ = ["Types", "start", "type_node", "onnx_types", "check_exports", "TYPE_MISMATCH"]
