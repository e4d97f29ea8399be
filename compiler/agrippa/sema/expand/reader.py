"""Reading attribute values during expansion: parsed once, evaluated with the bindings.

`AttrReader` turns an attribute's text into what expansion needs (a JSON value, the text
after var()/expr() substitution, a copy count, a dim list) and reports each mistake at
its exact place inside the value. Unbound names become sympy symbols when the reader is
symbolic (the editor before bindings are chosen), and are errors otherwise. Dynamic names
(`[model] dynamic`, `--dynamic`: a batch size chosen at run time) are symbols always, in
dims only: where the compiled model needs a number (an op attribute, a count, a parameter's
dim) they are reported at the name.
"""
from __future__ import annotations

from agrippa.base.diagnostics import Range, Severity
from agrippa.sema.expand.scope import Reporter, Scope
from agrippa.sema.values import Name, Value, ValueError_, evaluate, parse_value, substitute
from agrippa.syntax.tree import Attr, Element

MAX_COPIES = 100_000  # rep/stretch count of one block


class AttrReader:
    """Attribute values of one expansion, parsed and evaluated once per text."""

    def __init__(self, reporter: Reporter, bindings: dict[str, object], symbolic: bool,
                 dynamic: frozenset[str] = frozenset()):
        self.reporter = reporter
        self.dynamic = dynamic
        self.bindings = {k: v for k, v in bindings.items() if k not in dynamic} if dynamic else bindings
        self.symbolic = symbolic
        self._values: dict[Attr, Value | ValueError_] = {}
        self._evaluated: dict[str, object] = {}  # attribute text -> its evaluated value
        # attribute text -> its names without a binding (the bindings are fixed for a reader)
        self._missing: dict[str, list[Name]] = {}
        self._dims: dict[str, tuple] = {}  # attribute text -> its dims, when valid (immutable)

    def parsed(self, attr: Attr) -> Value | ValueError_:
        """The attribute's parsed value, or the mistake that stopped parsing (memoized)."""
        v = self._values.get(attr)
        if v is None:
            try:
                v = parse_value(attr.value)
            except ValueError_ as e:
                v = e
            self._values[attr] = v
        return v

    def value_range(self, scope: Scope, attr: Attr, start: int, end: int) -> Range:
        """The range of characters `start`..`end` of the attribute's decoded value."""
        return scope.file.range(attr.offset_of(start), attr.offset_of(max(end, start + 1)))

    def _report(self, scope: Scope, rng: Range, severity: Severity, code: str, message: str, **kw) -> None:
        self.reporter.report(scope, scope.file.path, rng, severity, code, message, **kw)

    def _unbound(self, scope: Scope, attr: Attr, v: Value, severity: Severity) -> bool:
        """Report var()/expr() names without a binding; True when some are unbound.

        Without any bindings (the editor before a profile is chosen) unbound names are
        symbols, not mistakes; once bindings are given, each missing one is reported.
        """
        missing = self._missing.get(v.source)
        if missing is None:
            missing = self._missing[v.source] = [n for n in v.names()
                                                 if n.name not in self.bindings and n.name not in self.dynamic]
        if missing and (self.bindings or not self.symbolic):
            for n in missing:
                self._report(scope, self.value_range(scope, attr, n.start, n.end), severity,
                             "unbound-var", f"'{n.name}' has no binding; give it with --bind {n.name}=N "
                             f"or in [bindings] of agrippa.toml", data={"name": n.name})
        return bool(missing)

    def _dynamic(self, scope: Scope, attr: Attr, v: Value, what: str) -> bool:
        """Report each dynamic name in a value that must be a number; True when there is one."""
        found = [n for n in v.names() if n.name in self.dynamic]
        for n in found:
            self._report(scope, self.value_range(scope, attr, n.start, n.end), Severity.ERROR,
                         "dynamic-dim-in-attribute", f"'{n.name}' is a dynamic dim (chosen at run time), but "
                         f"{what} needs its value when compiling; compute it in the graph (Shape, Gather, ...) "
                         f"or use a binding", data={"name": n.name})
        return bool(found)

    def eval_attr(self, scope: Scope, el: Element, name: str, *, hint: bool = False, dims: bool = False) -> object:
        """The JSON value of attribute `name`, or None after reporting why it has none.

        Unbound names evaluate to sympy symbols in symbolic mode. `hint` marks
        documentation-only attributes (dim hints): their mistakes are warnings. Dynamic
        names are symbols in `dims`, and errors elsewhere.
        """
        attr = el.attrs.get(name)
        if attr is None:
            return None
        v = self.parsed(attr)
        sev = Severity.WARNING if hint else Severity.ERROR
        try:
            if isinstance(v, ValueError_):
                raise v
            if self.dynamic and not dims and self._dynamic(scope, attr, v, f"'{name}'"):
                return None
            if self._unbound(scope, attr, v, sev) and not self.symbolic:
                return None
            out = self._evaluated.get(v.source)  # shared by equal texts: read-only for callers
            if out is None:
                out = self._evaluated[v.source] = evaluate(v, self.bindings, symbolic=True)
            return out
        except ValueError_ as e:
            if e.code == "symbolic-too-complex":  # a limit of the analysis, not a mistake
                sev = Severity.INFORMATION
            self._report(scope, self.value_range(scope, attr, e.start, e.end), sev, e.code, e.message)
        return None

    def text_attr(self, scope: Scope, el: Element, name: str) -> str | None:
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
            if self.dynamic and self._dynamic(scope, attr, v, f"the attribute '{name}'"):
                return None
            if self._unbound(scope, attr, v, Severity.ERROR):
                return None
            return substitute(v, self.bindings)
        except ValueError_ as e:
            self.reporter.error(scope, self.value_range(scope, attr, e.start, e.end), e.code, e.message)
        return None

    def count_attr(self, scope: Scope, el: Element, name: str) -> object:
        """A rep/stretch count: a positive int, a sympy expression when unbound, or None."""
        error = self.reporter.error
        attr = el.attrs[name]
        v = self.parsed(attr)
        if isinstance(v, ValueError_):
            error(scope, self.value_range(scope, attr, v.start, v.end), v.code, v.message)
            return None
        if self.dynamic and self._dynamic(scope, attr, v, f"a {name} count"):
            return None
        if self._unbound(scope, attr, v, Severity.ERROR) and not self.symbolic:
            return None
        try:
            n = evaluate(v, self.bindings, symbolic=True)
        except ValueError_ as e:
            error(scope, self.value_range(scope, attr, e.start, e.end), e.code, e.message)
            return None
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if isinstance(n, bool) or not (isinstance(n, int) or hasattr(n, "free_symbols")):
            error(scope, attr.value_range, "bad-count", f"{name} must be a whole number, got '{attr.value}'")
            return None
        if isinstance(n, int):
            if n < 1:
                error(scope, attr.value_range, "bad-count", f"{name} must be at least 1, got {n}")
                return None
            if n > MAX_COPIES:
                error(scope, attr.value_range, "too-many-copies",
                      f"{name}={n} makes too many copies (at most {MAX_COPIES:,})")
                return None
        return n

    def dims(self, scope: Scope, el: Element, name: str, *, hint: bool = False, params: bool = False) -> tuple | None:
        """A dim list: whole numbers ≥ 0 or symbolic dims; None after reporting a mistake.

        A dynamic name is written `var(batch)` or inside `expr()`; a parameter's dims
        (`params`) may not use one."""
        v = self.eval_attr(scope, el, name, hint=hint, dims=True)
        attr = el.attrs.get(name)
        if v is None or attr is None:
            return None
        if not isinstance(v, list):
            v = [v]
        if params and self.dynamic and self._dynamic_params(scope, attr):
            return None
        known = self._dims.get(attr.value)  # equal texts evaluate alike (`eval_attr` shares them too)
        if known is not None:
            return known
        out = []
        for d in v:
            if isinstance(d, float) and d.is_integer():
                d = int(d)
            ok = (isinstance(d, int) and not isinstance(d, bool) and d >= 0) or hasattr(d, "free_symbols")
            if not ok:
                dyn = (f"; a dim chosen at run time is written var({d}), with {d} in [model] dynamic of "
                       f"agrippa.toml (or --dynamic {d})") if isinstance(d, str) and d.isidentifier() else ""
                self._report(scope, attr.value_range, Severity.WARNING if hint else Severity.ERROR,
                             "bad-dim", f"{name} must be a list of whole numbers, got {d!r}{dyn}")
                return None
            out.append(d)
        dims = self._dims[attr.value] = tuple(out)
        return dims

    def _dynamic_params(self, scope: Scope, attr: Attr) -> bool:
        """Report dynamic names in a parameter's dim, at each name; True when there is one."""
        v = self.parsed(attr)
        found = [n for n in v.names() if n.name in self.dynamic] if isinstance(v, Value) else []
        for n in found:
            self._report(scope, self.value_range(scope, attr, n.start, n.end), Severity.ERROR, "dynamic-dim-in-params",
                         f"'{n.name}' is a dynamic dim (chosen at run time); a parameter's shape is fixed when "
                         f"compiling, so its dim cannot use it", data={"name": n.name})
        return bool(found)
