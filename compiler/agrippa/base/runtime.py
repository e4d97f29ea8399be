"""Process-wide tuning for the long-lived front doors (the CLI, the language server)."""
from __future__ import annotations

import gc

_TUNED = False


def tune_gc(thresholds: tuple[int, int, int] = (200_000, 20, 100)) -> None:
    """Collect less often: an analysis allocates ~10^5 small objects, and CPython's default
    thresholds then rescan them many times per analysis. Analyses hold no reference
    cycles (a replaced one is freed by reference counting), so the cyclic collector only
    meets libraries' leftovers and can run rarely. Objects that exist now (imported
    libraries) are frozen out of future collections."""
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def one_shot() -> None:
    """A process that analyses once and exits (`agrippa check`): the cyclic collector is
    turned off. An analysis holds no reference cycles, so it would only rescan the
    millions of objects a large model makes, finding nothing to free."""
    gc.disable()
