"""Direct torch calls for ops whose general converter module does more than the batched path
needs. The converter's MaxPool (backend/converters/pooling.py) always computes ONNX's Indices
output (remainder, floor-divide and arithmetic over the whole output) and pads explicitly with
-inf, even when only the values are used and the padding is symmetric; with a single output
and symmetric pads it is exactly `F.max_poolNd` with implicit -inf padding.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

Value = tuple[torch.Tensor, bool]
_POOLS = (F.max_pool1d, F.max_pool2d, F.max_pool3d)


class FastMaxPool:
    """MaxPool with one output, float input, symmetric explicit (or no) padding."""

    def __init__(self, op: Any, kernel: list[int], strides: list[int], pads: list[int],
                 dilations: list[int], ceil_mode: bool) -> None:
        self.op, self.inputs, self.outputs = "MaxPool", list(op.inputs[:1]), list(op.outputs[:1])
        self.kernel, self.strides, self.pads, self.dilations = kernel, strides, pads, dilations
        self.ceil_mode, self.fn = ceil_mode, _POOLS[len(kernel) - 1]

    def __call__(self, vals: list[Value | None]) -> list[Value]:
        x, batched = vals[0]  # type: ignore[misc]
        lead = x.shape[:2] if batched else None
        if lead is not None:
            x = x.flatten(0, 1)
        y = self.fn(x, self.kernel, self.strides, self.pads, self.dilations, self.ceil_mode)
        return [(y.unflatten(0, tuple(lead)) if lead is not None else y, batched)]


def _fast_max_pool(op: Any, float_inputs: set[str]) -> FastMaxPool | None:
    a = op.attrs
    if len([o for o in op.outputs if o]) != 1 or op.inputs[0] not in float_inputs:
        return None
    kernel = [int(k) for k in a.get("kernel_shape", [])]
    n = len(kernel)
    if not 1 <= n <= 3 or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        return None
    strides = [int(s) for s in a.get("strides") or [1] * n]
    dilations = [int(d) for d in a.get("dilations") or [1] * n]
    pads = [int(p) for p in a.get("pads") or [0] * 2 * n]
    if a.get("auto_pad") in (b"VALID", "VALID"):
        pads = [0] * 2 * n
    if pads[:n] != pads[n:] or any(2 * p > k for p, k in zip(pads[:n], kernel)):
        return None
    ceil = bool(a.get("ceil_mode", 0))
    if ceil and any(pads):  # ceil_mode's last window in the end padding: the converter trims it
        return None
    return FastMaxPool(op, kernel, strides, pads[:n], dilations, ceil)


def fast_ops(ops: list[Any], graph: Any) -> list[Any]:
    """`ops` with eligible MaxPools replaced by FastMaxPool; `graph`: the shape-inferred
    ONNX graph (for element types)."""
    from onnx import TensorProto

    floats = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}
    float_inputs = {vi.name for vi in [*graph.input, *graph.value_info, *graph.output]
                    if vi.type.tensor_type.elem_type in floats}
    out = []
    for op in ops:
        fast = _fast_max_pool(op, float_inputs) if getattr(op, "op", "") == "MaxPool" and hasattr(op, "attrs") else None
        out.append(fast or op)
    return out
