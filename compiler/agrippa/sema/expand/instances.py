"""Diagnostics per instance: which sourced-block instance a diagnostic is in, and the
tags whose inputs caused a shape error.

Two passes over the finished diagnostics (never over the graph's nodes, so the main path
costs nothing more):

- `name_instances`: every diagnostic in a sourced file names its instance chain as
  related information at the sourcing tags ("in up_attn, sourced at perceiver.agr:175");
  one met in several instances names each of them.
- `blame_tags`: a shape error inside a sourced file that some instances of the node meet
  and others do not comes from what the failing instances are passed, so it is reported
  at their tags as well; the same for a `rep` block whose later copies fail where the first
  does not: at the `<import>` that chains a differently shaped export into them.
"""
from __future__ import annotations

import os
from dataclasses import replace

from agrippa.base.diagnostics import Diagnostic, Location, Range, RelatedInfo, Severity
from agrippa.sema.ir import Frame, Graph, Instance, Node, Tensor, source_related
from agrippa.sema.shapes.dims import format_shape
from agrippa.syntax.tree import Element

MAX_RELATED = 16  # related locations added to one diagnostic
MAX_BLAMED = 50  # diagnostics added at passing tags, at most
SHAPE_CODES = frozenset({"shape-mismatch", "rank-mismatch", "shape-error", "bad-axis"})


def _tag_key(file: str, el: Element) -> tuple[str, Range]:
    return file, el.tag_range


def name_instances(graph: Graph | None, diags: list[Diagnostic]) -> list[Diagnostic]:
    """`diags` with each diagnostic in a sourced file naming its instance chain (in the
    words of `ir.source_related`); repeats of one diagnostic from several instances name
    them all on the first, which is the one `analysis._dedupe` keeps."""
    if graph is None or not graph.instances or not diags:
        return diags
    by_tag: dict[tuple[str, Range], Element] = {}
    by_file: dict[str, list[Instance]] = {}
    for insts in graph.instances.values():
        for inst in insts:
            by_tag[_tag_key(inst.file, inst.tag)] = inst.tag
            by_file.setdefault(inst.path, []).append(inst)
    every: dict[str, tuple[RelatedInfo, ...]] = {}  # sourced file -> the chains of all its instances
    for path, insts in by_file.items():
        chains: dict[RelatedInfo, None] = {}
        for inst in insts[:MAX_RELATED]:
            chains.update(dict.fromkeys(source_related(inst.chain)))
        every[path] = tuple(chains)
    firsts: dict[tuple, int] = {}
    out: list[Diagnostic] = []
    for d in diags:
        related = _chains(d, by_tag, every, graph.index)
        key = (d.file, d.range, d.code, d.message)
        i = firsts.get(key)
        if i is None:
            firsts[key] = len(out)
            out.append(d if related == d.related else replace(d, related=related))
            continue
        first = out[i]
        more = tuple(r for r in related if r not in first.related)
        if more and len(first.related) < MAX_RELATED:
            out[i] = replace(first, related=first.related + more)
        out.append(d)
    return out


def _chains(d: Diagnostic, by_tag: dict, every: dict[str, tuple[RelatedInfo, ...]], index: str) -> tuple[RelatedInfo, ...]:
    """`d.related` with its sourcing tags in the standard words, or, when it names none and
    its file is sourced, every instance of that file."""
    names: list[str] = []
    out: list[RelatedInfo] = []
    for r in d.related:
        tag = by_tag.get((r.location.file, r.location.range))
        if tag is None or r.instance is not None:
            out.append(r)
            names = r.instance.split("$") if r.instance else names
            continue
        if r.location.file == index:  # a chain starts at the index file
            names = []
        names.append(tag.get("name") or "?")
        line, name = tag.tag_range.start.line + 1, "$".join(names)
        out.append(RelatedInfo(r.location, f"in {name}, sourced at {os.path.basename(r.location.file)}:{line}", name))
    if not names and d.file in every:
        out.extend(every[d.file])
    return tuple(out)


# -- blaming the tag that passes the inputs ------------------------------------------------------
def blame_tags(graph: Graph | None, diags: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics at the tags (sourced-block tags, `<import>`s of rep blocks) whose inputs
    make some copies of a node fail a shape rule that its other copies pass."""
    if graph is None or not diags:
        return []
    out: list[Diagnostic] = []
    at: dict[tuple, list[Diagnostic]] = {}  # the shape errors at each place
    for d in diags:
        if d.severity == Severity.ERROR and d.code in SHAPE_CODES:
            at.setdefault((d.file, d.range, d.code), []).append(d)
    done: set[Element] = set()
    for same in at.values():
        el = _node_at(graph, same[0])
        if el is None or el in done or len(out) >= MAX_BLAMED:
            continue
        done.add(el)
        copies = graph.element_nodes.get(el, [])
        failed = [n for n in copies if _failed(n)]
        passed = next((n for n in copies if any(t.shape is not None for t in n.outputs)), None)
        if failed and passed is not None:  # else every copy fails (the file's own mistake) or none is known to
            out.extend(_blame(graph, same, failed, passed))
    return out


def _node_at(graph: Graph, d: Diagnostic) -> Element | None:
    sf = graph.files.get(d.file)
    el = sf.element_at(sf.offset(d.range.start)) if sf is not None else None
    while el is not None and el.tag != "node":
        el = el.parent
    return el


def _failed(n: Node) -> bool:
    """The rule of `n` gave up although every input's shape is known."""
    return bool(n.outputs) and all(t.shape is None for t in n.outputs) and n.known and all(
        u.tensor.shape is not None for u in n.inputs if u.tensor.name)


def _blame(graph: Graph, same: list[Diagnostic], failed: list[Node], ok: Node) -> list[Diagnostic]:
    """Diagnostics at the first frame where each failing copy's way differs from `ok`'s."""
    d = same[0]
    out: list[Diagnostic] = []
    seen: set = set()
    for n in failed:
        k = next((i for i, (a, b) in enumerate(zip(n.origin.chain, ok.origin.chain)) if a != b), None)
        if k is None:
            continue
        frame = n.origin.chain[k]
        if frame.kind == "source" and frame.element not in seen:
            seen.add(frame.element)
            inst = _instance(graph, n.origin.chain[:k + 1])
            if inst is not None:
                out.append(_at_tag(inst, _own(inst, same)))
        elif frame.kind == "rep" and frame.index > 0 and (frame.element, frame.index) not in seen:
            seen.add((frame.element, frame.index))
            out.extend(_at_rep_imports(graph, frame, d))
    return out


def _instance(graph: Graph, chain: tuple[Frame, ...]) -> Instance | None:
    return next((i for i in graph.instances.get(chain[-1].element, []) if i.chain == chain), None)


def _own(inst: Instance, same: list[Diagnostic]) -> Diagnostic:
    """Of the errors at one place, the one met in `inst` (its message has that instance's shapes)."""
    tag = Location(inst.file, inst.tag.tag_range)
    return next((x for x in same if any(r.location == tag for r in x.related)), same[0])


def _shape(t: Tensor | None) -> str:
    s = None if t is None else (t.shape if t.shape is not None else t.declared)
    return format_shape(s, unknown="?")


def _at_tag(inst: Instance, d: Diagnostic) -> Diagnostic:
    passed = ", ".join(f"{el.get('from')} `{_shape(t)}`" for el, t in inst.imports)
    where = f"{os.path.basename(d.file)}:{d.range.start.line + 1}"
    msg = f"in {inst.name}, at {where}: {d.message}" + (f"; this tag passes in {passed}" if passed else "")
    related = (RelatedInfo(Location(d.file, d.range), f"the error inside {inst.name}"),)
    return Diagnostic(inst.file, inst.tag.tag_range, d.severity, d.code, msg, related,
                      data={"instance": inst.name, "blamed": True})


def _at_rep_imports(graph: Graph, frame: Frame, d: Diagnostic) -> list[Diagnostic]:
    """At each `<import>` of rep block `frame.element` that copy `frame.index` reads from the
    previous copy's export with another shape than the first copy read."""
    block = frame.element
    imports = [c for c in block.children if c.tag == "import" and c.get("from")]
    exports = [c for c in block.children if c.tag == "export" and c.get("from")]
    out = []
    for imp, exp in zip(imports, exports):
        first_in = graph.element_tensors.get(imp, [None])[0]
        first_out = graph.element_tensors.get(exp, [None])[0]
        a, b = _shape(first_in), _shape(first_out)
        if first_in is None or first_out is None or a == b or "?" in (a, b):
            continue
        title = block.get("title")
        what = f"rep block '{title}'" if title else "this rep block"
        msg = (f"copy {frame.index + 1} of {what} reads '{imp.get('from')}' from the previous copy's "
               f"'{exp.get('from')}' `{b}`, where the first copy read `{a}`: {d.message}")
        attr = imp.attrs["from"]
        out.append(Diagnostic(frame.file, attr.value_range, d.severity, d.code, msg,
                              (RelatedInfo(Location(d.file, d.range), "the error it causes"),),
                              data={"blamed": True}))
    return out
