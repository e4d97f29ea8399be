"""Running the model over processes: DDP (replicas) or FSDP (PyTorch's `fully_shard`:
parameters, gradients and optimizer state sharded), and FSDP's sharded checkpoints
(`torch.distributed.checkpoint`), written to a temporary folder and renamed into place,
readable by any number of processes (one included)."""
from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import warnings
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as tdist

from agrippa.backend.weights import atomic_writer
from agrippa.train import dist
from agrippa.train.model import Model

META = "agrippa_meta.pt"


class Parallel:
    """The training module (`runner`) for a strategy and world, and how to get its full
    parameters back. `sharded_checkpoints` is true for strategy fsdp even on one process,
    so that a run sharded over N processes resumes on any number."""

    def __init__(self, model: Model, strategy: str, world: dist.World, device: torch.device) -> None:
        self.model, self.world, self.strategy = model, world, strategy
        self.sharded_checkpoints = strategy == "fsdp"
        base = model.runner
        ids = {id(t): n for n, t in [*base.named_parameters(), *base.named_buffers()]}
        self.fqn = {g: ids[id(t)] for g, t in model.params.items() if id(t) in ids}
        self.fsdp = world.active and strategy == "fsdp"
        self.ddp = world.active and strategy == "ddp"
        self.runner: torch.nn.Module = base
        if self.fsdp:
            from torch.distributed.fsdp import fully_shard

            fully_shard(base)  # in place: `base` is now sharded; its forward gathers
            # the batched path returns views; the loop never modifies them in place
            warnings.filterwarnings("ignore", message="FSDP2-wrapped module .* returned a view tensor")
            model.params = {}  # the full tensors are gone: full_params() gathers them
        elif self.ddp:
            from torch.nn.parallel import DistributedDataParallel

            # buffers are constants, equal on every rank: no sync in forward (the parameter's
            # newer name when this torch has it)
            no_sync = ({"forward_sync_buffers": False}
                       if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
                       else {"broadcast_buffers": False})
            self.runner = DistributedDataParallel(
                base, **no_sync, device_ids=[device.index] if device.type == "cuda" else None)

    def parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.runner.parameters() if p.requires_grad]

    @contextlib.contextmanager
    def micro_batch(self, last: bool) -> Iterator[None]:
        """Gradient accumulation: synchronize gradients only on the last micro-batch."""
        if self.ddp and not last:
            with self.runner.no_sync():  # type: ignore[operator]
                yield
            return
        if self.fsdp:
            self.model.runner.set_requires_gradient_sync(last)  # type: ignore[operator]
        yield

    def full_params(self) -> dict[str, torch.Tensor] | None:
        """The graph's parameters as full CPU tensors (collective under fsdp; None off rank 0)."""
        if not self.fsdp:
            return {k: v.detach().cpu() for k, v in self.model.params.items()}
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        sd = get_model_state_dict(self.model.runner,
                                  options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        if not self.world.main:
            return None
        return {g: sd[fqn] for g, fqn in self.fqn.items() if fqn in sd}


def _barrier(world: dist.World) -> None:
    if world.active:
        tdist.barrier()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """DCP warns that it assumes one process when there is no process group: that is meant."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.distributed is disabled.*")
        yield


def save_sharded(path: str, par: Parallel, opt: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    """Every process writes its shards to `path`.tmp; rank 0 adds `meta` and renames the
    folder into place (the previous one is kept as `path`.old until then)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    world = par.world
    tmp, old = path + ".tmp", path + ".old"
    msd, osd = get_state_dict(par.model.runner, opt)
    if world.main:
        shutil.rmtree(tmp, ignore_errors=True)
    _barrier(world)
    with _quiet():
        dcp.save({"model": msd, "optim": osd}, checkpoint_id=tmp)
    _barrier(world)
    if world.main:
        with atomic_writer(os.path.join(tmp, META)) as f:
            torch.save(meta, f)
        shutil.rmtree(old, ignore_errors=True)
        if os.path.isdir(path):
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    _barrier(world)


def find_sharded(path: str) -> tuple[str, dict[str, Any]] | None:
    """(folder, meta) of the newest complete sharded checkpoint at `path`, else None."""
    for folder in (path, path + ".old"):  # .old: a run killed between the two renames
        meta_path = os.path.join(folder, META)
        if os.path.isfile(meta_path):
            try:
                meta = torch.load(meta_path, map_location="cpu", weights_only=True)
            except Exception:
                continue
            if isinstance(meta, dict):
                return folder, meta
    return None


def load_sharded(folder: str, par: Parallel, opt: torch.optim.Optimizer) -> None:
    """Load parameters and optimizer state, resharded for this world, from `folder`."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    msd, osd = get_state_dict(par.model.runner, opt)
    state = {"model": msd, "optim": osd}
    with _quiet():
        dcp.load(state, checkpoint_id=folder)
    set_state_dict(par.model.runner, opt, model_state_dict=state["model"],
                   optim_state_dict=state["optim"])
