"""How fast the shared machine runs right now: a fixed pure-Python loop, timed between
measurements. Its best time in the run is the reference, so each case can say how much
slower than its best the machine was while it was measured (other jobs share the cores)."""
from __future__ import annotations

import statistics
import time

_best = [float("inf")]


def reference_ms() -> float:
    t = time.perf_counter()
    s = 0
    for i in range(200_000):
        s += i
    ms = (time.perf_counter() - t) * 1000
    _best[0] = min(_best[0], ms)
    return ms


def calibrate(n: int = 20) -> None:
    for _ in range(n):
        reference_ms()


def slowdown(samples: list[float]) -> str:
    """`1/1.45`: the machine ran at that fraction of its best speed during `samples`."""
    return f"1/{statistics.median(samples) / _best[0]:.2f}"
