"""Optimizers (sgd, adam, adamw) and learning-rate schedules."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import torch

from agrippa.project.train_config import TrainConfig


def make_optimizer(cfg: TrainConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    params = list(params)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.decay)
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.decay)


def d_model_of(cfg: TrainConfig, bindings: Mapping[str, object]) -> int | None:
    """`d_model` as a number (a string names a binding)."""
    if isinstance(cfg.d_model, str):
        value = bindings.get(cfg.d_model)
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"d_model = {cfg.d_model!r} names no numeric binding") from None
    return cfg.d_model


def learning_rate(cfg: TrainConfig, step: int, d_model: int | None = None) -> float:
    """The rate for (1-based) `step`.

    inverse_sqrt ("Attention is all you need"): lr_scale · d_model^-0.5 · min(s^-0.5, s·w^-1.5);
    without d_model the same curve scaled so that its peak (at s = warmup) is lr_scale · lr.
    """
    if cfg.schedule == "constant":
        return cfg.lr
    s, w = max(step, 1), max(cfg.warmup, 1)
    shape = min(s ** -0.5, s * w ** -1.5)
    if d_model:
        return cfg.lr_scale * d_model ** -0.5 * shape
    return cfg.lr_scale * cfg.lr * math.sqrt(w) * shape


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr
