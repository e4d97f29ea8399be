"""Small text utilities: how much two versions of a text share at their start and end,
and clipping a text shown in a message.

An edit replaces one span; its bounds are the common prefix and the common suffix of
the text before and after. Both are found by comparing chunks first (quick on
megabyte texts), then character by character.
"""
from __future__ import annotations

_CHUNK = 4_096


def common_prefix(x: str, y: str) -> int:
    """The length of the longest common prefix of `x` and `y`."""
    n = min(len(x), len(y))
    i = 0
    while i + _CHUNK <= n and x[i:i + _CHUNK] == y[i:i + _CHUNK]:
        i += _CHUNK
    while i < n and x[i] == y[i]:
        i += 1
    return i


def common_suffix(x: str, y: str, limit: int | None = None) -> int:
    """The length of the longest common suffix of `x` and `y`, at most `limit`."""
    lx, ly = len(x), len(y)
    if limit is None:
        limit = min(lx, ly)
    i = 0
    while i + _CHUNK <= limit and x[lx - i - _CHUNK:lx - i] == y[ly - i - _CHUNK:ly - i]:
        i += _CHUNK
    while i < limit and x[lx - i - 1] == y[ly - i - 1]:
        i += 1
    return i


def common_ends(old: str, new: str) -> tuple[int, int]:
    """(prefix, suffix): the lengths of the common prefix and of the common suffix that
    does not overlap it; `old[prefix:len(old) - suffix]` is what the edit replaced."""
    a = common_prefix(old, new)
    return a, common_suffix(old, new, min(len(old), len(new)) - a)


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit - 3` characters and "..." when it is longer than `limit`."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


# -- decoding and line breaks ------------------------------------------------------------------
UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}

LINE_BREAK = "\r\n|\r|\n"
"""The line breaks LSP knows (and XML normalises): no form feed, U+0085 or U+2028."""


def decode_source(data: bytes) -> tuple[str | None, str | None]:
    """The text of a markup file's bytes, or None and why not. A UTF-8 byte order mark is
    dropped (editors drop it too, so positions agree); UTF-16 text is refused by name."""
    for bom, name in _UTF16_BOMS.items():
        if data.startswith(bom):
            return None, f"the file is {name} text; Agrippa reads UTF-8: save it as UTF-8"
    if data[:2] in (b"<\x00", b"\x00<"):
        return None, "the file looks like UTF-16 text (no byte order mark); save it as UTF-8"
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, f"the file is not UTF-8 text (byte {e.start} is not valid UTF-8)"
