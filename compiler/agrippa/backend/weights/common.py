"""What every part of weight-file reading and writing shares: the types, the limits and
the one error they raise."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from agrippa.base.text import clip

Weights = dict[str, np.ndarray]
StrPath = str | os.PathLike[str]

DEFAULT_MAX_BYTES = 4 * 1024**3
SLACK = 64 * 1024**2
"""Array data a pickle may yield beyond four times its size."""


class WeightsError(Exception):
    """A weights file could not be read or written safely."""


def short(obj: Any) -> str:
    """The repr of `obj` for a message, clipped to 80 characters."""
    return clip(repr(obj), 80)


def checked_dims(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or len(value) > 64 or not all(
        type(d) is int and d >= 0 for d in value
    ):
        raise WeightsError(f"malformed {what}: {short(value)}")
    return tuple(value)


def native_copy(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="K", copy=True)
