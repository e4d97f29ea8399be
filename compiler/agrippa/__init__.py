"""Agrippa: compile XML neural-network markup to ONNX, check it, train it."""
from __future__ import annotations

__version__ = "2.0.0.dev0"

WEIGHTS_FNAME = "weights.pkl"
META_FNAME = "meta.json"
