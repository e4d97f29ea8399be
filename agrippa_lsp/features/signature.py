"""Signature help inside a `<node>`: the op's input slots, the one the cursor fills
(`agrippa.ide.signature`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.signature import signature_help

from ..convert import uri_to_path
from .hover import markup_kind

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

OPTIONS = lsp.SignatureHelpOptions(trigger_characters=["<"], retrigger_characters=[" ", ">"])


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP, OPTIONS)
    async def help_(ls: AgrippaServer, params: lsp.SignatureHelpParams) -> lsp.SignatureHelp | None:
        path = uri_to_path(params.text_document.uri)
        pos = ls.convert.from_position(path, params.position)
        sig = await ls.query(params.text_document.uri, signature_help, pos)
        if sig is None:
            return None
        kind = markup_kind(ls)
        slots = [lsp.ParameterInformation(label=(s.start, s.end), documentation=lsp.MarkupContent(kind=kind, value=s.doc))
                 for s in sig.slots]
        info = lsp.SignatureInformation(label=sig.label, documentation=lsp.MarkupContent(kind=kind, value=sig.doc),
                                        parameters=slots, active_parameter=sig.active)
        return lsp.SignatureHelp(signatures=[info], active_signature=0, active_parameter=sig.active)
