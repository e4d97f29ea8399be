"""Converters for the ops upstream onnx2torch cannot convert, registered in onnx2torch's
own converter registry (``onnx2torch.node_converters.registry``).

One module per family: ``activations``, ``normalization``, ``indexing``, ``losses``,
``attention``, ``recurrent``, ``signal``, ``spatial``, ``versions`` (newer versions of ops
upstream converts at an older one), ``reduce`` (every Reduce*), ``conv`` (Conv and
ConvTranspose, weights as inputs), ``pooling`` (LRN, and pools on element types torch lacks)
and ``fixes`` (upstream converters that are wrong on valid models, replaced; ``_common.FIXED``
lists every replacement and why).
Each is written from the ONNX op specification. ``register()`` imports them (and so
torch) once; ``load()`` imports onnx2torch with every converter registered
(``agrippa.backend.torch_modules.import_onnx2torch`` calls it). ``coverage``
tells, for every op version, who converts it; ``table`` writes ``docs/ops.md`` and the
plain data the checker reads (``agrippa.sema.ops.trainable``).
"""
from __future__ import annotations

import importlib
import types

FAMILIES = ("activations", "normalization", "indexing", "losses", "attention", "recurrent", "signal", "spatial", "versions", "reduce", "conv", "pooling", "fixes")


def register() -> dict[tuple[str, int], str]:
    """Register every converter here (once); returns (op, since_version) -> family."""
    from agrippa.backend.converters._common import OURS

    for family in FAMILIES:
        importlib.import_module(f"{__name__}.{family}")
    return dict(OURS)


def load() -> types.ModuleType:
    """onnx2torch, with a broken torchvision replaced and every converter here registered."""
    from agrippa.backend.converters._torchvision import ensure_torchvision

    ensure_torchvision()
    import onnx2torch

    register()
    return onnx2torch
