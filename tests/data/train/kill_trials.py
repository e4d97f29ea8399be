"""SIGKILL training at random moments; report whether the weights file always loads.

    python kill_trials.py PROJECT TRIALS SEED  → prints one JSON object

Torch is imported (and a 3-step run warms up) once here; each trial is a forked child that trains (checkpointing at
every step, so kills land in saves too) and is killed after a random delay. After each
kill the weights file, when there is one, must load with agrippa.weights.load_weights,
and the checkpoint with torch.load(weights_only=True).
"""
from __future__ import annotations

import json
import os
import random
import signal
import sys
import time


def main() -> None:
    project, trials, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    import torch

    from agrippa.backend.weights import load_weights
    from agrippa.train.checkpoint import load_checkpoint
    from agrippa.train.cli import main as train_main

    wpath = os.path.join(project, "weights.safetensors")
    torch.set_num_threads(1)  # before any op: no thread pool to break across fork()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)
    train_main([project, "--steps", "3"])  # imports and warms up everything the children use
    os.dup2(saved, 2)
    rng = random.Random(seed)
    report = {"trials": 0, "loaded": 0, "missing": 0, "failures": [], "checkpoints": 0, "finished": 0}
    for k in range(trials):
        pid = os.fork()
        if pid == 0:  # the child trains until killed
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os._exit(train_main([project, "--steps", "100000"]))
        time.sleep(rng.uniform(0.0, 1.5))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        report["trials"] += 1
        if os.WIFEXITED(status):
            report["finished"] += 1
        if not os.path.exists(wpath):
            report["missing"] += 1
            continue
        try:
            w = load_weights(wpath)
            assert set(w) == {"W$1", "b$1"}, sorted(w)
            report["loaded"] += 1
        except Exception as e:  # noqa: BLE001 - any failure is what this counts
            report["failures"].append(f"trial {k}: {type(e).__name__}: {e}")
        ckpt = os.path.join(project, "train_checkpoint.pt")
        if os.path.exists(ckpt):
            if load_checkpoint(ckpt) is None:
                report["failures"].append(f"trial {k}: the checkpoint does not load")
            else:
                report["checkpoints"] += 1
    print(json.dumps(report))


if __name__ == "__main__":
    main()
