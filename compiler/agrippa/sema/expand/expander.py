"""Expansion: parsed files → the flat graph IR (LANGUAGE.md §4–§7).

Walks the index file in document order, inlining sourced blocks and unrolling `rep` and
`stretch`, naming tensors, nodes and parameters exactly as the original package does, so
existing weight files keep loading. Mistakes become diagnostics; the walk goes on.

The walk itself is here; attribute values are read by `reader.AttrReader`, names,
parameters and constants kept by `definitions.Definitions`, nodes built by
`nodes.NodeBuilder`, and diagnostics collected by `scope.Reporter`.
"""
from __future__ import annotations

import functools
import os
import weakref

from agrippa.base.diagnostics import Diagnostic, Fix, Range, Severity
from agrippa.project.config import CONFIG_FNAME, project_dir_of
from agrippa.project.files import read_source, read_text, refuse
from agrippa.sema import compat
from agrippa.sema import ops as opcat
from agrippa.sema.dtypes import DTYPES
from agrippa.sema.expand.definitions import MAX_NODES, MAX_SOURCED, Definitions
from agrippa.sema.expand.nodes import NodeBuilder
from agrippa.sema.expand.options import Options
from agrippa.sema.expand.reader import MAX_COPIES, AttrReader
from agrippa.sema.expand.scope import Budget, Reporter, Scope
from agrippa.sema.expand.walk import UnitWalk
from agrippa.sema.ir import Frame, Graph, Instance, Node, Tensor, Use
from agrippa.sema.values import ValueError_, evaluate
from agrippa.syntax.parser import parse
from agrippa.syntax.tree import Element, SourceFile

MAX_SOURCE_DEPTH = 32  # nested sourced blocks
LAYOUT_ATTRS = frozenset({"x", "y", "width", "height"})
CANCEL_EVERY = 256  # nodes built between two calls of `Options.cancel`


class Expander:
    """One expansion: the walk over the index file and everything it sources."""

    def __init__(self, index_path: str, options: Options, files: dict[str, SourceFile] | None = None):
        self.opt = options
        self.index_path = os.path.abspath(index_path)
        bindings = {k: v for k, v in options.bindings.items() if k not in options.dynamic}
        self.graph = Graph(index=self.index_path, bindings=bindings, opset=options.opset,
                           dynamic=tuple(sorted(options.dynamic)))
        self._file_cache = files if files is not None else {}
        self.reporter = Reporter()
        self.reader = AttrReader(self.reporter, bindings, options.symbolic, options.dynamic)
        self.defs = Definitions(self.graph, self.reporter, self.reader)
        toml = os.path.join(project_dir_of(self.index_path), CONFIG_FNAME)
        self.nodes = NodeBuilder(self.reporter, self.reader, self.defs, options.opset,
                                 functools.partial(_opset_fix, toml, options.provider))
        self.concat_count = 0
        self.multiplier = 1  # product of the copy counts of the enclosing rep/stretch blocks
        self.instances = 0  # sourced-block instances expanded so far (they count toward MAX_NODES)
        self._parse_reported: set[str] = set()  # sourced files whose parse diagnostics are reported
        self._weights: dict[Element, int] = {}  # block -> nodes one copy makes (`_weight`)
        self._ticks = 0  # nodes built, for the cancellation check
        self.walk = UnitWalk(self, options) if options.record else None

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.reporter.diagnostics

    # -- files -------------------------------------------------------------------------------------
    def load(self, path: str) -> tuple[SourceFile | None, str | None]:
        path = os.path.abspath(path)
        rec = self.walk.rec if self.walk is not None else None
        why = refuse(path, self.opt.provider)  # the project's file-access policy, cached or not
        if why is not None:
            if rec is not None:
                rec.volatile = True  # the file may be readable at the next analysis
            return None, why
        sf = self._file_cache.get(path)
        if sf is None:
            text, why = read_source(path, self.opt.provider)
            if text is None:
                if rec is not None:
                    rec.volatile = True
                return None, why
            sf = parse(path, text, self.opt.previous.get(path) if self.opt.previous else None)
            self._file_cache[path] = sf
            if self.opt.on_parse is not None:
                self.opt.on_parse(sf)
        if rec is not None:
            rec.files[path] = sf  # a replayed unit needs this very parse
        self.graph.files[path] = sf
        return sf, None

    # -- the walk ------------------------------------------------------------------------------------
    def run(self) -> Graph:
        sf, why = self.load(self.index_path)
        if sf is None:
            self.reporter.add(Diagnostic(self.index_path, Range.of(0, 0, 0, 0), Severity.ERROR,
                                         "file-unreadable", f"cannot analyse this file: {why}"))
            return self.graph
        self.diagnostics.extend(sf.diagnostics)
        root = sf.root
        if root is None:
            return self.graph
        scope = Scope(sf, files=(sf.path,))
        try:
            if root.tag == "model":
                self.model(scope, root, index=True)
            elif root.tag == "block":
                self.block(scope, root)
            else:
                self.reporter.error(scope, root.tag_range, "bad-root",
                                    f"the root element must be <model>, not <{root.tag}>")
        except Budget:
            if self.walk is not None:
                self.walk.separable = False
        if self.walk is not None:
            self.walk.finish(self)
        return self.graph

    def model(self, scope: Scope, el: Element, index: bool) -> None:
        if index and self.walk is not None:
            self.walk.walk(self, scope, el.children)
            return
        for child in el.children:
            self.child(scope, child, index)

    def child(self, scope: Scope, child: Element, index: bool) -> None:
        """One child of a `<model>` root (of the index file, or of a sourced file)."""
        if child.tag == "import":
            if index:
                self.graph_input(scope, child)
            else:
                self.defs.reference(scope, child, "from", strict=True, what="the sourced file expects")
        elif child.tag == "block":
            self.block(scope, child)
        elif child.tag == "export":
            if index:
                self.graph_output(scope, child)
            else:
                self.defs.reference(scope, child, "from", strict=False, what="the sourced file exports")

    def graph_input(self, scope: Scope, el: Element) -> None:
        name = el.get("from")
        if not name:
            return
        dims = self.reader.dims(scope, el, "dim")
        dtype = el.get("type") or "float32"
        defs = self.defs
        if name in defs.current:
            self.reporter.error(scope, el.attrs["from"].value_range, "duplicate-name", f"'{name}' is imported twice")
            return
        t = defs.tensor(name, name, scope.origin(el), kind="input", dtype=dtype if dtype in DTYPES else "float32",
                        declared=dims)
        defs.current[name] = name
        defs.name_count[name] += 1
        defs.claim(t, el)
        self.graph.inputs.append(t)

    def graph_output(self, scope: Scope, el: Element) -> None:
        t = self.defs.reference(scope, el, "from", strict=True, what="the model exports")
        if t is not None:
            self.graph.outputs.append((t, el))

    def block(self, scope: Scope, el: Element) -> None:
        if el.get("src") is not None:
            self.sourced(scope, el)
            return
        rep, stretch = el.attrs.get("rep"), el.attrs.get("stretch")
        if rep is not None and stretch is not None:
            self.reporter.error(scope, stretch.name_range, "rep-and-stretch",
                                "a block cannot have both rep and stretch; nest one block inside another")
            stretch = None
        if rep is not None or stretch is not None:
            kind = "rep" if rep is not None else "stretch"
            n = self.reader.count_attr(scope, el, kind)
            if n is None:
                n = 1
            self.graph.copies[el] = n
            if not isinstance(n, int):
                self.graph.complete = False
            elif not self._affordable(scope, el, kind, n):
                n = 1  # reported; one copy is analysed, so what follows still has its names
            outer = self.multiplier
            self.multiplier *= n if isinstance(n, int) else 1
            try:
                self.repeated(scope, el, kind, n)
            finally:
                self.multiplier = outer
        else:
            if len(el.children) > MAX_NODES - len(self.graph.nodes):  # cheap: only a huge block looks closer
                self._within_budget(scope, el)
            self.block_body(scope, el)

    def _within_budget(self, scope: Scope, el: Element) -> None:
        """A plain block whose own nodes pass MAX_NODES: the budget is reported at the node
        past it, before any is built (a 20 MB file of nodes costs its parse, not 250,000 nodes)."""
        nodes = [c for c in el.children if c.tag == "node"]
        room = MAX_NODES - len(self.graph.nodes)
        if len(nodes) > room:
            self.reporter.add(Diagnostic(scope.file.path, nodes[room].tag_range, Severity.ERROR, "too-many-nodes",
                                         f"the model expands to more than {MAX_NODES:,} nodes; analysis stopped here"))
            raise Budget

    def _affordable(self, scope: Scope, el: Element, kind: str, n: int) -> bool:
        """Refuse, before expanding, a count that would make more than MAX_NODES nodes.

        The outermost repeated block is judged with its nested counts (one diagnostic, at
        the count that matters); a nested one that still overflows (sourced files are
        counted as one node each) stops the walk, so its copies do not report it again."""
        total = len(self.graph.nodes) + self._weight(el) * n
        if total <= MAX_NODES:
            return True
        attr = el.attrs[kind]
        self.reporter.error(scope, attr.value_range, "too-many-nodes",
                            f"{kind}={n:,} would expand the model to about {total:,} nodes (at most {MAX_NODES:,})"
                            + ("; one copy is analysed" if self.multiplier == 1 else "; the expansion stops here"))
        if self.multiplier != 1:
            raise Budget
        return False

    def _weight(self, el: Element) -> int:
        """About how many nodes one copy of block `el` makes, nested rep/stretch counts included."""
        w = self._weights.get(el)
        if w is None:
            w = 0
            for c in el.children:
                if c.tag == "node" or (c.tag == "block" and c.get("src")):
                    w += 1
                elif c.tag == "block":
                    w += self._weight(c) * self._quiet_count(c)
            self._weights[el] = w = max(w, 1)
        return w

    def _quiet_count(self, el: Element) -> int:
        """A block's rep/stretch count when it is a known whole number, else 1 (nothing reported)."""
        attr = el.attrs.get("rep") or el.attrs.get("stretch")
        if attr is None:
            return 1
        v = self.reader.parsed(attr)
        try:
            n = evaluate(v, self.reader.bindings) if not isinstance(v, ValueError_) else 1
        except ValueError_:
            return 1
        return n if isinstance(n, int) and 1 <= n <= MAX_COPIES else 1

    def block_body(self, scope: Scope, el: Element) -> None:
        reference, build, cancel = self.defs.reference, self.nodes.build, self.opt.cancel
        for child in el.children:
            tag = child.tag
            if tag == "node":
                build(scope, child)
                if cancel is not None:
                    self._ticks += 1
                    if self._ticks % CANCEL_EVERY == 0:
                        cancel()  # a newer edit made this expansion outdated: it raises
            elif tag == "block":
                self.block(scope, child)
            elif tag == "import":
                reference(scope, child, "from", strict=False, what="the block imports")
            elif tag == "export":
                reference(scope, child, "from", strict=False, what="the block exports")

    def repeated(self, scope: Scope, el: Element, kind: str, n: object) -> None:
        imports = [c.get("from") for c in el.children if c.tag == "import" and c.get("from")]
        exports = [c.get("from") for c in el.children if c.tag == "export" and c.get("from")]
        if not imports or not exports:
            missing = "import" if not imports else "export"
            self.reporter.error(scope, el.attrs[kind].name_range, f"{kind}-without-io",
                                f"a block with {kind} must list its <{missing}>s: they say how copies connect")
        imports = [scope.prefix + i for i in imports]
        exports = [scope.prefix + e for e in exports]
        current, bind = self.defs.current, self.defs.bind
        outer = {i: current.get(i) for i in imports}
        count = n if isinstance(n, int) else 1
        results: list[list[str | None]] = []
        for j in range(count):
            sub = Scope(scope.file, scope.prefix, scope.chain + (Frame(kind, el, scope.file.path, j),), scope.files)
            if kind == "stretch" or j == 0:
                for i in imports:
                    bind(i, outer[i])
            else:
                for k, i in enumerate(imports[:len(exports)]):
                    bind(i, results[-1][k])
            self.block_body(sub, el)
            results.append([current.get(e) for e in exports])
        for i in imports:
            bind(i, outer[i])
        if kind == "rep":
            for e, last in zip(exports, results[-1]):
                bind(e, last)
        else:
            self.stretch_concat(scope, el, exports, results, n)

    def stretch_concat(self, scope: Scope, el: Element, exports: list[str],
                       results: list[list[str | None]], n: object) -> None:
        for k, e in enumerate(exports):
            names = [r[k] for r in results]
            if any(x is None for x in names):
                continue
            self.concat_count += 1
            out_name = f"{e}$concat${self.concat_count}"
            origin = scope.origin(el)
            node = Node(self.defs.node_name(scope.prefix + "stretch_concat"), "Concat", origin,
                        attributes={"axis": opcat.ParsedAttr("axis", "int", -1)})
            node.repeat = 1 if isinstance(n, int) else n  # a symbolic count: each input stands for n copies
            for nm in names:
                t = self.graph.tensors[nm]
                node.inputs.append(Use(t, el))
                self.defs.use(t, node.name)
            out = self.defs.tensor(out_name, e, origin, kind="concat", producer_ref=weakref.ref(node))
            node.outputs.append(out)
            export_el = next((c for c in el.children if c.tag == "export" and scope.prefix + (c.get("from") or "") == e), el)
            self.defs.claim(out, export_el)
            self.defs.add_node(node)
            self.defs.current[e] = out.name

    def sourced(self, scope: Scope, el: Element) -> None:
        error = self.reporter.error
        src = el.attrs["src"]
        name = el.get("name")
        if not name:
            error(scope, el.tag_range, "sourced-without-name",
                  "a sourced block needs name=\"...\": its names are prefixed with it")
            return
        if el.children:
            error(scope, el.tag_range, "sourced-with-children",
                  "a sourced block tag takes no children; its content comes from the file")
        for k in ("rep", "stretch"):
            if k in el.attrs:
                self.reporter.warning(scope, el.attrs[k].name_range, "ignored-attribute",
                                      f"{k} on a sourced-block tag is ignored (as in the original); put it on the "
                                      f"sourced file's root <block>, or wrap this tag in a block with {k}")
        if len(scope.files) >= MAX_SOURCE_DEPTH:
            error(scope, src.value_range, "source-too-deep", f"sourced blocks nest more than {MAX_SOURCE_DEPTH} deep")
            return
        path = os.path.abspath(os.path.join(os.path.dirname(scope.file.path), src.value))
        if path in scope.files:
            cycle = " → ".join(os.path.basename(p) for p in (*scope.files[scope.files.index(path):], path))
            error(scope, src.value_range, "source-cycle", f"sourcing cycle: {cycle}")
            return
        self.instances += 1
        if self.instances > MAX_SOURCED or self.instances + len(self.graph.nodes) > MAX_NODES:
            error(scope, src.value_range, "too-many-sourced",
                  f"sourced blocks expand to more than {MAX_SOURCED:,} instances (or, with the nodes, "
                  f"{MAX_NODES:,}); the expansion stops here")
            raise Budget
        sf, why = self.load(path)
        self.graph.sourced[el] = path
        if sf is None:
            error(scope, src.value_range, getattr(why, "code", "") or "missing-source", f"cannot source '{src.value}': {why}")
            return
        if path not in self._parse_reported:  # the file's own mistakes, once (not per instance)
            self._parse_reported.add(path)
            if sf.diagnostics and self.walk is not None:
                self.walk.separable = False  # said by the first unit sourcing it only
            for d in sf.diagnostics:
                self.reporter.report(scope, d.file, d.range, d.severity, d.code, d.message)
        if sf.root is None:
            return
        sub = Scope(sf, scope.prefix + name + "$", scope.chain + (Frame("source", el, scope.file.path),),
                    scope.files + (path,))
        inst = Instance(el, scope.file.path, path, sub.chain)
        self.graph.instances.setdefault(el, []).append(inst)
        inst.imports = self._ends(sub, sf.root, "import")
        if sf.root.tag == "model":
            self.model(sub, sf.root, index=False)
        elif sf.root.tag == "block":
            self.block(sub, sf.root)
        else:
            error(sub, sf.root.tag_range, "bad-root",
                  f"a sourced file's root must be <model> or <block>, not <{sf.root.tag}>")
        inst.exports = self._ends(sub, sf.root, "export")

    def _ends(self, scope: Scope, root: Element, tag: str) -> list[tuple[Element, Tensor | None]]:
        """What the root's <import>s (before the walk) or <export>s (after it) stand for in
        the instance `scope` is in."""
        out = []
        for c in root.children:
            name = c.get("from") if c.tag == tag else None
            if name:
                onnx = self.defs.current.get(scope.prefix + name)
                out.append((c, self.graph.tensors.get(onnx) if onnx is not None else None))
        return out


def expand(index_path: str, options: Options, files: dict[str, SourceFile] | None = None) -> tuple[Graph, list[Diagnostic]]:
    """Expand a project whose main file is `index_path`."""
    ex = Expander(index_path, options, files)
    graph = ex.run()
    return graph, ex.diagnostics


__all__ = ["expand", "Options", "Expander", "MAX_COPIES", "MAX_NODES", "MAX_SOURCE_DEPTH", "DTYPES",
           "LAYOUT_ATTRS"]


def _opset_fix(toml: str, provider, opset: int) -> Fix:
    """The quick fix that sets `[model] opset` in the project's agrippa.toml (a function,
    not a method: the node builder holds it, and must not hold the expander)."""
    return compat.opset_fix(toml, read_text(toml, provider), opset)
