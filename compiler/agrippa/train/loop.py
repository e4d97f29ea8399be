"""The training loop: compile, convert, step, evaluate, checkpoint, stop cleanly on signals."""
from __future__ import annotations

import inspect
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Any

import torch

from agrippa.backend.weights import save_weights
from agrippa.project.train_config import TrainConfig
from agrippa.train import dist
from agrippa.train.checkpoint import load_checkpoint, save_checkpoint, signature
from agrippa.train.data import DataError, Source, open_source, stream
from agrippa.train.losses import make_loss
from agrippa.train.model import Model, TrainError, build, prepare
from agrippa.train.optim import d_model_of, learning_rate, make_optimizer, set_lr
from agrippa.train.progress import LossLog, Progress, plot_losses


@dataclass
class TrainOptions:
    project: str
    profile: str | None = None
    bindings: dict[str, Any] = field(default_factory=dict)
    resume: bool | None = None  # None: resume an unfinished checkpoint if there is one
    reinit: bool = False
    json_progress: bool = False
    progress_bar: bool = True
    fast: bool = True  # the batched execution path (else vmap)


@dataclass
class TrainResult:
    weights: str
    final_loss: float | None
    step: int
    interrupted: bool = False
    signal: int | None = None
    losses: list[float] = field(default_factory=list)


class _Stop:
    """SIGINT/SIGTERM set a flag the loop checks after each step; a second one aborts."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.old: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        if sys.platform != "win32" and _main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self.old[s] = signal.signal(s, self.handle)
        return self

    def handle(self, signum: int, _frame: object) -> None:
        if self.signum is not None:  # impatient: writes are atomic, so aborting is safe
            raise KeyboardInterrupt
        self.signum = signum

    def __exit__(self, *exc: object) -> None:
        for s, h in self.old.items():
            signal.signal(s, h)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def remove_stale_temps(paths: list[str | None]) -> None:
    """Delete the temp files that a killed run's atomic writes left beside these files
    (`.agrippa-tmp-<pid>-...`, whose process is gone; see backend/weights/atomic.py)."""
    from agrippa.backend.weights import clean_stale_temps

    for path in filter(None, paths):
        folder, name = os.path.split(path)
        clean_stale_temps(folder or ".", (name,))


def resolve_device(name: str, world: dist.World) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainError("device = \"cuda\" but no CUDA device is available")
        return torch.device(f"cuda:{world.local_rank}" if world.active and name == "cuda" else name)
    return torch.device("cpu")


def evaluate(model: Model, source: Source, cfg: TrainConfig, loss_fn: Any, index: int,
             device: torch.device, world: dist.World) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for k, (_, batch) in enumerate(stream(source, 0, epochs=1)):
            if k >= cfg.eval_batches:
                break
            inputs, target = prepare(batch, model.inputs, cfg.target, device, world.rank, world.size)
            out = model.runner(*inputs)
            pred = out[index] if isinstance(out, (tuple, list)) else out
            n = target.shape[0] if target.dim() else 1
            total += float(loss_fn(pred, target)) * n
            count += n
    total, count = dist.all_mean(world, [total, count], device)
    return total / max(count, 1)


def train(cfg: TrainConfig, opts: TrainOptions, out: IO[str] | None = None,
          err: IO[str] | None = None) -> TrainResult:
    """Train the project as `cfg` says; raises TrainError, DataError or CompileError."""
    out, err = out or sys.stdout, err or sys.stderr
    world = dist.setup(cfg.device if cfg.device != "auto" else
                       ("cuda" if torch.cuda.is_available() else "cpu"))
    tmp = tempfile.mkdtemp(prefix="agrippa-train-")
    try:
        return _train(cfg, opts, world, tmp, out, err)
    except DataError as e:
        raise TrainError(str(e)) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        dist.teardown(world)


def _train(cfg: TrainConfig, opts: TrainOptions, world: dist.World, tmp: str,
           out: IO[str], err: IO[str]) -> TrainResult:
    device = resolve_device(cfg.device, world)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if world.active and not world.main:
        torch.distributed.barrier()  # rank 0 compiles first and writes any fresh weights
    model = build(opts.project, tmp, bindings=opts.bindings, profile=opts.profile, seed=cfg.seed,
                  reinit=opts.reinit and world.main, write_weights=world.main, device=device,
                  fast=opts.fast)
    if world.active and world.main:
        torch.distributed.barrier()
    project_dir = model.result.analysis.project_dir
    bindings = model.result.analysis.bindings
    index = model.output_index(cfg.prediction)
    try:
        d_model = d_model_of(cfg, bindings) if cfg.schedule != "constant" else None
    except ValueError as e:
        raise TrainError(str(e)) from None
    loss_fn = make_loss(cfg.loss, project_dir)
    params = [p for p in model.module.parameters() if p.requires_grad]
    if not params:
        raise TrainError("the model has no trainable parameters")
    opt = make_optimizer(cfg, params)
    ranks = {s.name: s.rank for s in model.inputs}

    # resume
    ckpt_path = cfg.path(cfg.checkpoint)
    start, elapsed0 = 0, 0.0
    state = None if opts.resume is False else load_checkpoint(ckpt_path)
    if state is not None and state["signature"] != signature(model.params):
        if opts.resume:
            raise TrainError(f"{cfg.checkpoint} is for another model (its parameters differ); "
                             "train with --no-resume to start over")
        state = None
    if state is not None and state.get("finished") and not opts.resume:
        state = None  # the last run completed: train anew from the current weights
    if opts.resume and state is None:
        raise TrainError(f"nothing to resume: no usable {cfg.checkpoint} in {project_dir}")
    if state is not None:
        model.load(state["params"])
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        start, elapsed0 = int(state["step"]), float(state["elapsed"])

    runner: torch.nn.Module = model.runner
    if world.active:
        from torch.nn.parallel import DistributedDataParallel

        # buffers are constants, equal on every rank: no sync in forward (the parameter's
        # newer name when this torch has it)
        no_sync = ({"forward_sync_buffers": False}
                   if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
                   else {"broadcast_buffers": False})
        runner = DistributedDataParallel(model.runner, **no_sync,
                                         device_ids=[device.index] if device.type == "cuda" else None)

    source = open_source(cfg.data, project_dir=project_dir, batch_size=cfg.batch_size, seed=cfg.seed,
                         split="train", bindings=bindings, ranks=ranks, target=cfg.target)
    eval_source = None
    if cfg.eval_data:
        eval_source = open_source(cfg.eval_data, project_dir=project_dir, batch_size=cfg.batch_size,
                                  seed=cfg.seed + 1, split="eval", bindings=bindings, ranks=ranks,
                                  target=cfg.target)
    epochs = cfg.epochs if cfg.steps is None else None
    if cfg.steps is None and epochs is None:
        epochs = 1

    def total_steps() -> int | None:
        if cfg.steps is not None:
            return cfg.steps
        return epochs * source.steps_per_epoch if source.steps_per_epoch else None

    main = world.main
    if main:
        remove_stale_temps([model.weights_path, ckpt_path, cfg.path(cfg.plot) if cfg.plot else None])
    log = LossLog(cfg.path(cfg.log) if cfg.log and main else None, start if state is not None else None)
    progress = Progress(total_steps(), cfg.batch_size, bar=opts.progress_bar and main and not opts.json_progress,
                        json_lines=opts.json_progress and main, start_step=start, out=out, err=err)
    if main and state is not None:
        progress.message(f"resuming from step {start} ({cfg.checkpoint})")
    result = TrainResult(model.weights_path, None, start)

    def save(finished: bool) -> None:
        if not main:
            return
        save_weights(model.weights_path, model.weights())
        save_checkpoint(ckpt_path, step=result.step, params=model.params, optimizer=opt,
                        finished=finished, elapsed=elapsed0 + time.perf_counter() - t0)
        log.flush()

    t0 = time.perf_counter()
    batches = stream(source, start, epochs)
    step = start
    with _Stop() as stop:
        while True:
            total = total_steps()
            if total is not None and step >= total:
                break
            try:
                _, batch = next(batches)
            except StopIteration:
                break
            step += 1
            lr = learning_rate(cfg, step, d_model)
            set_lr(opt, lr)
            inputs, target = prepare(batch, model.inputs, cfg.target, device, world.rank, world.size)
            outputs = runner(*inputs)
            pred = outputs[index] if isinstance(outputs, (tuple, list)) else outputs
            loss = loss_fn(pred, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            value, stopping = dist.all_mean(world, [loss.item(), float(stop.signum is not None)], device)
            if not math.isfinite(value):
                raise TrainError(f"the loss became {value} at step {step}; the weights file keeps "
                                 "the last checkpoint (try a lower lr)")
            result.step, result.final_loss = step, value
            result.losses.append(value)
            eval_loss = None
            if eval_source is not None and (step % cfg.eval_interval == 0 or step == total):
                eval_loss = evaluate(model, eval_source, cfg, loss_fn, index, device, world)
            progress.total = total_steps()
            extra = {} if eval_loss is None else {"eval_loss": eval_loss}
            log.add(step, value, lr, elapsed0 + time.perf_counter() - t0, eval_loss)
            progress.update(step, value, lr, force=eval_loss is not None or step == start + 1, **extra)
            if stopping:
                result.interrupted = True
                result.signal = stop.signum or signal.SIGTERM
                break
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step != total:
                save(False)
        if main and result.final_loss is not None and progress.last_step != step:
            progress.update(step, result.final_loss, learning_rate(cfg, step, d_model), force=True)
        progress.newline()
        if result.step > start or state is None:
            save(not result.interrupted)
    log.close()
    if main:
        if log.rows and cfg.plot:
            plot_losses(log.rows, cfg.path(cfg.plot), title=f"{os.path.basename(project_dir)}: training loss")
        if result.interrupted:
            progress.message(f"stopped at step {result.step}; weights saved to {model.weights_path}")
        if opts.json_progress:
            progress.emit({"done": True, "weights": model.weights_path, "final_loss": result.final_loss,
                           "step": result.step, "interrupted": result.interrupted})
    return result
