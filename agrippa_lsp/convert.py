"""Conversions between the compiler's plain data (`agrippa.base`, `agrippa.ide`) and LSP types.

URIs become absolute paths and back. Positions are (line, character) on both sides, but
the compiler counts code points and the client the negotiated encoding's units (UTF-16
by default): `Converter` converts them here, at the protocol boundary (`positions.py`).
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

from .positions import IDENTITY, UTF16, UTF32, Units

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


# -- positions, ranges, diagnostics and edits --------------------------------------------------
@functools.lru_cache(maxsize=256)
def code_description(code: str) -> lsp.CodeDescription | None:
    """A link to the code's entry in docs/diagnostics.md, when that file is at hand."""
    url = codes.doc_url(code)
    return lsp.CodeDescription(href=url) if url else None


class Converter:
    """Compiler data to LSP types and back, positions in the negotiated encoding.

    `text_of(path)` gives the text the compiler's positions of `path` count in (the open
    document, else the last parse); without one a file's positions pass unchanged."""

    def __init__(self, encoding: str = UTF16, text_of: Callable[[str], str | None] = lambda path: None):
        self.encoding = encoding
        self.text_of = text_of
        self._units: dict[str, tuple[str, Units]] = {}  # path -> (its text, conversions)

    def units(self, path: str, text: str | None = None) -> Units:
        if self.encoding == UTF32:
            return IDENTITY
        text = text if text is not None else self.text_of(path)
        if text is None:
            return IDENTITY
        hit = self._units.get(path)
        if hit is not None and hit[0] is text:
            return hit[1]
        units = Units(text, self.encoding)
        self._units[path] = (text, units)
        return units

    def position(self, path: str, p: Position) -> lsp.Position:
        return self.units(path).to_client(p)

    def range(self, path: str, r: Range, units: Units | None = None) -> lsp.Range:
        u = units or self.units(path)
        return lsp.Range(start=u.to_client(r.start), end=u.to_client(r.end))

    def from_position(self, path: str, p: lsp.Position) -> Position:
        return self.units(path).from_client(p)

    def from_range(self, path: str, r: lsp.Range) -> Range:
        u = self.units(path)
        return Range(u.from_client(r.start), u.from_client(r.end))

    def location(self, path: str, r: Range) -> lsp.Location:
        return lsp.Location(uri=path_to_uri(path), range=self.range(path, r))

    def locations(self, locations: Iterable[Location]) -> list[lsp.Location]:
        return [self.location(loc.file, loc.range) for loc in locations]

    def diagnostic(self, d: Diagnostic, text: str | None = None) -> lsp.Diagnostic:
        """`d` as LSP has it; `text`: the text its positions count in, when known."""
        related = [lsp.DiagnosticRelatedInformation(location=self.location(r.location.file, r.location.range),
                                                    message=r.message) for r in d.related] or None
        data = {"code": d.code, **({k: v for k, v in d.data.items() if isinstance(v, (str, int, float, list))})}
        return lsp.Diagnostic(range=self.range(d.file, d.range, self.units(d.file, text)), message=d.message,
                              severity=_SEVERITY[d.severity], code=d.code, code_description=code_description(d.code),
                              source="agrippa", related_information=related, data=data)

    def workspace_edit(self, edits: Iterable[TextEdit], document_changes: bool,
                       version_of: Callable[[str], int | None], create: str | None = None) -> lsp.WorkspaceEdit:
        """Edits by file, as `documentChanges` (versioned, and creating `create` first) when
        the client takes them, else as `changes`."""
        by_file: dict[str, list[lsp.TextEdit]] = {}
        for e in edits:
            by_file.setdefault(e.file, []).append(lsp.TextEdit(range=self.range(e.file, e.range), new_text=e.new_text))
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
