"""Training-step time of compiled Agrippa models against the same models handwritten in PyTorch.

A suite of four models, each an Agrippa project and a handwritten module (bench/hand_models.py)
with the same weights and the same logits: the GPT (examples/gpt), a PerceiverAR-style model
(bench/models/perceiver), the encoder-decoder Transformer (examples/transformer) and the CNN
(examples/cnn). One step is forward, cross-entropy, backward and AdamW. Prints the median step
time after warmup (compiling happens there), steppers interleaved, and ratios to handwritten
eager. Targets: Agrippa eager (the batched path) ≤ 1.05 × handwritten eager; Agrippa under
torch.compile (train/compiled.py's inductor backend, as `compile = true` uses, here with
fullgraph=True) faster than handwritten eager. Both sides use the same AdamW; Agrippa's model
has one parameter per attention head's matrix, so its optimizer step costs more.

    .venv/bin/python bench/bench_train.py [--models gpt,perceiver,encdec,cnn] [--steps 20]
        [--warmup 5] [--no-compile] [--compile-hand] [--vmap] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from hand_models import HandCNN, HandEncDec, HandGPT, HandPerceiver  # noqa: E402


@dataclass
class Bench:
    name: str
    project: str
    bindings: dict[str, int]
    batch: int
    inputs: Callable[[torch.Generator], tuple[tuple[torch.Tensor, ...], torch.Tensor]]
    hand: Callable[[dict[str, np.ndarray]], nn.Module]


def _one_hot(g: torch.Generator, b: int, n: int, v: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(0, v, (b, n + 1), generator=g)
    return F.one_hot(ids[:, :-1], v).float(), ids[:, 1:]


def _causal(n: int) -> torch.Tensor:
    return torch.triu(torch.full((n, n), -1e9), 1)


GPT = {"nlayers": 4, "dmodel": 256, "nheads": 8, "ntokens": 64, "dqueries": 32, "dkeys": 32,
       "dvalues": 32, "dffnhidden": 1024, "nvocab": 512}
PERCEIVER = {"ntokens": 128, "nlatent": 32, "nvocab": 128, "dmodel": 128, "nheads": 4, "dhead": 32,
             "dffn": 512, "nlayers": 4}
ENCDEC = {"nsrc": 32, "ntgt": 32, "nvocab": 256, "nlayers": 2, "nheads": 4, "dmodel": 128,
          "dkeys": 32, "dvalues": 32, "dffnhidden": 512}
CNN = {"batch": 32, "c1": 16, "c2": 32, "nclasses": 10}


def _gpt_inputs(g: torch.Generator):
    tokens, target = _one_hot(g, 16, GPT["ntokens"], GPT["nvocab"])
    return (tokens, _causal(GPT["ntokens"])), target


def _perceiver_inputs(g: torch.Generator):
    tokens, target = _one_hot(g, 16, PERCEIVER["ntokens"], PERCEIVER["nvocab"])
    return (tokens,), target


def _encdec_inputs(g: torch.Generator):
    src, _ = _one_hot(g, 16, ENCDEC["nsrc"], ENCDEC["nvocab"])
    tgt, target = _one_hot(g, 16, ENCDEC["ntgt"], ENCDEC["nvocab"])
    return (src, tgt, torch.zeros(1, ENCDEC["nsrc"]), _causal(ENCDEC["ntgt"])), target


def _cnn_inputs(g: torch.Generator):
    image = torch.randn(CNN["batch"], 1, 28, 28, generator=g)
    return (image,), torch.randint(0, CNN["nclasses"], (CNN["batch"],), generator=g)


SUITE = {
    "gpt": Bench("GPT", os.path.join(ROOT, "examples", "gpt"), GPT, 16, _gpt_inputs,
                 lambda w: HandGPT(w, GPT["nlayers"], GPT["nheads"])),
    "perceiver": Bench("PerceiverAR", os.path.join(HERE, "models", "perceiver"), PERCEIVER, 16,
                       _perceiver_inputs, lambda w: HandPerceiver(w, PERCEIVER["nlayers"], PERCEIVER["nheads"])),
    "encdec": Bench("Enc-Dec Transformer", os.path.join(ROOT, "examples", "transformer"), ENCDEC, 16,
                    _encdec_inputs, lambda w: HandEncDec(w, ENCDEC["nlayers"], ENCDEC["nheads"])),
    "cnn": Bench("CNN", os.path.join(ROOT, "examples", "cnn"), CNN, CNN["batch"], _cnn_inputs, HandCNN),
}


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


FUSED_ADAMW = False  # --fused-adamw: torch's fused AdamW kernel, on both sides alike


def stepper(model: Callable[..., torch.Tensor], params: list[torch.Tensor], args: tuple[torch.Tensor, ...],
            target: torch.Tensor) -> Callable[[], float]:
    opt = torch.optim.AdamW(params, lr=1e-4, **({"fused": True} if FUSED_ADAMW else {}))

    def step() -> float:
        logits = model(*args)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def run_one(b: Bench, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    import onnx

    from agrippa.backend.compile import compile_project
    from agrippa.backend.torch_bridge import batched, onnx_to_torch
    from agrippa.train.batching import native_batched
    from agrippa.train.compiled import compile_runner

    with tempfile.TemporaryDirectory() as tmp:
        res = compile_project(b.project, os.path.join(tmp, "m.onnx"), bindings=dict(b.bindings),
                              write_weights=False, reinit=True, seed=0)
        proto = onnx.load(res.onnx_path)
    weights = {k: v.detach().numpy().copy() for k, v in onnx_to_torch(proto).initializers.state_dict().items()}
    inputs, target = b.inputs(torch.Generator().manual_seed(0))
    hand = b.hand(weights)
    with torch.no_grad():
        ref = hand(*inputs)
    steppers = {"hand": stepper(hand, list(hand.parameters()), inputs, target)}
    if args.compile_hand:
        hand_c = b.hand(weights)
        steppers["hand compiled"] = stepper(torch.compile(hand_c), list(hand_c.parameters()), inputs, target)
    notes = []
    for path in ["batched", *(["vmap"] if args.vmap else [])]:
        m = onnx_to_torch(proto)
        runner = native_batched(m, proto) if path == "batched" else batched(m)
        if runner is None:
            notes.append(f"{path}: not available")
            continue
        with torch.no_grad():
            out = runner(*inputs)
        notes.append(f"{path} max |logit - hand| = {(out - ref).abs().max().item():.1e}")
        params = [p for p in m.parameters() if p.requires_grad]
        steppers[f"agrippa {path}"] = stepper(runner, params, inputs, target)
        if path == "batched" and not args.no_compile:
            mc = onnx_to_torch(proto)
            rc = native_batched(mc, proto)
            with torch.no_grad():
                rc(*inputs)  # the batched path's one-time check against vmap, eagerly
            steppers["agrippa compiled"] = stepper(compile_runner(rc, fullgraph=True), [p for p in mc.parameters() if p.requires_grad],
                                                   inputs, target)
    print(f"{b.name}: {', '.join(f'{k}={v}' for k, v in b.bindings.items())}; batch {b.batch}; "
          + "; ".join(notes), flush=True)
    t0 = time.perf_counter()
    med = time_interleaved(steppers, args.warmup, args.steps)
    print(f"  (timed in {time.perf_counter() - t0:.0f} s, compiling included)", flush=True)
    return med


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(SUITE), help=f"a comma list of {', '.join(SUITE)}")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--no-compile", action="store_true", help="eager only (compiling takes minutes on CPU)")
    ap.add_argument("--compile-hand", action="store_true", help="also time the handwritten model compiled")
    ap.add_argument("--vmap", action="store_true", help="also time the vmap path")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    ap.add_argument("--fused-adamw", action="store_true",
                    help="every stepper uses AdamW(fused=True) (less per-parameter-tensor overhead)")
    args = ap.parse_args(argv)
    global FUSED_ADAMW
    FUSED_ADAMW = args.fused_adamw
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{torch.get_num_threads()} threads; {'fused ' if FUSED_ADAMW else ''}AdamW; "
          f"median of {args.steps} steps after {args.warmup} warmup; "
          "ratios to handwritten eager (CPU time, wall in brackets)", flush=True)
    table = []
    for key in args.models.split(","):
        med = run_one(SUITE[key.strip()], args)
        wall, cpu = med["hand"]
        table.append((SUITE[key.strip()].name, {k: (c / cpu, w / wall, c) for k, (w, c) in med.items()}))
    cols = ["hand", *(["hand compiled"] if args.compile_hand else []), "agrippa batched",
            *(["agrippa vmap"] if args.vmap else []), *([] if args.no_compile else ["agrippa compiled"])]
    print("\n" + f"{'model':22}" + "".join(f"{c:>28}" for c in cols))
    for name, row in table:
        cells = []
        for c in cols:
            if c not in row:
                cells.append(f"{'-':>28}")
                continue
            r, rw, cpu = row[c]
            cells.append(f"{f'{cpu * 1e3:.1f} ms  {r:.3f}× [{rw:.3f}×]':>28}")
        print(f"{name:22}" + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
