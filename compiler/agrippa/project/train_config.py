"""The `[train]` table of `agrippa.toml`: its schema, defaults and validation.

No torch here: the language server calls `validate_train_config` on every edit of the toml.

    [train]                      # values shown are the defaults unless marked "e.g."
    data = "data.py:batches"     # required: a callable in a project file, or "train.npz"
    prediction = "y"             # e.g.; the export that is the prediction (default: the only export)
    target = "target"            # the key of the target in each batch
    loss = "mse"                 # mse | cross_entropy | "loss.py:fn"
    optimizer = "sgd"            # sgd | adam | adamw
    lr = 1e-3
    momentum = 0.0               # sgd
    betas = [0.9, 0.999]         # adam, adamw
    eps = 1e-8                   # adam, adamw
    weight_decay = 0.0           # default 0.01 for adamw
    schedule = "constant"        # constant | inverse_sqrt (alias noam)
    warmup = 0                   # inverse_sqrt: warmup steps (> 0)
    d_model = 256                # e.g.; an int or a binding's name. inverse_sqrt:
                                 #   lr = lr_scale * d_model^-0.5 * min(s^-0.5, s * warmup^-1.5);
    lr_scale = 1.0               #   without d_model the same curve peaks at lr_scale * lr
    grad_clip = 1.0              # e.g.; max gradient norm (default: none)
    batch_size = 32
    steps = 1000                 # e.g.; or epochs = 3 (not both; default: 1 epoch)
    seed = 0
    device = "auto"              # cpu | cuda | auto
    threads = 0                  # torch CPU threads (0: torch's default)
    checkpoint_every = 0         # steps between saved weights + checkpoints (0: only at the end)
    eval_data = "eval.npz"       # e.g.; optional, like data
    eval_every = 100             # steps between evaluations (default: checkpoint_every, else 100)
    eval_batches = 20            # at most this many eval batches per evaluation
    log = "train_log.csv"        # CSV loss log; "" to disable
    plot = "loss.png"            # loss curve; "" to disable
    checkpoint = "train_checkpoint.pt"
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from agrippa.base.diagnostics import Diagnostic, Range, Severity
from agrippa.base.suggest import suggest
from agrippa.project.config import CONFIG_FNAME, Config, toml_key_range

LOSSES = ("mse", "cross_entropy")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "inverse_sqrt", "noam")
DEVICES = ("cpu", "cuda", "auto")


@dataclass
class TrainConfig:
    data: str = ""
    prediction: str | None = None
    target: str = "target"
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float = 1e-3
    momentum: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float | None = None
    schedule: str = "constant"
    warmup: int = 0
    d_model: int | str | None = None
    lr_scale: float = 1.0
    grad_clip: float | None = None
    batch_size: int = 32
    steps: int | None = None
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    checkpoint_every: int = 0
    eval_data: str | None = None
    eval_every: int | None = None
    eval_batches: int = 20
    log: str = "train_log.csv"
    plot: str = "loss.png"
    checkpoint: str = "train_checkpoint.pt"
    project_dir: str = field(default=".", compare=False)

    @property
    def decay(self) -> float:
        if self.weight_decay is not None:
            return self.weight_decay
        return 0.01 if self.optimizer == "adamw" else 0.0

    @property
    def eval_interval(self) -> int:
        if self.eval_every:
            return self.eval_every
        return self.checkpoint_every or 100

    def path(self, name: str) -> str:
        return name if os.path.isabs(name) else os.path.join(self.project_dir, name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name != "project_dir")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_train_config(config: Config, text: str | None = None
                          ) -> tuple[TrainConfig | None, list[Diagnostic]]:
    """Check `config.train`; returns the typed config (None on errors) and diagnostics.

    `text` is the toml's text (an editor buffer) for positions; default: read `config.path`.
    A project without a `[train]` table gives (None, []).
    """
    raw = config.raw.get("train")
    path = config.path or CONFIG_FNAME
    if raw is None:
        return None, []
    if text is None:
        text = config.text
    if text is None and config.path:
        try:
            with open(config.path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
    text = text or ""
    diags: list[Diagnostic] = []

    def where(key: str | None) -> Range:
        return toml_key_range(text, f"train.{key}" if key else "train")

    def err(key: str | None, msg: str, severity: Severity = Severity.ERROR) -> None:
        diags.append(Diagnostic(path, where(key), severity, "train-config", msg))

    if not isinstance(raw, dict):
        err(None, "train must be a table ([train])")
        return None, diags
    project_dir = os.path.dirname(os.path.abspath(path))
    cfg = TrainConfig(project_dir=project_dir)
    for key, v in raw.items():
        if key not in _KEYS:
            near = suggest(key, _KEYS, 1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(_KEYS)})"
            err(key, f"unknown key '{key}' in [train]{hint}")
            continue
        problem = _check(key, v, cfg)
        if problem:
            err(key, problem)
    if "data" not in raw:
        err(None, "[train] needs data = \"file.py:function\" or \"file.npz\"")
    for key in ("data", "eval_data"):
        spec = getattr(cfg, key)
        if spec and key in raw and not any(d.range == where(key) for d in diags):
            problem = _check_source(spec, project_dir)
            if problem:
                err(key, problem)
    if isinstance(raw.get("loss"), str) and ":" in raw["loss"]:
        problem = _check_source(raw["loss"], project_dir, callable_only=True)
        if problem:
            err("loss", problem)
    if cfg.steps is not None and cfg.epochs is not None:
        err("epochs", "give steps or epochs, not both")
    if cfg.schedule in ("inverse_sqrt", "noam"):
        if cfg.warmup <= 0:
            err("warmup" if "warmup" in raw else "schedule",
                f"schedule '{cfg.schedule}' needs warmup = <steps> (a positive integer)")
        if cfg.d_model is not None and "lr" in raw:
            err("lr", "lr is not used when d_model is given: the peak rate comes from d_model "
                "and lr_scale", Severity.WARNING)
    elif "warmup" in raw or "d_model" in raw:
        err("warmup" if "warmup" in raw else "d_model",
            "warmup and d_model apply to schedule = \"inverse_sqrt\" only", Severity.WARNING)
    if cfg.optimizer != "sgd" and "momentum" in raw:
        err("momentum", f"momentum applies to sgd only, not {cfg.optimizer}", Severity.WARNING)
    if cfg.optimizer == "sgd" and ("betas" in raw or "eps" in raw):
        err("betas" if "betas" in raw else "eps", "betas and eps apply to adam and adamw only",
            Severity.WARNING)
    if cfg.eval_data is None and ("eval_every" in raw or "eval_batches" in raw):
        err("eval_every" if "eval_every" in raw else "eval_batches",
            "eval_every and eval_batches need eval_data", Severity.WARNING)
    ok = not any(d.is_error for d in diags)
    return (cfg if ok else None), diags


def _check(key: str, v: object, cfg: TrainConfig) -> str | None:
    """Type-check one key and store it in `cfg`; a message when the value is wrong."""
    positive_int = ("batch_size", "steps", "epochs", "eval_batches")
    if key in ("data", "eval_data"):
        if not isinstance(v, str) or not v.strip():
            return f"{key} must be \"file.py:function\" or \"file.npz\""
        if ":" not in v and not v.endswith(".npz"):
            return f"{key} must be \"file.py:function\" or an .npz file, got {v!r}"
    elif key in ("prediction", "target"):
        if not isinstance(v, str) or not v:
            return f"{key} must be a name"
    elif key == "loss":
        if not isinstance(v, str) or (v not in LOSSES and ":" not in v):
            return f"loss must be one of {', '.join(LOSSES)} or \"file.py:function\", got {v!r}"
    elif key == "optimizer":
        if not isinstance(v, str) or v.lower() not in OPTIMIZERS:
            return f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {v!r}"
        v = v.lower()
    elif key == "schedule":
        if v not in SCHEDULES:
            return f"schedule must be one of {', '.join(SCHEDULES)}, got {v!r}"
    elif key == "device":
        if v not in DEVICES and not (isinstance(v, str) and v.startswith("cuda:")):
            return f"device must be one of {', '.join(DEVICES)}, got {v!r}"
    elif key in ("lr", "lr_scale", "eps"):
        if not _is_num(v) or v <= 0:
            return f"{key} must be a positive number, got {v!r}"
        v = float(v)
    elif key in ("momentum", "weight_decay"):
        if not _is_num(v) or v < 0:
            return f"{key} must be a number ≥ 0, got {v!r}"
        v = float(v)
    elif key == "grad_clip":
        if not _is_num(v) or v <= 0:
            return f"grad_clip must be a positive number, got {v!r}"
        v = float(v)
    elif key == "betas":
        if (not isinstance(v, list) or len(v) != 2 or not all(_is_num(b) and 0 <= b < 1 for b in v)):
            return f"betas must be two numbers in [0, 1), such as [0.9, 0.999], got {v!r}"
        v = (float(v[0]), float(v[1]))
    elif key == "d_model":
        if not ((_is_int(v) and v > 0) or (isinstance(v, str) and v)):
            return f"d_model must be a positive integer or the name of a binding, got {v!r}"
    elif key in positive_int:
        if not _is_int(v) or v <= 0:
            return f"{key} must be a positive integer, got {v!r}"
    elif key in ("warmup", "seed", "checkpoint_every", "eval_every", "threads"):
        if not _is_int(v) or v < 0:
            return f"{key} must be an integer ≥ 0, got {v!r}"
    elif key in ("log", "plot", "checkpoint") and (not isinstance(v, str) or (key == "checkpoint" and not v)):
        return f"{key} must be a file name"
    setattr(cfg, key, v)
    return None


def _check_source(spec: str, project_dir: str, callable_only: bool = False) -> str | None:
    """A message when the file a data/loss spec names does not exist."""
    fname, _, func = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if callable_only and not func:
        return f"{spec!r} must be \"file.py:function\""
    if ":" in spec and (not fname.endswith(".py") or not func.isidentifier()):
        return f"{spec!r} must be \"file.py:function\""
    full = fname if os.path.isabs(fname) else os.path.join(project_dir, fname)
    if not os.path.isfile(full):
        return f"{fname} not found in {project_dir}"
    return None
