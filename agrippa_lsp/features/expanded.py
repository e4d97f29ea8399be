"""The expanded model (`agrippa.ide.expanded`): `agrippa/expandedModel` and the read-only
`agrippa-expanded:` documents.

`agrippa/expandedModel` `{"uri"}` → `{"uri", "text", "links": [{"range", "targetUri",
"targetRange"}]}`: the flat model of the file's project, `uri` the virtual document's
(the file's URI with the scheme `agrippa-expanded`). Definition and document links on
such a URI go from a name to the markup that made it (navigation.py delegates here).
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from agrippa.ide.expanded import Expanded, expanded_model

from ..convert import path_to_uri, uri_to_path
from ..positions import Units

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

EXPANDED_REQUEST = "agrippa/expandedModel"
SCHEME = "agrippa-expanded"


def is_expanded(uri: str) -> bool:
    return uri.startswith(SCHEME + ":")


def expanded_uri(uri: str) -> str:
    return SCHEME + uri[uri.index(":"):]


def source_path(uri: str) -> str:
    return uri_to_path("file" + uri[uri.index(":"):])


async def _model(ls: AgrippaServer, uri: str) -> Expanded | None:
    return await asyncio.to_thread(expanded_model, ls.host, source_path(uri) if is_expanded(uri) else uri_to_path(uri))


def _units(ls: AgrippaServer, ex: Expanded) -> Units:
    return Units(ex.text, ls.convert.encoding)


async def definition(ls: AgrippaServer, uri: str, pos: lsp.Position) -> list[lsp.Location] | None:
    ex = await _model(ls, uri)
    link = ex.link_at(_units(ls, ex).from_client(pos)) if ex is not None else None
    return ls.convert.locations([link.target]) if link is not None else None


async def links(ls: AgrippaServer, uri: str) -> list[lsp.DocumentLink] | None:
    ex = await _model(ls, uri)
    if ex is None:
        return None
    u = _units(ls, ex)
    out = []
    for k in ex.links:
        target = path_to_uri(k.target.file) + f"#L{k.target.range.start.line + 1}"
        out.append(lsp.DocumentLink(range=lsp.Range(start=u.to_client(k.range.start), end=u.to_client(k.range.end)),
                                    target=target))
    return out


def _json(r: lsp.Range) -> dict:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def register(server: AgrippaServer) -> None:
    @server.feature(EXPANDED_REQUEST)
    async def expanded(ls: AgrippaServer, params: Any) -> dict:
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        if not uri:
            return {"uri": None, "text": None, "links": []}
        ex = await _model(ls, uri)
        if ex is None:
            return {"uri": expanded_uri(uri), "text": None, "links": []}
        u = _units(ls, ex)
        out = []
        for k in ex.links:
            loc = ls.convert.location(k.target.file, k.target.range)
            r = lsp.Range(start=u.to_client(k.range.start), end=u.to_client(k.range.end))
            out.append({"range": _json(r), "targetUri": loc.uri, "targetRange": _json(loc.range)})
        return {"uri": expanded_uri(uri), "text": ex.text, "links": out}
