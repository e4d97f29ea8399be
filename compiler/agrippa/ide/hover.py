"""Hover: tensor shapes, op documentation, parameters, blocks and bound names.

Shapes are written as the markup writes dims: concrete (`[4, 16]`) with the bindings in
force and, when the project has bindings, also in the user's names (`[batch, dhidden]`)
from a second analysis without any bindings. The text is markdown.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from agrippa.base.diagnostics import Position, Range
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph, Instance, Param, Tensor
from agrippa.sema.shapes.dims import format_dim, format_shape
from agrippa.syntax import Element, SourceFile

from . import locate as L
from .counts import block_counts, count_text, count_title, element_count, simplify, total
from .host import AnalysisHost
from .index import tensor_shape
from .instances import by_instance, labelled

MAX_NAMES = 4  # ONNX names listed before eliding the middle
SYMBOLIC_WAIT_NODES = 2_000  # larger models get their symbolic shapes in the background


@dataclass(frozen=True)
class HoverInfo:
    """What a hover shows: markdown, and the span it is about (None: just the cursor)."""

    text: str
    range: Range | None = None


def shapes_text(tensors: list[Tensor]) -> str:
    """The distinct shapes of some copies of a tensor: `[4, 16]`, or `[4, 16] (×2), [4, 8]`."""
    counts: dict[str, int] = {}
    for t in tensors:
        s = format_shape(tensor_shape(t), unknown="?")
        counts[s] = counts.get(s, 0) + 1
    if len(counts) == 1:
        return f"`{next(iter(counts))}`"
    return ", ".join(f"`{s}` (×{n})" for s, n in counts.items())


def names_text(names: list[str]) -> str:
    if len(names) <= MAX_NAMES:
        return ", ".join(f"`{n}`" for n in names)
    return f"`{names[0]}` … `{names[-1]}` ({len(names)} names)"


@dataclass
class Context:
    """What one hover works with: the analysis and, lazily, its symbolic twin."""

    host: AnalysisHost
    path: str
    analysis: Analysis
    graph: Graph
    sf: SourceFile
    _sym: list = field(default_factory=list)

    @property
    def symbolic(self) -> Graph | None:
        if not self._sym:
            try:
                wait = len(self.graph.nodes) <= SYMBOLIC_WAIT_NODES
                a = self.host.symbolic_for(self.path, wait=wait)
            except Exception:
                a = None
            self._sym.append(a.graph if a is not None else None)
        return self._sym[0]

    def where(self, file: str, el: Element) -> str:
        sf = self.graph.files.get(file)
        line = sf.position(el.start).line + 1 if sf is not None else 0
        try:
            rel = os.path.relpath(file, self.analysis.project_dir)
        except ValueError:
            rel = file
        return f"{rel}:{line}"


def _copies_note(ctx: Context, el: Element) -> str:
    """`× nlayers` for each enclosing block whose copy count is symbolic."""
    out = []
    p = el.parent
    while p is not None:
        n = ctx.graph.copies.get(p)
        if n is not None and not isinstance(n, int):
            out.append(format_dim(n))
        p = p.parent
    return " × ".join(out)


def tensor_hover(ctx: Context, el: Element) -> str | None:
    tensors = ctx.graph.element_tensors.get(el, [])
    name = el.get("name") if el.tag == "output" else (el.get("src") if el.tag == "input" else el.get("from"))
    lines = [f"**tensor** `{name}`"]
    if not tensors:
        lines.append("not defined here (see the diagnostics)" if el.tag != "output" else "not analysed")
        return "\n\n".join(lines)
    concat = [t for t in tensors if t.kind == "concat"]
    copies = [t for t in tensors if t.kind != "concat"] or concat
    sym = ctx.symbolic
    sym_tensors = sym.element_tensors.get(el, []) if sym is not None else []
    sym_copies = [t for t in sym_tensors if t.kind != "concat"] or sym_tensors
    groups = by_instance(ctx.graph, ctx.sf.path, copies)  # a file sourced several times: per instance
    if groups:
        sym_groups = dict(by_instance(sym, ctx.sf.path, sym_copies) or []) if sym is not None else {}
        lines.append("shape " + labelled([(n, _shape_row(ts, sym_groups.get(n, [])[:1])) for n, ts in groups]))
        lines.append(f"in {len(groups)} instances: {names_text([n for n, _ in groups])}")
    else:
        lines.append(f"shape {_shape_row(copies, sym_copies[:1])}")
    note = _copies_note(ctx, el)
    per_copy = max(len(ts) for _, ts in groups) if groups else len(copies)
    if per_copy > 1:
        lines.append(f"{len(copies)} copies (rep/stretch)")
    elif note:
        lines.append(f"one copy per repetition: × {note} copies")
    if concat:
        c = concat[-1]
        n = len(copies) if len(copies) > 1 else (format_dim(c.producer.repeat) if c.producer else "?")
        row = f"after the stretch block: concatenation of {n} copies, shape `{format_shape(tensor_shape(c), unknown='?')}`"
        sym_concat = [t for t in sym_tensors if t.kind == "concat"]
        if sym_concat:
            sc = format_shape(tensor_shape(sym_concat[-1]), unknown="?")
            row += f" = `{sc}`" if sc != format_shape(tensor_shape(c), unknown="?") and "?" not in sc else ""
        lines.append(row)
    untyped = copies[0].name in ctx.graph.untyped
    lines.append("dtype unknown (see the diagnostics)" if untyped else f"dtype `{copies[0].dtype}`")
    made = list(dict.fromkeys(_made_by(ctx, t) for t in copies))
    lines.extend(made[:3])
    names = [x.name for x in copies]
    lines.append(f"ONNX name {names_text(names)}")
    return "\n\n".join(lines)


def _shape_row(copies: list[Tensor], sym: list[Tensor]) -> str:
    """`[4, 16]`, with the same in the user's names when they differ: `[4, 16]` = `[batch, d]`."""
    shape = shapes_text(copies)
    sym_shape = shapes_text(sym) if sym else None
    if sym_shape and sym_shape != shape and "?" not in sym_shape:
        return f"{shape} = {sym_shape}"
    return shape


def _made_by(ctx: Context, t: Tensor) -> str:
    if t.kind == "input":
        return f"graph input, declared at {ctx.where(t.origin.file, t.origin.element)}"
    if t.producer is None:
        return "no producer"
    node = t.producer
    title = node.origin.element.get("title")
    titled = f" “{title}”" if title else ""
    return f"produced by `{node.op}`{titled} at {ctx.where(node.origin.file, node.origin.element)}"


def op_hover(ctx: Context, op: str) -> str | None:
    from agrippa.sema.ops import get_op, op_markdown, suggest_op

    schema = get_op(op, ctx.graph.opset)
    if schema is None:
        close = suggest_op(op, ctx.graph.opset)
        hint = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
        return f"`{op}` is not an ONNX operator (opset {ctx.graph.opset}){hint}"
    return op_markdown(schema)


def params_hover(ctx: Context, el: Element) -> str | None:
    params: list[Param] = list(dict.fromkeys(ctx.graph.element_params.get(el, [])))
    name = el.get("name") or "?"
    lines = [f"**parameter** `{name}`"]
    if not params:
        lines.append("not analysed (see the diagnostics)")
        return "\n\n".join(lines)
    p = params[0]
    row = f"shape `{format_shape(p.dims, unknown='?')}`"
    sym = ctx.symbolic
    sp = (sym.element_params.get(el) or [None])[0] if sym is not None else None
    if sp is not None and format_shape(sp.dims, unknown="?") != format_shape(p.dims, unknown="?"):
        row += f" = `{format_shape(sp.dims, unknown='?')}`"
    lines.append(row)
    each = element_count(p.dims)
    every = total([element_count(q.dims) for q in params])
    count = f"{count_text(each)} {'frozen ' if p.frozen else ''}parameters"
    if len(params) > 1:
        count += f" each, {count_text(every)} in all ({len(params)} copies)"
    lines.append(count)
    init = p.init + (f" {list(p.init_args)}" if p.init_args else "")
    flags = [f for f, on in (("frozen", p.frozen), ("shared", p.shared)) if on]
    lines.append(f"init `{init}`, dtype `{p.dtype}`" + (f", {' and '.join(flags)}" if flags else ""))
    lines.append(f"ONNX name {names_text([q.name for q in params])}")
    return "\n\n".join(lines)


def _ends_text(ctx: Context, el: Element, tag: str) -> list[str]:
    """A block's imports or exports with their shapes: what the first copy reads, what the
    last one hands out; in a file sourced several times, per instance."""
    out = []
    for c in el.children:
        if c.tag != tag or not c.get("from"):
            continue
        ts = ctx.graph.element_tensors.get(c, [])
        groups = by_instance(ctx.graph, ctx.sf.path, ts) or [("", ts)]
        texts = [(name, f"`{format_shape(tensor_shape(t), unknown='?')}`" if (t := _end(g, tag)) else "`?`")
                 for name, g in groups]
        out.append(f"- `{c.get('from')}` {labelled(texts)}")
    return out


def _end(ts: list[Tensor], tag: str) -> Tensor | None:
    concat = [t for t in ts if t.kind == "concat"]
    return concat[-1] if concat else (ts[-1] if tag == "export" and ts else (ts[0] if ts else None))


def _instance_ends(ctx: Context, tag_el: Element, insts: list[Instance], tag: str) -> list[str]:
    """A sourced-block tag's imports or exports with the shapes of its own instances: one
    shape, or one per instance when its file is itself sourced several times."""
    sym = ctx.symbolic
    sym_insts = {i.chain: i for i in sym.instances.get(tag_el, [])} if sym is not None else {}
    rows: dict[str, list[tuple[str, str]]] = {}
    for inst in insts:
        sym_ends = dict(getattr(sym_insts.get(inst.chain), tag + "s", None) or [])
        for end_el, t in getattr(inst, tag + "s"):
            st = sym_ends.get(end_el)
            text = _shape_row([t], [st] if st is not None else []) if t is not None else "`?`"
            rows.setdefault(end_el.get("from") or "?", []).append((inst.name, text))
    return [f"- `{name}` {labelled(texts)}" for name, texts in rows.items()]


def block_hover(ctx: Context, el: Element) -> str | None:
    title = el.get("title") or el.get("name") or ""
    head = f"**block** `{title}`" if title else "**block**"
    lines = [head]
    body = el
    src = ctx.graph.sourced.get(el)
    if src is not None:
        lines.append(f"sourced from `{os.path.relpath(src, os.path.dirname(ctx.sf.path))}`, names prefixed `{el.get('name')}$`")
        sf = ctx.graph.files.get(src)
        body = sf.root if sf is not None and sf.root is not None else el
    for kind in ("rep", "stretch"):
        if kind in body.attrs:
            n = ctx.graph.copies.get(body)
            lines.append(f"{kind} × {format_dim(n) if n is not None else body.get(kind)}")
    insts = ctx.graph.instances.get(el)
    for tag, label in (("import", "imports"), ("export", "exports")):
        rows = _instance_ends(ctx, el, insts, tag) if insts else _ends_text(ctx, body, tag)
        if rows:
            lines.append(f"{label}:\n" + "\n".join(rows))
    t, f = block_counts(ctx.graph).get(el, (0, 0))
    row = count_title(t, f)  # as the code lens says it
    sym = ctx.symbolic
    if sym is not None:
        st, sf = block_counts(sym).get(el, (0, 0))
        whole = None if st is None or sf is None else st + sf
        if whole is not None and not isinstance(whole, int):
            row += f" = {count_text(simplify(whole))}"
    lines.append(row)
    return "\n\n".join(lines)


def var_hover(ctx: Context, name: str) -> str:
    if ctx.graph is not None and name in ctx.graph.dynamic:
        return (f"`{name}`: a dynamic dim (`[model] dynamic`): chosen at run time, never bound; "
                "an ONNX `dim_param` in the compiled model")
    origin = ctx.host.binding_origin(ctx.analysis.project_dir, name)
    value = ctx.analysis.bindings.get(name, origin.value if origin else None)
    if origin is None and name not in ctx.analysis.bindings:
        return f"`{name}`: unbound: stays symbolic (bind it in agrippa.toml `[bindings]`, a profile or the `agrippa.bindings` setting)"
    where = "bindings"
    if origin is not None:
        toml = os.path.basename(origin.file) if origin.file else "agrippa.toml"
        line = f" line {origin.line + 1}" if origin.line is not None else ""
        where = {"settings": "client settings (`agrippa.bindings`)",
                 "profile": f"profile `{origin.profile}` ({toml}{line})",
                 "toml": f"{toml}{line} (`[bindings]`)"}[origin.where]
    return f"`{name}` = `{value}`\n\nbound in {where}"


def hover_text(ctx: Context, target: L.Target) -> str | None:
    el, kind = target.element, target.kind
    if el is None:
        return None
    if target.is_tensor:
        return tensor_hover(ctx, el)
    if kind == L.OP:
        return op_hover(ctx, target.text) if target.text else None
    if kind == L.VAR and target.name is not None:
        return var_hover(ctx, target.name.name)
    if kind in (L.CONTENT, L.NONE):
        return None
    if el.tag == "params":
        return params_hover(ctx, el)
    if el.tag == "block":
        return block_hover(ctx, el)
    if el.tag == "node" and kind == L.TAG and el.get("op"):
        return op_hover(ctx, el.get("op"))
    if el.tag in ("output", "input", "import", "export") and kind == L.TAG:
        return tensor_hover(ctx, el)
    return None


def hover(host: AnalysisHost, path: str, pos: Position) -> HoverInfo | None:
    """The hover at `pos` of markup file `path`, or None where there is nothing to say."""
    got = host.file_analysis(path)
    if got is None:
        return None
    analysis, sf = got
    target = L.at_position(analysis, sf, pos)
    text = hover_text(Context(host, os.path.abspath(path), analysis, analysis.graph, sf), target)
    if not text:
        return None
    return HoverInfo(text, target.range if target.end > target.start else None)
