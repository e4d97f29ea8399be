"""User stories for symbolic shape inference (agrippa.sema.shapes): whole projects,
sourced and repeated blocks, the API, and speed.

The rules op by op are in test_shapes_ops.py, the rest in test_shapes_fallback.py."""
from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from shapes_helpers import (
    CASE_IDS,
    DATA,
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
from shared_paths import CASES, NEEDS_SHARED

from agrippa.base.diagnostics import Severity
from agrippa.sema.analysis import analyze
from agrippa.sema.shapes import (
    concrete,
    format_shape,
    infer_shapes,
    markup_dim,
    shape_of,
)
from agrippa.sema.values import symbol


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
        ("the other operand was produced here", "main.agr"), ("in enc, sourced at main.agr:9", "main.agr")]
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
