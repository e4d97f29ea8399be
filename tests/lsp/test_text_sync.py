"""The server's copy of a document stays the editor's, and positions convert exactly (issue 12).

Unit tests of `agrippa_lsp.workspace`, `agrippa_lsp.positions` and `agrippa_lsp.transport`
against a reference model of what an editor does: lines end at `\\n`, `\\r\\n` or `\\r` only,
columns count UTF-16 (or UTF-8) code units.
"""
from __future__ import annotations

import random

import pytest
from lsprotocol import types as lsp
from pygls.workspace import PositionCodec

from agrippa.base.diagnostics import Position
from agrippa_lsp.positions import Units
from agrippa_lsp.transport import MAX_BODY, content_length
from agrippa_lsp.workspace import LspTextDocument, split_lines

from .helpers import client_position

ENCODINGS = [lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf32]
PIECES = ["a", "<b/>", " ", "\n", "\r\n", "\r", "\f", "\u2028", "\u2029", "\u0085", "\v", "\x1c", "😀", "é", "中"]


def _cut(text: str, rng: random.Random) -> int:
    while True:  # never between the \r and \n of one line break
        i = rng.randint(0, len(text))
        if not (0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n"):
            return i


def test_lines_split_only_where_lsp_splits():
    text = "a\fb\u2028c\u0085d\x1ce\r\nf\rg\nh"
    assert split_lines(text) == ["a\fb\u2028c\u0085d\x1ce\r\n", "f\r", "g\n", "h"]
    assert split_lines("") == [] and split_lines("x\n") == ["x\n"]


@pytest.mark.parametrize("enc", ENCODINGS)
def test_incremental_edits_keep_the_editors_text(enc):
    rng = random.Random(12)
    text = "<model>\n<desc>form\ffeed, line\u2028separator, next\u0085line 😀 astral</desc>\r\n<block/>\r</model>\n"
    doc = LspTextDocument("file:///t.agr", text, version=1, position_codec=PositionCodec(enc))
    for step in range(400):
        a = _cut(text, rng)
        b = _cut(text, rng)
        a, b = min(a, b), max(a, b)
        new = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
        change = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=client_position(text, a, enc), end=client_position(text, b, enc)), text=new)
        text = text[:a] + new + text[b:]
        doc.apply_change(change)
        assert doc.source == text, f"step {step}: {change}"


def test_an_edit_after_a_form_feed_lands_on_its_line():
    text = '<model>\n<desc>a\fb\u2028c</desc>\n<node op="Relu"/>\n</model>\n'
    doc = LspTextDocument("file:///t.agr", text, version=1)
    at = lsp.Position(line=2, character=12)  # inside "Relu" on line 2 (LSP's count)
    doc.apply_change(lsp.TextDocumentContentChangePartial(range=lsp.Range(start=at, end=at), text="x"))
    assert doc.source == text.replace("Relu", "Rexlu")


@pytest.mark.parametrize("enc", ENCODINGS)
def test_positions_convert_both_ways(enc):
    text = "ab😀cd\r\n😀😀x\u2028y\rlast é 中 😀 z"
    units = Units(text, enc)
    starts = [0, 7, 13]  # "\r\n" and "\r" end lines; U+2028 does not
    for off in range(len(text) + 1):
        line = max(i for i, s in enumerate(starts) if s <= off)
        pos = Position(line, off - starts[line])
        client = units.to_client(pos)
        assert client == client_position(text, off, enc), off
        assert units.from_client(client) == pos


def test_a_long_line_converts_fast():
    import time

    text = ("😀" + "x" * 99) * 50_000  # 5 M characters on one line
    units = Units(text, lsp.PositionEncodingKind.Utf16)
    t = time.perf_counter()
    for off in range(0, len(text), len(text) // 1000):
        assert units.from_client(units.to_client(Position(0, off))) == Position(0, off)
    print(f"2,000 conversions on a 5 M-character line: {(time.perf_counter() - t) * 1000:.0f} ms")


@pytest.mark.parametrize(("line", "expected"), [
    (b"Content-Length: 52\r\n", (True, 52)),
    (b"content-length:7\r\n", (True, 7)),
    (b'{"jsonrpc": "2.0"}Content-Length: 9\r\n', (True, 9)),  # glued to an unread body: resync
    (b"Content-Length: abc\r\n", (True, None)),
    (b"Content-Length: -5\r\n", (True, None)),
    (b"Content-Length: \r\n", (True, None)),
    (b"Content-Length: 1 2\r\n", (True, None)),
    (b"Content-Type: application/vscode-jsonrpc\r\n", (False, None)),
    (b"\r\n", (False, None)),
])
def test_content_length_headers(line, expected):
    assert content_length(line) == expected


def test_the_body_cap_is_tens_of_mib():
    assert 32 * 2**20 <= MAX_BODY <= 256 * 2**20
