"""The work a pickle may ask for, counted before it is unpickled: the scan lives in
`agrippa.project.pickle_budget` (the shapes-only header reader shares it); here its
refusal becomes the weights readers' `WeightsError`."""
from __future__ import annotations

from typing import IO

from agrippa.backend.weights.common import WeightsError
from agrippa.project.pickle_budget import MAX_OBJECTS, MAX_WEIGHT, MAX_WORK, PickleRefused, Scan
from agrippa.project.pickle_budget import check_budget as _scan

__all__ = ["MAX_OBJECTS", "MAX_WEIGHT", "MAX_WORK", "Scan", "check_budget"]


def check_budget(file: IO[bytes], name: str) -> None:
    """Raise WeightsError if unpickling the pickle at `file`'s position would cost more
    than the budget (the file is left where it was)."""
    try:
        _scan(file, name)
    except PickleRefused as e:
        raise WeightsError(str(e)) from None
