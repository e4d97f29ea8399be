"""Code lenses: run and count.

On the index's `<model>`: ▶ Train · Compile · Show graph · the total parameter count. On
each `<block>`: its parameters (every copy; a shared parameter once; frozen ones counted
apart) and, for `rep`/`stretch`, the number of copies. `action` names what a lens runs
("train", "compile", "graph"); the server maps it to the client's command (None: a label).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agrippa.base.diagnostics import Range
from agrippa.sema.analysis import Analysis
from agrippa.sema.shapes.dims import format_dim

from .counts import block_counts, element_count
from .counts import count_title as _count_title
from .host import AnalysisHost

TRAIN, COMPILE, GRAPH = "train", "compile", "graph"


@dataclass(frozen=True)
class Lens:
    range: Range
    title: str
    action: str | None = None


def _add(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


def _lenses(analysis: Analysis, path: str, graph_view: bool) -> list[Lens]:
    graph = analysis.graph
    sf = graph.files.get(path) if graph is not None else None
    if graph is None or sf is None or sf.root is None:
        return []
    out: list[Lens] = []
    counts = block_counts(graph)
    root = sf.root
    if root.tag == "model" and path == graph.index:
        r = root.tag_range
        total: Any = 0
        frozen: Any = 0
        for p in graph.params.values():
            n = element_count(p.dims)
            total = _add(total, n)
            frozen = _add(frozen, n) if p.frozen else frozen
        out += [Lens(r, "▶ Train", TRAIN), Lens(r, "Compile", COMPILE)]
        if graph_view:
            out.append(Lens(r, "Show graph", GRAPH))
        trainable = None if total is None or frozen is None else total - frozen
        out.append(Lens(r, _count_title(trainable, frozen) if graph.complete else "parameters: bind the counts"))
    for el in sf.elements():
        if el.tag != "block":
            continue
        r = el.tag_range
        t, f = counts.get(el, (0, 0))
        out.append(Lens(r, _count_title(t, f)))
        body = el
        if el in graph.sourced:
            other = graph.files.get(graph.sourced[el])
            body = other.root if other is not None and other.root is not None else el
        for kind in ("rep", "stretch"):
            if kind in body.attrs:
                n = graph.copies.get(body)
                shown = format_dim(n) if n is not None else body.get(kind)
                out.append(Lens(r, f"{kind} × {shown} copies"))
    return out


def code_lenses(host: AnalysisHost, path: str, graph_view: bool = False) -> list[Lens]:
    """The lenses of markup file `path`; `graph_view`: the client can show the model graph."""
    got = host.file_analysis(path)
    if got is None:
        return []
    analysis, sf = got
    return host.memo.get(analysis, _lenses, sf.path, graph_view)
