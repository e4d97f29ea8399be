"""Process-wide tuning for the long-lived front doors (the CLI, the language server)."""
from __future__ import annotations

import gc

_TUNED = False


def tune_gc(thresholds: tuple[int, int, int] = (50_000, 20, 100)) -> None:
    """Collect less often: an analysis allocates ~10^5 small objects, and CPython's default
    thresholds then rescan the whole heap (sympy, the op catalog) many times per analysis.
    Objects that exist now (imported libraries) are frozen out of future collections."""
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
