"""What the cursor is on in `agrippa.toml`, and what the documentation says of it.

The table in force and the keys already written come from `project.toml_text`, the one
scanner of the file; the cursor's own line, maybe half typed, is read here: a `[header]`
name, a key, or a value (also inside an inline table or an array). The documentation is
`project.toml_docs`' key list, the data the shipped JSON Schema is generated from.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agrippa.base.diagnostics import Position, Range
from agrippa.project.config import CONFIG_FNAME
from agrippa.project.toml_docs import BINDING, TABLES
from agrippa.project.toml_text import keys_in, split_lines, table_at
from agrippa.project.train_keys import KeySpec

TABLE, KEY, VALUE = "table", "key", "value"  # Spot.kind
DOCS = Path(__file__).resolve().parents[3] / "docs"  # present in a source checkout
_TOKEN = re.compile(r"""\s+|#.*|"(?:\\.|[^"\\])*"?|'[^']*'?|[\[\]{}=,]|[^\s\[\]{}=,#"']+""")
_PUNCT = frozenset("[]{}=,")
_Tok = tuple[str, int, int]  # text, start, end on the line


def is_config(path: str) -> bool:
    """Whether `path` is a project's `agrippa.toml`."""
    return os.path.basename(path) == CONFIG_FNAME


# -- the documentation ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TableDoc:
    """A table of agrippa.toml: its documentation and its keys (any name, for bindings)."""

    name: str  # dotted: "train", "profiles.small", "train.early_stopping"
    doc: str
    keys: tuple[KeySpec, ...] = ()
    bindings: bool = False  # its keys are bindings: name = number


def table_doc(table: str) -> TableDoc | None:
    """The documentation of `[table]`, or None for a table agrippa.toml does not have."""
    head, _, rest = table.partition(".")
    for name, doc, keys in TABLES:
        if name != head:
            continue
        if name == "profiles" and rest and "." not in rest:
            return TableDoc(table, f"the bindings profile `{rest}`, layered over [bindings]", bindings=True)
        if not rest:
            return TableDoc(table, doc, keys, bindings=name == "bindings")
        sub = next((k for k in keys if k.name == rest and k.keys), None)  # [train.early_stopping]
        return TableDoc(table, sub.doc, sub.keys) if sub is not None else None
    return None


def key_spec(table: str, key: str) -> KeySpec | None:
    """The spec of `key` (maybe dotted) written in `[table]`; bindings get the binding spec."""
    *heads, name = key.split(".")
    t = table_doc(".".join(p for p in (table, *heads) if p))
    if t is None or not name:
        return None
    if t.bindings:
        return dataclasses.replace(BINDING, name=name, doc=BINDING.doc.replace("NAME", name))
    return next((k for k in t.keys if k.name == name), None)


def choices_of(spec: KeySpec) -> tuple[Any, ...]:
    """The values a key allows (for an array: its items'), () when any value of its type goes."""
    if spec.choices:
        return spec.choices
    for alt in spec.schema.get("anyOf", ()):
        if "enum" in alt:
            return tuple(alt["enum"])
    return tuple(spec.schema.get("items", {}).get("enum", ()))


def doc_link(table: str) -> tuple[str, str] | None:
    """(label, file URL) of the documentation of `[table]`, when the docs are at hand."""
    head = table.partition(".")[0]
    if head == "train":
        label, name, anchor = "docs/train.md", "train.md", ""
    elif table_doc(head) is not None:
        label, name, anchor = "docs/language.md §9.5", "language.md", "#s9-config"
    else:
        return None
    path = DOCS / name
    return (label, path.as_uri() + anchor) if path.is_file() else None


# -- the cursor ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spot:
    """What the cursor is on in agrippa.toml."""

    kind: str  # TABLE (a [header]'s name), KEY or VALUE
    table: str  # TABLE: the dotted name up to the part at the cursor; else the table the key is in
    key: str  # KEY: the key at the cursor ("" when none is typed yet); VALUE: whose value it is
    range: Range  # TABLE, KEY: the part of the name at the cursor; VALUE: the value (inside its quotes)
    prefix: str  # what of the name or value is before the cursor
    name_range: Range | None = None  # TABLE: the whole dotted name
    closed: bool = True  # TABLE: the header has its `]`; quoted VALUE: the string its closing quote
    quoted: bool = False  # VALUE: the cursor is inside a string
    in_array: bool = False  # VALUE: an item of an array
    has_value: bool = False  # KEY: an `=` follows on the line
    present: tuple[str, ...] = ()  # keys already written in the table, but the one at the cursor
    value: str = ""  # VALUE: the value's text (without quotes)


def lines_of(text: str) -> list[str]:
    """The lines of `text` as LSP and `project.toml_text` count them (at \\r\\n, \\r, \\n)."""
    return split_lines(text)


def spot_at(text: str, pos: Position) -> Spot | None:
    """What is at `pos` (code points) of agrippa.toml's `text`, or None: a comment, a blank
    after a complete value, a line of another form."""
    lines = lines_of(text)
    if not 0 <= pos.line < len(lines):
        return None
    line = lines[pos.line]
    col = min(max(pos.character, 0), len(line))
    toks = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(line) if not m.group().isspace()]
    if toks and toks[-1][0].startswith("#"):
        if toks[-1][1] < col:
            return None  # in a comment
        toks.pop()
    if toks and toks[0][0] == "[":
        return _header(line, col, pos.line)
    eq = next((t for t in toks if t[0] == "="), None)
    table = table_at(text, pos.line)
    if eq is None or col <= eq[1]:
        return _key(toks, col, pos.line, table, keys_in(text, table), eq is not None)
    return _value(toks, toks.index(eq), col, pos.line, table)


def _header(line: str, col: int, ln: int) -> Spot | None:
    start = re.match(r"\s*\[\[?", line).end()  # type: ignore[union-attr]
    end = start + len(re.match(r"[^\]#]*", line[start:]).group())  # type: ignore[union-attr]
    closed = line[end:end + 1] == "]"
    if not line.index("[") <= col <= (end + 1 if closed else len(line)):
        return None
    raw = line[start:end]
    a, b = start + len(raw) - len(raw.lstrip()), start + len(raw.rstrip())
    if b < a:  # nothing typed yet
        a = b = min(max(col, start), end)
    name, rel = line[a:b], min(max(col - a, 0), b - a)
    seg_start = name.rfind(".", 0, rel) + 1
    seg_end = name.find(".", rel)
    seg_end = len(name) if seg_end < 0 else seg_end
    return Spot(TABLE, name[:seg_end], "", Range.of(ln, a + seg_start, ln, a + seg_end), name[:rel],
                name_range=Range.of(ln, a, ln, b), closed=closed)


def _unquote(s: str) -> str:
    if s[:1] in "\"'":
        return s[1:-1] if len(s) > 1 and s[-1] == s[0] else s[1:]
    return s


def _is_value(t: _Tok) -> bool:
    return t[0] not in _PUNCT


def _key(toks: list[_Tok], col: int, ln: int, table: str, written: list[str], has_value: bool) -> Spot | None:
    """The key at `col` among `toks` (the key's part of a line), dotted keys resolved to their table."""
    word = next((t for t in toks if _is_value(t) and t[1] <= col <= t[2]), None)
    if word is None:
        if any(_is_value(t) and t[2] < col for t in toks):
            return None  # after a key, before its `=`
        return Spot(KEY, table, "", Range.of(ln, col, ln, col), "", present=tuple(written), has_value=has_value)
    text, rel = word[0], col - word[1]
    head, dot, _ = text[:rel].rpartition(".")
    a = len(head) + 1 if dot else 0
    b = text.find(".", rel)
    b = len(text) if b < 0 else b
    if dot:
        table = ".".join(p for p in (table, head) if p)
    key = _unquote(text[a:b])
    present = list(written)
    if has_value and _unquote(text) in present:
        present.remove(_unquote(text))
    return Spot(KEY, table, key, Range.of(ln, word[1] + a, ln, word[1] + b), text[a:rel],
                present=tuple(present), has_value=has_value)


def _value(toks: list[_Tok], eq: int, col: int, ln: int, table: str) -> Spot | None:
    """The value at `col` after the `=` at toks[eq], inside inline tables and arrays too."""
    stack: list[int] = []  # the `{` and `[` open before the cursor
    last = eq  # the last `=`, `,` or opener before the cursor
    for i in range(eq + 1, len(toks)):
        t = toks[i][0]
        if toks[i][1] >= col:
            break
        if t in "{[":
            stack.append(i)
        elif t in "}]" and stack and toks[stack[-1]][0] == "{["["}]".index(t)]:
            stack.pop()
        if t in "{[=,":
            last = i
    # the keys from the line's to the value's: `es = { metric = ‸` is es.metric
    path = [_unquote(toks[eq - 1][0]) if eq > 0 and _is_value(toks[eq - 1]) else ""]
    path += [_unquote(toks[j - 2][0]) for j in stack if j - 1 != eq and toks[j - 1][0] == "=" and _is_value(toks[j - 2])]
    in_table = bool(stack) and toks[stack[-1]][0] == "{"
    if in_table and toks[last][0] != "=":  # an inline table's key
        entry = toks[last + 1:]
        cut = next((i for i, t in enumerate(entry) if t[0] in "=,}]{["), len(entry))
        has_value = cut < len(entry) and entry[cut][0] == "="
        written = _inline_keys(toks, stack[-1])
        if has_value and cut and _unquote(entry[cut - 1][0]) in written:
            written.remove(_unquote(entry[cut - 1][0]))
        return _key(entry[:cut], col, ln, ".".join(p for p in (table, *path) if p), written, has_value)
    if in_table:
        path.append(_unquote(toks[last - 1][0]) if _is_value(toks[last - 1]) else "")
    table = ".".join(p for p in (table, *path[:-1]) if p)
    key, in_array = path[-1], bool(stack) and not in_table
    at = next((t for t in toks[last + 1:] if _is_value(t) and t[1] <= col <= t[2]), None)
    if at is None:
        if any(_is_value(t) and t[2] < col for t in toks[last + 1:]):
            return None  # after a complete value
        return Spot(VALUE, table, key, Range.of(ln, col, ln, col), "", in_array=in_array)
    text, start, end = at
    if text[:1] in "\"'" and start < col:
        closed = len(text) > 1 and text[-1] == text[0]
        inner_end = end - 1 if closed else end
        if col <= inner_end:
            return Spot(VALUE, table, key, Range.of(ln, start + 1, ln, inner_end), text[1:col - start], closed=closed,
                        quoted=True, in_array=in_array, value=_unquote(text))
    return Spot(VALUE, table, key, Range.of(ln, start, ln, end), text[:col - start], in_array=in_array,
                value=_unquote(text))


def _inline_keys(toks: list[_Tok], brace: int) -> list[str]:
    """The keys written in the inline table opened at toks[brace]."""
    keys: list[str] = []
    depth = 0
    for i in range(brace + 1, len(toks)):
        t = toks[i][0]
        if t in "{[":
            depth += 1
        elif t in "}]":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and t == "=" and _is_value(toks[i - 1]):
            keys.append(_unquote(toks[i - 1][0]))
    return keys
