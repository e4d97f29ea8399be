"""The thesis' linear-regression data: 5,000 examples of y = W·x + b with known W and b."""
from __future__ import annotations

import numpy as np

W = np.array([0.5, -1.0, 2.0, 0.25, -0.75], dtype=np.float32)
B = 0.3


def batches(batch_size: int, seed: int):
    """Yield {"x": [batch, 5], "y": [batch]} in a shuffled order (the same examples every epoch)."""
    x = np.random.default_rng(1234).normal(size=(5000, len(W))).astype(np.float32)
    y = x @ W + B
    order = np.random.default_rng(seed).permutation(len(x))
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        yield {"x": x[idx], "y": y[idx]}
