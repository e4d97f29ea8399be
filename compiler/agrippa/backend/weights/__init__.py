"""Read and write Agrippa weight files without running code from them.

Weights map a parameter name (``"W$1"``, ``"enc$W$3"``) to a numpy array.
``weights.pkl`` files are read by a restricted unpickler that only rebuilds
numpy arrays and torch tensors (the latter without importing torch); any other
name a pickle asks for is refused with :class:`WeightsError`.

Limits: files over ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`, 4 GiB) are
refused, and the arrays a pickle yields may total at most four times the file's
size plus 64 MiB, so a small file cannot expand into a huge one through shared,
broadcast or compressed storage. Arrays come back as fresh, writable,
native-byte-order copies; torch bfloat16 tensors become float32. safetensors files store
bfloat16 (BF16, ml_dtypes' type) as it is. `agrippa check` reads only the shapes
(`agrippa.project.weights_header`), never the data.

The pickle reader and writer are in `pickles.py` (torch's formats in `torch_formats.py`,
the objects a pickle may build in `inert.py`), safetensors in `safetensors_io.py`, atomic
replacement in `atomic.py`; every public name is importable from here.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agrippa.backend.weights.atomic import atomic_write_bytes, atomic_writer, clean_stale_temps
from agrippa.backend.weights.common import DEFAULT_MAX_BYTES, StrPath, Weights, WeightsError
from agrippa.backend.weights.pickles import load_pickle_weights, write_pickle_weights
from agrippa.backend.weights.safetensors_io import (
    load_safetensors_weights,
    write_safetensors_weights,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Weights",
    "WeightsError",
    "atomic_write_bytes",
    "atomic_writer",
    "clean_stale_temps",
    "load_pickle_weights",
    "load_safetensors_weights",
    "load_weights",
    "save_weights",
    "write_pickle_weights",
    "write_safetensors_weights",
]

_PICKLE_SUFFIXES = (".pkl", ".pickle")
_SAFETENSORS_SUFFIXES = (".safetensors",)


def load_weights(path: StrPath, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Weights:
    """Read weights, choosing the format by suffix (.pkl/.pickle or .safetensors)."""
    suffix = Path(path).suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        return load_pickle_weights(path, max_bytes=max_bytes)
    if suffix in _SAFETENSORS_SUFFIXES:
        return load_safetensors_weights(path, max_bytes=max_bytes)
    raise WeightsError(f"{Path(path).name}: unknown weights format {suffix!r} "
                       "(expected .pkl, .pickle or .safetensors)")


def save_weights(path: StrPath, weights: Mapping[str, Any]) -> None:
    """Write weights, choosing the format by suffix (.pkl/.pickle or .safetensors)."""
    suffix = Path(path).suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        write_pickle_weights(path, weights)
    elif suffix in _SAFETENSORS_SUFFIXES:
        write_safetensors_weights(path, weights)
    else:
        raise WeightsError(f"{Path(path).name}: unknown weights format {suffix!r} "
                           "(expected .pkl, .pickle or .safetensors)")
