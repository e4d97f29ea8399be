"""Helpers from the original package: find weights, save a trained model, search a log."""
from __future__ import annotations

import json
import os

from agrippa.project.config import WEIGHTS_FNAME


def find_params(substring: str, proj_dir: str, weights_fname: str = WEIGHTS_FNAME) -> dict:
    """The weights whose names contain `substring` (read without running any code)."""
    from agrippa.backend.weights import load_weights

    weights = load_weights(os.path.join(proj_dir, weights_fname))
    return {k: v for k, v in weights.items() if substring in k}


def save_torch_model(model, proj_dir: str, weights_fname: str = WEIGHTS_FNAME):
    """Write a trained module's initializers back to the project's weights file, atomically."""
    from agrippa.backend.torch_bridge import save_torch_model as _save

    return _save(model, proj_dir, weights_fname)


def search_log(name: str, log_file: str = "log.json") -> list[dict]:
    """The nodes of an export log (`export(..., log=True)`) that read or write `name`."""
    with open(log_file, encoding="utf-8") as f:
        data = json.load(f)
    return [n for n in data.get("nodes", []) if name in n.get("inputs", []) or name in n.get("outputs", [])
            or name == n.get("name")]
