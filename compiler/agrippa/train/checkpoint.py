"""The resume checkpoint: parameters, optimizer state and step, written atomically.

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


def save_checkpoint(path: str, *, step: int, params: Mapping[str, torch.Tensor],
                    optimizer: torch.optim.Optimizer, finished: bool, elapsed: float) -> None:
    state = {
        "format": FORMAT,
        "step": step,
        "finished": finished,
        "elapsed": elapsed,
        "signature": signature(params),
        "params": {k: v.detach().cpu() for k, v in params.items()},
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
    }
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
