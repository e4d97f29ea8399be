"""The batched path's fused patterns (train/fusion.py): written-out layer norms and
multi-head attention run as F.layer_norm and scaled_dot_product_attention, with the same
outputs and gradients as vmap over the unfused graph."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("project", "fused", "batched_mask"), [
    ("examples/transformer", {"FusedAttention": 6, "FusedLayerNorm": 10}, False),
    ("examples/transformer", {"FusedAttention": 6, "FusedLayerNorm": 10}, True),
    ("bench/models/perceiver", {"FusedAttention": 3}, False),  # unbatched latent queries
])
def test_fused_patterns_match_vmap(project: str, fused: dict[str, int], batched_mask: bool,
                                   tmp_path: Path) -> None:
    import onnx

    from agrippa.backend.compile import compile_project
    from agrippa.backend.torch_bridge import batched, onnx_to_torch
    from agrippa.train.batching import native_batched

    bindings = {"ntokens": 16, "nlatent": 4, "nlayers": 1} if "perceiver" in project else {}
    res = compile_project(str(ROOT / project), str(tmp_path / "m.onnx"), bindings=bindings,
                          write_weights=False, reinit=True, seed=0)
    proto = onnx.load(res.onnx_path)
    module = onnx_to_torch(proto)
    runner = native_batched(module, proto)
    counts = Counter(getattr(op, "op", "") for op in runner.ops)
    assert {k: counts[k] for k in fused} == fused
    assert counts["Identity"] == 0
    g = torch.Generator().manual_seed(0)
    args = []
    for i in proto.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        t = torch.randn(3, *shape, generator=g)
        if "mask" in i.name:  # 0 or -1e9, shared by the batch unless batched_mask
            t = torch.where(t > 0.5, -1e9, 0.0)
            t = t if batched_mask else t[0]
        args.append(t)
    outs = []
    vmapped = batched(module)
    for run in (runner.run, lambda a: vmapped(*a)):
        module.zero_grad()
        o = run(args)
        o.square().sum().backward()
        outs.append((o.detach(), {k: p.grad.clone() for k, p in module.named_parameters() if p.grad is not None}))
    (o, grads), (ref, ref_grads) = outs
    torch.testing.assert_close(o, ref, rtol=1e-4, atol=1e-5 * max(1.0, ref.abs().max().item()))
    assert set(grads) == set(ref_grads)
    for k, r in ref_grads.items():
        torch.testing.assert_close(grads[k], r, rtol=1e-3, atol=1e-4 * max(1.0, r.abs().max().item()))
