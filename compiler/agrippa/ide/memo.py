"""What the IDE features derive from one analysis (a tensor index, the names in scope),
made once and dropped with the analysis.

Entries are found by the analysis object itself (`is`), held through a weak reference:
a memo never keeps an analysis, or the graph it came with, alive.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from agrippa.sema.analysis import Analysis

T = TypeVar("T")
MAX_ANALYSES = 8  # live analyses with a memo (current, symbolic and just-replaced ones)
MAX_ENTRIES = 32  # derived values per analysis (one per file for the names in scope)


class Memo:
    """A per-analysis cache of derived values: `memo.get(analysis, fn, *args)` is
    `fn(analysis, *args)`, computed once while the analysis lives."""

    def __init__(self) -> None:
        self._slots: list[tuple[weakref.ref[Analysis], dict[Hashable, Any]]] = []
        self._lock = threading.RLock()  # a weakref callback may run inside

    def __len__(self) -> int:
        """The number of analyses with derived values kept."""
        with self._lock:
            return sum(ref() is not None for ref, _ in self._slots)

    def _slot(self, analysis: Analysis) -> dict[Hashable, Any]:
        with self._lock:
            for ref, values in self._slots:
                if ref() is analysis:
                    return values
            values: dict[Hashable, Any] = {}
            self._slots.append((weakref.ref(analysis, self._forget), values))
            if len(self._slots) > MAX_ANALYSES:
                del self._slots[0]
            return values

    def _forget(self, dead: weakref.ref[Analysis]) -> None:
        with self._lock:
            self._slots = [s for s in self._slots if s[0] is not dead]

    def get(self, analysis: Analysis, fn: Callable[..., T], *args: Hashable) -> T:
        values = self._slot(analysis)
        key = (fn, args)
        if key in values:
            return values[key]
        value = fn(analysis, *args)  # outside the lock: two racing callers both compute
        if len(values) >= MAX_ENTRIES:
            values.clear()
        values[key] = value
        return value
