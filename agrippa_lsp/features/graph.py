"""`agrippa/graph`: the model's block graph (`agrippa.ide.graph`) for the editor's graph view.

A custom request, `{"uri": ...}` → `{"graph": {...} | null, "version": int | null}`, answered
from the same analysis the diagnostics come from (the host's), with shapes in the user's names
from the host's analysis without bindings. The last graph made is kept: asking again without
an edit costs nothing.
"""
from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from agrippa.ide.graph import model_graph

from ..convert import uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

GRAPH_REQUEST = "agrippa/graph"

_lock = threading.Lock()
_last: dict[str, tuple[Any, Any, dict | None]] = {}  # index -> (analysis, symbolic, graph)


def graph_for(host, path: str) -> dict | None:
    """The graph of the project covering `path`, made once per analysis."""
    analysis = host.analysis_for(path)
    # off the request path (a worker thread): worth waiting for the shapes in the user's names
    symbolic = host.symbolic_for(path, patience=10.0) if analysis.bindings else None
    key = analysis.index or path
    with _lock:
        last = _last.get(key)
        if last is not None and last[0] is analysis and last[1] is symbolic:
            return last[2]
    graph = model_graph(analysis, symbolic)
    with _lock:
        _last[key] = (analysis, symbolic, graph)
    return graph


def register(server: AgrippaServer) -> None:
    @server.feature(GRAPH_REQUEST)
    async def graph_request(ls: AgrippaServer, params: Any) -> dict:
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if not uri:
            return {"graph": None, "version": None}
        version = ls.version_of(uri)
        graph = await asyncio.to_thread(graph_for, ls.host, uri_to_path(uri))
        return {"graph": graph, "version": version}
