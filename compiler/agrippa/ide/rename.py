"""Rename a tensor (or a parameter) everywhere, across sourced files and `$` prefixes.

Only the last segment of a name is renamed: renaming `result` in enc.agr rewrites
`enc$result` in the parent to `enc$<new>`, keeping the prefix. A new name must pass the
naming rule (`agrippa.sema.names`) and clash with nothing in scope; otherwise
`RenameRefused` says why.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from agrippa.base.diagnostics import Position, Range, TextEdit
from agrippa.sema.analysis import Analysis
from agrippa.sema.names import is_plain_name, reserved_char
from agrippa.syntax import Attr

from . import locate as L
from .host import AnalysisHost
from .index import TENSOR_KINDS, first_param, name_attr, tensor_index
from .navigation import target_at


class RenameRefused(Exception):
    """The rename cannot be done; the message says why, for the user."""


@dataclass(frozen=True)
class Plan:
    """What a rename rewrites: `base` (the name's last segment) at `spans` (file, start,
    end offsets), and the prefixes the new name takes (`enc$` for a sourced file's)."""

    base: str
    spans: list[tuple[str, int, int]]
    prefixes: set[str]


def base_span(attr: Attr, base: str) -> tuple[int, int] | None:
    """Offsets of `base` (the name's last segment) inside the value of `attr`."""
    v = attr.value
    if v == base or v.endswith("$" + base):
        return attr.offset_of(len(v) - len(base)), attr.offset_of(len(v))
    m = re.search(r"(?:^|\$)(" + re.escape(base) + r")(?=\$\d+$)", v)  # expose="yes": x$3
    return (attr.offset_of(m.start(1)), attr.offset_of(m.end(1))) if m else None


def _base(name: str) -> str:
    return name.rsplit("$", 1)[-1]


def plan(host: AnalysisHost, analysis: Analysis, t: L.Target) -> Plan | None:
    """The rename of what `t` names, or None when it is not a tensor or parameter name."""
    graph = analysis.graph
    if graph is None or t.element is None:
        return None
    if t.is_tensor:
        idx = tensor_index(host, analysis)
        d = idx.definition(t.element)
        attr = name_attr(d) if d is not None else None
        if attr is None:
            return None
        base = _base(attr.value)
        spans = []
        for el in idx.occurrences(d):
            a, path = name_attr(el), idx.file_of.get(el)
            span = base_span(a, base) if a is not None and path else None
            if span is not None:
                spans.append((path, *span))
        logical = {tt.logical[:len(tt.logical) - len(base)] for tt in graph.element_tensors.get(d, ())
                   if tt.logical.endswith(base)}
        return Plan(base, spans, logical)
    if t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        if p is None:
            return None
        base = _base(p.logical)
        decls = p.declarations if p.shared else [o for o in p.declarations if o.element is t.element]
        spans = [(o.file, o.element.attrs["name"].value_start,
                  o.element.attrs["name"].value_start + len(o.element.attrs["name"].raw)) for o in decls]
        return Plan(base, spans, {p.logical[:len(p.logical) - len(base)]})
    return None


def clash(analysis: Analysis, t: L.Target, home: str, prefixes: set[str], new: str) -> str | None:
    """Why `new` cannot be used (an existing name in scope), or None. `home`: the defining file."""
    graph = analysis.graph
    assert graph is not None
    if t.kind == L.PARAMS_NAME:
        taken = {p.logical for p in graph.params.values()}
    else:
        taken = {tt.logical for tt in graph.tensors.values() if tt.kind in TENSOR_KINDS}
        sf = graph.files.get(home)
        written = {el.get("name") for el in (sf.elements() if sf else ()) if el.tag == "output"}
        if new in written:
            return f"'{new}' is already defined in {os.path.basename(home)}"
    for prefix in prefixes:
        if prefix + new in taken:
            return f"'{new}' is already defined" + (f" (as '{prefix + new}')" if prefix else "")
    return None


def check_name(new: str) -> None:
    """Refuse a name the naming rule forbids (the checker reports the same names)."""
    if reserved_char(new) is not None:
        raise RenameRefused(f"'{new}': '$' and '.' are not allowed in names")
    if not is_plain_name(new):
        raise RenameRefused(f"'{new}' is not a valid name (letters, digits, '_' and '-', not starting with a digit)")


def prepare_rename(host: AnalysisHost, path: str, pos: Position) -> tuple[Range, str] | None:
    """The span a rename at `pos` replaces and the current name, or None if not renamable."""
    got = target_at(host, path, pos)
    if got is None:
        return None
    analysis, sf, t = got
    p = plan(host, analysis, t)
    if p is None:
        return None
    attr = t.attr if t.attr is not None else name_attr(t.element)
    if attr is None:
        return None
    span = base_span(attr, p.base) if t.is_tensor else (attr.value_start, attr.value_start + len(attr.raw))
    return (sf.range(*span), p.base) if span is not None else None


def rename(host: AnalysisHost, path: str, pos: Position, new_name: str) -> list[TextEdit] | None:
    """The edits renaming what is at `pos` to `new_name` (None when not in a markup file).

    Raises `RenameRefused` when what is there cannot be renamed, or not to that name.
    """
    got = target_at(host, path, pos)
    if got is None:
        return None
    analysis, sf, t = got
    p = plan(host, analysis, t)
    if p is None:
        raise RenameRefused("only tensor and parameter names can be renamed")
    new = new_name.strip()
    check_name(new)
    if new == p.base:
        return []
    why = clash(analysis, t, p.spans[0][0] if p.spans else sf.path, p.prefixes, new)
    if why:
        raise RenameRefused(why)
    files = analysis.graph.files
    edits = [TextEdit(f, files[f].range(s, e), new) for f, s, e in p.spans]
    return list(dict.fromkeys(edits))
