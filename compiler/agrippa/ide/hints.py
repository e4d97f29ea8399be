"""Inlay hints: each output's inferred shape, shown after its `name="..."` (in a file
sourced several times, each instance's, labelled by instance when they differ).

None at all when the editor's setting `agrippa.inlayHints.enabled` is off.
"""
from __future__ import annotations

from dataclasses import dataclass

from agrippa.base.diagnostics import Position
from agrippa.sema.ir import Graph, Instance
from agrippa.sema.shapes.dims import format_shape
from agrippa.syntax import Element, SourceFile

from .host import AnalysisHost
from .index import tensor_shape
from .instances import by_instance, file_instances, labelled

MAX_SHAPES = 3  # distinct shapes of an output's copies listed before "…"


@dataclass(frozen=True)
class InlayHint:
    position: Position
    label: str
    tooltip: str = "inferred shape"


def shape_label(graph: Graph, el: Element, path: str | None = None,
                instances: list[Instance] | None = None) -> str | None:
    """The shape(s) of an output across its copies: `[4, 16]`, `[4, 16] | [4, 8]`; in file
    `path` sourced several times, by instance when they differ (`up_attn: [32, 8] ·
    down_attn: [8, 8]`); None if unknown."""
    tensors = [t for t in graph.element_tensors.get(el, []) if t.kind != "concat"]
    groups = by_instance(graph, path, tensors, instances) if path is not None else None
    if groups:
        texts = [(name, _label(graph, ts)) for name, ts in groups]
        known = [(name, text) for name, text in texts if text is not None]
        return labelled(known) if known else None
    return _label(graph, tensors)


def _label(graph: Graph, tensors: list) -> str | None:
    shapes = [s for s in dict.fromkeys(_with_dtype(graph, t, format_shape(tensor_shape(t), unknown="?"))
                                       for t in tensors) if s != "?"]
    if not shapes:
        return None
    return " | ".join(shapes[:MAX_SHAPES]) + (" | …" if len(shapes) > MAX_SHAPES else "")


def _with_dtype(graph: Graph, t, shape: str) -> str:
    """`[4, 16]`, or `[4, 16] int64` where the element type is known and not float32."""
    if shape == "?" or t.dtype in (None, "float32") or t.name in graph.untyped:
        return shape
    return f"{shape} {t.dtype}"


def hints_in(graph: Graph, sf: SourceFile, first_line: int, last_line: int) -> list[InlayHint]:
    """The hints of the outputs on lines `first_line`..`last_line` of `sf`."""
    out: list[InlayHint] = []
    lo = sf.offset(Position(first_line, 0))
    hi = sf.offset(Position(last_line + 1, 0))
    instances = file_instances(graph, sf.path)
    for el in sf.elements():
        if el.tag != "output" or el.start > hi or el.end < lo:
            continue
        attr = el.attrs.get("name")
        if attr is None or not attr.value:
            continue
        label = shape_label(graph, el, sf.path, instances)
        if label is None:
            continue
        end = attr.value_start + len(attr.raw)
        if sf.text[end:end + 1] in ('"', "'"):
            end += 1
        out.append(InlayHint(sf.position(end), label))
    return out


def inlay_hints(host: AnalysisHost, path: str, first_line: int, last_line: int) -> list[InlayHint]:
    """The shape hints of markup file `path` between two lines (inclusive)."""
    if not host.settings.inlay_hints:
        return []
    got = host.file_analysis(path)
    if got is None:
        return []
    analysis, sf = got
    return hints_in(analysis.graph, sf, first_line, last_line)
