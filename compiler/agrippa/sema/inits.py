"""Parameter init kinds (LANGUAGE.md §6): part of the language, so they live here.

The checker validates `init`/`init_args` against this table; the back end
(`backend/initializers.py`) draws the values.
"""
from __future__ import annotations

INIT_KINDS = {"xavier": 0, "normal": 2, "uni_random": 2, "ones": 0, "zeros": 0, "constant": 1}
"""Each init kind with the number of init_args it takes (normal/uni_random: 0 or 2)."""
DEFAULT_INIT = "xavier"
"""The init kind of a `<params>` without `init`."""
