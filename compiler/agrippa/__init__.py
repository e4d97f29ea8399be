"""Agrippa: compile XML neural-network markup to ONNX, check it, train it.

The original package's API is kept: `agrippa.export`, `agrippa.onnx_to_torch`,
`agrippa.utils.*`, `WEIGHTS_FNAME`, `META_FNAME`. Heavy libraries (onnx, torch) load
only when a function that needs them is called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from agrippa.base.diagnostics import CompileError, Diagnostic, Severity
from agrippa.project.config import META_FNAME, WEIGHTS_FNAME

__version__ = "2.0.0.dev0"


if TYPE_CHECKING:  # pragma: no cover
    from agrippa.api import export
    from agrippa.backend.torch_bridge import batched, onnx_to_torch

__all__ = ["export", "onnx_to_torch", "batched", "utils", "CompileError", "Diagnostic", "Severity",
           "WEIGHTS_FNAME", "META_FNAME"]


def __getattr__(name: str):
    if name == "export":
        from agrippa.api import export

        return export
    if name in ("onnx_to_torch", "batched"):
        from agrippa.backend import torch_bridge

        return getattr(torch_bridge, name)
    if name == "utils":
        import importlib

        return importlib.import_module(".utils", __name__)
    raise AttributeError(f"module 'agrippa' has no attribute {name!r}")
