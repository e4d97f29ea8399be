"""Positions in `agrippa.toml` text, and edits to it: one scanner for every reader.

`tomllib` gives values without positions; diagnostics and quick fixes need lines and
columns. This scanner knows the few forms a project's config uses: `[table]` and
`[a.b]` headers (with or without a trailing comment) and `key = value` lines.

Lines end at `\r\n`, `\r` or `\n`, as LSP counts them, so a file saved with old Mac
line endings (`\r` only) has its keys on the right lines; `for_toml` gives the text
`tomllib` reads (a lone `\r` is a line break to the editor, an error to TOML).
"""
from __future__ import annotations

import re

from agrippa.base.diagnostics import Position, Range
from agrippa.base.text import LINE_BREAK

_HEADER = re.compile(r"\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)\s*=\s*")
_BREAK = re.compile(LINE_BREAK)
_LONE_CR = re.compile(r"\r(?!\n)")


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def split_lines(text: str) -> list[str]:
    """The lines of `text`, split at `\r\n`, `\r` and `\n` (the line numbers of LSP)."""
    return _BREAK.split(text)


_lines = split_lines


def for_toml(text: str) -> str:
    """`text` with each lone `\r` made a `\n`: what `tomllib` parses. Lines and columns
    stay those of `text`."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


MAX_NESTING = 64  # arrays and inline tables deeper than this are refused before tomllib (it recurses)
# every alternative matches (an unclosed string runs to the end of its line or file), so
# the scan never starts over: linear on any text
_DEPTH_TOKEN = re.compile(r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)|\'\'\'.*?(?:\'\'\'|\Z)'
                          r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"?|\'[^\'\r\n]*\'?|#[^\r\n]*|[\[\]{}]', re.S)


def too_deep(text: str, limit: int = MAX_NESTING) -> Position | None:
    """Where arrays or inline tables nest deeper than `limit` (strings and comments skipped),
    or None. `tomllib` parses nesting by recursion: a deep file would raise RecursionError."""
    depth = 0
    for m in _DEPTH_TOKEN.finditer(text):
        c = m.group(0)
        if c in "[{":
            depth += 1
            if depth > limit:
                return position_of(text, m.start())
        elif c in "]}":
            depth = max(0, depth - 1)
    return None


def position_of(text: str, offset: int) -> Position:
    """The (line, character) of `offset`, lines ending at `\r\n`, `\r` or `\n`."""
    starts = [0] + [m.end() for m in _BREAK.finditer(text, 0, offset)]
    return Position(len(starts) - 1, offset - starts[-1])


def newline_of(text: str | None) -> str:
    """The line break `text` uses (its first one), `\n` when it has none."""
    m = _BREAK.search(text or "")
    return m.group(0) if m else "\n"


def table_lines(text: str, table: str) -> tuple[int, int] | None:
    """(header line, last non-blank line) of `[table]`; (-1, last) for the top level."""
    header, last, current = None, None, ""
    if table == "":
        header = -1
    for i, line in enumerate(_lines(text)):
        m = _HEADER.match(line)
        if m:
            current = m.group(1).strip()
            if current == table:
                header, last = i, i
            continue
        if current == table and header is not None and line.strip() and not line.strip().startswith("#"):
            last = i
    if header is None:
        return None
    return header, (last if last is not None else header)


def find_key(text: str, dotted: str) -> tuple[Range, Range] | None:
    """(key range, value range) of `table.key`, or None when the key is not written."""
    *tables, key = dotted.split(".")
    table, current = ".".join(tables), ""
    for i, line in enumerate(_lines(text)):
        m = _HEADER.match(line)
        if m:
            current = m.group(1).strip()
            continue
        k = _KEY.match(line)
        if k and current == table and _unquote(k.group(1)) == key:
            start = line.index(k.group(1))
            value_end = len(line.split("#", 1)[0].rstrip()) if "#" in line else len(line.rstrip())
            return (Range.of(i, start, i, start + len(k.group(1))),
                    Range.of(i, k.end(), i, max(value_end, k.end())))
    return None


def set_key(text: str | None, dotted: str, value: str) -> tuple[Range, str]:
    """The edit (range to replace, new text) that makes `table.key = value` true in `text`:
    the value replaced where the key is written, else the key added at the end of its
    table, else the table appended (`text` None or empty: a new file). New lines end as
    the text's do."""
    *tables, key = dotted.split(".")
    table = ".".join(tables)
    nl = newline_of(text)
    if not text:
        return Range.of(0, 0, 0, 0), (f"[{table}]{nl}" if table else "") + f"{key} = {value}{nl}"
    found = find_key(text, dotted)
    if found is not None:
        return found[1], value
    lines = _lines(text)
    ends_with_break = text.endswith(("\n", "\r"))
    where = table_lines(text, table)
    if where is not None and where[1] >= 0:
        last = where[1]
        if last + 1 >= len(lines) or (last + 1 == len(lines) - 1 and lines[-1] == "" and not ends_with_break):
            end = Position(last, len(lines[last]))
            return Range(end, end), f"{nl}{key} = {value}"
        at = Position(last + 1, 0)
        return Range(at, at), f"{key} = {value}{nl}"
    end = Position(len(lines) - 1, len(lines[-1]))
    sep = nl if ends_with_break else nl * 2
    return Range(end, end), f"{sep}[{table}]{nl}{key} = {value}{nl}" if table else f"{sep}{key} = {value}{nl}"


def table_at(text: str, line: int) -> str:
    """The table in force on `line` (0-based): the last `[header]` at or above it, "" for the top level."""
    current = ""
    for i, line_text in enumerate(_lines(text)):
        if i > line:
            break
        m = _HEADER.match(line_text)
        if m:
            current = m.group(1).strip()
    return current


def keys_in(text: str, table: str) -> list[str]:
    """The keys written in `[table]` ("" for the top level), unquoted, in order."""
    keys, current = [], ""
    for line_text in _lines(text):
        m = _HEADER.match(line_text)
        if m:
            current = m.group(1).strip()
            continue
        k = _KEY.match(line_text)
        if k and current == table:
            keys.append(_unquote(k.group(1)))
    return keys
