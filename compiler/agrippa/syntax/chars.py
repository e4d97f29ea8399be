"""Characters that need a word from the scanner.

- The byte order mark U+FEFF at the start of a file is skipped (a UTF-8 BOM is common
  from Windows editors; the project reader drops it from files on disk already).
- Characters XML does not allow (lone surrogates, C0 controls other than tab and line
  breaks, U+FFFE and U+FFFF) are errors. A lone surrogate cannot be written as UTF-8
  (ONNX names, JSON, a terminal), so it is read as U+FFFD, which keeps every offset.
- Bidirectional controls are warned about: they make text display differently from how
  it is read (the "Trojan Source" attack), and in a name they hide what a name is.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from agrippa.base.diagnostics import Severity
from agrippa.syntax.tree import ENTITY_RE

BOM = "\ufeff"
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f" + _SURROGATES + "\ufffe\uffff"
_SPECIAL_RE = re.compile(f"[{_NOT_XML}{_BIDI}]")
_BIDI_RE = re.compile(f"[{_BIDI}]")
_SURROGATE_RE = re.compile(f"[{_SURROGATES}]")

_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
Report = Callable[..., bool]
"""report(start, end, code, message, severity, times=1): False once the file's diagnostics
are at their cap (then `times` more are only counted)."""


def has_special(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether text[start:end] holds a character this module reports."""
    return _SPECIAL_RE.search(text, start, len(text) if end is None else end) is not None


def describe(c: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, `U+D800 (a lone surrogate)`."""
    code = f"U+{ord(c):04X}"
    if 0xD800 <= ord(c) <= 0xDFFF:
        return f"{code} (a lone surrogate)"
    name = unicodedata.name(c, "")
    return f"{code} {name}" if name else code


def is_xml_char(code: int) -> bool:
    """XML 1.0's Char production."""
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def bidi_message(c: str) -> str:
    return (f"bidirectional control character {describe(c)}: the text may display differently "
            "from how it is read (Trojan Source); remove it")


def reference(code: int, start: int, end: int, report: Report) -> str:
    """The character a reference `&#...;` stands for, reported when XML forbids it (then
    U+FFFD) or when it is a bidirectional control."""
    if not is_xml_char(code):
        what = describe(chr(code)) if code <= 0x10FFFF else f"U+{code:X}"
        report(start, end, "xml-bad-char", f"the reference stands for {what}, which XML does not allow; "
                                           "it is read as U+FFFD", Severity.ERROR)
        return "\ufffd"
    c = chr(code)
    if _BIDI_RE.match(c):
        report(start, end, "bidi-control", bidi_message(c), Severity.WARNING)
    return c


def check_text(text: str, report: Report) -> str:
    """Report each special character of `text`; returns the text with lone surrogates
    replaced by U+FFFD (the same length, so offsets still hold)."""
    if _SPECIAL_RE.search(text) is None:
        return text
    for m in _SPECIAL_RE.finditer(text):
        c, i = m.group(), m.start()
        if _BIDI_RE.match(c):
            report(i, i + 1, "bidi-control", bidi_message(c), Severity.WARNING)
        else:
            report(i, i + 1, "xml-bad-char", f"{describe(c)} is not a character XML allows", Severity.ERROR)
    return _SURROGATE_RE.sub("\ufffd", text)


def decode(raw: str, offset: int, report: Report) -> str:
    """`raw` (text or an attribute value, at `offset`) with its references replaced: the
    five predefined entities and character references. Other entities are never
    expanded; they and malformed references are reported and kept as written."""
    out = []
    pos = 0
    while (m := ENTITY_RE.search(raw, pos)) is not None:
        out.append(raw[pos:m.start()])
        ent = m.group(1)
        start, end = offset + m.start(), offset + m.end()
        if not m.group(0).endswith(";"):
            report(start, end, "xml-syntax", f"'&{ent}' needs a ';' (write '&amp;' for a literal '&')", Severity.ERROR)
            out.append(m.group(0))
        elif ent.startswith("#"):
            try:
                out.append(reference(int(ent[2:], 16) if ent[1] == "x" else int(ent[1:]), start, end, report))
            except (ValueError, OverflowError):
                report(start, end, "xml-syntax", f"invalid character reference '&{ent};'", Severity.ERROR)
        elif ent in _PREDEFINED:
            out.append(_PREDEFINED[ent])
        else:
            message = f"unknown entity '&{ent};': entities are never expanded"
            if not report(start, end, "xml-entity", message, Severity.ERROR):  # a flood: count its run at once
                run = re.compile(f"(?:{re.escape(m.group(0))})*").match(raw, m.end()).end()
                report(start, end, "xml-entity", message, Severity.ERROR, (run - m.end()) // len(m.group(0)))
                pos = run
                continue
        pos = m.end()
    out.append(raw[pos:])
    return "".join(out)
