"""Semantic checks that read the syntax trees and the expanded IR.

Expansion already reports what it meets while resolving (unknown ops and attributes,
undefined names, sourcing problems, shared-parameter dims). This pass adds the rules that
look at a file as written: naming, required hints, init kinds, `dims` typos, and outputs
that nothing reads.
"""
from __future__ import annotations

import difflib
import re

from .diagnostics import Diagnostic, Fix, Location, RelatedInfo, Severity, TextEdit
from .expand import Options
from .initializers import INIT_KINDS
from .ir import Graph
from .syntax import Element, SourceFile

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*$")
HINT_ATTRS = {"import": "dim", "export": "dim", "input": "dim", "output": "dim", "params": "dim"}


def check(graph: Graph, options: Options) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for sf in graph.files.values():
        is_index = sf.path == graph.index
        _check_file(sf, is_index, out)
    _unused_outputs(graph, out)
    return out


def _diag(sf: SourceFile, rng, severity: Severity, code: str, message: str, **kw) -> Diagnostic:
    return Diagnostic(sf.path, rng, severity, code, message, **kw)


def _check_file(sf: SourceFile, is_index: bool, out: list[Diagnostic]) -> None:
    if sf.root is None:
        return
    sourced_names = {e.get("name") for e in sf.elements() if e.tag == "block" and e.get("src") and e.get("name")}
    first_output: dict[str, Element] = {}
    for el in sf.elements():
        tag = el.tag
        if tag == "output":
            _check_name(sf, el, "name", sourced_names, out)
            name = el.get("name")
            if name:
                prev = first_output.get(name)
                if prev is not None:
                    out.append(_diag(sf, el.attrs["name"].value_range, Severity.ERROR, "duplicate-output",
                                     f"'{name}' is already defined in this file; names must be unique",
                                     related=(RelatedInfo(Location(sf.path, prev.attrs["name"].value_range),
                                                          "first defined here"),)))
                else:
                    first_output.setdefault(name, el)
        elif tag == "params":
            _check_name(sf, el, "name", set(), out)
            _check_init(sf, el, out)
        elif tag == "block" and el.get("name") and el.get("src"):
            _check_name(sf, el, "name", set(), out)
        if (tag in ("import", "export") and el.parent is sf.root and sf.root.tag == "model" and is_index
                and "dim" not in el.attrs):
            has_dims = "dims" in el.attrs
            kind = "input" if tag == "import" else "output"
            out.append(_diag(sf, el.tag_range, Severity.ERROR, "root-io-without-dim",
                             f"a model {tag} needs dim=\"[...]\": it is a graph {kind}"
                             + (" (write dim, not dims)" if has_dims else ""),
                             fixes=_dims_fix(sf, el) if has_dims else ()))
        if "dims" in el.attrs and "dim" not in el.attrs and tag in HINT_ATTRS:
            a = el.attrs["dims"]
            out.append(_diag(sf, a.name_range, Severity.WARNING, "dims-for-dim",
                             "'dims' is not an Agrippa attribute and is ignored; did you mean 'dim'?",
                             fixes=_dims_fix(sf, el)))


def _dims_fix(sf: SourceFile, el: Element) -> tuple[Fix, ...]:
    a = el.attrs["dims"]
    return (Fix("Change 'dims' to 'dim'", (TextEdit(sf.path, a.name_range, "dim"),), True),)


def _check_name(sf: SourceFile, el: Element, attr_name: str, sourced: set, out: list[Diagnostic]) -> None:
    a = el.attrs.get(attr_name)
    if a is None or not a.value:
        return
    name = a.value
    if "." in name:
        i = name.index(".")
        out.append(_diag(sf, sf.range(a.offset_of(i), a.offset_of(i + 1)), Severity.ERROR, "bad-name",
                         f"'.' is not allowed in names ('{name}')"))
        return
    if "$" in name:
        head = name.rsplit("$", 1)[0]
        if not (el.tag == "output" and all(p in sourced for p in head.split("$")[:1])):
            i = name.index("$")
            out.append(_diag(sf, sf.range(a.offset_of(i), a.offset_of(i + 1)), Severity.ERROR, "bad-name",
                             f"'$' is not allowed in names ('{name}'); it only prefixes a sourced block's "
                             f"names (enc$x for a block named 'enc')"))
        return
    if not _NAME_RE.match(name):
        out.append(_diag(sf, a.value_range, Severity.WARNING, "bad-name",
                         f"'{name}' is not a plain name (letters, digits, '_' and '-')"))


def _check_init(sf: SourceFile, el: Element, out: list[Diagnostic]) -> None:
    init = el.attrs.get("init")
    kind = init.value if init is not None else "xavier"
    if init is not None and kind not in INIT_KINDS:
        close = difflib.get_close_matches(kind, list(INIT_KINDS), n=3, cutoff=0.5)
        out.append(_diag(sf, init.value_range, Severity.ERROR, "unknown-init",
                         f"unknown init '{kind}'" + (f"; did you mean '{close[0]}'?" if close else
                                                     f" (known: {', '.join(INIT_KINDS)})"),
                         fixes=tuple(Fix(f"Change to '{c}'", (TextEdit(sf.path, init.value_range, c),), i == 0)
                                     for i, c in enumerate(close))))
        return
    args = el.attrs.get("init_args")
    if args is None:
        if kind == "constant":
            out.append(_diag(sf, init.value_range, Severity.ERROR, "init-args",
                             "init=\"constant\" needs init_args=\"[value]\""))
        return
    n = _count_items(args.value)
    if n is None:
        return
    want = INIT_KINDS[kind]
    if kind == "constant" and n != 1:
        out.append(_diag(sf, args.value_range, Severity.ERROR, "init-args",
                         f"init=\"constant\" takes exactly one value in init_args, got {n}"))
    elif kind in ("normal", "uni_random") and n not in (0, 2):
        what = "[mean, std]" if kind == "normal" else "[low, high]"
        out.append(_diag(sf, args.value_range, Severity.ERROR, "init-args",
                         f"init=\"{kind}\" takes init_args=\"{what}\" (2 values), got {n}"))
    elif want == 0 and n:
        out.append(_diag(sf, args.value_range, Severity.WARNING, "init-args",
                         f"init=\"{kind}\" takes no init_args; they are ignored"))


def _count_items(text: str) -> int | None:
    s = text.strip()
    if not (s.startswith("[") and s.endswith("]")):
        return None
    inner = s[1:-1].strip()
    if not inner:
        return 0
    depth, n = 0, 1
    for c in inner:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            n += 1
    return n


def _unused_outputs(graph: Graph, out: list[Diagnostic]) -> None:
    """Outputs whose tensors no node reads and no export names (a hint, faded in editors)."""
    exported = {t.name for t, _ in graph.outputs}
    referenced = {t.name for el, ts in graph.element_tensors.items() if el.tag in ("export", "import") for t in ts}
    for el, tensors in graph.element_tensors.items():
        if el.tag != "output" or not tensors:
            continue
        if any(t.users or t.name in exported or t.name in referenced for t in tensors):
            continue
        origin = tensors[0].origin
        if el.get("name") is None:
            continue
        out.append(Diagnostic(origin.file, el.attrs["name"].value_range, Severity.HINT, "unused-output",
                              f"'{el.get('name')}' is never used", data={"tags": ["unnecessary"]}))
