"""Reporting: a plain-text progress bar on stderr, JSON lines on stdout, the CSV loss log
and the loss-curve PNG."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
from collections import deque
from typing import IO, Any

from agrippa.backend.weights import atomic_writer

LOG_FIELDS = ("step", "loss", "lr", "elapsed", "eval_loss")


def _fmt_time(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "?"
    s = int(s)
    h, rem = divmod(s, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


class Progress:
    """Throughput and ETA over a sliding window; prints a bar and/or JSON lines."""

    def __init__(self, total: int | None, batch_size: int, *, bar: bool = True, json_lines: bool = False,
                 start_step: int = 0, out: IO[str] | None = None, err: IO[str] | None = None,
                 interval: float = 0.2) -> None:
        self.total, self.batch_size = total, batch_size
        self.bar, self.json_lines = bar, json_lines
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.tty = bool(getattr(self.err, "isatty", lambda: False)())
        self.interval = interval if self.tty or json_lines else 2.0
        self.window: deque[tuple[float, int]] = deque(maxlen=50)
        self.window.append((time.perf_counter(), start_step))
        self.last_print = 0.0
        self.last_step = -1
        self.pending_newline = False

    def rates(self, step: int) -> tuple[float, float | None]:
        now = time.perf_counter()
        self.window.append((now, step))
        t0, s0 = self.window[0]
        steps_per_s = (step - s0) / (now - t0) if now > t0 and step > s0 else 0.0
        eta = (self.total - step) / steps_per_s if self.total and steps_per_s > 0 else None
        return steps_per_s * self.batch_size, eta

    def update(self, step: int, loss: float, lr: float, force: bool = False, **extra: Any) -> None:
        ex_per_s, eta = self.rates(step)
        now = time.perf_counter()
        if not force and now - self.last_print < self.interval:
            return
        self.last_print, self.last_step = now, step
        if self.json_lines:
            self.emit({"step": step, "total": self.total, "loss": loss, "lr": lr,
                       "eta_s": None if eta is None else round(eta, 2),
                       "examples_per_s": round(ex_per_s, 1), **extra})
        if self.bar:
            total = self.total
            if total:
                frac = min(step / total, 1.0)
                bar = "#" * int(frac * 24)
                head = f"step {step}/{total} [{bar:<24}] {frac * 100:3.0f}%"
            else:
                head = f"step {step}"
            evals = "".join(f" {k} {v:.4g}" for k, v in extra.items() if isinstance(v, float))
            line = (f"{head} loss {loss:.4g}{evals} lr {lr:.3g} {ex_per_s:,.0f} ex/s "
                    f"eta {_fmt_time(eta)}")
            if self.tty:
                self.err.write("\r" + line[:160].ljust(100))
                self.pending_newline = True
            else:
                self.err.write(line + "\n")
            self.err.flush()

    def emit(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj) + "\n")
        self.out.flush()

    def message(self, text: str) -> None:
        self.newline()
        self.err.write(text + "\n")
        self.err.flush()

    def newline(self) -> None:
        if self.pending_newline:
            self.err.write("\n")
            self.pending_newline = False


class LossLog:
    """`train_log.csv`: one row per step (step, loss, lr, elapsed, eval_loss)."""

    def __init__(self, path: str | None, resume_step: int | None) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self.file: IO[str] | None = None
        if not path:
            return
        if resume_step is not None and os.path.exists(path):
            self.rows = [r for r in read_log(path) if int(r["step"]) <= resume_step]
        self.file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.DictWriter(self.file, LOG_FIELDS)
        self.writer.writeheader()
        for r in self.rows:
            self.writer.writerow(r)

    def add(self, step: int, loss: float, lr: float, elapsed: float, eval_loss: float | None = None) -> None:
        row = {"step": step, "loss": f"{loss:.6g}", "lr": f"{lr:.6g}", "elapsed": f"{elapsed:.3f}",
               "eval_loss": "" if eval_loss is None else f"{eval_loss:.6g}"}
        self.rows.append(row)
        if self.file:
            self.writer.writerow(row)

    def flush(self) -> None:
        if self.file:
            self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()
            self.file = None


def read_log(path: str) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r.get("step", "").isdigit() and r.get("loss")]


def plot_losses(rows: list[dict[str, Any]], path: str, title: str = "training loss") -> bool:
    """Write the loss curve (and eval points) as a PNG; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.figure import Figure
    except ImportError:
        return False
    steps = [int(r["step"]) for r in rows]
    losses = [float(r["loss"]) for r in rows]
    evals = [(int(r["step"]), float(r["eval_loss"])) for r in rows if r.get("eval_loss")]
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    ax.plot(steps, losses, lw=0.8, alpha=0.5 if len(steps) > 50 else 1.0, label="loss")
    if len(losses) > 50:
        k = max(len(losses) // 50, 2)
        smooth = [sum(losses[max(0, i - k):i + 1]) / len(losses[max(0, i - k):i + 1]) for i in range(len(losses))]
        ax.plot(steps, smooth, lw=1.5, label=f"loss (mean of {k + 1})")
    if evals:
        ax.plot(*zip(*evals), "o-", ms=3, label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if losses and min(losses) > 0 and max(losses) / min(losses) > 50:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    with atomic_writer(path) as f:
        f.write(buf.getvalue())
    return True
