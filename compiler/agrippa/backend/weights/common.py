"""What every part of weight-file reading and writing shares: the types, the limits and
the one error they raise."""
from __future__ import annotations

import os
import reprlib
from typing import Any

import numpy as np

from agrippa.base.text import clip
from agrippa.project.pickle_budget import DEFAULT_MAX_BYTES, SLACK  # shared with the header reader

__all__ = ["DEFAULT_MAX_BYTES", "SLACK", "StrPath", "Weights", "WeightsError", "checked_dims", "native_copy", "short"]

Weights = dict[str, np.ndarray]
StrPath = str | os.PathLike[str]


class WeightsError(Exception):
    """A weights file could not be read or written safely."""


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 3, 60, 60, 40
_REPR.maxtuple = _REPR.maxlist = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 4


def short(obj: Any) -> str:
    """A bounded repr of `obj` for a message (a few levels and items: a file's objects may be
    DAGs of 2^60 items), clipped to 80 characters."""
    try:
        return clip(_REPR.repr(obj), 80)
    except Exception:
        return f"<{type(obj).__name__}>"


def checked_dims(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or len(value) > 64 or not all(
        type(d) is int and d >= 0 for d in value
    ):
        raise WeightsError(f"malformed {what}: {short(value)}")
    return tuple(value)


def native_copy(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="K", copy=True)
