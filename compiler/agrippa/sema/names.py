"""The naming rule: which names a file may define (outputs, parameters, sourced blocks).

A plain name is letters, digits, `_` and `-`, not starting with a digit. `.` is never
allowed; `$` only joins a sourced block's name to the names it defines (`enc$x`), which
the expander writes, not the user. The checker warns or errors through these predicates,
and rename refuses a new name through the same ones.
"""
from __future__ import annotations

import re

PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
RESERVED = (".", "$")
"""Characters a written name must not hold, in the order they are reported."""


def reserved_char(name: str) -> str | None:
    """The first reserved character `name` holds (`.` before `$`), or None."""
    return next((c for c in RESERVED if c in name), None)


def is_plain_name(name: str) -> bool:
    """`name` is letters, digits, `_` and `-`, not starting with a digit."""
    return PLAIN_NAME.fullmatch(name) is not None
