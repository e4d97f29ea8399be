"""Document highlight: every place in this file naming what is under the cursor.

A tensor (its definition and every use, across rep/stretch copies and `name$` prefixes),
a parameter (each `<params>` declaring it: a shared one is declared more than once) or a
`var()`/`expr()` name. Built on navigation's references; `write` marks where a tensor is
defined or a parameter declared, `read` every use.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from agrippa.base.diagnostics import Position, Range

from . import locate as L
from .host import AnalysisHost
from .index import first_param, param_locations, tensor_index, var_uses
from .navigation import named_target

READ, WRITE, TEXT = "read", "write", "text"


@dataclass(frozen=True)
class Highlight:
    range: Range
    kind: str  # READ, WRITE or TEXT


def highlights(host: AnalysisHost, path: str, pos: Position) -> list[Highlight]:
    """The occurrences in `path` of the name at `pos`, in document order (empty: not a name)."""
    got = named_target(host, path, pos)
    if got is None:
        return []
    analysis, sf, t, graph = got
    path = os.path.abspath(path)
    out: list[Highlight] = []
    if t.is_tensor:
        idx = tensor_index(host, analysis)
        d = idx.definition(t.element)
        if d is None:  # unresolved: at least the name itself
            return [Highlight(t.range, TEXT)]
        for el in idx.occurrences(d):
            loc = idx.location(el)
            if loc is not None and loc.file == path:
                out.append(Highlight(loc.range, WRITE if idx.is_definition(el) else READ))
    elif t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        locs = param_locations(p) if p is not None else []
        out = [Highlight(loc.range, WRITE) for loc in locs if loc.file == path] or [Highlight(t.range, WRITE)]
    elif t.kind == L.VAR and t.name is not None:
        out = [Highlight(loc.range, READ) for loc in var_uses(graph, t.name.name) if loc.file == path]
    return sorted(set(out), key=lambda h: (h.range.start, h.range.end))
