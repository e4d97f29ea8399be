"""User stories for symbolic shape inference (agrippa.shapes)."""
from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import onnx
import pytest

from agrippa.analysis import Analysis, analyze
from agrippa.diagnostics import Severity
from agrippa.shapes import (
    concrete,
    format_shape,
    hand_written_ops,
    infer_shapes,
    markup_dim,
    shape_of,
)
from agrippa.values import symbol

CASES = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "cases"
NEEDS_SHARED = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/conformance is not beside the project")
CASE_IDS = sorted(p.name for p in CASES.glob("*") if (p / "ref.json").exists())
DATA = Path(__file__).parent / "data" / "shapes"


@pytest.fixture(autouse=True)
def _rules_must_not_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """In these tests a rule's unexpected exception fails the test instead of being swallowed."""
    from agrippa.shapes import engine

    monkeypatch.setattr(engine, "DEBUG", True)


# ------------------------------------------------------------------------------- helpers
def node(op: str, ins: str = "x", outs: str = "y", params: tuple = (), **attrs: object) -> str:
    """`<node>` markup: inputs by name, then params (name, dim), then outputs."""
    a = "".join(f' {k}="{v}"' for k, v in attrs.items())
    body = "".join(f'<input src="{s}" />' for s in ins.split())
    body += "".join(f'<params name="{n}" dim="{d}" />' for n, d in params)
    body += "".join(f'<output name="{o}" />' for o in outs.split())
    return f'<node op="{op}"{a}>{body}</node>'


def write(tmp_path: Path, inputs: dict[str, str], nodes: list[str], exports: str = "",
          opset: int | None = None, extra: str = "") -> Path:
    """A one-file project: root imports (name -> dim, or 'dim:type'), one block of nodes."""
    imports = ""
    for name, dim in inputs.items():
        dim, _, typ = dim.partition(":")
        imports += f'<import from="{name}" dim="{dim}"' + (f' type="{typ}"' if typ else "") + " />\n"
    text = (f'<model script-version="0.0.1">\n{imports}<block title="B">\n' + "\n".join(nodes)
            + f"\n</block>\n{extra}{exports}</model>\n")
    (tmp_path / "main.agr").write_text(text)
    if opset is not None:
        (tmp_path / "agrippa.toml").write_text(f"[model]\nopset = {opset}\n")
    return tmp_path / "main.agr"


def run(tmp_path: Path, inputs: dict[str, str], nodes: list[str], bindings: dict | None = None,
        **kw: object) -> Analysis:
    return analyze(str(write(tmp_path, inputs, nodes, **kw)), bindings=bindings)


def shape(a: Analysis, name: str) -> str:
    return format_shape(a.graph.tensors[name].shape)


def shape_diags(a: Analysis, severity: Severity | None = None) -> list:
    codes = {"shape-mismatch", "possible-shape-mismatch", "bad-axis", "rank-mismatch", "shape-error",
             "stale-dim"}
    return [d for d in a.diagnostics if d.code in codes and (severity is None or d.severity == severity)]


def messages(a: Analysis, severity: Severity | None = None) -> list[str]:
    return [d.message for d in shape_diags(a, severity)]


def line_of(a: Analysis, d) -> str:
    text = Path(d.file).read_text().splitlines()[d.range.start.line]
    return text[d.range.start.character:d.range.end.character]


# ---------------------------------------------------------------------- conformance projects
def _runtime_shapes(case: Path) -> dict[str, tuple]:
    """Every node output's shape as onnxruntime computes it on the reference model."""
    import onnxruntime as ort

    io = np.load(case / "io.npz")
    model = onnx.load(str(case / "ref.onnx"))
    names = [o for n in model.graph.node for o in n.output if o]
    del model.graph.output[:]
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in names)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {k[3:]: io[k] for k in io.files if k.startswith("in:")}
    shapes = {n: v.shape for n, v in zip(names, sess.run(None, feeds))}
    ref = json.loads((case / "ref.json").read_text())
    for name in ref["outputs"]:
        shapes.setdefault(name, io["out:" + name].shape)
    return shapes


@pytest.mark.parametrize("case", CASE_IDS)
def test_conformance_shapes_match_onnxruntime(case: str) -> None:
    ref = json.loads((CASES / case / "ref.json").read_text())
    a = analyze(str(CASES / case / "project"), bindings=ref["bindings"], index=ref["case"].get("index"))
    assert not a.errors, [d.to_text() for d in a.errors]
    g = a.graph
    for t in g.tensors.values():
        assert t.shape is not None and all(type(d) is int for d in t.shape), (t.name, t.shape)
    actual = _runtime_shapes(CASES / case)
    for name, want in actual.items():
        if name in g.tensors:
            assert g.tensors[name].shape == want, name
    io = np.load(CASES / case / "io.npz")
    for (t, _el), out_name in zip(g.outputs, ref["outputs"]):
        assert t.shape == io["out:" + out_name].shape


@NEEDS_SHARED
def test_mha_stretch_without_bindings_keeps_the_users_names() -> None:
    a = analyze(str(CASES / "mha-stretch" / "project"))
    g = a.graph
    assert shape(a, "attended$concat$1") == "[ntokens, dvalues*nheads]"
    assert shape(a, "keys_t") == "[dkeys, ntokens]"
    assert shape(a, "means") == "[ntokens, 1]"
    assert [format_shape(t.shape) for t, _ in g.outputs] == ["[ntokens, nvocab]"] * 2
    assert not a.errors
    # queries × keys_t needs dqueries = dkeys: a warning until bindings say so
    (w,) = [d for d in a.diagnostics if d.code == "possible-shape-mismatch"]
    assert w.message == ("MatMul: inner dimensions differ: [ntokens, dqueries] × [dkeys, ntokens] "
                         "(unless dqueries = dkeys)")


@NEEDS_SHARED
def test_mha_stretch_stale_import_hints() -> None:
    a = analyze(str(CASES / "mha-stretch" / "project"))
    stale = [d for d in a.diagnostics if d.code == "stale-dim"]
    assert stale and all(d.message == "dim says [ntokens, ntokens] but the shape is [1]" for d in stale)
    assert all(d.severity == Severity.WARNING for d in stale)
    assert {line_of(a, d) for d in stale} == {"[var(ntokens), var(ntokens)]"}


@NEEDS_SHARED
def test_sourced_and_repeated_blocks_stay_symbolic() -> None:
    a = analyze(str(CASES / "import" / "project"))
    assert [format_shape(t.shape) for t, _ in a.graph.outputs] == ["[n, 1]"]
    assert not shape_diags(a)
    a = analyze(str(CASES / "stretch" / "project"))
    assert [format_shape(t.shape) for t, _ in a.graph.outputs] == ["[3, 6]"]


def test_stretch_with_symbolic_count(tmp_path: Path) -> None:
    blocks = """<block title="Heads" stretch="var(h)">
      <import from="x" />
      <node op="MatMul"><input src="x" /><params name="W" dim="[var(d), var(k)]" /><output name="head" /></node>
      <export from="head" />
    </block>
    <block title="Out"><node op="Relu"><input src="head" /><output name="z" dim="[var(n), expr(k * h)]" /></node></block>"""
    a = run(tmp_path, {"x": "[var(n), var(d)]"}, [node("Identity", "x", "x2")], extra=blocks)
    assert shape(a, "z") == "[n, h*k]"
    assert not shape_diags(a)
    a = run(tmp_path, {"x": "[var(n), var(d)]"}, [node("Identity", "x", "x2")], extra=blocks,
            bindings={"n": 2, "d": 4, "k": 3, "h": 5})
    assert shape(a, "z") == "[2, 15]"
    assert not shape_diags(a)


# ------------------------------------------------------------------- mismatches, in user terms
MATMUL_IN = {"x": "[var(ntokens), var(dmodel)]"}
MATMUL = [node("MatMul", "x", "y", params=(("W", "[var(dkeys), var(dmodel)]"),)),
          node("Relu", "y", "z"), node("Add", "z x", "w")]


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


# ------------------------------------------------------------------------------ fallback
def test_other_ops_use_onnx_inference(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[1, 8, 4, 6]", "s": "[var(n), 5]", "ids": "[3]:int64", "depth": "[]:int64",
                       "vals": "[2]"},
            [node("DepthToSpace", "x", "d", blocksize="2"), node("Pad", "x", "p", pads="[0, 0, 1, 1, 0, 0, 1, 1]"),
             node("Einsum", "s s", "e", equation="ij,ij->i"), node("TopK", "x", "v i", K="[3]"),
             node("SpaceToDepth", "x", "sd", blocksize="2"), node("OneHot", "ids depth vals", "oh")])
    assert shape(a, "d") == "[1, 2, 8, 12]"
    assert shape(a, "p") == "[1, 8, 6, 8]"
    assert shape(a, "e") == "[n]"  # symbolic dims pass through ONNX's inference
    assert (shape(a, "v"), shape(a, "i"), a.graph.tensors["i"].dtype) == ("[1, 8, 4, 3]", "[1, 8, 4, 3]", "int64")
    assert shape(a, "sd") == "[1, 32, 2, 3]"
    assert shape(a, "oh") == "[3, ?]"  # the depth is data: ONNX cannot know it
    assert not shape_diags(a)
    assert "Einsum" not in hand_written_ops() and "MatMul" in hand_written_ops()


def test_onnx_inference_errors_are_reported(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[1, 3, 4, 6]"}, [node("Pad", "x", "p", pads="[0, 0, 1, 1]"),
                                               node("Relu", "p", "r")])
    (d,) = shape_diags(a)
    assert d.severity == Severity.ERROR and d.code == "shape-error"
    assert d.message == "Pad: Pads has incorrect number of values"
    assert a.graph.tensors["r"].shape is None


def test_unknown_inputs_do_not_cascade(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[2, 3]"},
            [node("Reshape", "x", "r", shape="[7, -1]"), node("MatMul", "r x", "m"),
             node("Pad", "m", "d", pads="[0, 1]"), node("Add", "d x", "z")])
    assert len(shape_diags(a)) == 1
    assert all(a.graph.tensors[n].shape is None for n in ("r", "m", "d", "z"))


# ------------------------------------------------------------------------------ dim hints
def test_stale_hints(tmp_path: Path) -> None:
    blocks = """<block title="Inner">
      <import from="h" dim="[var(dmodel), var(ntokens)]" />
      <node op="Relu"><input src="h" dims="[var(ntokens), var(dkeys)]" /><output name="r" dim="[var(ntokens), var(dkeys)]" /></node>
      <export from="r" dim="[var(dkeys), var(ntokens)]" />
    </block>
    """
    a = run(tmp_path, {"x": "[var(ntokens), var(dkeys)]"},
            ['<node op="Transpose"><input src="x" dim="[var(ntokens), var(dkeys)]" />'
             '<output name="h" dim="[var(dmodel), var(ntokens)]" /></node>'],
            extra=blocks, exports='<export from="r" dim="[var(ntokens), 3]" />')
    stale = sorted(shape_diags(a), key=lambda d: d.range.start)
    assert [d.message for d in stale] == [
        "dim says [dmodel, ntokens] but the shape is [dkeys, ntokens]",  # <output>
        "dim says [dmodel, ntokens] but the shape is [dkeys, ntokens]",  # block <import>
        "dims says [ntokens, dkeys] but the shape is [dkeys, ntokens]",  # <input dims=>
        "dim says [ntokens, dkeys] but the shape is [dkeys, ntokens]",  # <output>
        "dim says [ntokens, 3] but the shape is [dkeys, ntokens]",  # root <export>
    ]
    assert all(d.code == "stale-dim" and d.severity == Severity.WARNING for d in stale)
    assert line_of(a, stale[0]) == "[var(dmodel), var(ntokens)]"
    fix = stale[0].fixes[0]
    assert fix.title == "Change dim to [var(dkeys), var(ntokens)]"
    assert fix.edits[0].new_text == "[var(dkeys), var(ntokens)]"
    # the block <export> agrees, the root <import> declares: neither is flagged
    with_bindings = analyze(str(tmp_path / "main.agr"), bindings={"ntokens": 3, "dkeys": 3, "dmodel": 3})
    assert not shape_diags(with_bindings)


# ------------------------------------------------------------------------------ the API
def test_format_concrete_and_shape_of(tmp_path: Path) -> None:
    n, d = symbol("n"), symbol("d")
    assert format_shape((4, 16)) == "[4, 16]"
    assert format_shape((n, None)) == "[n, ?]"
    assert format_shape(None) == "unknown"
    assert format_shape((n**2, n % 3)) == "[n^2, n % 3]"
    assert concrete((n, 2 * d, None, 5), {"n": 3, "d": "4"}) == (3, 8, None, 5)
    assert markup_dim(d * n) == "expr(d * n)" and markup_dim(n) == "var(n)" and markup_dim(4) == "4"
    a = run(tmp_path, {"x": "[var(n), expr(2 * n)]"}, [node("Relu")])
    assert format_shape(shape_of(a.graph, "y")) == "[n, 2*n]"
    assert shape_of(a.graph, a.graph.tensors["x"]) == (n, 2 * n)
    assert shape_of(a.graph, "nope") is None


def test_infer_shapes_is_rerunnable(tmp_path: Path) -> None:
    a = run(tmp_path, MATMUL_IN, MATMUL, bindings={"ntokens": 3, "dmodel": 24, "dkeys": 8})
    again = infer_shapes(a.graph)
    assert [d.message for d in again] == messages(a)


# ------------------------------------------------------------------------------ speed
def _generate(path: Path, blocks: int) -> None:
    lines = ['<model script-version="0.0.1">', '<import from="x0" dim="[var(n), var(d)]" />']
    prev = "x0"
    for i in range(blocks):
        lines += [f'<block title="B{i}">',
                  node("MatMul", prev, f"h{i}", params=(("W", "[var(d), var(d)]"),)),
                  node("Add", f"h{i}", f"a{i}", params=(("b", "[var(d)]"),)),
                  node("Relu", f"a{i}", f"r{i}"),
                  node("ReduceMean", f"r{i}", f"m{i}", axes="[-1]"),
                  f'<node op="Sub"><input src="r{i}" /><input src="m{i}" /><output name="y{i}" '
                  'dim="[var(n), var(d)]" /></node>',
                  "</block>"]
        prev = f"y{i}"
    lines += [f'<export from="{prev}" dim="[var(n), var(d)]" />', "</model>"]
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.agr").write_text("\n".join(lines))


def _p50(fn, repeat: int = 7) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `fn()` (CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


@NEEDS_SHARED
def test_inference_speed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    mha = str(CASES / "mha-stretch" / "project")
    bindings = json.loads((CASES / "mha-stretch" / "ref.json").read_text())["bindings"]
    _generate(tmp_path / "big", 1000)
    rows = []
    for label, path, b in (("mha-stretch, symbolic", mha, None), ("mha-stretch, bindings", mha, bindings),
                           ("5,000 nodes, symbolic", str(tmp_path / "big"), None),
                           ("5,000 nodes, bindings", str(tmp_path / "big"), {"n": 8, "d": 64})):
        a = analyze(path, bindings=b, shapes=False)
        rest, _ = _p50(lambda p=path, b=b: analyze(p, bindings=b, shapes=False),
                       repeat=1 if len(a.graph.nodes) > 1000 else 5)
        infer_shapes(a.graph)  # warm the memo tables, as an editor session would
        wall, cpu = _p50(lambda a=a: infer_shapes(a.graph))
        rows.append(f"{label:22s} {len(a.graph.nodes):5d} nodes  infer_shapes p50 {wall:7.2f} ms "
                    f"(cpu {cpu:6.2f} ms); the rest of the analysis {rest:8.1f} ms")
        assert all(t.shape is not None for t in a.graph.tensors.values())
    with capsys.disabled():
        print(f"\nshape inference timings ({os.cpu_count()} cpus):\n  " + "\n  ".join(rows))


# ------------------------------------------------------------------- sourced blocks and rep
def test_sourced_block_mismatch_points_into_the_sourced_file() -> None:
    project = str(DATA / "sourced")
    a = analyze(project)
    (w,) = shape_diags(a)
    assert w.file.endswith("layer.agr") and w.severity == Severity.WARNING
    assert w.message == "MatMul: inner dimensions differ: [n, d] × [dw, k] (unless d = dw)"
    assert [(r.message, Path(r.location.file).name) for r in w.related] == [
        ("the other operand was produced here", "main.agr"), ("sourced here as 'enc'", "main.agr")]
    assert shape(a, "enc$y$1") == "[n, k]"  # one copy of the rep block while its count is unknown
    good = analyze(project, bindings={"n": 2, "d": 4, "dw": 4, "k": 3, "layers": 3})
    assert not shape_diags(good)
    assert [shape(good, f"enc$y${i}") for i in (1, 2, 3)] == ["[2, 3]"] * 3
    bad = analyze(project, bindings={"n": 2, "d": 4, "dw": 5, "k": 3, "layers": 3})
    (e,) = shape_diags(bad)
    assert (e.severity, e.message) == (Severity.ERROR, "MatMul: inner dimensions differ: [2, 4] × [5, 3]")
    assert all(bad.graph.tensors[f"enc$y${i}"].shape is None for i in (1, 2, 3))


def test_numbers_in_hints_may_be_examples(tmp_path: Path) -> None:
    a = run(tmp_path, {"x": "[1, 3, var(h), var(h)]"},
            ['<node op="MaxPool" kernel_shape="[2, 2]" strides="[2, 2]"><input src="x" />'
             '<output name="y" dim="[1, 3, 16, 16]" /></node>'])
    assert shape(a, "y") == "[1, 3, h // 2, h // 2]"
    assert not shape_diags(a)
    a = analyze(str(tmp_path / "main.agr"), bindings={"h": 30})
    assert messages(a) == ["dim says [1, 3, 16, 16] but the shape is [1, 3, 15, 15]"]


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_no_rule_crashes_on_odd_inputs(tmp_path: Path, opset: int) -> None:
    """Every hand-written rule, fed scalars, vectors, symbolic and half-known shapes."""
    from agrippa import ops

    pool = ["s", "v", "m", "t", "u", "i"]
    nodes = [node("OneHot", "i depth vals", "u")]  # u is [4, ?]: a dim ONNX cannot know
    for op in hand_written_ops():
        schema = ops.get_op(op, opset)
        if schema is None:
            continue
        n_out = max(1, min(schema.max_output, 3))
        for k in range(len(pool)):
            for arity in range(max(schema.min_input, 1), min(schema.max_input, 3) + 1):
                ins = " ".join(pool[(k + j) % len(pool)] for j in range(arity))
                outs = " ".join(f"{op}_{k}_{arity}_{j}" for j in range(n_out))
                nodes.append(node(op, ins, outs))
    a = run(tmp_path, {"s": "[]", "v": "[var(n)]", "m": "[2, var(n)]", "t": "[2, 3, 4, 5]", "i": "[4]:int64",
                       "depth": "[]:int64", "vals": "[2]"}, nodes, opset=opset)
    assert a.graph is not None and len(a.graph.nodes) == len(nodes)


def test_inferred_types_and_shapes_export_and_run(tmp_path: Path) -> None:
    """The compiler writes inferred shapes and dtypes as value_info; onnxruntime accepts them."""
    import onnxruntime as ort

    import agrippa

    write(tmp_path, {"x": "[2, 3]"},
          [node("Cast", "x", "xi", to="7"), node("Equal", "xi xi", "eq"), node("Shape", "x", "s"),
           node("Reshape", "x s", "r"), node("Where", "eq r x", "w"),
           node("TopK", "w", "v ix", K="[2]", axis="1"), node("Cast", "ix", "ixf", to="1"),
           node("Add", "v ixf", "y")], exports='<export from="y" dim="[2, 2]" />')
    out = tmp_path / "out.onnx"
    agrippa.export(str(tmp_path), str(out), suppress=True)
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    types = {v.name: v.type.tensor_type.elem_type for v in model.graph.value_info}
    assert types["eq"] == onnx.TensorProto.BOOL and types["ix"] == onnx.TensorProto.INT64
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": np.arange(6, dtype=np.float32).reshape(2, 3)})
    assert y.shape == (2, 2)
