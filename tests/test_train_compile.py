"""The batched path under torch.compile: one graph (no graph break) for every example model,
the same logits and gradients as vmap over the unfused graph; MaxPool-after-Relu reordered
and run as F.max_pool2d; the compile backend's partitioner setting (train/compiled.py)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
MODELS = [
    ("examples/gpt", {"nlayers": 1, "ntokens": 8}),
    ("examples/transformer", {"nlayers": 1}),
    ("bench/models/perceiver", {"ntokens": 16, "nlatent": 4, "nlayers": 1}),
    ("examples/cnn", {"batch": 2}),
]


def _load(project: str, bindings: dict[str, int], tmp_path: Path) -> tuple[Any, Any, list[Any]]:
    """(module, batched runner, inputs with a batch of 3, or unbatched for the CNN)."""
    import onnx

    from agrippa.backend.compile import compile_project
    from agrippa.backend.torch_bridge import onnx_to_torch
    from agrippa.train.batching import native_batched

    res = compile_project(str(ROOT / project), str(tmp_path / "m.onnx"), bindings=dict(bindings),
                          write_weights=False, reinit=True, seed=0)
    proto = onnx.load(res.onnx_path)
    module = onnx_to_torch(proto)
    runner = native_batched(module, proto)
    assert runner is not None
    g = torch.Generator().manual_seed(0)
    args = []
    for i in proto.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        t = torch.randn(*([] if "cnn" in project else [3]), *shape, generator=g)
        args.append(torch.where(t > 0.5, -1e9, 0.0)[0] if "mask" in i.name else t)
    return module, runner, args


def _grads(module: Any, out: Any) -> dict[str, Any]:
    module.zero_grad()
    out.square().sum().backward()
    return {k: p.grad.clone() for k, p in module.named_parameters() if p.grad is not None}


def _close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    torch.testing.assert_close(a, b, rtol=rtol, atol=atol * max(1.0, b.abs().max().item()))


@pytest.mark.parametrize(("project", "bindings"), MODELS)
def test_batched_path_is_one_graph(project: str, bindings: dict[str, int], tmp_path: Path) -> None:
    """torch._dynamo traces the whole batched forward without a graph break."""
    import torch._dynamo

    _, runner, args = _load(project, bindings, tmp_path)
    with torch.no_grad():
        runner(*args)  # the first call's eager check against vmap
    torch._dynamo.reset()
    explained = torch._dynamo.explain(runner)(*args)
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]
    assert explained.graph_count == 1


def test_cnn_pool_runs_before_relu(tmp_path: Path) -> None:
    """Relu → MaxPool becomes F.max_pool2d → Relu: the same logits and gradients."""
    from agrippa.backend.torch_bridge import batched
    from agrippa.train.fast_ops import FastMaxPool

    module, runner, args = _load("examples/cnn", {"batch": 4}, tmp_path)
    kinds = [getattr(op, "op", "") for op in runner.ops]
    assert sum(isinstance(op, FastMaxPool) for op in runner.ops) == 2
    assert [k for k in kinds if k in ("Relu", "MaxPool")] == ["MaxPool", "Relu"] * 2
    out = runner.run(args)
    grads = _grads(module, out)
    ref = batched(module)(*args)
    ref_grads = _grads(module, ref)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    for k, r in ref_grads.items():
        _close(grads[k], r, rtol=1e-3, atol=1e-4)


def test_pool_swap_keeps_a_shared_relu(tmp_path: Path) -> None:
    """A Relu read by something besides the pool stays where it is."""
    from agrippa.train.fusion import pool_before_relu

    class Op:
        def __init__(self, op: str, inputs: list[str], outputs: list[str]) -> None:
            self.op, self.inputs, self.outputs = op, inputs, outputs

    ops = [Op("Relu", ["x"], ["r"]), Op("MaxPool", ["r"], ["p"]), Op("Add", ["p", "r"], ["y"])]
    assert [o.op for o in pool_before_relu(ops, ["y"])] == ["Relu", "MaxPool", "Add"]
    ops = [Op("Relu", ["x"], ["r"]), Op("MaxPool", ["r"], ["p"]), Op("Add", ["p", "p"], ["y"])]
    swapped = pool_before_relu(ops, ["y"])
    assert [(o.op, o.inputs, o.outputs) for o in swapped] == [
        ("MaxPool", ["x"], ["r"]), ("Relu", ["r"], ["p"]), ("Add", ["p", "p"], ["y"])]


@pytest.mark.slow
@pytest.mark.parametrize(("project", "bindings"), [MODELS[1], MODELS[3]])
def test_compiled_matches_eager(project: str, bindings: dict[str, int], tmp_path: Path) -> None:
    """compile_runner (inductor, fullgraph): the same logits and gradients as eager, and the
    compiled backward recomputes Relu's mask (no bool tensor saved for it)."""
    from agrippa.train.accel import cxx_compiler
    from agrippa.train.compiled import compile_runner

    if cxx_compiler() is None:
        pytest.skip("no C++ compiler: inductor cannot build CPU kernels here")
    import torch._dynamo

    module, runner, args = _load(project, bindings, tmp_path)
    with torch.no_grad():
        runner(*args)
    ref = runner(*args)
    ref_grads = _grads(module, ref)
    torch._dynamo.reset()
    out = compile_runner(runner, fullgraph=True)(*args)
    grads = _grads(module, out)
    _close(out, ref)
    assert set(grads) == set(ref_grads)
    for k, r in ref_grads.items():
        _close(grads[k], r, rtol=1e-3, atol=1e-4)


def test_partitioner_recomputes_relu_mask() -> None:
    """Under inductor_backend's setting inductor's min-cut partition of a Transformer FFN
    saves no bool mask for the Relu (AOTAutograd's partition alone: no C++ build)."""
    import functools

    import torch._functorch.config as functorch_config
    from functorch.compile import aot_function, min_cut_rematerialization_partition
    from torch._inductor.decomposition import select_decomp_table

    from agrippa.train.compiled import PARTITIONER_CONFIG

    saved: list[Counter[str]] = []

    def fw(gm: Any, _inputs: Any) -> Any:
        out = [n for n in gm.graph.nodes if n.op == "output"][0]
        saved.append(Counter(str(a.meta["val"].dtype) for a in out.args[0] if "val" in a.meta))
        return gm

    def ffn(x: Any, w1: Any, b1: Any, w2: Any) -> Any:
        return torch.relu(x @ w1 + b1) @ w2

    args = [torch.randn(2, 8, 4), torch.randn(4, 16, requires_grad=True),
            torch.randn(16, requires_grad=True), torch.randn(16, 4, requires_grad=True)]
    for patch in ({}, PARTITIONER_CONFIG):
        with functorch_config.patch(patch):
            f = aot_function(ffn, fw_compiler=fw, bw_compiler=lambda gm, _i: gm,
                             partition_fn=functools.partial(min_cut_rematerialization_partition,
                                                            compiler="inductor"),
                             decompositions=select_decomp_table())
            f(*args).sum().backward()
    assert saved[0]["torch.bool"] == 1  # the default: the mask computed forward and saved
    assert saved[1]["torch.bool"] == 0
