"""Positions in `agrippa.toml` text, and edits to it: one scanner for every reader.

`tomllib` gives values without positions; diagnostics and quick fixes need lines and
columns. This scanner knows the few forms a project's config uses: `[table]` and
`[a.b]` headers (with or without a trailing comment) and `key = value` lines.
"""
from __future__ import annotations

import re

from agrippa.base.diagnostics import Position, Range

_HEADER = re.compile(r"\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)\s*=\s*")


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def _lines(text: str) -> list[str]:
    return text.split("\n")


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
    table, else the table appended (`text` None or empty: a new file)."""
    *tables, key = dotted.split(".")
    table = ".".join(tables)
    if not text:
        return Range.of(0, 0, 0, 0), (f"[{table}]\n" if table else "") + f"{key} = {value}\n"
    found = find_key(text, dotted)
    if found is not None:
        return found[1], value
    lines = _lines(text)
    where = table_lines(text, table)
    if where is not None and where[1] >= 0:
        last = where[1]
        if last + 1 >= len(lines) or (last + 1 == len(lines) - 1 and lines[-1] == "" and not text.endswith("\n")):
            end = Position(last, len(lines[last]))
            return Range(end, end), f"\n{key} = {value}"
        at = Position(last + 1, 0)
        return Range(at, at), f"{key} = {value}\n"
    end = Position(len(lines) - 1, len(lines[-1]))
    sep = "\n" if text.endswith("\n") else "\n\n"
    return Range(end, end), f"{sep}[{table}]\n{key} = {value}\n" if table else f"{sep}{key} = {value}\n"
