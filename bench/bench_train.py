"""Training-step time: the compiled GPT (examples/gpt/gpt.agr) against handwritten PyTorch.

Both models have the same architecture and the same weights (the handwritten one fuses the
per-head projections into one matrix, as one would write it by hand). One step is forward,
cross-entropy on next-token targets, backward and AdamW. Prints the median step time of
each after warmup, and their ratio (target: compiled ≤ 1.1 × handwritten).

    .venv/bin/python bench/bench_train.py [--steps 20] [--warmup 5] [--path batched|vmap|both]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT = os.path.join(ROOT, "examples", "gpt")
SIZE = {"nlayers": 4, "dmodel": 256, "nheads": 8, "ntokens": 64, "dqueries": 32, "dkeys": 32,
        "dvalues": 32, "dffnhidden": 1024, "nvocab": 512}
BATCH = 16


class HandGPT(nn.Module):
    """The architecture of examples/gpt/gpt.agr, written directly in PyTorch."""

    def __init__(self, w: dict[str, np.ndarray], layers: int, heads: int) -> None:
        super().__init__()
        t = lambda a: nn.Parameter(torch.tensor(np.asarray(a, dtype=np.float32)))  # noqa: E731
        cat = lambda name, k: np.concatenate([w[f"{name}${k * heads + h + 1}"] for h in range(heads)], 1)  # noqa: E731
        self.heads = heads
        self.embed, self.pos = t(w["embed"]), t(w["positions$1"])
        self.norm0 = nn.ParameterList([t(w["embed_norm_gain$1"]), t(w["embed_norm_bias$1"])])
        self.qkv = nn.ParameterList([t(np.concatenate([cat("query_w", k), cat("key_w", k), cat("value_w", k)], 1))
                                     for k in range(layers)])
        names = ["attn_out_w", "attn_norm_gain", "attn_norm_bias", "ffn_norm_gain", "ffn_norm_bias",
                 "ffn_w1", "ffn_b1", "ffn_w2", "ffn_b2"]
        self.layer = nn.ModuleList(nn.ParameterDict({n: t(w[f"{n}${k + 1}"]) for n in names}) for k in range(layers))
        self.norm_f = nn.ParameterList([t(w["final_norm_gain$1"]), t(w["final_norm_bias$1"])])

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, _ = tokens.shape
        d = self.embed.shape[1]
        x = F.layer_norm(tokens @ self.embed + self.pos, (d,), *self.norm0, eps=1e-5)
        for qkv, p in zip(self.qkv, self.layer):
            h = F.layer_norm(x, (d,), p["attn_norm_gain"], p["attn_norm_bias"], eps=1e-5)
            q, k, v = (h @ qkv).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5 + mask
            att = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
            x = x + att @ p["attn_out_w"]
            h = F.layer_norm(x, (d,), p["ffn_norm_gain"], p["ffn_norm_bias"], eps=1e-5)
            x = x + torch.relu(h @ p["ffn_w1"] + p["ffn_b1"]) @ p["ffn_w2"] + p["ffn_b2"]
        x = F.layer_norm(x, (d,), *self.norm_f, eps=1e-5)
        return x @ self.embed.T


def time_interleaved(steps: dict[str, Callable[[], float]], warmup: int, n: int
                     ) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per step of each stepper, run in turn so that load from
    other processes hits all alike. The CPU time of this process is the steadier figure on
    a shared machine (with one torch thread it is the step's own work)."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in steps}
    for _ in range(n):
        for k, step in steps.items():
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            times[k].append((time.perf_counter() - t0, time.process_time() - c0))
    return {k: (statistics.median(t for t, _ in v), statistics.median(c for _, c in v))
            for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--path", choices=("batched", "vmap", "both"), default="both")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from agrippa.backend.torch_bridge import batched, onnx_to_torch
    from agrippa.train.batching import native_batched

    with tempfile.TemporaryDirectory() as tmp:
        from agrippa.backend.compile import compile_project

        res = compile_project(GPT, os.path.join(tmp, "gpt.onnx"), bindings=SIZE, write_weights=False,
                              reinit=True, seed=0)
        import onnx

        proto = onnx.load(res.onnx_path)
    module = onnx_to_torch(proto)
    weights = {k: v.detach().numpy().copy() for k, v in module.initializers.state_dict().items()}
    hand = HandGPT(weights, SIZE["nlayers"], SIZE["nheads"])
    n, v = SIZE["ntokens"], SIZE["nvocab"]
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, v, (BATCH, n + 1), generator=g)
    tokens = F.one_hot(ids[:, :-1], v).float()
    targets = ids[:, 1:]
    mask = torch.triu(torch.full((n, n), -1e9), 1)

    def stepper(model: nn.Module, params: list[torch.Tensor]) -> Callable[[], float]:
        opt = torch.optim.AdamW(params, lr=1e-4)

        def step() -> float:
            logits = model(tokens, mask)
            loss = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()

        return step

    with torch.no_grad():
        ref = hand(tokens, mask)
    print(f"GPT: {SIZE['nlayers']} layers, d_model {SIZE['dmodel']}, {SIZE['nheads']} heads, "
          f"sequence {n}, vocabulary {v}, batch {BATCH}; {torch.get_num_threads()} threads; "
          f"median of {args.steps} steps after {args.warmup} warmup")
    steppers = {"handwritten": stepper(hand, list(hand.parameters()))}
    paths = ["batched", "vmap"] if args.path == "both" else [args.path]
    for path in paths:
        m = onnx_to_torch(proto)
        runner = native_batched(m, proto) if path == "batched" else batched(m)
        if runner is None:
            print(f"  compiled ({path}): not available for this model")
            continue
        with torch.no_grad():
            diff = (runner(tokens, mask) - ref).abs().max().item()
        print(f"  compiled ({path}) max |logit - handwritten logit| = {diff:.1e}")
        steppers[path] = stepper(runner, [p for p in m.parameters() if p.requires_grad])
    med = time_interleaved(steppers, args.warmup, args.steps)
    wall, cpu = med["handwritten"]
    print(f"  {'':27} {'wall ms/step':>13} {'CPU ms/step':>12} {'ratio (wall)':>13} {'ratio (CPU)':>12}")
    for name, (w, c) in med.items():
        label = "handwritten PyTorch" if name == "handwritten" else f"compiled Agrippa ({name})"
        print(f"  {label:27} {w * 1e3:13.1f} {c * 1e3:12.1f} {w / wall:13.3f} {c / cpu:12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
