"""Parameter init kinds (LANGUAGE.md §6): part of the language, so they live here.

The checker validates `init`/`init_args` against this table; the back end
(`backend/initializers.py`) draws the values; shape inference reads the value of a frozen
parameter whose kind draws nothing (`fixed_fill`).
"""
from __future__ import annotations

import math

INIT_KINDS = {"xavier": 0, "normal": 2, "uni_random": 2, "ones": 0, "zeros": 0, "constant": 1}
"""Each init kind with the number of init_args it takes (normal/uni_random: 0 or 2)."""
DEFAULT_INIT = "xavier"
"""The init kind of a `<params>` without `init`."""
FIXED_KINDS = {"ones": 1, "zeros": 0}
"""The kinds whose every entry is one known number (with `constant`, its one init_arg)."""


def fixed_fill(init: str, init_args: tuple) -> int | float | None:
    """The number every entry of a fresh value equals, as the back end fills it: 1 for
    `ones`, 0 for `zeros`, the one init_arg of `constant`; None for the random kinds and
    for arguments that are not one finite number (unbound names, a wrong count)."""
    fixed = FIXED_KINDS.get(init)
    if fixed is not None:
        return fixed
    if init != "constant" or len(init_args) != 1:
        return None
    try:
        v = float(init_args[0])  # as backend/initializers.py reads it
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def count_items(text: str) -> int | None:
    """How many items a bracketed list such as `init_args` holds (None: not a list)."""
    s = text.strip()
    if not (s.startswith("[") and s.endswith("]")):
        return None
    inner = s[1:-1].strip()
    if not inner:
        return 0
    depth, n = 0, 1
    for c in inner:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            n += 1
    return n
