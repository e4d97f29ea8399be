"""Generate text with the trained chargpt (onnxruntime): python sample.py [PROMPT] [-n 300]."""
from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import onnxruntime as ort
from data import VOCAB, causal_mask, decode, encode

from agrippa.compile import compile_project

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("prompt", nargs="?", default="alice was ")
    ap.add_argument("-n", type=int, default=300, help="characters to generate")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        result = compile_project(HERE, os.path.join(tmp, "chargpt.onnx"), write_weights=False)
        n = int(result.analysis.bindings["ntokens"])
        ids = list(encode(args.prompt))
        eye, mask = np.eye(len(VOCAB), dtype=np.float32), causal_mask(n)
        session = ort.InferenceSession(result.onnx_path, providers=["CPUExecutionProvider"])
        for _ in range(args.n):
            window = ids[-n:]
            tokens = np.zeros((n, len(VOCAB)), np.float32)
            tokens[:len(window)] = eye[window]
            logits = session.run(["logits"], {"tokens": tokens, "mask": mask})[0][len(window) - 1]
            p = np.exp((logits - logits.max()) / args.temperature)
            ids.append(int(rng.choice(len(VOCAB), p=p / p.sum())))
    print(decode(np.array(ids)))


if __name__ == "__main__":
    main()
