"""Semantic checks that read the syntax trees and the expanded IR.

Expansion already reports what it meets while resolving (unknown ops and attributes,
undefined names, sourcing problems, shared-parameter dims). This pass adds the rules that
look at a file as written: naming, required hints, init kinds, `dims` typos, and outputs
that nothing reads.

Each rule is a function registered with a decorator, as the shape rules are:
`@element_rule("params")` runs on every `<params>` of every file (no tags: on every
element), `@graph_rule` once on the expanded graph. `check` walks each file once and
runs the element rules in the order they are registered here, then the graph rules.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from agrippa.base.diagnostics import (
    Diagnostic,
    Fix,
    Location,
    Range,
    RelatedInfo,
    Severity,
    TextEdit,
)
from agrippa.base.suggest import suggest
from agrippa.sema.checks_trainable import untrainable_ops
from agrippa.sema.expand.expander import Options
from agrippa.sema.inits import DEFAULT_INIT, INIT_KINDS, count_items
from agrippa.sema.ir import Graph, Tensor
from agrippa.sema.names import is_plain_name, reserved_char
from agrippa.syntax.tree import Element, SourceFile

HINT_ATTRS = {"import": "dim", "export": "dim", "input": "dim", "output": "dim", "params": "dim"}


@dataclass
class FileCheck:
    """One file being checked: where diagnostics go, and what the rules share about it."""

    sf: SourceFile
    is_index: bool
    out: list[Diagnostic]
    first_output: dict[str, Element] = field(default_factory=dict)  # name -> its first <output>

    @cached_property
    def sourced_names(self) -> set[str]:
        """The names of the file's sourced blocks (the prefixes `name$` may carry)."""
        return {e.get("name") for e in self.sf.elements() if e.tag == "block" and e.get("src") and e.get("name")}

    def add(self, rng: Range, severity: Severity, code: str, message: str, **kw) -> None:
        self.out.append(Diagnostic(self.sf.path, rng, severity, code, message, **kw))


ElementRule = Callable[[FileCheck, Element], None]
GraphRule = Callable[[Graph, list[Diagnostic]], None]
ELEMENT_RULES: list[tuple[frozenset[str] | None, ElementRule]] = []
"""(tags or None for every element, rule), in registration order."""
GRAPH_RULES: list[GraphRule] = []


def element_rule(*tags: str) -> Callable[[ElementRule], ElementRule]:
    """Register a rule run on each element with one of `tags` (every element when none)."""
    def register(fn: ElementRule) -> ElementRule:
        ELEMENT_RULES.append((frozenset(tags) or None, fn))
        return fn
    return register


def graph_rule(fn: GraphRule) -> GraphRule:
    """Register a rule run once on the expanded graph."""
    GRAPH_RULES.append(fn)
    return fn


def _rules_by_tag() -> dict[str, tuple[ElementRule, ...]]:
    """tag -> the element rules run on it, in registration order ("" keys the rules for any tag)."""
    tags = {t for ts, _ in ELEMENT_RULES if ts is not None for t in ts} | {""}
    return {tag: tuple(fn for ts, fn in ELEMENT_RULES if ts is None or tag in ts) for tag in tags}


_DISPATCH: list = [0, {}]  # [len(ELEMENT_RULES) when built, the table]


@dataclass(eq=False)
class Part:
    """What the element rules found in one top-level element of the index file (or in one
    whole other file): kept for the next analysis while that element is unchanged."""

    diagnostics: list[Diagnostic]
    outputs: list[tuple[str, Element]]  # its <output>s and their names
    references: list[Element]  # its <import>s and <export>s
    sourced: frozenset[str]  # the names of its sourced blocks


@dataclass(eq=False)
class CheckState:
    """What one check leaves for the next, incremental one."""

    files: dict[str, tuple[SourceFile, Part]] = field(default_factory=dict)
    units: dict[Element, Part] = field(default_factory=dict)
    sourced_names: frozenset[str] = frozenset()


def check(graph: Graph, options: Options, base: Graph | None = None,
          shift: Callable[[list[Diagnostic]], list[Diagnostic] | None] | None = None) -> list[Diagnostic]:
    """Every rule on every file and on the graph. With `base` (an incremental analysis), the
    element rules' findings in what did not change are taken from it (`shift` moves them)."""
    out: list[Diagnostic] = []
    if _DISPATCH[0] != len(ELEMENT_RULES):
        _DISPATCH[:] = [len(ELEMENT_RULES), _rules_by_tag()]
    table = _DISPATCH[1]
    if graph.units is None:  # the whole check, element by element
        for sf in graph.files.values():
            if sf.root is not None:
                _whole_file(FileCheck(sf, sf.path == graph.index, out), table)
        for fn in GRAPH_RULES:
            fn(graph, out)
    else:  # part by part, each kept for the next analysis
        state = CheckState()
        old = getattr(base, "check_state", None) if base is not None else None
        parts: list[Part] = []
        for sf in graph.files.values():
            if sf.root is None:
                continue
            if sf.path == graph.index:
                parts.extend(_index_file(FileCheck(sf, True, out), table, state, old, shift, options.cancel))
                continue
            was = old.files.get(sf.path) if old is not None else None
            if was is not None and was[0] is sf:  # a sourced file left alone
                part = was[1]
                out.extend(part.diagnostics)
            else:
                part = _part(FileCheck(sf, False, []), table, sf.elements(), None)
                out.extend(part.diagnostics)
            state.files[sf.path] = (sf, part)
            parts.append(part)
        for fn in GRAPH_RULES:
            if fn is not unused_outputs:
                fn(graph, out)
        _unused_in(graph, parts, out)
        graph.check_state = state
    model_without_exports(graph, out, strict=not options.symbolic)
    return out


def _whole_file(fc: FileCheck, table: dict) -> None:
    rules_for, anywhere = table.get, table[""]
    for el in fc.sf.elements():
        for fn in rules_for(el.tag, anywhere):
            fn(fc, el)


def _part(fc: FileCheck, table: dict, elements, names: frozenset[str] | None) -> Part:
    """The element rules but the file-wide one on `elements`, and what that one needs."""
    rules_for, anywhere = table.get, table[""]
    if names is not None:
        fc.__dict__["sourced_names"] = set(names)
    outs, refs, sourced = [], [], set()
    for el in elements:
        tag = el.tag
        if tag == "output":
            outs.append((el.get("name"), el))
        elif tag in ("import", "export"):
            refs.append(el)
        elif tag == "block" and el.get("src") and el.get("name"):
            sourced.add(el.get("name"))
        for fn in rules_for(tag, anywhere):
            if fn is not outputs_are_unique:
                fn(fc, el)
    if names is None:  # a whole file: outputs named once in it
        for _, el in outs:
            outputs_are_unique(fc, el)
    return Part(fc.out, outs, refs, frozenset(sourced))


def _index_file(fc: FileCheck, table: dict, state: CheckState, old: CheckState | None, shift,
                cancel: Callable[[], None] | None = None) -> list[Part]:
    """The index file, top-level element by top-level element (each one's findings kept for
    the next analysis), then the file-wide rule: outputs named once."""
    sf = fc.sf
    root = sf.root
    kept: dict[Element, Part] = {}
    for c in root.children:
        was = old.units.get(c) if old is not None else None
        if was is not None:
            kept[c] = was
    fresh = {c: frozenset(e.get("name") for e in c.iter() if e.tag == "block" and e.get("src") and e.get("name"))
             for c in root.children if c not in kept}
    names = frozenset().union(*(p.sourced for p in kept.values()), *fresh.values())
    state.sourced_names = names
    if old is not None and old.sourced_names != names:
        kept = {}  # `$` in names depends on them
    top = _part(FileCheck(sf, True, []), table, [root], names)
    fc.out.extend(top.diagnostics)
    parts = [top]
    for k, c in enumerate(root.children):
        if cancel is not None and k % 256 == 255:
            cancel()  # a newer edit (or, for a background run, a request) came: it raises
        part = kept.get(c)
        if part is not None and part.diagnostics and shift is not None:
            moved = shift(part.diagnostics)
            part = None if moved is None else Part(moved, part.outputs, part.references, part.sourced)
        if part is None:
            part = _part(FileCheck(sf, True, []), table, c.iter(), names)
        state.units[c] = part
        fc.out.extend(part.diagnostics)
        parts.append(part)
    first: dict[str, Element] = {}
    for part in parts:
        for name, el in part.outputs:
            if name:
                prev = first.setdefault(name, el)
                if prev is not el:
                    _duplicate(fc, el, prev, name)
    return parts


def _unused_in(graph: Graph, parts: list[Part], out: list[Diagnostic]) -> None:
    """`unused_outputs`, over the outputs and references the parts list: outputs read by a
    node or exported by the model first (nearly all), the others against every reference."""
    et = graph.element_tensors
    exported = {t.name for t, _ in graph.outputs}
    candidates = []
    for part in parts:
        for _, el in part.outputs:
            tensors = et.get(el)
            if not tensors:
                continue
            for t in tensors:
                if t.users or t.name in exported:
                    break
            else:
                candidates.append((el, tensors))
    if not candidates:
        return
    referenced = {t.name for part in parts for el in part.references for t in et.get(el, ())}
    for el, tensors in candidates:
        if not any(t.name in referenced for t in tensors):
            _unused(el, tensors, out)


# -- names -----------------------------------------------------------------------------------

@element_rule("output", "params", "block")
def names_are_plain(fc: FileCheck, el: Element) -> None:
    """Names hold no `.`, no `$` (but in a sourced block's prefix), only plain characters."""
    if el.tag == "block" and not (el.get("name") and el.get("src")):
        return
    a = el.attrs.get("name")
    if a is None or not a.value:
        return
    sf, name = fc.sf, a.value
    if is_plain_name(name):  # the common case: neither '.' nor '$' nor anything else
        return
    reserved = reserved_char(name)
    if reserved == ".":
        i = name.index(".")
        fc.add(sf.range(a.offset_of(i), a.offset_of(i + 1)), Severity.ERROR, "bad-name",
               f"'.' is not allowed in names ('{name}')")
        return
    if reserved == "$":
        head = name.rsplit("$", 1)[0]
        sourced = fc.sourced_names if el.tag == "output" else set()
        if not (el.tag == "output" and all(p in sourced for p in head.split("$")[:1])):
            i = name.index("$")
            fc.add(sf.range(a.offset_of(i), a.offset_of(i + 1)), Severity.ERROR, "bad-name",
                   f"'$' is not allowed in names ('{name}'); it only prefixes a sourced block's "
                   f"names (enc$x for a block named 'enc')")
        return
    fc.add(a.value_range, Severity.WARNING, "bad-name",
               f"'{name}' is not a plain name (letters, digits, '_' and '-')")


@element_rule("output")
def outputs_are_unique(fc: FileCheck, el: Element) -> None:
    """One `<output>` per name in a file."""
    name = el.get("name")
    if not name:
        return
    prev = fc.first_output.get(name)
    if prev is None:
        fc.first_output[name] = el
        return
    _duplicate(fc, el, prev, name)


def _duplicate(fc: FileCheck, el: Element, prev: Element, name: str) -> None:
    fc.add(el.attrs["name"].value_range, Severity.ERROR, "duplicate-output",
           f"'{name}' is already defined in this file; names must be unique",
           related=(RelatedInfo(Location(fc.sf.path, prev.attrs["name"].value_range), "first defined here"),))


# -- parameters ------------------------------------------------------------------------------

@element_rule("params")
def init_is_known(fc: FileCheck, el: Element) -> None:
    """`init` names a known kind, and `init_args` has as many values as that kind takes."""
    sf = fc.sf
    init = el.attrs.get("init")
    kind = init.value if init is not None else DEFAULT_INIT
    if init is not None and kind not in INIT_KINDS:
        close = suggest(kind, INIT_KINDS, 3, cutoff=0.5)
        fc.add(init.value_range, Severity.ERROR, "unknown-init",
               f"unknown init '{kind}'" + (f"; did you mean '{close[0]}'?" if close else
                                           f" (known: {', '.join(INIT_KINDS)})"),
               fixes=tuple(Fix(f"Change to '{c}'", (TextEdit(sf.path, init.value_range, c),), i == 0)
                           for i, c in enumerate(close)))
        return
    args = el.attrs.get("init_args")
    if args is None:
        if kind == "constant":
            fc.add(init.value_range, Severity.ERROR, "init-args", "init=\"constant\" needs init_args=\"[value]\"")
        return
    n = count_items(args.value)
    if n is None:
        return
    want = INIT_KINDS[kind]
    if kind == "constant" and n != 1:
        fc.add(args.value_range, Severity.ERROR, "init-args",
               f"init=\"constant\" takes exactly one value in init_args, got {n}")
    elif kind in ("normal", "uni_random") and n not in (0, 2):
        what = "[mean, std]" if kind == "normal" else "[low, high]"
        fc.add(args.value_range, Severity.ERROR, "init-args",
               f"init=\"{kind}\" takes init_args=\"{what}\" (2 values), got {n}")
    elif want == 0 and n:
        fc.add(args.value_range, Severity.WARNING, "init-args", f"init=\"{kind}\" takes no init_args; they are ignored")


# -- dim hints -------------------------------------------------------------------------------

@element_rule("import", "export")
def graph_io_has_dim(fc: FileCheck, el: Element) -> None:
    """The index file's model `<import>`s and `<export>`s are graph inputs and outputs: they need `dim`."""
    sf = fc.sf
    if not (fc.is_index and el.parent is sf.root and sf.root.tag == "model" and "dim" not in el.attrs):
        return
    has_dims = "dims" in el.attrs
    kind = "input" if el.tag == "import" else "output"
    fc.add(el.tag_range, Severity.ERROR, "root-io-without-dim",
           f"a model {el.tag} needs dim=\"[...]\": it is a graph {kind}" + (" (write dim, not dims)" if has_dims else ""),
           fixes=_dims_fix(sf, el) if has_dims else ())


@element_rule(*HINT_ATTRS)
def dims_means_dim(fc: FileCheck, el: Element) -> None:
    """`dims` is a common slip for `dim`."""
    if "dims" in el.attrs and "dim" not in el.attrs:
        fc.add(el.attrs["dims"].name_range, Severity.WARNING, "dims-for-dim",
               "'dims' is not an Agrippa attribute and is ignored; did you mean 'dim'?", fixes=_dims_fix(fc.sf, el))


def _dims_fix(sf: SourceFile, el: Element) -> tuple[Fix, ...]:
    a = el.attrs["dims"]
    return (Fix("Change 'dims' to 'dim'", (TextEdit(sf.path, a.name_range, "dim"),), True),)


# -- the graph -------------------------------------------------------------------------------

@graph_rule
def unused_outputs(graph: Graph, out: list[Diagnostic]) -> None:
    """Outputs whose tensors no node reads and no export names (a hint, faded in editors)."""
    exported = {t.name for t, _ in graph.outputs}
    referenced = {t.name for el, ts in graph.element_tensors.items() if el.tag in ("export", "import") for t in ts}
    for el, tensors in graph.element_tensors.items():
        if el.tag != "output" or not tensors:
            continue
        for t in tensors:  # a loop, not any(generator): it runs once per output of the model
            if t.users or t.name in exported or t.name in referenced:
                break
        else:
            _unused(el, tensors, out)


def _unused(el: Element, tensors: list[Tensor], out: list[Diagnostic]) -> None:
    """Report the `<output>` `el`, whose tensors nothing reads."""
    name = el.get("name")
    if name is None:
        return
    out.append(Diagnostic(tensors[0].origin.file, el.attrs["name"].value_range, Severity.HINT, "unused-output",
                          f"'{name}' is never used", data={"tags": ["unnecessary"]}))


def model_without_exports(graph: Graph, out: list[Diagnostic], strict: bool) -> None:
    """An index `<model>` without any root `<export>`: the ONNX graph would have no output, and
    onnxruntime refuses such a model. A warning while editing, an error when compiling."""
    sf = graph.files.get(graph.index)
    root = sf.root if sf is not None else None
    if root is None or root.tag != "model" or any(c.tag == "export" for c in root.children):
        return
    out.append(Diagnostic(sf.path, root.tag_range, Severity.ERROR if strict else Severity.WARNING, "no-exports",
                          "the model has no <export>: its ONNX graph would have no output, which "
                          "onnxruntime refuses to load; export at least one tensor"))


graph_rule(untrainable_ops)  # sema/checks_trainable.py: ops training cannot convert
