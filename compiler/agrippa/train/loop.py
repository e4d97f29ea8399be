"""The training loop: compile, convert, step, evaluate, checkpoint, stop cleanly on signals."""
from __future__ import annotations

import itertools
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
from agrippa.train.accel import (
    autocast,
    compile_failed_message,
    compile_model,
    make_scaler,
    precision_note,
    resolve_device,
    rng_state,
    set_rng_state,
)
from agrippa.train.checkpoint import load_checkpoint, save_checkpoint, signature
from agrippa.train.data import DataError, Source, open_source, stream
from agrippa.train.loggers import EarlyStopper, TensorBoardLog
from agrippa.train.losses import make_loss
from agrippa.train.model import Model, TrainError, build, prepare
from agrippa.train.optim import d_model_of, learning_rate, make_optimizer, make_scheduler, set_lr
from agrippa.train.progress import LossLog, Progress, plot_losses
from agrippa.train.sharding import Parallel, find_sharded, load_sharded, save_sharded

__all__ = ["TrainOptions", "TrainResult", "resolve_device", "train"]


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
    early_stopped: bool = False


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
        # a worker of a multi-process run stopped by a signal only exits from here on: the
        # launcher may pass the user's Ctrl-C on again, which must not interrupt its exit
        quiet = self.signum is not None and os.environ.get("LOCAL_RANK") is not None
        for s, h in self.old.items():
            signal.signal(s, signal.SIG_IGN if quiet else h)


def _batch_mismatch(pred: torch.Tensor, target: torch.Tensor, model: Model) -> str:
    """Why predictions and targets of one batch differ in count (instead of torch's traceback)."""
    whole = [s.name for s in model.inputs if not s.batch_axis]
    return (f"the model gives {pred.shape[0]} predictions for a batch of {target.shape[0]} targets: "
            f"the batch's {', '.join(whole) or 'inputs'} have the rank the model declares, so they are read as one "
            "example, not a batch. If the model's first dim is the batch, name it in [model] dynamic "
            "(agrippa.toml); otherwise declare the model per example and let the data add the batch axis")


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


def evaluate(model: Model, source: Source, cfg: TrainConfig, loss_fn: Any, index: int,
             device: torch.device, world: dist.World) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for k, (_, batch) in enumerate(stream(source, 0, epochs=1)):
            if k >= cfg.eval_batches:
                break
            inputs, target = prepare(batch, model.inputs, cfg.target, device, world.rank, world.size)
            with autocast(device, cfg.precision):
                out = model.runner(*inputs)
                pred = out[index] if isinstance(out, (tuple, list)) else out
                loss = loss_fn(pred, target)
            n = target.shape[0] if target.dim() else 1
            total += float(loss) * n
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
    if device.type == "cuda":
        torch.cuda.set_device(device)  # this process's GPU (NCCL collectives use it)
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
    sig = signature(model.params)
    par = Parallel(model, cfg.strategy, world, device)
    params = par.parameters()
    if not params:
        raise TrainError("the model has no trainable parameters")
    opt = make_optimizer(cfg, params)
    scaler = make_scaler(device, cfg.precision)
    es = cfg.early_stopping
    stopper = EarlyStopper(es.metric, es.patience, es.min_delta) if es else None
    # an array of the model's rank is one value shared by every example, but for an input whose
    # first dim is the dynamic batch it holds the examples themselves (rank None: never shared)
    ranks = {s.name: None if s.batch_axis else s.rank for s in model.inputs}
    main = world.main

    # resume
    ckpt_path = cfg.dcp_checkpoint if par.sharded_checkpoints else cfg.path(cfg.checkpoint)
    ckpt_name = os.path.basename(ckpt_path)
    start, elapsed0 = 0, 0.0
    found = None
    if opts.resume is not False:
        found = find_sharded(ckpt_path) if par.sharded_checkpoints else (
            (ckpt_path, s) if (s := load_checkpoint(ckpt_path)) is not None else None)
    state = found[1] if found else None
    if state is not None and state["signature"] != sig:
        if opts.resume:
            raise TrainError(f"{ckpt_name} is for another model (its parameters differ); "
                             "train with --no-resume to start over")
        state = None
    if state is not None and state.get("finished") and not opts.resume:
        state = None  # the last run completed: train anew from the current weights
    if opts.resume and state is None:
        raise TrainError(f"nothing to resume: no usable {ckpt_name} in {project_dir}")
    if state is not None:
        if par.sharded_checkpoints:
            load_sharded(found[0], par, opt)  # type: ignore[index]
        else:
            model.load(state["params"])
            opt.load_state_dict(state["optimizer"])
        set_rng_state(state)
        if state.get("scaler") and scaler.is_enabled():
            scaler.load_state_dict(state["scaler"])
        if stopper is not None:
            stopper.load_state_dict(state.get("early_stopping"))
        start, elapsed0 = int(state["step"]), float(state["elapsed"])

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
    acc = cfg.accumulate

    def total_steps() -> int | None:
        if cfg.steps is not None:
            return cfg.steps
        return epochs * source.steps_per_epoch // acc if source.steps_per_epoch else None

    # batches are consumed `accumulate` at a time; the first one is fetched now, so that a
    # data source of known length has told it before the schedule asks
    batches = stream(source, start * acc, epochs)
    first = next(batches, None)
    batches = itertools.chain([first] if first is not None else [], batches)
    try:
        sched = make_scheduler(cfg, opt, d_model, total_steps)
        if start:
            sched.last_epoch = start
            set_lr(opt, learning_rate(cfg, start + 1, d_model, total_steps()))
    except ValueError as e:
        raise TrainError(str(e)) from None

    if main:
        remove_stale_temps([model.weights_path, ckpt_path, cfg.path(cfg.plot) if cfg.plot else None])
    resumed = start if state is not None else None
    log = LossLog(cfg.csv_log if main else None, resumed)
    tb = TensorBoardLog(cfg.path(cfg.tensorboard_dir), resumed) if main and "tensorboard" in cfg.loggers else None
    progress = Progress(total_steps(), cfg.batch_size * acc, bar=opts.progress_bar and main and not opts.json_progress,
                        json_lines=opts.json_progress and main, start_step=start, out=out, err=err)
    if main and state is not None:
        progress.message(f"resuming from step {start} ({ckpt_name})")
    note = precision_note(device, cfg.precision)
    if main and note:
        progress.message(note)
    result = TrainResult(model.weights_path, None, start)

    def save(finished: bool) -> None:
        meta = {"step": result.step, "finished": finished, "elapsed": elapsed0 + time.perf_counter() - t0,
                "signature": sig, **rng_state(), "world_size": world.size,
                "scaler": scaler.state_dict() if scaler.is_enabled() else None,
                "early_stopping": stopper.state_dict() if stopper else None}
        full = par.full_params()  # a collective under fsdp
        if main and full is not None:
            save_weights(model.weights_path, model.weights(full))
        if par.sharded_checkpoints:
            save_sharded(ckpt_path, par, opt, meta)
        elif main and full is not None:
            save_checkpoint(ckpt_path, params=full, optimizer=opt, meta=meta)
        log.flush()
        if tb:
            tb.flush()

    forward: Any = par.runner
    trial = False  # the first step of a compiled model: a failure there falls back to eager
    if cfg.compile:
        if first is not None:  # the batched path checks itself against vmap once, eagerly
            with torch.no_grad():
                model.runner(*prepare(first[1], model.inputs, cfg.target, device, world.rank, world.size)[0])
        fn = compile_model(par.runner, device, progress.message if main else lambda _m: None)
        if fn is not None:
            forward, trial = fn, True

    def run_step(micro: list[dict[str, Any]]) -> float:
        opt.zero_grad(set_to_none=True)
        total = torch.zeros((), device=device)
        for k, batch in enumerate(micro):
            inputs, target = prepare(batch, model.inputs, cfg.target, device, world.rank, world.size)
            with par.micro_batch(k == len(micro) - 1):
                with autocast(device, cfg.precision):
                    outputs = forward(*inputs)
                    pred = outputs[index] if isinstance(outputs, (tuple, list)) else outputs
                    if k == 0 and pred.dim() and target.dim() and pred.shape[0] != target.shape[0]:
                        raise TrainError(_batch_mismatch(pred, target, model))
                    loss = loss_fn(pred, target)
                scaler.scale(loss / len(micro)).backward()
            total += loss.detach().float()
        if cfg.grad_clip:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        scaler.step(opt)
        scaler.update()
        sched.step()
        return float(total) / len(micro)

    t0 = time.perf_counter()
    step, lr = start, opt.param_groups[0]["lr"]
    with _Stop() as stop:
        while True:
            total = total_steps()
            if total is not None and step >= total:
                break
            micro = [b for _, b in itertools.islice(batches, acc)]
            if not micro:
                break
            step += 1
            lr = opt.param_groups[0]["lr"]
            t_step = time.perf_counter()
            try:
                value = run_step(micro)
            except Exception as e:  # compiling failed (in the first step): train eagerly
                if not trial or isinstance(e, TrainError):
                    raise
                if main:
                    progress.message(compile_failed_message(e))
                forward = par.runner
                value = run_step(micro)
            trial = False
            ex_per_s = cfg.batch_size * len(micro) / max(time.perf_counter() - t_step, 1e-9)
            value, stopping = dist.all_mean(world, [value, float(stop.signum is not None)], device)
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
            if tb:
                tb.add(step, value, lr, ex_per_s, eval_loss)
            progress.update(step, value, lr, force=eval_loss is not None or step == start + 1, **extra)
            watched = value if stopper and stopper.metric == "loss" else eval_loss
            if stopper and watched is not None and stopper.observe(watched):
                result.early_stopped = True
                if main:
                    progress.message(f"early stopping at step {step}: {stopper.metric} has not improved "
                                     f"on {stopper.best:.4g} by more than {stopper.min_delta:g} for "
                                     f"{stopper.patience} {'steps' if stopper.metric == 'loss' else 'evaluations'}")
                break
            if stopping:
                result.interrupted = True
                result.signal = stop.signum or signal.SIGTERM
                break
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step != total:
                save(False)
        if main and result.final_loss is not None and progress.last_step != step:
            progress.update(step, result.final_loss, lr, force=True)
        progress.newline()
        if result.step > start or state is None:
            save(not result.interrupted)
    log.close()
    if tb:
        tb.close()
    if main:
        if log.rows and cfg.plot:
            plot_losses(log.rows, cfg.path(cfg.plot), title=f"{os.path.basename(project_dir)}: training loss")
        if result.interrupted:
            progress.message(f"stopped at step {result.step}; weights saved to {model.weights_path}")
        if opts.json_progress:
            progress.emit({"done": True, "weights": model.weights_path, "final_loss": result.final_loss,
                           "step": result.step, "interrupted": result.interrupted})
    return result
