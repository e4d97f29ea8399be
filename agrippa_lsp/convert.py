"""Conversions between the compiler's plain data (`agrippa.base`, `agrippa.ide`) and LSP types.

Positions are (line, character) on both sides; URIs become absolute paths and back.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from agrippa.base import codes
from agrippa.base.diagnostics import Diagnostic, Location, Position, Range, Severity, TextEdit

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFORMATION: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}


def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", ""):
        return uri
    return os.path.abspath(unquote(parsed.path))


def path_to_uri(path: str) -> str:
    return from_fs_path(path) or ("file://" + path)


# -- positions and ranges --------------------------------------------------------------------
def to_lsp_position(p: Position) -> lsp.Position:
    return lsp.Position(line=p.line, character=p.character)


def from_lsp_position(p: lsp.Position) -> Position:
    return Position(p.line, p.character)


def to_lsp_range(r: Range) -> lsp.Range:
    return lsp.Range(start=to_lsp_position(r.start), end=to_lsp_position(r.end))


def from_lsp_range(r: lsp.Range) -> Range:
    return Range(from_lsp_position(r.start), from_lsp_position(r.end))


def to_lsp_location(path: str, r: Range) -> lsp.Location:
    return lsp.Location(uri=path_to_uri(path), range=to_lsp_range(r))


def to_lsp_locations(locations: Iterable[Location]) -> list[lsp.Location]:
    return [to_lsp_location(loc.file, loc.range) for loc in locations]


# -- diagnostics and edits ---------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def code_description(code: str) -> lsp.CodeDescription | None:
    """A link to the code's entry in docs/diagnostics.md, when that file is at hand."""
    url = codes.doc_url(code)
    return lsp.CodeDescription(href=url) if url else None


def to_lsp_diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    related = [lsp.DiagnosticRelatedInformation(location=to_lsp_location(r.location.file, r.location.range),
                                                message=r.message) for r in d.related] or None
    data = {"code": d.code, **({k: v for k, v in d.data.items() if isinstance(v, (str, int, float, list))})}
    return lsp.Diagnostic(range=to_lsp_range(d.range), message=d.message, severity=_SEVERITY[d.severity],
                          code=d.code, code_description=code_description(d.code), source="agrippa",
                          related_information=related, data=data)


def to_workspace_edit(edits: Iterable[TextEdit], document_changes: bool,
                      version_of: Callable[[str], int | None], create: str | None = None) -> lsp.WorkspaceEdit:
    """Edits by file, as `documentChanges` (versioned, and creating `create` first) when
    the client takes them, else as `changes`."""
    by_file: dict[str, list[lsp.TextEdit]] = {}
    for e in edits:
        by_file.setdefault(e.file, []).append(lsp.TextEdit(range=to_lsp_range(e.range), new_text=e.new_text))
    if not document_changes:
        return lsp.WorkspaceEdit(changes={path_to_uri(p): es for p, es in by_file.items()})
    changes: list = []
    if create is not None:
        changes.append(lsp.CreateFile(uri=path_to_uri(create), options=lsp.CreateFileOptions(ignore_if_exists=True)))
    for path, es in by_file.items():
        uri = path_to_uri(path)
        version = None if path == create else version_of(uri)
        changes.append(lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=es))
    return lsp.WorkspaceEdit(document_changes=changes)
