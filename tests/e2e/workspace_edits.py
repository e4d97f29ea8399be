"""What the editor e2e runs do to their copy of the example project: a short [train] table on
random data, and a misformatted model for Format Document (used by tests/e2e/harness.py)."""
from __future__ import annotations

from pathlib import Path

TRAIN_TABLE = """
[train]   # added by the editor e2e run: a short run on random data
data = "e2e_data.py:batches"
loss = "mse"
optimizer = "adam"
lr = 0.01
batch_size = 4
steps = {steps}
checkpoint_every = 0
log = ""
plot = ""
"""

TRAIN_DATA = '''"""Random regression batches for the editor e2e training run."""
import numpy as np


def batches(bindings, seed=0):
    rng = np.random.default_rng(seed)
    b, din, dout = bindings["batch"], bindings["din"], bindings["dout"]
    w = rng.normal(size=(din, dout)).astype(np.float32)
    while True:
        x = rng.normal(size=(b, din)).astype(np.float32)
        yield {"x": x, "target": np.maximum(x @ w, 0).astype(np.float32)}
'''


def add_training(ws: Path, steps: int = 300) -> None:
    """Give the copied example a [train] table when it has none (examples/mlp has none)."""
    toml = ws / "agrippa.toml"
    text = toml.read_text() if toml.exists() else ""
    if "[train]" in text:
        return
    toml.write_text(text + TRAIN_TABLE.format(steps=steps))
    (ws / "e2e_data.py").write_text(TRAIN_DATA)


def misformat(text: str) -> str:
    """`text` with the elements' indentation scrambled (from the root element on) and the
    attributes of the first <node> and the first <params> wrapped onto a second line: what
    Format Document must re-indent while keeping those attribute line breaks."""
    lines = text.split("\n")
    root = next((i for i, line in enumerate(lines) if line.lstrip().startswith("<model")), 0)
    out = lines[: root + 1]
    for i, line in enumerate(lines[root + 1:]):
        body = line.lstrip()
        out.append(" " * ((i * 3) % 7) + body if body else "")
    text = "\n".join(out)
    for tag in ("node", "params"):
        start = text.find(f"<{tag} ")
        if start >= 0:
            second = text.find('" ', start)  # the end of the first attribute
            if second >= 0 and second < text.find(">", start):
                text = text[: second + 1] + "\n" + " " * 3 + text[second + 2:]
    return text
