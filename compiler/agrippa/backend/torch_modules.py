"""Importing onnx2torch, and the modules Agrippa's bridge needs.

``import_onnx2torch`` imports onnx2torch (a broken torchvision install replaced by a
placeholder, see ``agrippa.backend.converters._torchvision``) with the converters upstream
lacks registered (``agrippa.backend.converters``, LpNormalization among them).
"""
from __future__ import annotations

import types

from agrippa.backend.converters.normalization import LpNormalization

__all__ = ["LpNormalization", "import_onnx2torch"]


def import_onnx2torch() -> types.ModuleType:
    """Import onnx2torch (with the torchvision workaround) and add the missing converters."""
    from agrippa.backend.converters import load

    return load()
