"""The resume checkpoint: parameters, optimizer state, step, RNG states (CPU and CUDA),
the gradient scaler and early stopping, written atomically (fsdp: sharding.py).

Read back with `torch.load(weights_only=True)`: tensors and plain containers only, so
loading never runs code from the file.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from agrippa.backend.weights import atomic_writer

FORMAT = 1


def signature(params: Mapping[str, torch.Tensor]) -> list[list[Any]]:
    return [[name, list(t.shape)] for name, t in sorted(params.items())]


def save_checkpoint(path: str, *, params: Mapping[str, torch.Tensor],
                    optimizer: torch.optim.Optimizer, meta: Mapping[str, Any]) -> None:
    """`meta`: step, finished, elapsed, signature, RNG states, scaler, early stopping."""
    state = {"format": FORMAT, **meta,
             "params": {k: v.detach().cpu() for k, v in params.items()},
             "optimizer": optimizer.state_dict()}
    with atomic_writer(path) as f:
        torch.save(state, f)


def load_checkpoint(path: str) -> dict[str, Any] | None:
    """The checkpoint at `path`, or None when there is none or it cannot be read."""
    if not os.path.exists(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    return state
