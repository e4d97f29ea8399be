"""TensorBoard event files and early stopping (the CSV log and the bar: progress.py)."""
from __future__ import annotations

import math
from typing import Any

from agrippa.train.model import TrainError


class TensorBoardLog:
    """Scalars in TensorBoard event files: train/loss, train/lr, train/examples_per_s and
    eval/loss, by optimizer step. On resume, events after the resumed step are dropped."""

    def __init__(self, folder: str, resume_step: int | None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise TrainError("loggers = [\"tensorboard\"] needs the tensorboard package "
                             "(pip install tensorboard, or agrippa[train])") from e
        self.writer = SummaryWriter(log_dir=folder,
                                    purge_step=resume_step + 1 if resume_step is not None else None)

    def add(self, step: int, loss: float, lr: float, examples_per_s: float | None,
            eval_loss: float | None = None) -> None:
        w = self.writer
        w.add_scalar("train/loss", loss, step)
        w.add_scalar("train/lr", lr, step)
        if examples_per_s is not None and math.isfinite(examples_per_s):
            w.add_scalar("train/examples_per_s", examples_per_s, step)
        if eval_loss is not None:
            w.add_scalar("eval/loss", eval_loss, step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class EarlyStopper:
    """Counts the observations (evaluations, or steps for metric "loss") since the metric
    last improved on its best by more than `min_delta`; `should_stop` after `patience`."""

    def __init__(self, metric: str, patience: int, min_delta: float) -> None:
        self.metric, self.patience, self.min_delta = metric, patience, min_delta
        self.best: float | None = None
        self.bad = 0

    def observe(self, value: float) -> bool:
        """Record a value; True when training should stop."""
        if self.best is None or value < self.best - self.min_delta:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        return self.bad >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if state:
            self.best, self.bad = state.get("best"), int(state.get("bad", 0))
