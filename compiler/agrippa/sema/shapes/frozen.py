"""Frozen parameters whose value check already knows, read as values by shape inference.

A frozen parameter whose init draws nothing (`ones`, `zeros`, `constant` with its one
init_arg: `sema.inits.fixed_fill`) holds that value in the compiled model, so a Slice whose
ends, or a Reshape whose shape, it gives gets concrete output shapes, like a constant written
as an attribute. Analysis only: the parameter stays an initializer of the compiled model.
Random kinds, trainable parameters and tensors over `FOLD_MAX` entries are never folded.
When the weights file holds the parameter, compile uses the stored value, so that one is
folded instead: check reads those few bytes of a `.safetensors` file
(project/weights_values.py); from a pickle, or when the file's names cannot be read, nothing
is folded.
"""
from __future__ import annotations

import math

import numpy as np

from agrippa.sema.dtypes import NP_TYPES
from agrippa.sema.inits import fixed_fill
from agrippa.sema.ir import Param
from agrippa.sema.shapes.context import Run

FOLD_MAX = 1024
"""Largest frozen parameter (in entries) whose value is folded."""


def fold(run: Run, p: Param) -> None:
    """Record the value of frozen `p` (its shape already set) when check can know it."""
    graph = run.graph
    t = p.tensor
    shape = t.shape if t is not None else None
    if shape is None or not all(type(d) is int and d >= 0 for d in shape):
        return
    if math.prod(shape) > FOLD_MAX:
        return
    dtype = NP_TYPES.get(p.dtype)
    if dtype is None or graph.stored is None:  # a weights file whose names are unknown: its values may rule
        return
    if p.name in graph.stored:  # compile uses the stored value (reshaped and cast, backend/initializers.py)
        held = graph.stored_values.get(p.name)
        if held is None or held.size != math.prod(shape):
            return
        with np.errstate(all="ignore"):
            arr = held.reshape(shape).astype(dtype)
    else:
        fill = fixed_fill(p.init, p.init_args)
        if fill is None:
            return
        arr = np.empty(shape, dtype)
        try:
            with np.errstate(all="ignore"):
                arr.fill(fill)  # as backend/initializers.py fills it (casts included)
        except (OverflowError, TypeError, ValueError):
            return
    flat = arr.reshape(-1)
    run.folded[t.name] = arr
    if arr.dtype.kind in "iub":
        run.values[t.name] = tuple(int(x) for x in flat)
    else:
        run.values[t.name] = tuple(float(x) for x in flat)
