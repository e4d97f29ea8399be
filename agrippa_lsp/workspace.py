"""The server's copies of open documents, kept identical to the editor's.

pygls splits a document into lines with `str.splitlines`, which also breaks at a form
feed, U+0085, U+2028 and more; LSP breaks lines only at `\\n`, `\\r\\n` and `\\r`. After such
a character an incremental edit would land on the wrong line. `LspTextDocument` splits
as LSP does and applies an incremental change by offsets (one copy of the text, no
list of lines). `AgrippaProtocol` puts such documents in the workspace, and negotiates
the position encoding: UTF-8 when the client offers it, else UTF-16 (pygls' choice
among what the client lists, which is UTF-16 when it lists nothing).
"""
from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from typing import Any

from lsprotocol import types as lsp
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.workspace import TextDocument, Workspace

from agrippa.base.diagnostics import Position
from agrippa.base.text import LINE_BREAK
from agrippa.syntax.tree import LineIndex

_LINE_RE = re.compile(f"[^\\r\\n]*(?:{LINE_BREAK})|[^\\r\\n]+\\Z")
_BREAK_RE = re.compile(LINE_BREAK)


def split_lines(text: str) -> list[str]:
    """`text`'s lines with their line breaks, split only where LSP splits."""
    return _LINE_RE.findall(text)


class LspTextDocument(TextDocument):
    _index: LineIndex | None = None  # where each line starts, in `_index_of`
    _index_of: str | None = None

    @property
    def lines(self) -> Sequence[str]:
        return split_lines(self.source)

    def _line_index(self) -> LineIndex:
        text = self.source
        if self._index is None or self._index_of is not text:
            self._index, self._index_of = LineIndex(text), text
        return self._index

    def offset_of(self, pos: lsp.Position) -> int:
        """The offset of a client position (clamped to its line, and to the text)."""
        text = self.source
        index = self._line_index()
        if pos.line >= len(index):
            return len(text)
        start = index.offset(Position(pos.line, 0))
        m = _BREAK_RE.search(text, start)
        line = text[start:m.start() if m else len(text)]
        units = self.position_codec.impl
        if line.isascii() or self.position_codec.encoding == lsp.PositionEncodingKind.Utf32:
            return start + min(pos.character, len(line))
        need, col = pos.character, 0
        for c in line:  # client units (UTF-16 or UTF-8 code units) to code points
            if need <= 0:
                break
            need -= units.code_units_for_char(c)
            col += 1
        return start + col

    def _apply_incremental_change(self, change: lsp.TextDocumentContentChangePartial) -> None:
        text = self.source
        a, b = self.offset_of(change.range.start), self.offset_of(change.range.end)
        b = max(a, b)
        new = text[:a] + change.text + text[b:]
        index = self._line_index()
        self._source = new
        index.splice(new, a, b, a + len(change.text))  # the line starts move; only the span is scanned
        self._index_of = new


class LspWorkspace(Workspace):
    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                              language_id: str | None = None) -> TextDocument:
        return LspTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                               sync_kind=self._sync_kind, position_codec=self._position_codec)


class AgrippaProtocol(LanguageServerProtocol):
    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> Generator[Any, Any, lsp.InitializeResult]:
        general = params.capabilities.general
        offered = list(general.position_encodings or ()) if general is not None else []
        if lsp.PositionEncodingKind.Utf8 in offered:  # pygls takes the first it knows: make it UTF-8
            general.position_encodings = [lsp.PositionEncodingKind.Utf8]
        result = yield from super().lsp_initialize(params)
        old = self._workspace
        self._workspace = LspWorkspace(old.root_uri, old._sync_kind, list(old.folders.values()),
                                       old.position_encoding)
        return result
