"""Stored weights against the declared dims: the rule `agrippa check` (from the weights
file's header) and compile (from the values it loads) share.

A stored value of another shape but as many elements is reshaped, as the original package
does: a warning, since dims written the other way round make it garbage. A different
element count is an error, each at its `params` element, all at once. A weights entry
maps to its parameter by the final ONNX name (`W$1`, `enc$W$3`, a shared `E`).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping

from agrippa.base.diagnostics import Diagnostic, Range, Severity
from agrippa.project.config import Config
from agrippa.project.files import FileAccess
from agrippa.sema.ir import Graph, Origin, Param


def _where(o: Origin) -> tuple[str, Range]:
    a = o.element.attrs.get("dim")
    return o.file, (a.value_range if a is not None else o.element.tag_range)


def _places(p: Param) -> list[tuple[str, Range]]:
    seen: list[tuple[str, Range]] = []
    for o in [p.origin, *p.declarations]:
        w = _where(o)
        if w not in seen:
            seen.append(w)
    return seen


def shape_diagnostics(graph: Graph, stored: Mapping[str, tuple[int, ...]], wname: str) -> list[Diagnostic]:
    """A warning for each stored value reshaped to its dims, an error for each that cannot be."""
    out = []
    for name, shape in stored.items():
        p = graph.params.get(name)
        if p is None or not all(isinstance(d, int) for d in p.dims) or (p.tensor is not None and p.tensor.declared is None):
            continue  # dims unknown (a mistake in them is reported where they are written)
        dims, shape = tuple(p.dims), tuple(shape)
        if dims == shape:
            continue
        have, want = math.prod(shape), math.prod(dims)
        if have == want:
            sev, code = Severity.WARNING, "weights-reshaped"
            msg = (f"{name} is stored as {list(shape)} but declared {list(dims)}; it will be reshaped "
                   f"(not transposed), as the original package does — if the dims were swapped, the values "
                   "are scrambled")
        else:
            sev, code = Severity.ERROR, "weights-mismatch"
            msg = (f"{wname} holds {name} as {list(shape)} ({have:,} values), but it is declared "
                   f"{list(dims)} ({want:,} values); fix the dim, or recompile with --reinit to start it afresh")
        out.extend(Diagnostic(f, r, sev, code, msg) for f, r in _places(p))
    return out


def weights_diagnostics(graph: Graph | None, project_dir: str, config: Config, access: FileAccess) -> list[Diagnostic]:
    """The weights file's shapes against the markup, read from its header (never its data);
    sets `graph.stored`, the names it holds values for."""
    from agrippa.project.weights_header import read_header, weights_path

    if graph is None or not graph.params:
        return []
    path = weights_path(project_dir, config.weights)
    if not os.path.lexists(path):
        return []
    start = Range.of(0, 0, 0, 0)
    why = access.outside(path)
    header = read_header(path) if why is None else None
    error = f"{os.path.basename(path)}: {why}" if why is not None else header.error
    graph.stored = None  # until its names are read
    if error is not None:
        return [Diagnostic(path, start, Severity.ERROR, "weights-unreadable", error)]
    if header.unknown is not None:
        return [Diagnostic(path, start, Severity.INFORMATION, "weights-unchecked", header.unknown)]
    graph.stored = frozenset(header.entries)
    frozen = [p.name for p in graph.params.values() if p.frozen and p.name in graph.stored]
    if frozen:  # compile uses these stored values: the small ones fold for shape inference
        from agrippa.project.weights_values import small_values
        from agrippa.sema.shapes.frozen import FOLD_MAX

        graph.stored_values = small_values(path, frozen, FOLD_MAX)
    return shape_diagnostics(graph, {k: s for k, (s, _) in header.entries.items()}, os.path.basename(path))
