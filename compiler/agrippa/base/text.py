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
