"""Inlay hints: each output's inferred shape after its `name="..."` attribute.

Turned off by the client setting `agrippa.inlayHints.enabled = false`.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.diagnostics import Position
from agrippa.syntax import SourceFile

from .convert import to_lsp_position, uri_to_path
from .hover import format_shape, tensor_shape

if TYPE_CHECKING:
    from agrippa.ir import Graph

    from .server import AgrippaServer


def shape_label(graph: Graph, el) -> str | None:
    """The shape(s) of an output across its copies: `[4, 16]`, `[4, 16] | [4, 8]`; None if unknown."""
    tensors = [t for t in graph.element_tensors.get(el, []) if t.kind != "concat"]
    shapes = list(dict.fromkeys(format_shape(tensor_shape(t)) for t in tensors))
    shapes = [s for s in shapes if s != "?"]
    if not shapes:
        return None
    return " | ".join(shapes[:3]) + (" | …" if len(shapes) > 3 else "")


def hints_for(graph: Graph, sf: SourceFile, first_line: int, last_line: int) -> list[lsp.InlayHint]:
    out: list[lsp.InlayHint] = []
    lo = sf.offset(Position(first_line, 0))
    hi = sf.offset(Position(last_line + 1, 0))
    for el in sf.elements():
        if el.tag != "output" or el.start > hi or el.end < lo:
            continue
        attr = el.attrs.get("name")
        if attr is None or not attr.value:
            continue
        label = shape_label(graph, el)
        if label is None:
            continue
        end = attr.value_start + len(attr.raw)
        if sf.text[end:end + 1] in ('"', "'"):
            end += 1
        out.append(lsp.InlayHint(position=to_lsp_position(sf.position(end)), label=label,
                                 kind=lsp.InlayHintKind.Type, padding_left=True,
                                 tooltip="inferred shape"))
    return out


def compute_hints(server: AgrippaServer, uri: str, rng: lsp.Range) -> list[lsp.InlayHint]:
    if not server.model.settings.inlay_hints:
        return []
    path = uri_to_path(uri)
    graph = server.model.analysis_for(path).graph
    sf = graph.files.get(path) if graph is not None else None
    if sf is None:
        return []
    return hints_for(graph, sf, rng.start.line, rng.end.line)


def refresh(server: AgrippaServer) -> None:
    """Ask the client to re-request inlay hints, when it supports that."""
    caps = server.client_capabilities.workspace
    ih = caps.inlay_hint if caps is not None else None
    if ih is not None and ih.refresh_support:
        server.workspace_inlay_hint_refresh(None)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintOptions(resolve_provider=False))
    async def inlay_hints(ls: AgrippaServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
        return await asyncio.to_thread(compute_hints, ls, params.text_document.uri, params.range)
