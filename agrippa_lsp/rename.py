"""Rename a tensor (or a parameter) everywhere, across sourced files and `$` prefixes.

Only the last segment of a name is renamed: renaming `result` in enc.agr rewrites
`enc$result` in the parent to `enc$<new>`, keeping the prefix. Clashing or malformed
names are refused with an error response.
"""
from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from agrippa.analysis import Analysis
from agrippa.syntax import Attr, SourceFile

from . import locate as L
from .convert import path_to_uri, to_lsp_range
from .navigation import file_analysis, first_param, name_attr, target_at, tensor_index

if TYPE_CHECKING:
    from .server import AgrippaServer

log = logging.getLogger(__name__)
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


class RenameError(JsonRpcException):
    CODE = lsp.LSPErrorCodes.RequestFailed


def base_span(attr: Attr, base: str) -> tuple[int, int] | None:
    """Offsets of `base` (the name's last segment) inside the value of `attr`."""
    v = attr.value
    if v == base or v.endswith("$" + base):
        return attr.offset_of(len(v) - len(base)), attr.offset_of(len(v))
    m = re.search(r"(?:^|\$)(" + re.escape(base) + r")(?=\$\d+$)", v)  # expose="yes": x$3
    return (attr.offset_of(m.start(1)), attr.offset_of(m.end(1))) if m else None


def _base(name: str) -> str:
    return name.rsplit("$", 1)[-1]


def plan(analysis: Analysis, t: L.Target) -> tuple[str, list[tuple[str, int, int]], set[str]] | None:
    """(old base name, [(file, start, end)] to rewrite, logical names the result would take)."""
    graph = analysis.graph
    if graph is None or t.element is None:
        return None
    if t.is_tensor:
        idx = tensor_index(analysis)
        d = idx.definition(t.element)
        if d is None or name_attr(d) is None:
            return None
        base = _base(name_attr(d).value)
        spans = []
        for el in idx.occurrences(d):
            attr, path = name_attr(el), idx.file_of.get(el)
            span = base_span(attr, base) if attr is not None and path else None
            if span is not None:
                spans.append((path, *span))
        logical = {tt.logical[:len(tt.logical) - len(base)] for tt in graph.element_tensors.get(d, ())
                   if tt.logical.endswith(base)}
        return base, spans, logical
    if t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        if p is None:
            return None
        base = _base(p.logical)
        decls = p.declarations if p.shared else [o for o in p.declarations if o.element is t.element]
        spans = [(o.file, o.element.attrs["name"].value_start,
                  o.element.attrs["name"].value_start + len(o.element.attrs["name"].raw)) for o in decls]
        return base, spans, {p.logical[:len(p.logical) - len(base)]}
    return None


def clash(analysis: Analysis, t: L.Target, home: str, prefixes: set[str], new: str) -> str | None:
    """Why `new` cannot be used (an existing name in scope), or None. `home`: the defining file."""
    graph = analysis.graph
    assert graph is not None
    if t.kind == L.PARAMS_NAME:
        taken = {p.logical for p in graph.params.values()}
    else:
        taken = {tt.logical for tt in graph.tensors.values() if tt.kind in ("input", "value", "concat")}
        sf = graph.files.get(home)
        written = {el.get("name") for el in (sf.elements() if sf else ()) if el.tag == "output"}
        if new in written:
            return f"'{new}' is already defined in {os.path.basename(home)}"
    for prefix in prefixes:
        if prefix + new in taken:
            return f"'{new}' is already defined" + (f" (as '{prefix + new}')" if prefix else "")
    return None


def check_name(new: str) -> None:
    if "$" in new or "." in new:
        raise RenameError(f"'{new}': '$' and '.' are not allowed in names")
    if not NAME_RE.fullmatch(new):
        raise RenameError(f"'{new}' is not a valid name (letters, digits, '_' and '-', not starting with a digit)")


def workspace_edit(ls: AgrippaServer, files: dict[str, SourceFile], spans: list[tuple[str, int, int]],
                   new: str) -> lsp.WorkspaceEdit:
    by_file: dict[str, list[lsp.TextEdit]] = {}
    for path, s, e in spans:
        sf = files[path]
        edit = lsp.TextEdit(range=to_lsp_range(sf.range(s, e)), new_text=new)
        if edit not in by_file.setdefault(path, []):
            by_file[path].append(edit)
    caps = ls.client_capabilities.workspace
    if caps and caps.workspace_edit and caps.workspace_edit.document_changes:
        changes = []
        for path, edits in by_file.items():
            uri = path_to_uri(path)
            doc = ls.workspace.text_documents.get(uri)
            changes.append(lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version if doc else None),
                edits=edits))
        return lsp.WorkspaceEdit(document_changes=changes)
    return lsp.WorkspaceEdit(changes={path_to_uri(p): e for p, e in by_file.items()})


def _raising(f):
    """Let JsonRpcException through as an error response; anything else answers None."""
    async def run(ls: AgrippaServer, params):
        try:
            return await f(ls, params)
        except JsonRpcException:
            raise
        except Exception:
            log.exception("rename failed")
            return None
    return run


async def _planned(ls: AgrippaServer, uri: str, position: lsp.Position):
    """The analysis, file, cursor target and rename plan at `position` (plan None if not renamable)."""
    got = await file_analysis(ls, uri)
    if got is None:
        return None
    a, sf = got
    t = target_at(a, sf, position)
    return a, sf, t, plan(a, t)


def register(server: AgrippaServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare(ls: AgrippaServer, params: lsp.PrepareRenameParams) -> lsp.PrepareRenamePlaceholder | None:
        got = await _planned(ls, params.text_document.uri, params.position)
        if got is None or got[3] is None:
            return None
        a, sf, t, p = got
        base, spans, _ = p
        attr = t.attr if t.attr is not None else name_attr(t.element)
        if attr is None:
            return None
        span = base_span(attr, base) if t.is_tensor else (attr.value_start, attr.value_start + len(attr.raw))
        if span is None:
            return None
        return lsp.PrepareRenamePlaceholder(range=to_lsp_range(sf.range(*span)), placeholder=base)

    async def rename(ls: AgrippaServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        got = await _planned(ls, params.text_document.uri, params.position)
        if got is None:
            return None
        a, sf, t, p = got
        if p is None:
            raise RenameError("only tensor and parameter names can be renamed")
        base, spans, prefixes = p
        new = params.new_name.strip()
        check_name(new)
        if new == base:
            return lsp.WorkspaceEdit(changes={})
        why = clash(a, t, spans[0][0] if spans else sf.path, prefixes, new)
        if why:
            raise RenameError(why)
        return workspace_edit(ls, a.graph.files, spans, new)

    # registered without the server's guard, which would turn the refusal into an empty answer
    LanguageServer.feature(server, lsp.TEXT_DOCUMENT_RENAME)(_raising(rename))
