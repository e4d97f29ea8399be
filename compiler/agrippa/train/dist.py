"""Data-parallel training: launching `torchrun` and the process group (gloo on CPU)."""
from __future__ import annotations

import contextlib
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


def launch(nproc: int, argv: Sequence[str], *, nnodes: str | None = None,
           rdzv_endpoint: str | None = None, rdzv_id: str | None = None) -> int:
    """Run `python -m agrippa.train ARGV` in `nproc` processes through torchrun: loopback
    only, or with `nnodes`/`rdzv_endpoint` (torchrun's own flags, passed through) on each
    of several machines.

    torchrun runs in its own session, so Ctrl-C in the terminal reaches this launcher only;
    SIGINT/SIGTERM are passed on to the workers, which agree to stop after the current
    step, save the weights and exit 0 (workers stopped by a signal exit 0 under torchrun,
    so it neither tears them down nor prints tracebacks). The launcher then exits 128 +
    the signal, as a single-process run would.
    """
    cmd, env = torchrun_command(nproc, argv, nnodes=nnodes, rdzv_endpoint=rdzv_endpoint, rdzv_id=rdzv_id)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        workers = _workers(proc.pid)
        for pid in workers or [proc.pid]:  # (no /proc: torchrun passes it on itself)
            with contextlib.suppress(ProcessLookupError):
                # a closed terminal (SIGHUP) stops the workers as cleanly as SIGTERM does
                os.kill(pid, signal.SIGTERM if signum == signal.SIGHUP else signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 128 + received[0] if received and code == 0 else code


def torchrun_command(nproc: int, argv: Sequence[str], *, nnodes: str | None = None,
                     rdzv_endpoint: str | None = None, rdzv_id: str | None = None
                     ) -> tuple[list[str], dict[str, str]]:
    """The torchrun command line and environment `launch` runs."""
    env = dict(os.environ, AGRIPPA_LAUNCHED="1",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc))))
    if nnodes or rdzv_endpoint:
        rdzv = ["--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}"] if rdzv_endpoint else []
        rdzv += [f"--nnodes={nnodes}"] if nnodes else []
        rdzv += [f"--rdzv-id={rdzv_id}"] if rdzv_id else []
    else:
        rdzv = ["--standalone"]
        env.update(MASTER_ADDR="127.0.0.1", GLOO_SOCKET_IFNAME=os.environ.get("GLOO_SOCKET_IFNAME", "lo"))
    cmd = [sys.executable, "-m", "torch.distributed.run", *rdzv, f"--nproc-per-node={nproc}",
           "-m", "agrippa.train", *argv]
    return cmd, env


def stopped_by_signal_exit_code(signum: int) -> int:
    """A worker launched by `launch` exits 0 after a clean stop (the launcher reports the
    signal); anywhere else a stop by signal exits 128 + signal."""
    return 0 if in_torchrun() and os.environ.get("AGRIPPA_LAUNCHED") == "1" else 128 + signum


def _workers(pid: int) -> list[int]:
    """The training processes torchrun `pid` started (Linux /proc; empty elsewhere)."""
    out = []
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rfind(b")") + 2:].split()
            if len(fields) > 1 and int(fields[1]) == pid:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"agrippa.train" in f.read():
                        out.append(int(entry))
        except (OSError, ValueError):
            continue
    return out
