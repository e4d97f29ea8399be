"""Operands that must be vectors or scalars (axes, shapes, sizes, counts, bounds): onnxruntime
refuses a node whose such input has another rank, and ONNX's inference rarely says so. Checked
for every node before its shape rule (found by the differential fuzzer, tests/fuzz)."""
from __future__ import annotations

from agrippa.sema.shapes.context import BAD_AXIS, RANK, Ctx
from agrippa.sema.shapes.dims import format_shape
from agrippa.sema.shapes.spatial import NN_KERNEL_RULES

_REDUCE = ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
VECTORS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(_REDUCE, (1,)), "Squeeze": (1,), "Unsqueeze": (1,), "Pad": (1, 3), "Split": (1,),
    "CenterCropPad": (1,), "Resize": (2, 3), "ConstantOfShape": (0,), "Slice": (1, 2, 3, 4), "Tile": (1,),
    "Reshape": (1,), "Expand": (1,),
}
"""op -> inputs that must be 1-D."""
SCALARS: dict[str, tuple[int, ...]] = {
    "Trilu": (1,), "HannWindow": (0,), "HammingWindow": (0,), "BlackmanWindow": (0,),
    "MelWeightMatrix": (0, 1, 2, 3, 4), "Range": (0, 1, 2), "STFT": (1, 3), "DFT": (1, 2),
    "NonMaxSuppression": (2, 3, 4), "OneHot": (1,), "CumSum": (1,), "Clip": (1, 2), "Dropout": (1, 2),
    "MatMulInteger": (2, 3), "ConvInteger": (2, 3), "QLinearMatMul": (1, 2, 6, 7), "QLinearConv": (1, 2, 6, 7),
}
"""op -> inputs that must hold one value (0-D, or 1-D of one element)."""
ONE_ELEMENT_VECTORS: dict[str, tuple[int, ...]] = {"TopK": (1,)}
"""op -> inputs that must be 1-D of exactly one element."""


_CHECKED = frozenset({*VECTORS, *SCALARS, *ONE_ELEMENT_VECTORS, "RandomUniform", "RandomUniformLike", "ReverseSequence"})
"""The ops `check_operands` has something to say about (any other returns at once)."""


def check_operands(ctx: Ctx) -> None:
    op = ctx.op
    for u in ctx.node.inputs:
        if not u.tensor.name:  # an input left out before one written as an attribute
            _required_inputs(ctx)
            break
    if op not in _CHECKED:
        return
    if op in ("RandomUniform", "RandomUniformLike") and ctx.attr("low", 0.0) > ctx.attr("high", 1.0):
        ctx.error(f"{op}: low ({ctx.attr('low', 0.0)}) must not be above high ({ctx.attr('high', 1.0)}); "
                  "onnxruntime aborts the whole process on it", at="low" if "low" in ctx.node.attributes else "high",
                  code="bad-attribute")
    if op == "ReverseSequence":
        b, t = ctx.attr("batch_axis", 1), ctx.attr("time_axis", 0)
        if b not in (0, 1) or t not in (0, 1) or b == t:
            ctx.error(f"ReverseSequence: batch_axis and time_axis must be 0 and 1 (one each); got {b} and {t}",
                      at="time_axis" if "time_axis" in ctx.node.origin.element.attrs else "batch_axis",
                      code=BAD_AXIS)
    for i in VECTORS.get(op, ()):
        s = _shape(ctx, i)
        if s is not None and len(s) != 1:
            _error(ctx, i, "a 1-D tensor", s)
    for i in SCALARS.get(op, ()):
        s = _shape(ctx, i)
        if s is not None and (len(s) > 1 or len(s) == 1 and type(s[0]) is int and s[0] != 1):
            _error(ctx, i, "a single value (a scalar)", s)
    for i in ONE_ELEMENT_VECTORS.get(op, ()):
        s = _shape(ctx, i)
        if s is not None and (len(s) != 1 or type(s[0]) is int and s[0] != 1):
            _error(ctx, i, "a 1-D tensor of one element", s)


def _required_inputs(ctx: Ctx) -> None:
    """An op input written as an XML attribute places its constant at its own position, so the
    inputs before it that the node does not give are left empty; ONNX's checker refuses an
    empty input the op requires (Slice with axes="[0]" and no starts or ends)."""
    from agrippa.sema.ops import attribute_input_specs, get_op

    schema = get_op(ctx.op, ctx.run.graph.opset)
    if schema is None:
        return
    missing = [a.name for u, a in zip(ctx.node.inputs, schema.inputs)
               if not u.tensor.name and not a.optional and not a.variadic]
    if not missing:
        return
    given = [name for name in attribute_input_specs(schema) if name in ctx.node.origin.element.attrs]
    names = " and ".join(missing)
    ctx.error(f"{ctx.op} needs {names} (as <input> or as the attribute{'s' if len(missing) > 1 else ''} "
              f"{names}): the node gives {', '.join(given) or 'a later input'} but not "
              f"{'them' if len(missing) > 1 else 'it'}", code="arity")


def _shape(ctx: Ctx, i: int) -> tuple | None:
    t = ctx.tensor(i)
    return None if t is None else t.shape


def _error(ctx: Ctx, i: int, what: str, s: tuple) -> None:
    from agrippa.sema.ops import get_op

    schema = get_op(ctx.op, ctx.run.graph.opset)
    name = schema.inputs[i].name if schema is not None and i < len(schema.inputs) else f"input {i + 1}"
    at = name if name in ctx.node.origin.element.attrs else i
    ctx.error(f"{ctx.op}: {name} must be {what}, got shape {format_shape(s)}", at=at, code=RANK)


# -- kernel rules: what onnxruntime's kernels check when they load or run ---------------------------
def check_kernel(ctx: Ctx) -> None:
    """Rules onnxruntime's kernels enforce and ONNX's inference does not (found by the fuzzer)."""
    fn = KERNEL_RULES.get(ctx.op)
    if fn is not None:
        fn(ctx)


def _ints_shape(ctx: Ctx, i: int) -> tuple | None:
    s = _shape(ctx, i)
    return s if s is not None and all(type(d) is int for d in s) else None


def _space_to_depth(ctx: Ctx) -> None:
    x, b = _ints_shape(ctx, 0), ctx.attr("blocksize")
    if x is None or not isinstance(b, int) or b <= 0:
        return
    if len(x) != 4:
        ctx.error(f"{ctx.op}: the input must be [N, C, H, W], got {format_shape(x)}", at=0, code=RANK)
    if ctx.op == "SpaceToDepth" and (x[2] % b or x[3] % b):
        ctx.error(f"SpaceToDepth: height and width ({x[2]}, {x[3]}) must be multiples of blocksize {b}",
                  at="blocksize", code=SHAPE)
    if ctx.op == "DepthToSpace" and x[1] % (b * b):
        ctx.error(f"DepthToSpace: the {x[1]} channels must be a multiple of blocksize² = {b * b}",
                  at="blocksize", code=SHAPE)


def _quantize(ctx: Ctx) -> None:
    x, scale = _ints_shape(ctx, 0), _ints_shape(ctx, 1)
    if x is None or scale is None or len(scale) == 0 or scale == (1,) or ctx.attr("block_size", 0):
        return
    axis = ctx.attr("axis", 1)
    if not -len(x) <= axis < len(x):
        ctx.error(f"{ctx.op}: axis {axis} is out of range for the input {format_shape(x)}", at="axis", code=BAD_AXIS)
    for i, name in ((1, "scale"), (2, "zero_point")):
        s = _ints_shape(ctx, i)
        if s is not None and (len(s) != 1 or s[0] != x[axis]):
            ctx.error(f"{ctx.op}: per-axis {name} must be [{x[axis]}] (dimension {axis} of {format_shape(x)}), "
                      f"got {format_shape(s)}", at=i, code=SHAPE)


def _scatter_elements(ctx: Ctx) -> None:
    data, idx, upd = _ints_shape(ctx, 0), _ints_shape(ctx, 1), _ints_shape(ctx, 2)
    if data is None or idx is None:
        return
    axis = ctx.axis(ctx.attr("axis", 0), len(data), shape=data)
    if len(idx) != len(data) or upd is not None and upd != idx:
        ctx.error(f"ScatterElements: indices {format_shape(idx)} and updates {format_shape(upd)} must have one "
                  f"shape, of the rank of data {format_shape(data)}", at=2 if upd is not None else 1, code=SHAPE)
    if any(i > d for j, (i, d) in enumerate(zip(idx, data)) if j != axis):
        ctx.error(f"ScatterElements: indices {format_shape(idx)} exceed data {format_shape(data)}", at=1, code=SHAPE)


def _scatter_nd(ctx: Ctx) -> None:
    data, idx, upd = _ints_shape(ctx, 0), _ints_shape(ctx, 1), _ints_shape(ctx, 2)
    if data is None or idx is None or not idx:
        return
    k = idx[-1]
    if k > len(data):
        ctx.error(f"ScatterND: the last dimension of indices ({k}) exceeds the rank of data {format_shape(data)}",
                  at=1, code=SHAPE)
    want = idx[:-1] + data[k:]
    if upd is not None and upd != want:
        ctx.error(f"ScatterND: updates must be {format_shape(want)} (indices[:-1] + data[{k}:]), got "
                  f"{format_shape(upd)}", at=2, code=SHAPE)


def _nms(ctx: Ctx) -> None:
    boxes, scores = _ints_shape(ctx, 0), _ints_shape(ctx, 1)
    if boxes is not None and (len(boxes) != 3 or boxes[2] != 4):
        ctx.error(f"NonMaxSuppression: boxes must be [batch, boxes, 4], got {format_shape(boxes)}", at=0, code=RANK)
    if scores is not None and len(scores) != 3:
        ctx.error(f"NonMaxSuppression: scores must be [batch, classes, boxes], got {format_shape(scores)}",
                  at=1, code=RANK)
    if boxes is not None and scores is not None and (boxes[0] != scores[0] or boxes[1] != scores[2]):
        ctx.error(f"NonMaxSuppression: boxes {format_shape(boxes)} and scores {format_shape(scores)} disagree",
                  at=1, code=SHAPE)


def _lrn(ctx: Ctx) -> None:
    x = _shape(ctx, 0)
    if x is not None and len(x) != 4:
        ctx.error(f"LRN: onnxruntime computes LRN of [N, C, H, W] inputs only, got {format_shape(x)}", at=0, code=RANK)
    size = ctx.attr("size")
    if isinstance(size, int) and size % 2 == 0:
        ctx.error(f"LRN: size must be odd for onnxruntime, got {size}", at="size", code="bad-attribute")


def _col2im(ctx: Ctx) -> None:
    x = _ints_shape(ctx, 0)
    _, image = ctx.ints("image_shape", 1)
    _, block = ctx.ints("block_shape", 2)
    if x is None or len(x) != 3 or not image or not block or len(image) != len(block):
        return
    n = len(image)
    strides, dilations = ctx.attr("strides", [1] * n), ctx.attr("dilations", [1] * n)
    pads = ctx.attr("pads", [0] * 2 * n)
    if len(strides) != n or len(dilations) != n or len(pads) != 2 * n or min(strides) < 1 or min(dilations) < 1:
        return
    count = 1
    for i in range(n):
        room = image[i] + pads[i] + pads[i + n] - dilations[i] * (block[i] - 1) - 1
        count *= room // strides[i] + 1 if room >= 0 else 0
    if count != x[2]:
        ctx.error(f"Col2Im: the input has {x[2]} blocks but image_shape {image}, block_shape {block}, pads, strides "
                  f"and dilations make {count}", at=0, code=SHAPE)


_ACTIVATIONS = frozenset({"Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh",
                          "HardSigmoid", "Elu", "Softsign", "Softplus"})


def _recurrent(ctx: Ctx) -> None:
    if ctx.attr("hidden_size") is None:
        ctx.error(f"{ctx.op}: hidden_size is needed (onnxruntime refuses the node without it)",
                  code="missing-attribute")
    dirs = 2 if ctx.attr("direction") == "bidirectional" else 1
    gates, h = {"RNN": 1, "GRU": 3, "LSTM": 4}[ctx.op], ctx.attr("hidden_size")
    x = _ints_shape(ctx, 0)
    layout = ctx.attr("layout", 0)
    for i, want in ((1, (dirs, gates * h, x[2] if x and len(x) == 3 else None)),
                    (2, (dirs, gates * h, h)), (3, (dirs, 2 * gates * h))):
        s = _ints_shape(ctx, i)
        if s is not None and (len(s) != len(want) or any(w is not None and a != w for a, w in zip(s, want))):
            name = "WRB"[i - 1]
            ctx.error(f"{ctx.op}: {name} must be {list(want)} for hidden_size {h}, {dirs} direction(s); "
                      f"got {format_shape(s)}", at=i, code=SHAPE)
    acts = ctx.attr("activations")
    if acts is not None:
        per = {"RNN": 1, "GRU": 2, "LSTM": 3}[ctx.op] * dirs
        unknown = [a for a in acts if a not in _ACTIVATIONS]
        if len(acts) != per or unknown:
            ctx.error(f"{ctx.op}: activations must be {per} of {', '.join(sorted(_ACTIVATIONS))}; got {list(acts)}",
                      at="activations", code="bad-attribute")
    if layout == 1:  # ONNX allows it; onnxruntime's CPU kernels refuse it when they load
        ctx.error(f"{ctx.op}: onnxruntime cannot run layout 1 (batch first) and refuses the model; use layout 0 "
                  "(X as [seq, batch, input]) with a Transpose before and after if the data is batch first",
                  at="layout", code="bad-attribute")


def _saturate(ctx: Ctx) -> None:
    if "saturate" not in ctx.node.attributes:
        return
    from agrippa.sema.dtypes import ELEM_TYPE_NAMES

    target = ELEM_TYPE_NAMES.get(ctx.attr("to")) if ctx.op == "Cast" else ctx.dtype(1)
    if target is not None and not str(target).startswith("float8"):
        ctx.error(f"{ctx.op}: saturate applies only to casts to float8 types, not to {target} (onnxruntime "
                  "refuses the node)", at="saturate", code="bad-attribute")


def _center_crop_pad(ctx: Ctx) -> None:
    """onnxruntime runs CenterCropPad as its ONNX function body, whose constants are int64: an
    int32 shape binds one type variable to two types there, and the model is refused at load."""
    if ctx.dtype(1) == "int32":
        ctx.error("CenterCropPad: onnxruntime needs an int64 shape here (it expands the op into ops with "
                  "int64 constants), got int32; cast it with Cast to=\"7\"", at=1, code="type-mismatch")


def _batch_norm(ctx: Ctx) -> None:
    """From opset 14, BatchNormalization has 3 outputs when training_mode is 1 (Y, running mean
    and variance) and exactly 1 otherwise; ONNX's inference (and the checker) refuse other counts."""
    if ctx.run.graph.opset < 14:
        return
    training = ctx.attr("training_mode", 0) == 1
    n, want = len(ctx.node.outputs), 3 if training else 1
    if n != want:
        mode = "training_mode=\"1\"" if training else "inference (training_mode 0)"
        ctx.error(f"BatchNormalization: in {mode} it has {want} output{'s' * (want > 1)}, here {n}"
                  + ("; write Y, running_mean and running_var" if training else "; drop the others"),
                  at="training_mode" if "training_mode" in ctx.node.origin.element.attrs else "op", code="arity")


def _reverse_sequence(ctx: Ctx) -> None:
    """sequence_lens holds one length per batch entry: [x.shape[batch_axis]]."""
    x, lens = _shape(ctx, 0), _shape(ctx, 1)
    b = ctx.attr("batch_axis", 1)
    if x is None or lens is None or len(lens) != 1 or b not in (0, 1) or len(x) < 2:
        return
    if type(lens[0]) is int and type(x[b]) is int and lens[0] != x[b]:
        ctx.error(f"ReverseSequence: sequence_lens must hold one length per batch entry, "
                  f"[{x[b]}] (axis {b} of {format_shape(x)}), got {format_shape(lens)}", at=1, other=0, code=SHAPE)


def _max_unpool(ctx: Ctx) -> None:
    """The indices (MaxPool's second output) have the pooled input's shape; every pad is
    smaller than the kernel (onnxruntime refuses the node otherwise, as for MaxPool)."""
    x, idx = _ints_shape(ctx, 0), _ints_shape(ctx, 1)
    if x is not None and idx is not None and x != idx:
        ctx.error(f"MaxUnpool: the indices must have the shape of X, {format_shape(x)}, got {format_shape(idx)}",
                  at=1, other=0, code=SHAPE)
    kernel, pads = ctx.attr("kernel_shape"), ctx.attr("pads")
    if kernel and pads and len(pads) == 2 * len(kernel) and any(p >= k for p, k in zip(pads, list(kernel) * 2)):
        ctx.error(f"MaxUnpool: every pad must be smaller than the kernel ({pads} with kernel_shape {kernel}); "
                  "onnxruntime refuses the node otherwise", at="pads", code=SHAPE)


def _complex_last(ctx: Ctx) -> None:
    """DFT's input and STFT's signal end in a dimension of 1 (real) or 2 (real, imaginary);
    onnxruntime refuses any other when it runs (ONNX's inference does not look)."""
    x = _shape(ctx, 0)
    if x and type(x[-1]) is int and x[-1] not in (1, 2):
        what = "input" if ctx.op == "DFT" else "signal"
        ctx.error(f"{ctx.op}: the {what}'s last dimension must be 1 (real values) or 2 (real and imaginary "
                  f"parts); got {format_shape(x)}", at=0, code=SHAPE)


def _loss(ctx: Ctx) -> None:
    scores, target = _ints_shape(ctx, 0), _ints_shape(ctx, 1)
    if scores is None or target is None:
        return
    if len(scores) < 2 or target != scores[:1] + scores[2:]:
        ctx.error(f"{ctx.op}: the labels must be [N, d1, ...] of the scores [N, C, d1, ...] {format_shape(scores)}, "
                  f"got {format_shape(target)}", at=1, code=SHAPE)


def _einsum(ctx: Ctx) -> None:
    eq = str(ctx.attr("equation", "")).replace(" ", "")
    terms = eq.split("->")[0].split(",")
    if "." in eq or len(terms) != len(ctx.node.inputs):
        return
    seen: dict[str, int] = {}
    for i, term in enumerate(terms):
        s = _ints_shape(ctx, i)
        if s is None or len(s) != len(term):
            continue
        mine: dict[str, int] = {}
        for letter, d in zip(term, s):
            if mine.setdefault(letter, d) != d or seen.setdefault(letter, d) != d and 1 not in (d, seen[letter]):
                ctx.error(f"Einsum: '{letter}' stands for {mine[letter] if mine[letter] != d else seen[letter]} "
                          f"and {d} in \"{eq}\"", at="equation",
                          code=SHAPE)


def _split(ctx: Ctx) -> None:
    from agrippa.sema.ops import get_op

    n = ctx.attr("num_outputs")
    schema = get_op("Split", ctx.run.graph.opset)
    if schema is not None and schema.since_version >= 18:  # Split-18: exactly one of the two
        given = ctx.present(1) or "split" in ctx.node.origin.element.attrs
        if given and n is not None:
            ctx.error("Split: give either the split sizes or num_outputs, not both (opset 18 and later)",
                      at="num_outputs", code=SHAPE)
        if not given and n is None:
            k = len(ctx.node.outputs)
            ctx.error(f"Split: from opset 18, say how to split: num_outputs=\"{k}\" (as many as the node's "
                      "outputs) or the split sizes; ONNX refuses a Split with neither", code="missing-attribute")
    if n is not None and n != len(ctx.node.outputs):
        ctx.error(f"Split: num_outputs is {n} but the node has {len(ctx.node.outputs)} outputs", at="num_outputs",
                  code=SHAPE)


SHAPE = "shape-error"
KERNEL_RULES = {"SpaceToDepth": _space_to_depth, "DepthToSpace": _space_to_depth, "QuantizeLinear": _quantize,
                "DequantizeLinear": _quantize, "ScatterElements": _scatter_elements, "ScatterND": _scatter_nd,
                "NonMaxSuppression": _nms, "LRN": _lrn, "RNN": _recurrent, "GRU": _recurrent, "LSTM": _recurrent,
                "Cast": _saturate, "CastLike": _saturate, "NegativeLogLikelihoodLoss": _loss,
                "SoftmaxCrossEntropyLoss": _loss, "CenterCropPad": _center_crop_pad, "BatchNormalization": _batch_norm, "ReverseSequence": _reverse_sequence, "MaxUnpool": _max_unpool, "Split": _split, "DFT": _complex_last, "STFT": _complex_last, "Col2Im": _col2im, "Einsum": _einsum,
                **NN_KERNEL_RULES}
