"""One-node ONNX cases for the bridge's converters (`tests/test_converters.py`).

`CASES[op](version)` gives the variants to run at that version: (inputs, attributes,
number of outputs). An input is a numpy array (a graph input), `Init(array)` (an
initializer, as Agrippa writes attribute inputs such as axes) or None (an absent optional
input).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

R = np.random.default_rng(0)


@dataclass(frozen=True)
class Init:
    value: np.ndarray


def f(*shape: int, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    if lo is not None:
        return R.uniform(lo, hi, size=shape).astype(np.float32)
    return R.normal(size=shape).astype(np.float32)


def i64(*values: Any) -> Init:
    return Init(np.array(values, dtype=np.int64))


def scalar64(value: int) -> Init:
    return Init(np.array(value, dtype=np.int64))


Case = tuple[list[Any], dict[str, Any], int]
CASES: dict[str, Callable[[int], list[Case]]] = {}


def case(*ops: str) -> Callable[[Callable[[int], list[Case]]], Callable[[int], list[Case]]]:
    def deco(fn: Callable[[int], list[Case]]) -> Callable[[int], list[Case]]:
        for op in ops:
            CASES[op] = fn
        return fn
    return deco


def unary(op: str, lo: float | None = None, hi: float | None = None, **attrs: Any) -> None:
    CASES[op] = lambda v: [([f(3, 4, lo=lo, hi=hi)], dict(attrs), 1)]


# -- activations and math ---------------------------------------------------------------------
for _op in ("Mish", "Cos", "Sin", "Tan", "Round", "Softplus", "Softsign", "Asinh", "Cosh", "Sinh",
            "HardSwish", "Identity", "Dropout", "IsNaN", "IsInf", "Size", "Shape"):
    unary(_op)
for _op in ("Acos", "Asin", "Atan", "Atanh"):
    unary(_op, -0.9, 0.9)
unary("Acosh", 1.2, 3.0)
unary("ThresholdedRelu", alpha=0.3)
unary("Shrink", bias=0.2, lambd=0.4)
unary("Hardmax", axis=1)
unary("Swish", alpha=0.7)
unary("Celu", alpha=0.8)
unary("Elu", alpha=0.9)
unary("Selu")
unary("HardSigmoid", alpha=0.3, beta=0.4)
unary("Cast", to=11)
CASES["Gelu"] = lambda v: [([f(3, 4)], {}, 1), ([f(3, 4)], {"approximate": "tanh"}, 1)]
CASES["SwiGLU"] = lambda v: [([f(3, 4), f(3, 4)], {"alpha": 1.3}, 1)]
CASES["Mod"] = lambda v: [([f(3, 4), f(3, 4, lo=0.5, hi=2.0)], {"fmod": 1}, 1),
                          ([f(3, 4), f(3, 4, lo=0.5, hi=2.0)], {}, 1)]
for _op in ("Equal", "GreaterOrEqual", "LessOrEqual"):
    CASES[_op] = lambda v: [([R.integers(0, 3, (3, 4)).astype(np.float32),
                              R.integers(0, 3, (3, 4)).astype(np.float32)], {}, 1)]
for _op in ("BitwiseAnd", "BitwiseOr", "BitwiseXor"):
    CASES[_op] = lambda v: [([R.integers(-50, 50, (3, 4)).astype(np.int32),
                              R.integers(-50, 50, (3, 4)).astype(np.int32)], {}, 1)]
CASES["BitwiseNot"] = lambda v: [([R.integers(-50, 50, (3, 4)).astype(np.int32)], {}, 1)]
CASES["BitShift"] = lambda v: [([R.integers(0, 255, (4,)).astype(np.uint8), np.array([1, 2, 3, 0], np.uint8)],
                                {"direction": d}, 1) for d in ("LEFT", "RIGHT")]
CASES["Det"] = lambda v: [([f(3, 3)], {}, 1), ([f(2, 3, 3)], {}, 1)]
CASES["CastLike"] = lambda v: [([f(3, 4), np.zeros((1,), np.float64)], {}, 1)]
CASES["Einsum"] = lambda v: [([f(2, 3), f(3, 4)], {"equation": "ij,jk->ik"}, 1)]


# -- normalization and pooling ------------------------------------------------------------------
CASES["RMSNormalization"] = lambda v: [([f(2, 3, 4), f(4)], {}, 1),
                                       ([f(2, 3, 4), f(3, 4)], {"axis": 1, "epsilon": 1e-3}, 1)]
CASES["GroupNormalization"] = lambda v: [([f(2, 6, 3), f(6), f(6)], {"num_groups": 3}, 1)]
CASES["MeanVarianceNormalization"] = lambda v: [([f(2, 3, 4, 5)], {}, 1), ([f(2, 3, 4)], {"axes": [1]}, 1)]
CASES["InstanceNormalization"] = lambda v: [([f(2, 3, 4), f(3), f(3)], {"epsilon": 1e-4}, 1)]
unary("GlobalMaxPool")
CASES["GlobalMaxPool"] = lambda v: [([f(2, 3, 4, 5)], {}, 1)]
CASES["GlobalAveragePool"] = CASES["GlobalMaxPool"]
CASES["GlobalLpPool"] = lambda v: [([f(2, 3, 4, 5)], {}, 1), ([f(2, 3, 4)], {"p": 3}, 1)]
CASES["LpPool"] = lambda v: [
    ([f(1, 2, 6, 6)], {"kernel_shape": [2, 2], "strides": [2, 2]}, 1),
    ([f(1, 2, 5)], {"kernel_shape": [3], "pads": [1, 1], "p": 1}, 1),
] + ([([f(1, 1, 7, 6)], {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1, "dilations": [2, 1]}, 1)]
     if v >= 18 else [])
CASES["MaxPool"] = lambda v: [
    ([f(1, 1, 4, 4)], {"kernel_shape": [2, 2]}, 1),
    ([f(2, 3, 5, 6)], {"kernel_shape": [3, 2], "pads": [1, 0, 0, 1], "strides": [2, 2], "ceil_mode": 1}, 2),
    ([f(1, 2, 5, 4)], {"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER", "storage_order": 1}, 2),
    ([R.integers(-100, 100, (1, 2, 7)).astype(np.int8)], {"kernel_shape": [3], "pads": [1, 0]}, 2),
]
CASES["AveragePool"] = lambda v: [
    ([f(1, 1, 4, 4)], {"kernel_shape": [2, 2], "strides": [2, 2]}, 1),
    ([f(1, 2, 5, 6)], {"kernel_shape": [3, 2], "pads": [0, 1, 2, 1]}, 1),
    ([f(1, 2, 5, 6)], {"kernel_shape": [3, 3], "pads": [1, 1, 0, 1], "count_include_pad": 1, "strides": [2, 2],
                       "ceil_mode": 1}, 1),
    ([f(1, 2, 5, 6)], {"kernel_shape": [2, 3], "auto_pad": "SAME_LOWER"}, 1),
]
CASES["Conv"] = lambda v: [
    ([f(1, 2, 5, 5), Init(f(3, 2, 3, 3)), Init(f(3))], {"pads": [1, 1, 1, 1]}, 1),
    ([f(1, 2, 5, 5), f(3, 2, 3, 3), f(3)], {"pads": [0, 1, 2, 1]}, 1),  # weights fed, not initializers
    ([f(1, 4, 5, 6), f(4, 2, 3, 2)], {"auto_pad": "SAME_UPPER", "strides": [2, 2], "group": 2}, 1),
]
CASES["ConvTranspose"] = lambda v: [
    ([f(1, 2, 3, 3), Init(f(2, 3, 2, 2))], {"strides": [2, 2]}, 1),
    ([f(1, 2, 3, 4), f(2, 3, 3, 2), f(3)], {"strides": [2, 2], "pads": [0, 1, 1, 0], "output_padding": [1, 1]}, 1),
    ([f(1, 2, 3, 4), f(2, 3, 3, 2)], {"strides": [2, 2], "output_shape": [6, 7]}, 1),
    ([f(1, 2, 3, 4), f(2, 3, 3, 3)], {"strides": [2, 2], "auto_pad": "SAME_LOWER"}, 1),
]
CASES["LRN"] = lambda v: [([f(2, 5, 3, 3)], {"size": 3, "alpha": 0.5, "bias": 2.0}, 1),
                          ([f(1, 4, 2, 2).astype(np.float16)], {"size": 5}, 1)]


# -- indexing and shapes ------------------------------------------------------------------------
CASES["Trilu"] = lambda v: [([f(4, 5)], {}, 1), ([f(2, 4, 5), scalar64(-1)], {"upper": 0}, 1),
                            ([f(4, 5), np.array(1, np.int64)], {"upper": 1}, 1)]
CASES["OneHot"] = lambda v: [([np.array([0, 2, -1, 5], np.int64), scalar64(4), f(2)], {}, 1),
                             ([np.array([[1, 0], [3, -4]], np.int64), scalar64(4), f(2)], {"axis": 0}, 1)]
CASES["CumProd"] = lambda v: [([f(3, 4), scalar64(1)], {}, 1),
                              ([f(3, 4), scalar64(0)], {"exclusive": 1, "reverse": 1}, 1)]


def _scatter_elements(v: int) -> list[Case]:
    idx = np.stack([R.permutation(3)[:2] for _ in range(4)], axis=1).astype(np.int64)
    out = [([f(3, 4), idx, f(2, 4)], {"axis": 0}, 1), ([f(3, 4), idx - 3, f(2, 4)], {"axis": 0}, 1)]
    reductions = ["add", "mul"] + (["max", "min"] if v >= 18 else [])
    dup = np.array([[0, 1, 0, 2]], np.int64).T.repeat(2, 1)
    if v >= 16:
        out += [([f(3, 2), dup, f(4, 2)], {"axis": 0, "reduction": r}, 1) for r in reductions]
    return out


CASES["ScatterElements"] = _scatter_elements
CASES["ScatterND"] = lambda v: [([f(4, 3), np.array([[1], [3]], np.int64), f(2, 3)], {}, 1)] + [
    ([f(4, 3), np.array([[1], [3], [1]], np.int64), f(3, 3)], {"reduction": r}, 1)
    for r in ("add", "mul", "max", "min")]
CASES["Compress"] = lambda v: [([f(3, 4), np.array([True, False, True, True])], {"axis": 1}, 1),
                               ([f(3, 4), np.array([False, True, True])], {}, 1)]
CASES["ReverseSequence"] = lambda v: [([f(4, 3, 2), np.array([4, 2, 1], np.int64)], {}, 1),
                                      ([f(3, 4, 2), np.array([3, 1, 4], np.int64)],
                                       {"batch_axis": 0, "time_axis": 1}, 1)]
CASES["SpaceToDepth"] = lambda v: [([f(1, 2, 4, 6)], {"blocksize": 2}, 1)]
CASES["DepthToSpace"] = lambda v: [([f(1, 8, 2, 3)], {"blocksize": 2, "mode": "CRD"}, 1), ([f(1, 8, 2, 3)], {"blocksize": 2}, 1)]
CASES["EyeLike"] = lambda v: [([f(3, 4)], {"k": 1}, 1)]
CASES["Flatten"] = lambda v: [([f(2, 3, 4)], {"axis": 2}, 1)]
CASES["Reshape"] = lambda v: [([f(2, 6), i64(3, 4)], {}, 1)]
CASES["Squeeze"] = lambda v: [([f(1, 3, 1), i64(0)], {}, 1)]
CASES["Unsqueeze"] = lambda v: [([f(3, 2), i64(0, 3)], {}, 1)]
CASES["Transpose"] = lambda v: [([f(2, 3, 4)], {"perm": [2, 0, 1]}, 1)]
CASES["TopK"] = lambda v: [([f(3, 5), i64(2)], {"axis": 1}, 2)]
CASES["Constant"] = lambda v: [([], {"value": f(2, 3)}, 1)]
CASES["ConstantOfShape"] = lambda v: [([i64(2, 3)], {"value": np.array([1.5], np.float32)}, 1)]
CASES["Range"] = lambda v: [([Init(np.array(1.0, np.float32)), Init(np.array(4.0, np.float32)),
                              Init(np.array(0.5, np.float32))], {}, 1)]
CASES["Resize"] = lambda v: [([f(1, 1, 2, 2), None, Init(np.array([1, 1, 2, 2], np.float32))], {"mode": "nearest"}, 1)]
CASES["RoiAlign"] = lambda v: [([f(1, 2, 6, 6), np.array([[0, 0, 3, 3]], np.float32), np.array([0], np.int64)],
                                {"output_height": 2, "output_width": 2}, 1)]


# -- reductions, Pad, Split ---------------------------------------------------------------------
def _reduce(v: int) -> list[Case]:
    x = f(3, 4, 5, lo=0.2, hi=2.0)
    if v < 18:  # axes is an attribute
        return [([x], {"axes": [1], "keepdims": 0}, 1), ([x], {"axes": [0, -1]}, 1), ([x], {}, 1),
                ([np.array([[3, 4], [1, 2]], np.int64)], {"axes": [1]}, 1)]
    return [([x, i64(1)], {"keepdims": 0}, 1), ([x, i64(0, -1)], {}, 1), ([x], {}, 1),
            ([x, np.array([2], np.int64)], {}, 1), ([x, np.zeros((0,), np.int64)], {"noop_with_empty_axes": 1}, 1)]


case("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMin", "ReduceMean",
     "ReduceProd", "ReduceSumSquare")(_reduce)


def _reduce_sum(v: int) -> list[Case]:
    """ReduceSum takes axes as an input from 13 on; repeated axes count once (onnxruntime)."""
    x, n = f(3, 4, 5), np.array([[3, 4], [1, 2]], np.int32)
    return _reduce(18) + [([x, np.array([0, 0, -1, 2], np.int64)], {}, 1), ([x, i64(1, -2)], {"keepdims": 0}, 1),
                          ([x, i64()], {"keepdims": 0}, 1), ([n, i64(1)], {}, 1), ([n], {"keepdims": 0}, 1)]


CASES["ReduceSum"] = _reduce_sum
CASES["Pad"] = lambda v: [
    ([f(2, 3), i64(1, 0, 2, 1)], {}, 1),
    ([f(2, 3), i64(1, 0, 2, 1), np.array(0.5, np.float32)], {}, 1),
    ([f(1, 2, 4), i64(0, 0, 2, 0, 0, 1)], {"mode": "reflect"}, 1),
    ([f(1, 2, 4), i64(0, 1, 2, 0, 0, 1)], {"mode": "edge"}, 1),
    ([f(2, 3), i64(0, 2, 0, 1)], {"mode": "edge"}, 1),  # any rank: the last axis of a 2-D input
] + ([([f(2, 3), i64(1, -1), None, i64(1)], {}, 1)] if v >= 18 else []) + (
    [([f(1, 2, 4), i64(0, 0, 2, 0, 0, 1)], {"mode": "wrap"}, 1)] if v >= 19 else [])
CASES["Split"] = lambda v: [([f(5, 4)], {"num_outputs": 2}, 2), ([f(5, 4), i64(1, 4)], {}, 2),
                            ([f(3, 6)], {"axis": 1, "num_outputs": 3}, 3)]


# -- losses ---------------------------------------------------------------------------------------
def _nll(v: int) -> list[Case]:
    target = np.array([0, 3, 4], np.int64)
    return [([f(3, 5), target], {}, 1), ([f(3, 5), target, f(5, lo=0.5, hi=1.0)], {"reduction": "sum"}, 1),
            ([f(3, 5, 2), np.array([[0, 1], [3, 2], [4, 4]], np.int64)], {"reduction": "none"}, 1),
            ([f(3, 5), target, f(5, lo=0.5, hi=1.0)], {"ignore_index": 3}, 1)]


CASES["NegativeLogLikelihoodLoss"] = _nll
CASES["SoftmaxCrossEntropyLoss"] = lambda v: [(i, a, 1) for i, a, _ in _nll(v)] + [
    ([f(3, 5), np.array([0, 3, 4], np.int64)], {}, 2)]
CASES["LpNormalization"] = lambda v: [([f(3, 4)], {"axis": 1}, 1), ([f(3, 4)], {"axis": 0, "p": 1}, 1)]


# -- attention ------------------------------------------------------------------------------------
def _attention(v: int) -> list[Case]:
    q, k, val = f(2, 3, 4, 8), f(2, 3, 5, 8), f(2, 3, 5, 6)
    bool_mask = R.random((4, 5)) > 0.3
    out = [
        ([q, k, val], {}, 1),
        ([q, f(2, 3, 3, 8), f(2, 3, 3, 6)], {"is_causal": 1}, 1),
        ([q, k, val, bool_mask], {"scale": 0.3}, 1),
        ([q, k, val, f(4, 5)], {"softcap": 2.0, "qk_matmul_output_mode": 1}, 4),
        ([f(2, 4, 12), f(2, 5, 6), f(2, 5, 9)], {"q_num_heads": 6, "kv_num_heads": 3}, 1),
        ([q, f(2, 3, 2, 8), f(2, 3, 2, 6), None, f(2, 3, 3, 8), f(2, 3, 3, 6)], {"is_causal": 1}, 3),
        ([q, k, val, np.zeros((4, 5), bool)], {"qk_matmul_output_mode": 3}, 4),
    ]
    if v >= 24:
        out.append(([q, k, val, None, None, None, np.array([3, 5], np.int64)], {"is_causal": 1}, 1))
    if v >= 25:
        out.append(([q, k, val], {"left_window_size": 1, "right_window_size": 1}, 1))
    return out


CASES["Attention"] = _attention


def _rotary(v: int) -> list[Case]:
    cos, sin = f(6, 4, lo=-1, hi=1), f(6, 4, lo=-1, hi=1)
    pos = np.array([[0, 1, 2], [3, 4, 5]], np.int64)
    return [([f(2, 2, 3, 8), cos, sin, pos], {}, 1),
            ([f(2, 2, 3, 8), cos, sin, pos], {"interleaved": 1}, 1),
            ([f(2, 3, 16), f(2, 3, 2, lo=-1, hi=1), f(2, 3, 2, lo=-1, hi=1)],
             {"num_heads": 2, "rotary_embedding_dim": 4}, 1)]


CASES["RotaryEmbedding"] = _rotary


# -- recurrent ------------------------------------------------------------------------------------
def _recurrent(op: str) -> Callable[[int], list[Case]]:
    g = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]

    def cases(v: int) -> list[Case]:
        h, i, t, b = 3, 2, 4, 2
        w, r, bias = f(1, g * h, i) * 0.5, f(1, g * h, h) * 0.5, f(1, 2 * g * h) * 0.5
        w2, r2, bias2 = f(2, g * h, i) * 0.5, f(2, g * h, h) * 0.5, f(2, 2 * g * h) * 0.5
        lens = np.array([4, 2], np.int32)
        out = [
            ([f(t, b, i), w, r, bias], {"hidden_size": h}, 2),
            ([f(t, b, i), w2, r2, bias2, lens, f(2, b, h)], {"hidden_size": h, "direction": "bidirectional"}, 2),
            ([f(t, b, i), w, r, None, lens], {"hidden_size": h, "direction": "reverse", "clip": 0.8}, 2),
        ]
        if op == "GRU":
            out.append(([f(t, b, i), w, r, bias], {"hidden_size": h, "linear_before_reset": 1}, 2))
        if op == "LSTM":
            out.append(([f(t, b, i), w, r, bias, None, f(1, b, h), f(1, b, h), f(1, 3 * h)], {"hidden_size": h}, 3))
        if op == "RNN":
            out.append(([f(t, b, i), w, r, bias], {"hidden_size": h, "activations": ["LeakyRelu"],
                                                   "activation_alpha": [0.2]}, 1))
        if v >= 14:
            out.append(([f(b, t, i), w, r, bias, None, f(b, 1, h)], {"hidden_size": h, "layout": 1}, 2))
        return out
    return cases


for _op in ("RNN", "GRU", "LSTM"):
    CASES[_op] = _recurrent(_op)


# -- signal and spatial ---------------------------------------------------------------------------
for _op in ("HannWindow", "HammingWindow", "BlackmanWindow"):
    CASES[_op] = lambda v: [([scalar64(8)], {}, 1), ([scalar64(7)], {"periodic": 0, "output_datatype": 11}, 1)]
CASES["DFT"] = lambda v: [
    ([f(2, 8, 1)], {"axis": 1} if v == 17 else {}, 1),
    ([f(2, 6, 2), scalar64(8)], {"axis": 1, "inverse": 1} if v == 17 else {"inverse": 1}, 1),
    ([f(2, 8, 1)], {"axis": 1, "onesided": 1} if v == 17 else {"onesided": 1}, 1),
] + ([([f(3, 2, 1), None, scalar64(0)], {}, 1)] if v >= 20 else [])
CASES["STFT"] = lambda v: [([f(2, 16, 1), scalar64(4), f(6), scalar64(6)], {}, 1),
                           ([f(1, 12, 2), scalar64(3), None, scalar64(4)], {"onesided": 0}, 1)]
CASES["CenterCropPad"] = lambda v: [([f(5, 4, 3), i64(3, 7)], {"axes": [0, 1]}, 1),
                                    ([f(4, 5), i64(6, 2)], {}, 1)]
CASES["MaxUnpool"] = lambda v: [([f(1, 1, 2, 2), np.array([[[[0, 3], [9, 14]]]], np.int64)],
                                 {"kernel_shape": [2, 2], "strides": [2, 2]}, 1)]
CASES["Col2Im"] = lambda v: [([f(1, 4, 9), i64(4, 4), i64(2, 2)], {}, 1),
                             ([f(1, 4, 9), i64(4, 4), i64(2, 2)], {"strides": [2, 2], "pads": [1, 1, 1, 1]}, 1)]
CASES["GridSample"] = lambda v: [
    ([f(1, 2, 4, 5), f(1, 3, 2, 2, lo=-1.2, hi=1.2)], {}, 1),
    ([f(1, 2, 4, 5), f(1, 3, 2, 2, lo=-0.9, hi=0.9)], {"align_corners": 1, "padding_mode": "border"}, 1),
    ([f(1, 2, 4, 5), f(1, 3, 2, 2, lo=-0.9, hi=0.9)], {"mode": "cubic" if v >= 20 else "bicubic"}, 1),
]
CASES["AffineGrid"] = lambda v: [([f(2, 2, 3), i64(2, 1, 3, 4)], {}, 1), ([f(1, 3, 4), i64(1, 1, 2, 3, 2)],
                                                                         {"align_corners": 1}, 1)]
CASES["TensorScatter"] = lambda v: [([f(2, 3, 6, 4), f(2, 3, 2, 4), np.array([1, 3], np.int64)], {}, 1),
                                    ([f(2, 5, 4), f(2, 2, 4), np.array([4, 0], np.int64)], {"mode": "circular"}, 1)]


def _linear_attention(v: int) -> list[Case]:
    b, t, hq, hkv, dk, dv = 2, 3, 4, 2, 3, 2
    q, k, val = f(b, t, hq * dk), f(b, t, hkv * dk) * 0.5, f(b, t, hkv * dv)
    heads = {"q_num_heads": hq, "kv_num_heads": hkv}
    return [([q, k, val], {**heads, "update_rule": "linear"}, 2),
            ([q, k, val, f(b, hkv, dk, dv), f(b, t, hkv * dk, lo=-1, hi=0)], {**heads, "update_rule": "gated"}, 2),
            ([q, k, val, None, None, f(b, t, hkv, lo=0, hi=1)], {**heads, "update_rule": "delta", "scale": 0.5}, 2),
            ([q, k, val, None, f(b, t, hkv, lo=-1, hi=0), f(b, t, 1, lo=0, hi=1)], heads, 2)]


CASES["LinearAttention"] = _linear_attention
CASES["CausalConvWithState"] = lambda v: [([f(2, 3, 5), f(3, 1, 3), f(3)], {}, 2),
                                          ([f(2, 3, 1), f(3, 1, 4), None, f(2, 3, 3)], {"activation": "silu"}, 2)]
CASES["Unique"] = lambda v: [
    ([np.array([2.0, 1.0, 1.0, 3.0, 4.0, 3.0], np.float32)], {}, 4),
    ([np.array([2.0, 1.0, 1.0, 3.0, 4.0, 3.0], np.float32)], {"sorted": 0}, 4),
    ([np.array([[1, 0, 0], [1, 0, 0], [2, 3, 4]], np.float32)], {"axis": 0}, 4),
]


# -- upstream converters replaced by backend/converters/fixes.py ------------------------------------
CASES["BatchNormalization"] = lambda v: [([f(2, 3, 4), f(3), f(3), f(3), f(3, lo=0.5, hi=1.5)], {"epsilon": 1e-3}, 1)]
CASES["CumSum"] = lambda v: [([f(3, 4), scalar64(1)], {}, 1),
                             ([f(3, 4), scalar64(0)], {"exclusive": 1, "reverse": 1}, 1)]
CASES["NonZero"] = lambda v: [([np.array([[1, 0], [0, 3]], np.float32)], {}, 1)]
CASES["PRelu"] = lambda v: [([f(2, 3, 4), f(4)], {}, 1), ([f(4), f(4)], {}, 1)]
CASES["Pow"] = lambda v: [([f(3, 4, lo=0.5, hi=2.0), f(3, 4)], {}, 1),
                          ([np.array([1, 2, 3], np.int64), np.array([2.0, 0.5, 1.0], np.float32)], {}, 1)]
CASES["LayerNormalization"] = lambda v: [([f(2, 3, 4), f(4), f(4)], {}, 1), ([f(2, 3, 4), f(3, 4)], {"axis": 1}, 1),
                                         ([f(2, 3, 4).astype(np.float64), Init(np.ones(4))], {}, 1)]
