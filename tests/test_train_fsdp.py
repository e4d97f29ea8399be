"""FSDP (`strategy = "fsdp"`): PyTorch's fully_shard over 2 CPU processes (gloo) trains as
one process does, and its sharded checkpoint (torch.distributed.checkpoint) resumes on 1."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agrippa.backend.weights import load_weights  # noqa: E402

PY = sys.executable
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
MLP = """<model>
    <import from="x" dim="[4]" />
    <block title="MLP">
        <node op="MatMul"><input src="x" /><params name="W1" dim="[4, 8]" /><output name="h" /></node>
        <node op="Add"><input src="h" /><params name="b1" dim="[8]" /><output name="hb" /></node>
        <node op="Relu"><input src="hb" /><output name="r" /></node>
        <node op="MatMul"><input src="r" /><params name="W2" dim="[8, 1]" /><output name="y" /></node>
    </block>
    <export from="y" dim="[1]" />
</model>
"""


def project(path: Path, strategy: str) -> Path:
    path.mkdir()
    (path / "mlp.agr").write_text(MLP)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    np.savez(path / "d.npz", x=x, y=np.sin(x.sum(1, keepdims=True)).astype(np.float32))
    (path / "agrippa.toml").write_text(
        '[train]\ndata = "d.npz"\ntarget = "y"\noptimizer = "adam"\nlr = 0.01\nbatch_size = 16\n'
        f'steps = 12\nplot = ""\ngrad_clip = 1.0\nstrategy = "{strategy}"\n')
    return path


def train(path: Path, *args: str) -> None:
    proc = subprocess.run([PY, "-m", "agrippa.train", str(path), *args], capture_output=True, text=True,
                          env=ENV, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "view tensor" not in proc.stderr, proc.stderr[-3000:]


def losses(path: Path) -> list[float]:
    with open(path / "train_log.csv", newline="") as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def test_fsdp_on_two_processes_matches_one_and_resumes_on_one(tmp_path: Path) -> None:
    single = project(tmp_path / "single", "ddp")
    train(single, "--steps", "16")  # the reference: one process, 16 steps
    sharded = project(tmp_path / "sharded", "fsdp")
    train(sharded, "--nproc", "2")  # 12 steps over 2 processes
    ref = losses(single)
    np.testing.assert_allclose(losses(sharded), ref[:12], rtol=1e-4, atol=1e-6)
    ckpt = sharded / "train_checkpoint.dcp"
    assert (ckpt / "agrippa_meta.pt").is_file() and len(list(ckpt.glob("*.distcp"))) == 2
    assert not (sharded / "train_checkpoint.dcp.tmp").exists() and not (sharded / "train_checkpoint.pt").exists()
    w12 = load_weights(sharded / "weights.safetensors")  # gathered from the shards
    assert {k: v.shape for k, v in w12.items()} == {"W1$1": (4, 8), "b1$1": (8,), "W2$1": (8, 1)}
    # the 2-process checkpoint resumes on 1 process, where the reference went on
    train(sharded, "--steps", "16", "--resume")
    np.testing.assert_allclose(losses(sharded), ref, rtol=1e-4, atol=1e-6)
    w1, w2 = load_weights(single / "weights.safetensors"), load_weights(sharded / "weights.safetensors")
    for k in w1:
        np.testing.assert_allclose(w2[k], w1[k], rtol=1e-4, atol=1e-6)


def test_ddp_with_accumulation_on_two_processes_matches_one_process(tmp_path: Path) -> None:
    """DDP over 2 processes, each step 2 micro-batches of 8 (gradients synchronised once per
    step, `no_sync` on the first), trains as one process at batch 16 does."""
    single = project(tmp_path / "single", "ddp")
    train(single)
    acc = project(tmp_path / "acc", "ddp")
    toml = acc / "agrippa.toml"
    toml.write_text(toml.read_text().replace("batch_size = 16", "batch_size = 8\naccumulate = 2"))
    train(acc, "--nproc", "2")
    np.testing.assert_allclose(losses(acc), losses(single), rtol=1e-4, atol=1e-6)
    w1, w2 = load_weights(single / "weights.safetensors"), load_weights(acc / "weights.safetensors")
    for k in w1:
        np.testing.assert_allclose(w2[k], w1[k], rtol=1e-4, atol=1e-6, err_msg=k)


def test_multi_node_flags_reach_torchrun(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from agrippa.train import dist
    from agrippa.train.cli import main as train_main

    cmd, env = dist.torchrun_command(4, ["proj"], nnodes="2", rdzv_endpoint="head:29400", rdzv_id="job7")
    assert cmd[cmd.index("torch.distributed.run") + 1:] == [
        "--rdzv-backend=c10d", "--rdzv-endpoint=head:29400", "--nnodes=2", "--rdzv-id=job7",
        "--nproc-per-node=4", "-m", "agrippa.train", "proj"]
    assert "--standalone" not in cmd and env["AGRIPPA_LAUNCHED"] == "1"
    cmd, env = dist.torchrun_command(2, ["proj"])
    assert "--standalone" in cmd and env["MASTER_ADDR"] == "127.0.0.1"
    seen = {}
    monkeypatch.setattr(dist, "launch", lambda nproc, argv, **kw: seen.update(nproc=nproc, argv=argv, **kw) or 0)
    proj = project(tmp_path / "p", "fsdp")
    assert train_main([str(proj), "--nproc", "2", "--nnodes", "2", "--rdzv-endpoint", "head:29400"]) == 0
    assert seen == {"nproc": 2, "argv": [str(proj)], "nnodes": "2", "rdzv_endpoint": "head:29400",
                    "rdzv_id": None}
