"""Quick fixes for the diagnostics the editor shows (`agrippa.ide.actions`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.actions import Reported, quick_fixes
from agrippa.ide.expanded import expands_at

from ..convert import Converter, uri_to_path
from .client_commands import SHOW_EXPANDED, supports

if TYPE_CHECKING:
    from ..language_server import AgrippaServer


def reported(d: lsp.Diagnostic, convert: Converter, path: str) -> Reported:
    name = d.data.get("name") if isinstance(d.data, dict) else None
    return Reported(str(d.code) if d.code is not None else None, convert.from_range(path, d.range), name)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, SHOW_EXPANDED_KIND]))
    async def actions(ls: AgrippaServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        only = params.context.only
        view = await show_expanded(ls, params)
        if only and not any(str(k).startswith("quickfix") or k == lsp.CodeActionKind.QuickFix for k in only):
            return view
        ours = [d for d in params.context.diagnostics if d.source in (None, "agrippa")]
        path = uri_to_path(params.text_document.uri)
        fixes = await ls.query(params.text_document.uri, quick_fixes, [reported(d, ls.convert, path) for d in ours])
        out = []
        for i, fix in fixes or ():
            if fix.creates is not None and not ls.takes_document_changes(create=True):
                continue  # the client cannot create agrippa.toml
            edit = ls.convert.workspace_edit(fix.edits, ls.takes_document_changes(), ls.version_of, fix.creates)
            out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[ours[i]],
                                      edit=edit, is_preferred=fix.preferred or None))
        return (out + (view or [])) or None


SHOW_EXPANDED_KIND = "refactor.agrippa.showExpanded"


async def show_expanded(ls: AgrippaServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    """The action "Show expanded model" on a rep/stretch/sourced block's tag, for clients that show it."""
    only = params.context.only
    if not supports(ls, SHOW_EXPANDED) or (only and not any(SHOW_EXPANDED_KIND.startswith(str(k)) for k in only)):
        return None
    uri = params.text_document.uri
    pos = ls.convert.from_position(uri_to_path(uri), params.range.start)
    if not await ls.query(uri, expands_at, pos):
        return None
    return [lsp.CodeAction(title="Show expanded model", kind=SHOW_EXPANDED_KIND,
                           command=lsp.Command(title="Show expanded model", command=SHOW_EXPANDED, arguments=[uri]))]
