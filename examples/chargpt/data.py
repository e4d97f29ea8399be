"""Batches of one-hot character windows and next-character targets for chargpt.agr."""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

VOCAB = "\n !\"'(),-.:;?abcdefghijklmnopqrstuvwxyz"
TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "text.txt")


def encode(text: str) -> np.ndarray:
    """Character ids (lower-cased; characters outside VOCAB become spaces)."""
    index = {c: i for i, c in enumerate(VOCAB)}
    return np.array([index.get(c, index[" "]) for c in text.lower()], dtype=np.int64)


def decode(ids: np.ndarray) -> str:
    return "".join(VOCAB[i] for i in ids)


def corpus(split: str = "train") -> np.ndarray:
    with open(TEXT, encoding="utf-8") as f:
        ids = encode(f.read())
    cut = len(ids) * 9 // 10
    return ids[:cut] if split == "train" else ids[cut:]


def causal_mask(n: int) -> np.ndarray:
    return np.triu(np.full((n, n), -1e9, dtype=np.float32), 1)


def batches(batch_size: int, seed: int, bindings: dict, split: str = "train",
            steps_per_epoch: int = 200) -> Iterator[dict[str, np.ndarray]]:
    """Random windows: tokens [batch, ntokens, nvocab] one-hot, next [batch, ntokens] ids, and
    the shared causal mask [ntokens, ntokens]."""
    n, v = int(bindings["ntokens"]), int(bindings["nvocab"])
    if v != len(VOCAB):
        raise ValueError(f"nvocab = {v}, but data.py's alphabet has {len(VOCAB)} characters")
    ids = corpus(split)
    rng = np.random.default_rng(seed + (0 if split == "train" else 7919))
    eye = np.eye(v, dtype=np.float32)
    mask = causal_mask(n)
    for _ in range(steps_per_epoch):
        starts = rng.integers(0, len(ids) - n - 1, batch_size)
        windows = np.stack([ids[s:s + n + 1] for s in starts])
        yield {"tokens": eye[windows[:, :-1]], "mask": mask, "next": windows[:, 1:]}
