"""Did-you-mean: the one suggester every diagnostic and fix uses (and the one
subsequence filter for searches and completion).

`suggest(word, candidates)` ranks candidates by similarity (difflib's ratio, case
folded), prefers a case-insensitive exact match, then, among equally close ones, the
one that starts like what was typed ("Ad" → Add, not Pad), then the earlier candidate.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

CUTOFF = 0.6
"""How alike a candidate must be (difflib ratio, 0..1) to be suggested."""
MAX_WORD = 64
"""Longer words get no suggestion (ratio is quadratic, and such a word is no typo)."""


def suggest(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = CUTOFF) -> list[str]:
    """Up to `n` candidates close to `word`, best first."""
    if not word or len(word) > MAX_WORD:
        return []
    key = word.lower()
    firsts: dict[str, tuple[int, str]] = {}
    for i, c in enumerate(candidates):
        firsts.setdefault(c.lower(), (i, c))
    scored = []
    for low, (i, c) in firsts.items():
        if low == key:
            scored.append((2.0, 0, -i, c))
            continue
        m = difflib.SequenceMatcher(None, key, low)
        if m.real_quick_ratio() < cutoff or m.quick_ratio() < cutoff:
            continue
        r = m.ratio()
        if r >= cutoff:
            scored.append((round(r, 3), len(os.path.commonprefix([key, low])), -i, c))
    scored.sort(reverse=True)
    return [c for *_, c in scored[:n]]


def closest(word: str, candidates: Iterable[str], cutoff: float = CUTOFF) -> str | None:
    """The single best suggestion, or None."""
    best = suggest(word, candidates, 1, cutoff)
    return best[0] if best else None


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = CUTOFF) -> str:
    """"; did you mean 'x'?" (or "'x' or 'y'"), or "" when nothing is close."""
    close = suggest(word, candidates, n, cutoff)
    if not close:
        return ""
    quoted = [f"'{c}'" for c in close]
    return "; did you mean " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]) + "?"


def is_subsequence(typed: str, name: str) -> bool:
    """Every character of `typed` appears in `name` in order, case folded ("wq" → "W_q"):
    how editors filter symbol searches and completions."""
    it = iter(name.lower())
    return all(c in it for c in typed.lower())
