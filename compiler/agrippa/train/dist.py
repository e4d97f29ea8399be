"""Data-parallel training: launching `torchrun` and the process group (gloo on CPU)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as tdist


@dataclass
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def in_torchrun() -> bool:
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: str) -> World:
    """Join the process group torchrun describes (a single-process world otherwise)."""
    if not in_torchrun() or int(os.environ["WORLD_SIZE"]) <= 1:
        return World()
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if not tdist.is_initialized():
        tdist.init_process_group(backend=backend)
    return World(tdist.get_rank(), tdist.get_world_size(), int(os.environ["LOCAL_RANK"]))


def teardown(world: World) -> None:
    if world.active and tdist.is_initialized():
        tdist.destroy_process_group()


def all_mean(world: World, values: Sequence[float], device: torch.device) -> list[float]:
    """The mean of each value across processes (one collective)."""
    if not world.active:
        return list(values)
    t = torch.tensor(list(values), dtype=torch.float64 if device.type == "cpu" else torch.float32,
                     device=device)
    tdist.all_reduce(t)
    return [v / world.size for v in t.tolist()]


def launch(nproc: int, argv: Sequence[str]) -> int:
    """Run `python -m agrippa.train ARGV` in `nproc` processes through torchrun, loopback only."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={nproc}", "-m", "agrippa.train", *argv]
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", GLOO_SOCKET_IFNAME=os.environ.get("GLOO_SOCKET_IFNAME", "lo"),
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc))))
    proc = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
