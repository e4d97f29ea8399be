"""Optimizers (sgd, adam, adamw) and learning-rate schedules."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import torch

from agrippa.project.train_config import TrainConfig


def make_optimizer(cfg: TrainConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    params = list(params)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.decay)
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    fused = {"fused": True} if _fusable(cfg, params) else {}
    return cls(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.decay, **fused)


_FUSED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _fusable(cfg: TrainConfig, params: list[torch.nn.Parameter]) -> bool:
    """torch's fused Adam/AdamW kernel (one update for all tensors, the same formula) applies:
    plain floating-point tensors on the CPU or one GPU; FSDP's sharded tensors keep the default.
    An Agrippa model has more, smaller parameter tensors than a handwritten one (one per
    attention head's matrix), so the per-tensor overhead it saves matters here."""
    return (cfg.strategy != "fsdp" and bool(params)
            and all(type(p.data) is torch.Tensor and p.dtype in _FUSED_DTYPES and p.device.type in ("cpu", "cuda")
                    for p in params))


def d_model_of(cfg: TrainConfig, bindings: Mapping[str, object]) -> int | None:
    """`d_model` as a number (a string names a binding)."""
    if isinstance(cfg.d_model, str):
        value = bindings.get(cfg.d_model)
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"d_model = {cfg.d_model!r} names no numeric binding") from None
    return cfg.d_model


def learning_rate(cfg: TrainConfig, step: int, d_model: int | None = None,
                  total: int | None = None) -> float:
    """The rate for (1-based) optimizer `step` of `total`.

    - constant: lr, after `warmup` steps of linear warmup (lr · s / warmup).
    - inverse_sqrt ("Attention is all you need"): lr_scale · d_model^-0.5 · min(s^-0.5, s·w^-1.5);
      without d_model the same curve scaled so that its peak (at s = warmup) is lr_scale · lr.
    - cosine: after the warmup, min_lr + (lr - min_lr) · (1 + cos(π·p)) / 2 where
      p = (s - warmup) / (total - warmup) runs from 0 to 1; linear: lr - (lr - min_lr) · p.
    """
    s = max(step, 1)
    if cfg.schedule in ("inverse_sqrt", "noam"):
        w = max(cfg.warmup, 1)
        shape = min(s ** -0.5, s * w ** -1.5)
        if d_model:
            return cfg.lr_scale * d_model ** -0.5 * shape
        return cfg.lr_scale * cfg.lr * math.sqrt(w) * shape
    if cfg.warmup and s <= cfg.warmup:
        return cfg.lr * s / cfg.warmup
    if cfg.schedule == "constant":
        return cfg.lr
    if total is None:
        raise ValueError(f"schedule = \"{cfg.schedule}\" needs the run's length: give steps, or data "
                         "whose epochs have a known length")
    p = min(max((s - cfg.warmup) / max(total - cfg.warmup, 1), 0.0), 1.0)
    if cfg.schedule == "cosine":
        return cfg.min_lr + (cfg.lr - cfg.min_lr) * 0.5 * (1.0 + math.cos(math.pi * p))
    return cfg.lr - (cfg.lr - cfg.min_lr) * p


def make_scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer, d_model: int | None,
                   total: Callable[[], int | None]) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR whose rate at optimizer step s (1-based) is `learning_rate(cfg, s, ...)`
    (`total()`: the run's length as now known); call `.step()` after each `opt.step()`."""
    for group in opt.param_groups:
        group["lr"] = group["initial_lr"] = cfg.lr
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda e: learning_rate(cfg, e + 1, d_model, total()) / cfg.lr)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr
