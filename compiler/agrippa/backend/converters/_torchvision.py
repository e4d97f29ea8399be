"""onnx2torch imports torchvision for its NonMaxSuppression and RoiAlign converters only; a
broken install (e.g. a wheel built for another torch) must not stop the rest, so it is
replaced by a placeholder whose ops raise."""
from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any


def _needs_torchvision(*_: Any, **__: Any) -> Any:
    raise RuntimeError("NonMaxSuppression/RoiAlign need a working torchvision")


def ensure_torchvision() -> None:
    """Install a placeholder ``torchvision`` when the real one cannot be imported.

    onnx2torch imports torchvision for its NonMaxSuppression and RoiAlign converters
    only; a broken install (e.g. a wheel built for another torch) must not stop the rest.
    """
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        root = types.ModuleType("torchvision", "Placeholder for a broken torchvision.")
        ops = types.ModuleType("torchvision.ops")
        root.__spec__ = importlib.machinery.ModuleSpec("torchvision", None, is_package=True)
        root.__path__ = []
        ops.__spec__ = importlib.machinery.ModuleSpec("torchvision.ops", None)
        ops.nms = ops.roi_align = ops.box_convert = _needs_torchvision
        root.ops = ops
        root.agrippa_placeholder = True
        sys.modules["torchvision"] = root
        sys.modules["torchvision.ops"] = ops


