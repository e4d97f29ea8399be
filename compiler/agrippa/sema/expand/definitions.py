"""What the expansion has defined so far, and the graph it adds it to.

`Definitions` maps each markup name (prefixed inside sourced blocks) to the ONNX name of
the tensor it currently stands for, and makes the graph's tensors, parameters, constants
and nodes, named exactly as the original package names them (`y`, `y$1`, `W$3`,
`Linear$2`), so existing weight files keep loading.
"""
from __future__ import annotations

import weakref
from collections import Counter

from agrippa.base.diagnostics import Diagnostic, Fix, Location, RelatedInfo, Severity, TextEdit
from agrippa.base.suggest import suggest
from agrippa.sema import compat
from agrippa.sema.expand.reader import AttrReader
from agrippa.sema.expand.scope import Budget, Reporter, Scope
from agrippa.sema.expand.units import DECLARATIONS, USERS, Adopter, Recorder
from agrippa.sema.inits import DEFAULT_INIT
from agrippa.sema.ir import Constant, Graph, Node, Origin, Param, Tensor
from agrippa.syntax.tree import Attr, Element, SourceFile

MAX_NODES = 250_000  # nodes in one expanded model
MAX_SOURCED = 50_000  # sourced-block instances in one expansion (a diamond of files doubles them per level)
RENAMEABLE = frozenset({"value", "concat"})  # values whose ONNX name no weight file depends on
_KINDS = {"param": "parameter", "input": "graph input", "constant": "constant", "concat": "value"}


class Definitions:
    """The names defined so far and the graph they are added to."""

    def __init__(self, graph: Graph, reporter: Reporter, reader: AttrReader):
        self.graph = graph
        self.reporter = reporter
        self.reader = reader
        self.current: dict[str, str] = {}  # logical name -> current ONNX name
        self.name_count: Counter[str] = Counter()
        self.title_count: Counter[str] = Counter()
        self.param_count: Counter[str] = Counter()
        self._defs_in_file: dict[str, dict[str, Element]] = {}
        self._renamed: set[Element] = set()  # elements warned about a renamed value
        self.rec: Recorder | None = None  # the log of the unit being expanded (units.py)
        self.adopter: Adopter | None = None  # the previous analysis' objects, to take over by name
        self.separable = True  # False once one unit changed what another made (a renamed value)

    # -- objects -------------------------------------------------------------------------------
    def tensor(self, name: str, logical: str, origin: Origin, kind: str = "value", dtype: str = "float32",
               shape: tuple | None = None, declared: tuple | None = None,
               producer_ref: weakref.ref | None = None) -> Tensor:
        """A new tensor, or the previous analysis' tensor of that name made anew (units.py)."""
        a = self.adopter
        if a is not None:
            old = a.tensor(name, self.graph.tensors)
            if old is not None:
                if old.kind != kind or old.logical != logical:
                    a.changed.add(id(old))
                old.__init__(name, logical, origin, kind, dtype, shape, declared, producer_ref, [])
                return old
        return Tensor(name, logical, origin, kind, dtype, shape, declared, producer_ref)

    def use(self, t: Tensor, node_name: str) -> None:
        """Node `node_name` reads `t`."""
        t.users.append(node_name)
        if self.rec is not None:
            self.rec.appends.append((t, USERS, node_name))

    def declare(self, p: Param, origin: Origin) -> None:
        """A `<params>` maps to `p`."""
        p.declarations.append(origin)
        if self.rec is not None:
            self.rec.appends.append((p, DECLARATIONS, origin))

    # -- names ---------------------------------------------------------------------------------
    def bind(self, logical: str, onnx_name: str | None) -> None:
        """Let `logical` stand for the tensor `onnx_name` (None: for nothing)."""
        if onnx_name is None:
            self.current.pop(logical, None)
        else:
            self.current[logical] = onnx_name

    def node_name(self, title: str) -> str:
        """The next ONNX node name for a title (`Linear$1`, `Linear$2`, ...)."""
        n = self.title_count.get(title, 0) + 1  # get: a Counter's __missing__ is a Python call
        self.title_count[title] = n
        return f"{title}${n}"

    def defs_in_file(self, sf: SourceFile) -> dict[str, Element]:
        """The first `<output>` defining each name in a file."""
        d = self._defs_in_file.get(sf.path)
        if d is None:
            d = {}
            for el in sf.elements():
                if el.tag == "output" and el.get("name"):
                    d.setdefault(el.get("name"), el)
            self._defs_in_file[sf.path] = d
        return d

    def reference(self, scope: Scope, el: Element, attr_name: str, *, strict: bool, what: str) -> Tensor | None:
        """Resolve a name read by `el` (an input src, import/export from) to its tensor."""
        attr = el.attrs.get(attr_name)
        if attr is None or not attr.value:
            return None
        name = attr.value
        logical = scope.prefix + name
        graph = self.graph
        tensors = graph.tensors
        onnx_name = self.current.get(logical)
        if onnx_name is None and logical in tensors:
            onnx_name = logical  # a name of the flat graph, passed through as written (h$2)
        if onnx_name is None:
            self.undefined(scope, el, attr, name, strict, what)
            return None
        t = tensors.get(onnx_name)
        if t is not None:
            graph.element_tensors.setdefault(el, []).append(t)
        return t

    def undefined(self, scope: Scope, el: Element, attr: Attr, name: str, strict: bool, what: str) -> None:
        """Report a name that stands for no tensor here: used too early, or a typo."""
        if self.rec is not None:
            self.rec.volatile = True  # it reads every name in scope, and where the file defines them
        later = self.defs_in_file(scope.file).get(name)
        sev = Severity.ERROR if strict else Severity.WARNING
        if later is not None and later.start > el.start:
            line = scope.file.position(later.start).line + 1
            self.reporter.report(scope, scope.file.path, attr.value_range, sev, "use-before-definition",
                                 f"'{name}' is used before it is defined (on line {line}); nodes must come in order")
            return
        in_scope = [k[len(scope.prefix):] for k in self.current if k.startswith(scope.prefix)]
        close = suggest(name, in_scope, 3)
        msg = f"'{name}' is not defined" + (f"; did you mean '{close[0]}'?" if close else "")
        if el.tag in ("import", "export") and el.parent is not None and el.parent.tag == "block" and not strict:
            msg = f"{what} '{name}', which is not defined" + (f"; did you mean '{close[0]}'?" if close else "")
        fixes = tuple(Fix(f"Change to '{c}'", (TextEdit(scope.file.path, attr.value_range, c),), i == 0)
                      for i, c in enumerate(close))
        self.reporter.report(scope, scope.file.path, attr.value_range, sev, "undefined-tensor", msg, fixes=fixes,
                             data={"name": name, "candidates": close})

    # -- graph contents ------------------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        """Append a node; past MAX_NODES, report it and stop the walk (`Budget`)."""
        nodes = self.graph.nodes
        nodes.append(node)
        if len(nodes) > MAX_NODES:
            self.reporter.add(Diagnostic(
                node.origin.file, node.origin.element.tag_range, Severity.ERROR, "too-many-nodes",
                f"the model expands to more than {MAX_NODES:,} nodes; analysis stopped here"))
            raise Budget()

    def define_output(self, scope: Scope, el: Element, node: Node) -> Tensor | None:
        """The tensor an `<output>` of `node` defines (`y`, then `y$1`, ... for repeats)."""
        attr = el.attrs.get("name")
        if attr is None or not attr.value:
            return None
        logical = scope.prefix + attr.value
        count = self.name_count.get(logical, 0)  # get: a Counter's __missing__ is a Python call
        onnx_name = logical if count == 0 else f"{logical}${count}"
        self.name_count[logical] = count + 1
        t = self.tensor(onnx_name, logical, scope.origin(el), producer_ref=weakref.ref(node))
        self.claim(t, el)
        self.current[logical] = t.name
        return t

    def claim(self, t: Tensor, element: Element | None = None) -> Tensor:
        """Add `t` to the graph under an ONNX name no other value holds (sema/compat.py,
        point 4): of two values with one name, the one computed by a node is renamed; a
        parameter, graph input or constant keeps its name. Two of those: an error."""
        held = self.graph.tensors.get(t.name)
        if held is None:  # the common case: a fresh name
            return self.graph.add_tensor(t, element)
        if held is not t:
            if t.kind in RENAMEABLE:
                self._rename(t, held)
            elif held.kind in RENAMEABLE:
                self._rename(held, t)
            else:
                self._clash(t, held)
                return t  # the first keeps its place in `graph.tensors`; both stay in the model
        return self.graph.add_tensor(t, element)

    def _rename(self, t: Tensor, holder: Tensor) -> None:
        """Give the value `t` a fresh name, because `holder` has (or takes) its name."""
        self.separable = False  # it may rename a value another unit made
        old, graph = t.name, self.graph
        new, k = old + compat.RENAMED_SUFFIX, 1
        while new in graph.tensors:
            k += 1
            new = f"{old}{compat.RENAMED_SUFFIX}${k}"
        if graph.tensors.get(old) is t:
            del graph.tensors[old]
            graph.tensors[new] = t
        t.name = new
        for logical, name in self.current.items():
            if name == old:
                self.current[logical] = new
        el = t.origin.element
        if el in self._renamed:
            return
        self._renamed.add(el)
        at = el.attrs["name"].value_range if el.tag == "output" and "name" in el.attrs else el.tag_range
        what = "a " + _KINDS.get(holder.kind, "value")
        self.reporter.report(None, t.origin.file, at, Severity.WARNING, "renamed-value",
                             compat.renamed_value_message(old, new, what), related=(_where(holder, "it is defined here"),))

    def _clash(self, t: Tensor, held: Tensor) -> None:
        """Two values that must keep their names (parameters, inputs, constants) share one."""
        el = t.origin.element
        attr = el.attrs.get("name") or el.attrs.get("from")
        at = attr.value_range if attr is not None else el.tag_range
        this, that = _KINDS.get(t.kind, t.kind), _KINDS.get(held.kind, held.kind)
        related = (_where(held, f"the {that} '{held.name}' is defined here"),)
        if "input" in (t.kind, held.kind):  # valid ONNX: the initializer is the input's default
            self.reporter.report(None, t.origin.file, at, Severity.WARNING, "duplicate-onnx-name",
                                 f"this {this} has the ONNX name '{t.name}' of a {that}: ONNX makes the "
                                 f"initializer the input's default value, and the value fed at run time wins",
                                 related=related)
            return
        self.reporter.report(None, t.origin.file, at, Severity.ERROR, "duplicate-onnx-name",
                             f"the ONNX name '{t.name}' would be both this {this} and a {that} "
                             f"(the model would be invalid); rename one of them", related=related)

    def param(self, scope: Scope, el: Element) -> Param | None:
        """The parameter a `<params>` declares (a shared one is declared once, then reused)."""
        name = el.get("name")
        if not name:
            return None
        dims = self.reader.dims(scope, el, "dim", params=True)
        if dims is None:
            dims = ()
            known = False
        else:
            known = True
        frozen = el.get("frozen") == "yes"
        shared = el.get("shared") == "yes"
        logical = scope.prefix + name
        key = logical + ("$constant" if frozen else "")
        origin = scope.origin(el)
        if shared:
            p = self.graph.params.get(key)
            if p is not None:
                if known and p.dims != dims and _comparable(p.dims, dims):
                    first = p.origin
                    self.reporter.error(
                        scope, el.attrs["dim"].value_range, "shared-dims-differ",
                        f"shared parameter '{name}' is declared {_fmt(dims)} here but "
                        f"{_fmt(p.dims)} where it is first declared",
                        related=(RelatedInfo(Location(first.file, first.element.attrs.get("dim", first.element).value_range
                                                      if "dim" in first.element.attrs else first.element.tag_range),
                                             "first declared here"),))
                elif known:
                    self._symbolic_shared(scope, el, name, p)
                self.declare(p, origin)
                self.graph.element_params.setdefault(el, []).append(p)
                return p
            onnx_name = key
        else:
            self.param_count[key] += 1
            onnx_name = f"{key}${self.param_count[key]}"
        dtype = el.get("type") or "float32"
        init_args = self.reader.eval_attr(scope, el, "init_args")
        init = el.get("init") or DEFAULT_INIT
        args = tuple(init_args) if isinstance(init_args, list) else ()
        p = self.adopter.param(onnx_name, self.graph.params) if self.adopter is not None else None
        if p is not None:  # the previous analysis' parameter, made anew (units.py)
            if (p.dims, p.dtype, p.init, p.init_args, p.frozen, p.shared, p.logical) != (
                    dims, dtype, init, args, frozen, shared, logical):
                self.adopter.changed.add(id(p))  # type: ignore[union-attr]
            p.__init__(onnx_name, logical, origin, dims, dtype, init, args, frozen, shared, None, [])
        else:
            p = Param(onnx_name, logical, origin, dims, dtype=dtype, init=init, init_args=args, frozen=frozen,
                      shared=shared)
        self.declare(p, origin)
        p.tensor = self.tensor(onnx_name, logical, origin, kind="param", dtype=dtype, declared=dims if known else None)
        self.graph.params[onnx_name] = p
        self.claim(p.tensor)
        self.graph.element_params.setdefault(el, []).append(p)
        return p

    def _symbolic_shared(self, scope: Scope, el: Element, name: str, p: Param) -> None:
        """Warn when a shared parameter's dims agree only for the bound values (or only if
        two binding names are equal): `[dmodel, nvocab]` here, `[nvocab, dmodel]` there."""
        first_el = p.origin.element
        here, there = el.attrs["dim"], first_el.attrs.get("dim")
        if there is None or here.value == there.value:
            return
        a, b = compat.symbolic_dims(there.value), compat.symbolic_dims(here.value)
        pairs = compat.symbolic_disagreement(a, b) if a is not None and b is not None else []
        if not pairs:
            return
        bound = all(isinstance(d, int) for d in p.dims)
        self.reporter.warning(
            scope, here.value_range, "dims-differ-symbolically",
            compat.symbolic_message(f"shared parameter '{name}'", compat.format_dims(b), compat.format_dims(a),
                                  pairs, bound),
            related=(RelatedInfo(Location(p.origin.file, there.value_range), "first declared here"),))

    def constant(self, scope: Scope, el: Element, name: str, value) -> Tensor:
        """A constant initializer (made from an XML attribute), deduplicated by name and value."""
        import numpy as np

        base, k = name, 1
        while name in self.graph.constants and not np.array_equal(self.graph.constants[name].value, value):
            k += 1
            name = f"{base}${k}"
        if name not in self.graph.constants:
            self.graph.constants[name] = Constant(name, value, scope.origin(el))
            dtype = {np.dtype("int64"): "int64", np.dtype("float32"): "float32"}.get(value.dtype, "float32")
            t = self.tensor(name, name, scope.origin(el), kind="constant", dtype=dtype, shape=tuple(value.shape))
            self.claim(t)
            return t
        return self.graph.tensors[name]


def _where(t: Tensor, message: str) -> RelatedInfo:
    el = t.origin.element
    attr = el.attrs.get("name") or el.attrs.get("from")
    return RelatedInfo(Location(t.origin.file, attr.value_range if attr is not None else el.tag_range), message)


def _comparable(a: tuple, b: tuple) -> bool:
    return len(a) != len(b) or all(isinstance(x, int) and isinstance(y, int) for x, y in zip(a, b))


def _fmt(dims: tuple) -> str:
    return "[" + ", ".join(str(d) for d in dims) + "]"
