"""Quick fixes: the checker's `Diagnostic.fixes`, and adding a missing binding to agrippa.toml.

An LSP diagnostic in the request is matched to the analysis's diagnostic by code and range;
each of its fixes becomes a quickfix with that diagnostic attached.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.analysis import Analysis
from agrippa.diagnostics import Diagnostic, Fix
from agrippa.project import CONFIG_FNAME

from .convert import path_to_uri, to_lsp_range, uri_to_path
from .navigation import file_analysis, read_text

if TYPE_CHECKING:
    from .server import AgrippaServer

_TABLE_RE = re.compile(r"\s*\[\[?([^\[\]]+)\]\]?\s*(?:#.*)?$")


def _key(r: lsp.Range) -> tuple[int, int, int, int]:
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def _supports(ls: AgrippaServer, what: str) -> bool:
    ws = ls.client_capabilities.workspace
    we = ws.workspace_edit if ws else None
    if we is None:
        return False
    if what == "documentChanges":
        return bool(we.document_changes)
    return bool(we.document_changes) and lsp.ResourceOperationKind.Create in (we.resource_operations or ())


def _doc_edit(ls: AgrippaServer, path: str, edits: list[lsp.TextEdit]) -> lsp.TextDocumentEdit:
    uri = path_to_uri(path)
    doc = ls.workspace.text_documents.get(uri)
    return lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version if doc else None),
        edits=edits)


def fix_edit(ls: AgrippaServer, fix: Fix) -> lsp.WorkspaceEdit:
    by_file: dict[str, list[lsp.TextEdit]] = {}
    for e in fix.edits:
        by_file.setdefault(e.file, []).append(lsp.TextEdit(range=to_lsp_range(e.range), new_text=e.new_text))
    if _supports(ls, "documentChanges"):
        return lsp.WorkspaceEdit(document_changes=[_doc_edit(ls, p, es) for p, es in by_file.items()])
    return lsp.WorkspaceEdit(changes={path_to_uri(p): es for p, es in by_file.items()})


def binding_insertion(text: str, name: str, value: str = "1") -> tuple[int, int, str]:
    """(line, character, text) inserting `name = value` into [bindings] of toml `text`."""
    lines = text.splitlines()
    in_bindings, last = False, -1
    for i, line in enumerate(lines):
        m = _TABLE_RE.match(line)
        if m:
            if in_bindings:
                break
            in_bindings = m.group(1).strip() == "bindings"
            if in_bindings:
                last = i
        elif in_bindings and line.strip():
            last = i
    if last >= 0:
        if last + 1 == len(lines) and not text.endswith("\n"):
            return last, len(lines[last]), f"\n{name} = {value}"
        return last + 1, 0, f"{name} = {value}\n"
    table = f"[bindings]\n{name} = {value}\n"
    if not text:
        return 0, 0, table
    if text.endswith("\n"):
        return len(lines), 0, "\n" + table
    return len(lines) - 1, len(lines[-1]), "\n\n" + table


def binding_action(ls: AgrippaServer, analysis: Analysis, name: str, diag: lsp.Diagnostic) -> lsp.CodeAction | None:
    path = os.path.join(analysis.project_dir, CONFIG_FNAME)
    text = read_text(ls, path)
    title = f"Add '{name} = 1' to [bindings] in {CONFIG_FNAME}"
    uri = path_to_uri(path)
    if text is None:
        insert = lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0),
                                              end=lsp.Position(line=0, character=0)),
                              new_text=f"[bindings]\n{name} = 1\n")
        if not _supports(ls, "create"):
            return None
        edit = lsp.WorkspaceEdit(document_changes=[
            lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)),
            lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                 edits=[insert])])
    else:
        line, col, new = binding_insertion(text, name)
        pos = lsp.Position(line=line, character=col)
        edits = [lsp.TextEdit(range=lsp.Range(start=pos, end=pos), new_text=new)]
        edit = (lsp.WorkspaceEdit(document_changes=[_doc_edit(ls, path, edits)]) if _supports(ls, "documentChanges")
                else lsp.WorkspaceEdit(changes={uri: edits}))
    return lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag], edit=edit,
                          is_preferred=True)


def code_actions(ls: AgrippaServer, analysis: Analysis, path: str, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    only = params.context.only
    if only and not any(str(k).startswith("quickfix") or k == lsp.CodeActionKind.QuickFix for k in only):
        return []
    ours: dict[tuple, list[Diagnostic]] = {}
    for d in analysis.diagnostics:
        if d.file == path:
            ours.setdefault((d.code, _key(to_lsp_range(d.range))), []).append(d)
    out: list[lsp.CodeAction] = []
    for ld in params.context.diagnostics:
        if ld.source not in (None, "agrippa"):
            continue
        matched = ours.get((ld.code, _key(ld.range)), [])
        for d in matched:
            for fix in d.fixes:
                out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[ld],
                                          edit=fix_edit(ls, fix), is_preferred=fix.preferred or None))
        name = (ld.data or {}).get("name") if isinstance(ld.data, dict) else None
        if ld.code == "unbound-var" and name is None and matched:
            name = matched[0].data.get("name")
        if ld.code == "unbound-var" and name:
            action = binding_action(ls, analysis, name, ld)
            if action is not None and action.title not in {a.title for a in out}:
                out.append(action)
    return out


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    async def actions(ls: AgrippaServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        got = await file_analysis(ls, params.text_document.uri)
        if got is None:
            return None
        return code_actions(ls, got[0], uri_to_path(params.text_document.uri), params) or None
