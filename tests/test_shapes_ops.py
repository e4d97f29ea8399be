"""The hand-written shape rules, told as what a user sees: mismatches in the user's own
names, broadcasting, products, layout ops, convolutions and normalizations."""
from __future__ import annotations

from pathlib import Path

import pytest
from shapes_helpers import (
    MATMUL,
    MATMUL_IN,
    line_of,
    messages,
    node,
    rules_must_not_crash,  # noqa: F401 - an autouse fixture
    run,
    shape,
    shape_diags,
)

from agrippa.base.diagnostics import Severity


# ------------------------------------------------------------------- mismatches, in user terms
def test_matmul_symbolic_mismatch_is_a_warning(tmp_path: Path) -> None:
    a = run(tmp_path, MATMUL_IN, MATMUL)
    (d,) = shape_diags(a)
    assert d.severity == Severity.WARNING and d.code == "possible-shape-mismatch"
    assert d.message == ("MatMul: inner dimensions differ: [ntokens, dmodel] × [dkeys, dmodel] "
                         "(unless dmodel = dkeys)")
    assert line_of(a, d) == "[var(dkeys), var(dmodel)]"  # the params' dim
    (rel,) = d.related
    assert rel.message == "the other operand was produced here"
    text = Path(rel.location.file).read_text().splitlines()[rel.location.range.start.line]
    assert '<import from="x"' in text
    assert shape(a, "y") == "[ntokens, dmodel]"  # inference goes on


def test_matmul_mismatch_with_bindings_is_an_error(tmp_path: Path) -> None:
    a = run(tmp_path, MATMUL_IN, MATMUL, bindings={"ntokens": 3, "dmodel": 24, "dkeys": 8})
    (d,) = shape_diags(a)
    assert d.severity == Severity.ERROR and d.code == "shape-mismatch"
    assert d.message == "MatMul: inner dimensions differ: [3, 24] × [8, 24]"
    # the failed node's outputs are unknown, and nothing downstream complains
    assert a.graph.tensors["y"].shape is None
    assert a.graph.tensors["z"].shape is None and a.graph.tensors["w"].shape is None


def test_matmul_agreeing_bindings_are_fine(tmp_path: Path) -> None:
    a = run(tmp_path, MATMUL_IN, MATMUL, bindings={"ntokens": 3, "dmodel": 8, "dkeys": 8})
    assert not shape_diags(a)
    assert shape(a, "y") == "[3, 8]"


def test_provably_different_symbolic_dims_are_errors(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), expr(2 * n)]", "w": "[var(n), var(n)]"}, [node("MatMul", "x w")])
    (d,) = shape_diags(a)
    assert d.severity == Severity.ERROR
    assert d.message == "MatMul: inner dimensions differ: [n, 2*n] × [n, n]"


# ------------------------------------------------------------------------------ elementwise
def test_broadcasting(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[2, 1, 4]", "b": "[3, 1]", "c": "[var(n), 1]", "d": "[4]"},
            [node("Add", "a b", "ab"), node("Mul", "c d", "cd"), node("Sum", "a b d", "s"),
             node("Max", "ab a", "m"), node("Pow", "d d", "p")])
    assert shape(a, "ab") == "[2, 3, 4]"
    assert shape(a, "cd") == "[n, 4]"
    assert shape(a, "s") == "[2, 3, 4]"
    assert shape(a, "m") == "[2, 3, 4]"
    assert shape(a, "p") == "[4]"
    assert not shape_diags(a)


def test_broadcast_error_message(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[3, 4]", "b": "[5]"}, [node("Add", "a b"), node("Relu", "y", "z")])
    (d,) = shape_diags(a)
    assert (d.severity, d.message) == (Severity.ERROR, "Add: cannot broadcast [3, 4] with [5]")
    assert d.related[0].message == "the other operand was produced here"
    assert a.graph.tensors["z"].shape is None


def test_broadcast_symbolic_warning(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[var(n), var(d)]", "b": "[var(k)]"}, [node("Sub", "a b")])
    (d,) = shape_diags(a)
    assert d.severity == Severity.WARNING
    assert d.message == "Sub: cannot broadcast [n, d] with [k] (unless d = k)"


def test_comparisons_where_and_dtypes(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[2, 3]", "b": "[3]"},
            [node("Less", "a b", "lt"), node("Where", "lt a b", "w"), node("Not", "lt", "n"),
             node("Cast", "a", "i", to="7"), node("Equal", "i i", "eq")])
    g = a.graph
    assert (shape(a, "lt"), g.tensors["lt"].dtype) == ("[2, 3]", "bool")
    assert (shape(a, "w"), g.tensors["w"].dtype) == ("[2, 3]", "float32")
    assert g.tensors["n"].dtype == "bool"
    assert (shape(a, "i"), g.tensors["i"].dtype) == ("[2, 3]", "int64")
    assert g.tensors["eq"].dtype == "bool"


@pytest.mark.parametrize("op,attrs", [("Relu", {}), ("Sqrt", {}), ("Exp", {}), ("Tanh", {}),
                                      ("Sigmoid", {}), ("Neg", {}), ("LeakyRelu", {"alpha": "0.1"}),
                                      ("Identity", {}), ("Softmax", {"axis": "-1"}),
                                      ("LogSoftmax", {"axis": "0"}), ("Erf", {}),
                                      ("LpNormalization", {"axis": "1", "p": "2"}), ("Clip", {})])
def test_unary_keeps_shape(tmp_path: Path, op: str, attrs: dict) -> None:
    a = run(tmp_path, {"x": "[var(n), 5]"}, [node(op, **attrs)])
    assert shape(a, "y") == "[n, 5]"
    assert not shape_diags(a)


def test_dropout_outputs(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[2, 5]"}, [node("Dropout", "x", "y mask")])
    assert (shape(a, "y"), shape(a, "mask"), a.graph.tensors["mask"].dtype) == ("[2, 5]", "[2, 5]", "bool")


def test_softmax_axis_out_of_range(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 5]"}, [node("Softmax", axis="2"), node("Relu", "y", "z")])
    (d,) = shape_diags(a)
    assert d.code == "bad-axis" and d.severity == Severity.ERROR
    assert d.message == "Softmax: axis 2 is out of range for a tensor of rank 2 [n, 5]"
    assert line_of(a, d) == "2"


# ------------------------------------------------------------------------------- products
def test_matmul_batched_and_vectors(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[var(b), 1, var(n), var(k)]", "w": "[3, var(k), var(m)]", "v": "[var(k)]",
                       "u": "[var(n)]"},
            [node("MatMul", "a w", "bw"), node("MatMul", "a v", "av"), node("MatMul", "u a", "ua"),
             node("MatMul", "v v", "vv")])
    assert shape(a, "bw") == "[b, 3, n, m]"
    assert shape(a, "av") == "[b, 1, n]"
    assert shape(a, "ua") == "[b, 1, k]"
    assert shape(a, "vv") == "[]"
    assert not shape_diags(a)


def test_matmul_batch_dims_must_broadcast(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[2, 3, 4]", "b": "[5, 4, 6]"}, [node("MatMul", "a b")])
    assert messages(a) == ["MatMul: batch dimensions do not broadcast: [2, 3, 4] × [5, 4, 6]"]


def test_gemm(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[var(k), var(m)]", "b": "[var(n), var(k)]", "c": "[var(n)]"},
            [node("Gemm", "a b c", "y", transA="1", transB="1")])
    assert shape(a, "y") == "[m, n]"
    assert not shape_diags(a)
    a = run(tmp_path, {"a": "[4, 3]", "b": "[5, 3]"}, [node("Gemm", "a b")])
    assert messages(a) == ["Gemm: inner dimensions differ: [4, 3] × [5, 3]"]


# -------------------------------------------------------------------------------- layout
def test_transpose(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[2, var(n), 4]"},
            [node("Transpose", "x", "t"), node("Transpose", "x", "p", perm="[0, 2, 1]"),
             node("Transpose", "x", "bad", perm="[0, 2]")])
    assert shape(a, "t") == "[4, n, 2]"
    assert shape(a, "p") == "[2, 4, n]"
    assert messages(a) == ["Transpose: perm [0, 2] is not an order of the 3 axes of [2, n, 4]"]


def test_reductions(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 4, 5]"},
            [node("ReduceMean", "x", "m", axes="[-1]"),
             node("ReduceMean", "x", "m0", axes="[0, 1]", keepdims="0"),
             node("ReduceSum", "x", "s", axes="[1]"),
             node("ReduceSum", "x", "s0", axes="[2]", keepdims="0"),
             node("ReduceSum", "x", "all", keepdims="0"),
             node("ReduceMax", "x", "mx", axes="[0]"),
             node("ArgMax", "x", "am", axis="1", keepdims="0")])
    assert shape(a, "m") == "[n, 4, 1]"
    assert shape(a, "m0") == "[5]"
    assert shape(a, "s") == "[n, 1, 5]"
    assert shape(a, "s0") == "[n, 4]"
    assert shape(a, "all") == "[]"
    assert shape(a, "mx") == "[1, 4, 5]"
    assert (shape(a, "am"), a.graph.tensors["am"].dtype) == ("[n, 5]", "int64")
    assert not shape_diags(a)


def test_reduce_noop_and_bad_axes(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[3, 4]"}, [node("ReduceSum", "x", "s", noop_with_empty_axes="1"),
                                        node("ReduceMean", "x", "m", axes="[2]")])
    assert shape(a, "s") == "[3, 4]"
    assert messages(a) == ["ReduceMean: axis 2 is out of range for a tensor of rank 2 [3, 4]"]


def test_reduce_opset18_axes_input(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[3, 4]"}, [node("ReduceMean", "x", "m", axes="[0]", keepdims="0")], opset=18)
    assert shape(a, "m") == "[4]"


def test_concat(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[var(n), 8]", "b": "[var(m), 8]", "c": "[4, 8]", "d": "[var(n), 2]"},
            [node("Concat", "a b c", "abc", axis="0"), node("Concat", "a d", "ad", axis="-1")])
    assert shape(a, "abc") == "[m + n + 4, 8]"
    assert shape(a, "ad") == "[n, 10]"
    assert not shape_diags(a)


def test_concat_mismatch(tmp_path: Path) -> None:
    a = run(tmp_path, {"a": "[var(ntokens), 8]", "c": "[4, 8]", "e": "[4, 7]"},
            [node("Concat", "a c", "ac", axis="1"), node("Concat", "c e", "ce", axis="0")])
    warn, err = sorted(shape_diags(a), key=lambda d: -d.severity)
    assert warn.message == "Concat: inputs differ in dimension 0: [ntokens, 8] and [4, 8] (unless ntokens = 4)"
    assert err.message == "Concat: inputs differ in dimension 1: [4, 8] and [4, 7]"
    assert err.severity == Severity.ERROR and err.related[0].message == "the other operand was produced here"
    assert shape(a, "ac") == "[ntokens, 16]"
    assert a.graph.tensors["ce"].shape is None


def test_gather(tmp_path: Path) -> None:
    a = run(tmp_path, {"e": "[var(nvocab), var(d)]", "ids": "[var(n)]:int64"},
            [node("Gather", "e ids", "g"), node("Gather", "e ids", "g1", axis="1")])
    assert shape(a, "g") == "[n, d]"
    assert shape(a, "g1") == "[nvocab, n]"


def test_reshape(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 4, 6]", "c": "[2, 3, 4]"},
            [node("Reshape", "x", "r", shape="[0, -1]"), node("Reshape", "x", "r2", shape="[-1, 2, 12]"),
             node("Reshape", "c", "r3", shape="[4, -1]"), node("Reshape", "c", "bad", shape="[5, -1]"),
             node("Reshape", "c", "bad2", shape="[5, 5]")])
    assert shape(a, "r") == "[n, 24]"
    assert shape(a, "r2") == "[n, 2, 12]"
    assert shape(a, "r3") == "[4, 6]"
    assert messages(a) == ["Reshape: cannot reshape [2, 3, 4] (24 elements) into [5, -1]",
                           "Reshape: cannot reshape [2, 3, 4] (24 elements) into [5, 5] (25 elements)"]


def test_reshape_from_shape_of_another_tensor(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 6]", "t": "[var(n), 2, 3]"},
            [node("Shape", "t", "ts"), node("Reshape", "x ts", "r")])
    assert (shape(a, "ts"), a.graph.tensors["ts"].dtype) == ("[3]", "int64")
    assert shape(a, "r") == "[n, 2, 3]"


def test_flatten(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(b), 3, 4, 5]"},
            [node("Flatten", "x", "f"), node("Flatten", "x", "f0", axis="0"), node("Flatten", "x", "f2", axis="-1")])
    assert shape(a, "f") == "[b, 60]"
    assert shape(a, "f0") == "[1, 60*b]"
    assert shape(a, "f2") == "[12*b, 5]"


def test_squeeze_unsqueeze(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 1, 4]"},
            [node("Squeeze", "x", "s", axes="[1]"), node("Unsqueeze", "x", "u", axes="[0, -1]"),
             node("Squeeze", "x", "bad", axes="[2]")])
    assert shape(a, "s") == "[n, 4]"
    assert shape(a, "u") == "[1, n, 1, 4, 1]"
    assert messages(a) == ["Squeeze: dimension 2 of [n, 1, 4] is 4, not 1"]
    a = run(tmp_path, {"x": "[3, 1, 4]"}, [node("Squeeze", "x", "s", axes="[1]"),
                                           node("Unsqueeze", "x", "u", axes="[1]")], opset=11)
    assert (shape(a, "s"), shape(a, "u")) == ("[3, 4]", "[3, 1, 1, 4]")


def test_slice(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[10, var(n), 8]"},
            [node("Slice", "x", "a", starts="[2]", ends="[7]", axes="[0]"),
             node("Slice", "x", "b", starts="[1, 0]", ends="[9223372036854775807, -1]", axes="[1, 2]"),
             node("Slice", "x", "c", starts="[0]", ends="[10]", axes="[0]", steps="[3]"),
             node("Slice", "x", "d", starts="[-3]", ends="[100]", axes="[-1]"),
             node("Slice", "x", "e", starts="[0]", ends="[1]", steps="[0]")])
    assert shape(a, "a") == "[5, n, 8]"
    assert shape(a, "b") == "[10, n - 1, 7]"
    assert shape(a, "c") == "[4, n, 8]"
    assert shape(a, "d") == "[10, n, 3]"
    assert messages(a) == ["Slice: steps cannot be 0"]


def test_split(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[6, var(d)]"},
            [node("Split", "x", "a b c"), node("Split", "x", "p q", axis="0", split="[2, 4]"),
             node("Split", "x", "h1 h2", axis="1"), node("Split", "x", "u v", split="[2, 3]")])
    assert [shape(a, n) for n in ("a", "b", "c")] == ["[2, d]"] * 3
    assert (shape(a, "p"), shape(a, "q")) == ("[2, d]", "[4, d]")
    assert (shape(a, "h1"), shape(a, "h2")) == ("[6, d/2]", "[6, d/2]")
    assert messages(a) == ["Split: the parts [2, 3] add up to 5 but dimension 0 of [6, d] is 6"]


def test_expand_and_tile(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 1]"},
            [node("Expand", "x", "e", shape="[2, 1, 5]"), node("Tile", "x", "t", repeats="[2, 3]"),
             node("Expand", "x", "bad", shape="[3, 4]")])
    assert shape(a, "e") == "[2, n, 5]"
    assert shape(a, "t") == "[2*n, 3]"
    assert messages(a) == ["Expand: cannot expand [n, 1] to [3, 4] (unless n = 3)"]


def test_shape_constant_of_shape_constant_range(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), 4]"},
            [node("Shape", "x", "s"), node("ConstantOfShape", "s", "z"),
             '<node op="Constant" value_ints="[2, 3]"><output name="c" /></node>',
             node("ConstantOfShape", "c", "z2"), node("Size", "x", "sz"),
             '<node op="Constant" value_int="5"><output name="five" /></node>',
             '<node op="Constant" value_int="0"><output name="zero" /></node>',
             '<node op="Constant" value_int="1"><output name="one" /></node>',
             node("Range", "zero five one", "r")])
    assert shape(a, "s") == "[2]"
    assert shape(a, "z") == "[n, 4]"
    assert (shape(a, "c"), a.graph.tensors["c"].dtype) == ("[2]", "int64")
    assert shape(a, "z2") == "[2, 3]"
    assert shape(a, "sz") == "[]"
    assert shape(a, "r") == "[5]"


# --------------------------------------------------------------------------- convolutions
def test_conv_symbolic_and_concrete(tmp_path: Path) -> None:
    nodes = [node("Conv", "x", "c", params=(("W", "[8, 3, 3, 3]"), ("B", "[8]")), strides="[2, 2]",
                  pads="[1, 1, 1, 1]"),
             node("Conv", "x", "v", params=(("W2", "[4, 3, 5, 5]"),)),
             node("Conv", "x", "same", params=(("W3", "[6, 1, 3, 3]"),), group="3", auto_pad="SAME_UPPER"),
             node("MaxPool", "c", "mp", kernel_shape="[2, 2]", strides="[2, 2]"),
             node("AveragePool", "c", "ap", kernel_shape="[3, 3]", pads="[1, 1, 1, 1]"),
             node("GlobalAveragePool", "c", "g")]
    a = run(tmp_path, {"x": "[var(b), 3, var(h), var(w)]"}, nodes)
    assert shape(a, "c") == "[b, 8, (h - 1) // 2 + 1, (w - 1) // 2 + 1]"
    assert shape(a, "v") == "[b, 4, h - 4, w - 4]"
    assert shape(a, "same") == "[b, 6, h, w]"
    assert shape(a, "ap") == shape(a, "c")
    assert shape(a, "g") == "[b, 8, 1, 1]"
    assert not shape_diags(a)
    a = run(tmp_path, {"x": "[var(b), 3, var(h), var(w)]"}, nodes, bindings={"b": 2, "h": 32, "w": 15})
    assert shape(a, "c") == "[2, 8, 16, 8]"
    assert shape(a, "v") == "[2, 4, 28, 11]"
    assert shape(a, "mp") == "[2, 8, 8, 4]"
    assert shape(a, "g") == "[2, 8, 1, 1]"


def test_conv_mistakes(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[1, 3, 4, 4]"},
            [node("Conv", "x", "c", params=(("W", "[8, 2, 3, 3]"),)),
             node("Conv", "x", "k", params=(("W2", "[8, 3, 5, 5]"),)),
             node("MaxPool", "x", "m", kernel_shape="[2]")])
    assert messages(a) == [
        "Conv: the input has 3 channels but the weights expect 2: [1, 3, 4, 4] and [8, 2, 3, 3]",
        "Conv: the kernel (5) is larger than the padded input (4) in dimension 2",
        "MaxPool: kernel_shape [2] does not fit the input [1, 3, 4, 4]"]


def test_normalizations(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[var(n), var(d)]", "img": "[2, 3, 5, 5]"},
            [node("LayerNormalization", "x", "ln", params=(("g", "[var(d)]"), ("b", "[var(d)]"))),
             node("LayerNormalization", "x", "ln2 mean inv", params=(("g2", "[var(k)]"),)),
             node("BatchNormalization", "img", "bn", params=(("s", "[3]"), ("bb", "[3]"), ("mu", "[3]"),
                                                               ("var", "[3]"))),
             node("BatchNormalization", "img", "bad", params=(("s2", "[4]"), ("bb2", "[3]"), ("mu2", "[3]"),
                                                                ("var2", "[3]")))],
            opset=17)
    assert shape(a, "ln") == "[n, d]"
    assert (shape(a, "mean"), shape(a, "inv")) == ("[n, 1]", "[n, 1]")
    assert shape(a, "bn") == "[2, 3, 5, 5]"
    assert messages(a) == [
        "LayerNormalization: Scale [k] does not match [d] (unless k = d)",
        "BatchNormalization: scale has shape [4] but the input [2, 3, 5, 5] has 3 channels"]
