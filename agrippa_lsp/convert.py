"""Conversions between the compiler's data and LSP types."""
from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from agrippa.diagnostics import Diagnostic, Position, Range, Severity

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


def to_lsp_position(p: Position) -> lsp.Position:
    return lsp.Position(line=p.line, character=p.character)


def to_lsp_range(r: Range) -> lsp.Range:
    return lsp.Range(start=to_lsp_position(r.start), end=to_lsp_position(r.end))


def from_lsp_position(p: lsp.Position) -> Position:
    return Position(p.line, p.character)


def to_lsp_location(path: str, r: Range) -> lsp.Location:
    return lsp.Location(uri=path_to_uri(path), range=to_lsp_range(r))


def to_lsp_diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    related = [lsp.DiagnosticRelatedInformation(location=to_lsp_location(r.location.file, r.location.range),
                                                message=r.message) for r in d.related] or None
    data = {"code": d.code, **({k: v for k, v in d.data.items() if isinstance(v, (str, int, float, list))})}
    return lsp.Diagnostic(range=to_lsp_range(d.range), message=d.message, severity=_SEVERITY[d.severity],
                          code=d.code, source="agrippa", related_information=related, data=data)
