"""Expansion: parsed files → the flat graph IR (LANGUAGE.md §4–§7).

Walks the index file in document order, inlining sourced blocks and unrolling `rep` and
`stretch`, naming tensors, nodes and parameters exactly as the original package does, so
existing weight files keep loading. Mistakes become diagnostics; the walk goes on.
"""
from __future__ import annotations

import difflib
import os
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from . import ops as opcat
from .diagnostics import Diagnostic, Location, Range, RelatedInfo, Severity
from .ir import Constant, Frame, Graph, Node, Origin, Param, Tensor, Use
from .nodes import NodeBuilder
from .project import TextProvider, read_source
from .syntax import Attr, Element, SourceFile, parse
from .values import Value, ValueError_, evaluate, parse_value, substitute

MAX_COPIES = 100_000  # rep/stretch count of one block
MAX_NODES = 250_000  # nodes in one expanded model
MAX_SOURCE_DEPTH = 32  # nested sourced blocks
LAYOUT_ATTRS = frozenset({"x", "y", "width", "height"})
DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool")


class _Budget(Exception):
    """The expansion grew past MAX_NODES; the walk stops."""


@dataclass
class _Scope:
    """Where the walk is: the file, the sourced-block prefix and the chain of frames."""

    file: SourceFile
    prefix: str = ""
    chain: tuple[Frame, ...] = ()
    files: tuple[str, ...] = ()  # sourcing stack, for cycle detection

    def origin(self, el: Element) -> Origin:
        return Origin(self.file.path, el, self.chain)


@dataclass
class Options:
    bindings: dict[str, object] = field(default_factory=dict)
    symbolic: bool = True  # unbound names become symbols (editor); False: they are errors
    opset: int = 13
    provider: TextProvider | None = None
    previous: dict[str, SourceFile] | None = None  # earlier parses of edited files (reparse.py)
    on_parse: Callable[[SourceFile], None] | None = None  # told of each file parsed afresh


class Expander:
    def __init__(self, index_path: str, options: Options, files: dict[str, SourceFile] | None = None):
        self.opt = options
        self.index_path = os.path.abspath(index_path)
        self.graph = Graph(index=self.index_path, bindings=dict(options.bindings), opset=options.opset)
        self._file_cache = files if files is not None else {}
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple] = set()
        self.current: dict[str, str] = {}  # logical name -> current ONNX name
        self.name_count: Counter[str] = Counter()
        self.title_count: Counter[str] = Counter()
        self.param_count: Counter[str] = Counter()
        self.concat_count = 0
        self.multiplier = 1  # product of the copy counts of the enclosing rep/stretch blocks
        self._values: dict[Attr, Value | ValueError_] = {}
        self._evaluated: dict[str, object] = {}  # attribute text -> its evaluated value
        self._defs_in_file: dict[str, dict[str, Element]] = {}

    # -- reporting -------------------------------------------------------------------------------
    def report(self, scope: _Scope | None, file: str, rng: Range, severity: Severity, code: str,
               message: str, related: tuple[RelatedInfo, ...] = (), **kw) -> None:
        key = (file, rng, code, message)
        if key in self._seen:
            return
        self._seen.add(key)
        if scope is not None:
            related = related + tuple(
                RelatedInfo(Location(f.file, f.element.tag_range), f"sourced here as '{f.element.get('name')}'")
                for f in scope.chain if f.kind == "source")
        self.diagnostics.append(Diagnostic(file, rng, severity, code, message, related, **kw))

    def error(self, scope: _Scope, rng: Range, code: str, message: str, **kw) -> None:
        self.report(scope, scope.file.path, rng, Severity.ERROR, code, message, **kw)

    def warning(self, scope: _Scope, rng: Range, code: str, message: str, **kw) -> None:
        self.report(scope, scope.file.path, rng, Severity.WARNING, code, message, **kw)

    # -- values ----------------------------------------------------------------------------------
    def parsed(self, attr: Attr) -> Value | ValueError_:
        v = self._values.get(attr)
        if v is None:
            try:
                v = parse_value(attr.value)
            except ValueError_ as e:
                v = e
            self._values[attr] = v
        return v

    def value_range(self, scope: _Scope, attr: Attr, start: int, end: int) -> Range:
        return scope.file.range(attr.offset_of(start), attr.offset_of(max(end, start + 1)))

    def _unbound(self, scope: _Scope, attr: Attr, v: Value, severity: Severity) -> bool:
        """Report var()/expr() names without a binding; True when some are unbound.

        Without any bindings (the editor before a profile is chosen) unbound names are
        symbols, not mistakes; once bindings are given, each missing one is reported.
        """
        missing = [n for n in v.names() if n.name not in self.opt.bindings]
        if missing and (self.opt.bindings or not self.opt.symbolic):
            for n in missing:
                self.report(scope, scope.file.path, self.value_range(scope, attr, n.start, n.end), severity,
                            "unbound-var", f"'{n.name}' has no binding; give it with --bind {n.name}=N "
                            f"or in [bindings] of agrippa.toml", data={"name": n.name})
        return bool(missing)

    def eval_attr(self, scope: _Scope, el: Element, name: str, *, hint: bool = False) -> object:
        """The JSON value of attribute `name`, or None after reporting why it has none.

        Unbound names evaluate to sympy symbols in symbolic mode. `hint` marks
        documentation-only attributes (dim hints): their mistakes are warnings.
        """
        attr = el.attrs.get(name)
        if attr is None:
            return None
        v = self.parsed(attr)
        sev = Severity.WARNING if hint else Severity.ERROR
        try:
            if isinstance(v, ValueError_):
                raise v
            if self._unbound(scope, attr, v, sev) and not self.opt.symbolic:
                return None
            out = self._evaluated.get(v.source)  # shared by equal texts: read-only for callers
            if out is None:
                out = self._evaluated[v.source] = evaluate(v, self.opt.bindings, symbolic=True)
            return out
        except ValueError_ as e:
            self.report(scope, scope.file.path, self.value_range(scope, attr, e.start, e.end), sev,
                        e.code, e.message)
        return None

    def text_attr(self, scope: _Scope, el: Element, name: str) -> str | None:
        """The attribute's text after var()/expr() substitution (None when it cannot be had)."""
        attr = el.attrs.get(name)
        if attr is None:
            return None
        v = self.parsed(attr)
        try:
            if isinstance(v, ValueError_):
                raise v
            if v.is_literal:
                return attr.value
            if self._unbound(scope, attr, v, Severity.ERROR):
                return None
            return substitute(v, self.opt.bindings)
        except ValueError_ as e:
            self.error(scope, self.value_range(scope, attr, e.start, e.end), e.code, e.message)
        return None

    def count_attr(self, scope: _Scope, el: Element, name: str) -> object:
        """A rep/stretch count: a positive int, a sympy expression when unbound, or None."""
        attr = el.attrs[name]
        v = self.parsed(attr)
        if isinstance(v, ValueError_):
            self.error(scope, self.value_range(scope, attr, v.start, v.end), v.code, v.message)
            return None
        if self._unbound(scope, attr, v, Severity.ERROR) and not self.opt.symbolic:
            return None
        try:
            n = evaluate(v, self.opt.bindings, symbolic=True)
        except ValueError_ as e:
            self.error(scope, self.value_range(scope, attr, e.start, e.end), e.code, e.message)
            return None
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if isinstance(n, bool) or not (isinstance(n, int) or hasattr(n, "free_symbols")):
            self.error(scope, attr.value_range, "bad-count", f"{name} must be a whole number, got '{attr.value}'")
            return None
        if isinstance(n, int):
            if n < 1:
                self.error(scope, attr.value_range, "bad-count", f"{name} must be at least 1, got {n}")
                return None
            if n > MAX_COPIES:
                self.error(scope, attr.value_range, "too-many-copies",
                           f"{name}={n} makes too many copies (at most {MAX_COPIES:,})")
                return None
        return n

    # -- files -------------------------------------------------------------------------------------
    def load(self, path: str) -> tuple[SourceFile | None, str | None]:
        path = os.path.abspath(path)
        sf = self._file_cache.get(path)
        if sf is None:
            text, why = read_source(path, self.opt.provider)
            if text is None:
                return None, why
            sf = parse(path, text, self.opt.previous.get(path) if self.opt.previous else None)
            self._file_cache[path] = sf
            if self.opt.on_parse is not None:
                self.opt.on_parse(sf)
        self.graph.files[path] = sf
        return sf, None

    def defs_in_file(self, sf: SourceFile) -> dict[str, Element]:
        d = self._defs_in_file.get(sf.path)
        if d is None:
            d = {}
            for el in sf.elements():
                if el.tag == "output" and el.get("name"):
                    d.setdefault(el.get("name"), el)
            self._defs_in_file[sf.path] = d
        return d

    # -- the walk ------------------------------------------------------------------------------------
    def run(self) -> Graph:
        sf, why = self.load(self.index_path)
        if sf is None:
            self.diagnostics.append(Diagnostic(self.index_path, Range.of(0, 0, 0, 0), Severity.ERROR,
                                               "file-unreadable", f"cannot analyse this file: {why}"))
            return self.graph
        self.diagnostics.extend(sf.diagnostics)
        root = sf.root
        if root is None:
            return self.graph
        scope = _Scope(sf, files=(sf.path,))
        try:
            if root.tag == "model":
                self.model(scope, root, index=True)
            elif root.tag == "block":
                self.block(scope, root)
            else:
                self.error(scope, root.tag_range, "bad-root", f"the root element must be <model>, not <{root.tag}>")
        except _Budget:
            pass
        return self.graph

    def model(self, scope: _Scope, el: Element, index: bool) -> None:
        for child in el.children:
            if child.tag == "import":
                if index:
                    self.graph_input(scope, child)
                else:
                    self.reference(scope, child, "from", strict=True, what="the sourced file expects")
            elif child.tag == "block":
                self.block(scope, child)
            elif child.tag == "export":
                if index:
                    self.graph_output(scope, child)
                else:
                    self.reference(scope, child, "from", strict=False, what="the sourced file exports")

    def graph_input(self, scope: _Scope, el: Element) -> None:
        name = el.get("from")
        if not name:
            return
        dims = self.dims(scope, el, "dim")
        dtype = el.get("type") or "float32"
        t = Tensor(name, name, scope.origin(el), kind="input", dtype=dtype if dtype in DTYPES else "float32",
                   declared=dims)
        if name in self.current:
            self.error(scope, el.attrs["from"].value_range, "duplicate-name", f"'{name}' is imported twice")
            return
        self.current[name] = name
        self.name_count[name] += 1
        self.graph.add_tensor(t, el)
        self.graph.inputs.append(t)

    def graph_output(self, scope: _Scope, el: Element) -> None:
        t = self.reference(scope, el, "from", strict=True, what="the model exports")
        if t is not None:
            self.graph.outputs.append((t, el))

    def reference(self, scope: _Scope, el: Element, attr_name: str, *, strict: bool, what: str) -> Tensor | None:
        """Resolve a name read by `el` (an input src, import/export from) to its tensor."""
        attr = el.attrs.get(attr_name)
        if attr is None or not attr.value:
            return None
        name = attr.value
        logical = scope.prefix + name
        onnx_name = self.current.get(logical)
        if onnx_name is None:
            self.undefined(scope, el, attr, name, strict, what)
            return None
        t = self.graph.tensors.get(onnx_name)
        if t is not None:
            self.graph.element_tensors.setdefault(el, []).append(t)
            self.graph.definitions.setdefault(el, t.origin.element)
        return t

    def undefined(self, scope: _Scope, el: Element, attr: Attr, name: str, strict: bool, what: str) -> None:
        later = self.defs_in_file(scope.file).get(name)
        sev = Severity.ERROR if strict else Severity.WARNING
        if later is not None and later.start > el.start:
            line = scope.file.position(later.start).line + 1
            self.report(scope, scope.file.path, attr.value_range, sev, "use-before-definition",
                        f"'{name}' is used before it is defined (on line {line}); nodes must come in order")
            return
        in_scope = [k[len(scope.prefix):] for k in self.current if k.startswith(scope.prefix)]
        close = difflib.get_close_matches(name, in_scope, n=3, cutoff=0.6)
        msg = f"'{name}' is not defined" + (f"; did you mean '{close[0]}'?" if close else "")
        if el.tag in ("import", "export") and el.parent is not None and el.parent.tag == "block" and not strict:
            msg = f"{what} '{name}', which is not defined" + (f"; did you mean '{close[0]}'?" if close else "")
        fixes = ()
        if close:
            from .diagnostics import Fix, TextEdit

            fixes = tuple(Fix(f"Change to '{c}'", (TextEdit(scope.file.path, attr.value_range, c),), i == 0)
                          for i, c in enumerate(close))
        self.report(scope, scope.file.path, attr.value_range, sev, "undefined-tensor", msg, fixes=fixes,
                    data={"name": name, "candidates": close})

    def block(self, scope: _Scope, el: Element) -> None:
        if el.get("src") is not None:
            self.sourced(scope, el)
            return
        rep, stretch = el.attrs.get("rep"), el.attrs.get("stretch")
        if rep is not None and stretch is not None:
            self.error(scope, stretch.name_range, "rep-and-stretch",
                       "a block cannot have both rep and stretch; nest one block inside another")
            stretch = None
        if rep is not None or stretch is not None:
            kind = "rep" if rep is not None else "stretch"
            n = self.count_attr(scope, el, kind)
            if n is None:
                n = 1
            self.graph.copies[el] = n
            if not isinstance(n, int):
                self.graph.complete = False
            elif not self._affordable(scope, el, kind, n):
                return
            outer = self.multiplier
            self.multiplier *= n if isinstance(n, int) else 1
            try:
                self.repeated(scope, el, kind, n)
            finally:
                self.multiplier = outer
        else:
            self.block_body(scope, el)

    def _affordable(self, scope: _Scope, el: Element, kind: str, n: int) -> bool:
        """Refuse, before expanding, a count that would make more than MAX_NODES nodes."""
        per_copy = max(1, sum(1 for e in el.iter() if e.tag == "node" or (e.tag == "block" and e.get("src"))))
        total = len(self.graph.nodes) + per_copy * n * self.multiplier
        if total <= MAX_NODES:
            return True
        attr = el.attrs[kind]
        self.error(scope, attr.value_range, "too-many-nodes",
                   f"{kind}={n} would expand the model to about {total:,} nodes (at most {MAX_NODES:,})")
        return False

    def block_body(self, scope: _Scope, el: Element) -> None:
        for child in el.children:
            tag = child.tag
            if tag == "node":
                NodeBuilder(self).build(scope, child)  # (not kept: no expander ↔ builder cycle)
            elif tag == "block":
                self.block(scope, child)
            elif tag == "import":
                self.reference(scope, child, "from", strict=False, what="the block imports")
            elif tag == "export":
                self.reference(scope, child, "from", strict=False, what="the block exports")

    def repeated(self, scope: _Scope, el: Element, kind: str, n: object) -> None:
        imports = [c.get("from") for c in el.children if c.tag == "import" and c.get("from")]
        exports = [c.get("from") for c in el.children if c.tag == "export" and c.get("from")]
        if not imports or not exports:
            missing = "import" if not imports else "export"
            self.error(scope, el.attrs[kind].name_range, f"{kind}-without-io",
                       f"a block with {kind} must list its <{missing}>s: they say how copies connect")
        imports = [scope.prefix + i for i in imports]
        exports = [scope.prefix + e for e in exports]
        outer = {i: self.current.get(i) for i in imports}
        count = n if isinstance(n, int) else 1
        results: list[list[str | None]] = []
        for j in range(count):
            sub = _Scope(scope.file, scope.prefix, scope.chain + (Frame(kind, el, scope.file.path, j),), scope.files)
            if kind == "stretch" or j == 0:
                for i in imports:
                    self._bind(i, outer[i])
            else:
                for k, i in enumerate(imports[:len(exports)]):
                    self._bind(i, results[-1][k])
            self.block_body(sub, el)
            results.append([self.current.get(e) for e in exports])
        for i in imports:
            self._bind(i, outer[i])
        if kind == "rep":
            for e, last in zip(exports, results[-1]):
                self._bind(e, last)
        else:
            self.stretch_concat(scope, el, exports, results, n)

    def _bind(self, logical: str, onnx_name: str | None) -> None:
        if onnx_name is None:
            self.current.pop(logical, None)
        else:
            self.current[logical] = onnx_name

    def stretch_concat(self, scope: _Scope, el: Element, exports: list[str],
                       results: list[list[str | None]], n: object) -> None:
        for k, e in enumerate(exports):
            names = [r[k] for r in results]
            if any(x is None for x in names):
                continue
            self.concat_count += 1
            title = scope.prefix + "stretch_concat"
            self.title_count[title] += 1
            out_name = f"{e}$concat${self.concat_count}"
            origin = scope.origin(el)
            node = Node(f"{title}${self.title_count[title]}", "Concat", origin,
                        attributes={"axis": opcat.ParsedAttr("axis", "int", -1)})
            node.repeat = 1 if isinstance(n, int) else n  # a symbolic count: each input stands for n copies
            for nm in names:
                t = self.graph.tensors[nm]
                node.inputs.append(Use(t, el))
                t.users.append(node.name)
            out = Tensor(out_name, e, origin, kind="concat", producer_ref=weakref.ref(node))
            node.outputs.append(out)
            export_el = next((c for c in el.children if c.tag == "export" and scope.prefix + (c.get("from") or "") == e), el)
            self.graph.add_tensor(out, export_el)
            self.add_node(node)
            self.current[e] = out_name

    def add_node(self, node: Node) -> None:
        self.graph.nodes.append(node)
        if len(self.graph.nodes) > MAX_NODES:
            self.diagnostics.append(Diagnostic(
                node.origin.file, node.origin.element.tag_range, Severity.ERROR, "too-many-nodes",
                f"the model expands to more than {MAX_NODES:,} nodes; analysis stopped here"))
            raise _Budget()

    def sourced(self, scope: _Scope, el: Element) -> None:
        src = el.attrs["src"]
        name = el.get("name")
        if not name:
            self.error(scope, el.tag_range, "sourced-without-name",
                       "a sourced block needs name=\"...\": its names are prefixed with it")
            return
        if el.children:
            self.error(scope, el.tag_range, "sourced-with-children",
                       "a sourced block tag takes no children; its content comes from the file")
        for k in ("rep", "stretch"):
            if k in el.attrs:
                self.warning(scope, el.attrs[k].name_range, "ignored-attribute",
                             f"{k} on a sourced-block tag is ignored (as in the original); put it on the "
                             f"sourced file's root <block>, or wrap this tag in a block with {k}")
        if len(scope.files) >= MAX_SOURCE_DEPTH:
            self.error(scope, src.value_range, "source-too-deep", f"sourced blocks nest more than {MAX_SOURCE_DEPTH} deep")
            return
        path = os.path.abspath(os.path.join(os.path.dirname(scope.file.path), src.value))
        if path in scope.files:
            cycle = " → ".join(os.path.basename(p) for p in (*scope.files[scope.files.index(path):], path))
            self.error(scope, src.value_range, "source-cycle", f"sourcing cycle: {cycle}")
            return
        sf, why = self.load(path)
        self.graph.sourced[el] = path
        if sf is None:
            self.error(scope, src.value_range, "missing-source", f"cannot source '{src.value}': {why}")
            return
        for d in sf.diagnostics:
            self.report(scope, d.file, d.range, d.severity, d.code, d.message)
        if sf.root is None:
            return
        sub = _Scope(sf, scope.prefix + name + "$", scope.chain + (Frame("source", el, scope.file.path),),
                     scope.files + (path,))
        if sf.root.tag == "model":
            self.model(sub, sf.root, index=False)
        elif sf.root.tag == "block":
            self.block(sub, sf.root)
        else:
            self.error(sub, sf.root.tag_range, "bad-root", f"a sourced file's root must be <model> or <block>, not <{sf.root.tag}>")

    # -- parameters ------------------------------------------------------------------------------------
    def dims(self, scope: _Scope, el: Element, name: str, *, hint: bool = False) -> tuple | None:
        v = self.eval_attr(scope, el, name, hint=hint)
        attr = el.attrs.get(name)
        if v is None or attr is None:
            return None
        if not isinstance(v, list):
            v = [v]
        out = []
        for d in v:
            if isinstance(d, float) and d.is_integer():
                d = int(d)
            ok = (isinstance(d, int) and not isinstance(d, bool) and d >= 0) or hasattr(d, "free_symbols")
            if not ok:
                self.report(scope, scope.file.path, attr.value_range, Severity.WARNING if hint else Severity.ERROR,
                            "bad-dim", f"{name} must be a list of whole numbers, got {d!r}")
                return None
            out.append(d)
        return tuple(out)

    def param(self, scope: _Scope, el: Element) -> Param | None:
        name = el.get("name")
        if not name:
            return None
        dims = self.dims(scope, el, "dim")
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
                    self.error(scope, el.attrs["dim"].value_range, "shared-dims-differ",
                               f"shared parameter '{name}' is declared {_fmt(dims)} here but "
                               f"{_fmt(p.dims)} where it is first declared",
                               related=(RelatedInfo(Location(first.file, first.element.attrs.get("dim", first.element).value_range
                                                             if "dim" in first.element.attrs else first.element.tag_range),
                                                    "first declared here"),))
                p.declarations.append(origin)
                self.graph.element_params.setdefault(el, []).append(p)
                return p
            onnx_name = key
        else:
            self.param_count[key] += 1
            onnx_name = f"{key}${self.param_count[key]}"
        dtype = el.get("type") or "float32"
        init_args = self.eval_attr(scope, el, "init_args")
        p = Param(onnx_name, logical, origin, dims, dtype=dtype, init=el.get("init") or "xavier",
                  init_args=tuple(init_args) if isinstance(init_args, list) else (), frozen=frozen, shared=shared)
        p.declarations.append(origin)
        p.tensor = Tensor(onnx_name, logical, origin, kind="param", dtype=dtype, declared=dims if known else None)
        self.graph.params[onnx_name] = p
        self.graph.add_tensor(p.tensor)
        self.graph.element_params.setdefault(el, []).append(p)
        return p

    def constant(self, scope: _Scope, el: Element, name: str, value) -> Tensor:
        """A constant initializer (made from an XML attribute), deduplicated by name and value."""
        import numpy as np

        base, k = name, 1
        while name in self.graph.constants and not np.array_equal(self.graph.constants[name].value, value):
            k += 1
            name = f"{base}${k}"
        if name not in self.graph.constants:
            self.graph.constants[name] = Constant(name, value, scope.origin(el))
            dtype = {np.dtype("int64"): "int64", np.dtype("float32"): "float32"}.get(value.dtype, "float32")
            t = Tensor(name, name, scope.origin(el), kind="constant", dtype=dtype, shape=tuple(value.shape))
            self.graph.add_tensor(t)
        return self.graph.tensors[name]

    def define_output(self, scope: _Scope, el: Element, node: Node) -> Tensor | None:
        name = el.get("name")
        if not name:
            return None
        logical = scope.prefix + name
        count = self.name_count[logical]
        onnx_name = logical if count == 0 else f"{logical}${count}"
        self.name_count[logical] += 1
        self.current[logical] = onnx_name
        t = Tensor(onnx_name, logical, scope.origin(el), producer_ref=weakref.ref(node))
        self.graph.add_tensor(t, el)
        return t


def _comparable(a: tuple, b: tuple) -> bool:
    return len(a) != len(b) or all(isinstance(x, int) and isinstance(y, int) for x, y in zip(a, b))


def _fmt(dims: tuple) -> str:
    return "[" + ", ".join(str(d) for d in dims) + "]"


def expand(index_path: str, options: Options, files: dict[str, SourceFile] | None = None) -> tuple[Graph, list[Diagnostic]]:
    """Expand a project whose main file is `index_path`."""
    ex = Expander(index_path, options, files)
    graph = ex.run()
    return graph, ex.diagnostics


__all__ = ["expand", "Options", "Expander"]
