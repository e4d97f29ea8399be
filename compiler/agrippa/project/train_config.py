"""The `[train]` table of `agrippa.toml`: its schema, defaults and validation.

No torch here: the language server calls `validate_train_config` on every edit of the toml.
`TRAIN_KEYS` documents every key (type, default, example, allowed values) as plain data:
`agrippa train --help`, docs/train.md and schema/agrippa.toml.schema.json are generated
from it (`project/toml_docs.py`), and the IDE layer can serve it as hover and completion.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from agrippa.base.diagnostics import Diagnostic, Range, Severity
from agrippa.base.suggest import suggest
from agrippa.project.config import CONFIG_FNAME, Config, file_access, toml_key_range
from agrippa.project.files import MAX_DATA_BYTES, FileAccess, Refusal
from agrippa.project.train_keys import (  # noqa: F401  (re-exported: the keys' docs as data)
    DEVICES,
    EARLY_STOPPING_KEYS,
    LOGGERS,
    LOSSES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    STOP_METRICS,
    STRATEGIES,
    TRAIN_KEYS,
    KeySpec,
    train_key,
)


@dataclass
class EarlyStopping:
    metric: str = "eval_loss"
    patience: int = 3
    min_delta: float = 0.0


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
    grad_clip: float | None = None
    accumulate: int = 1
    schedule: str = "constant"
    warmup: int = 0
    min_lr: float = 0.0
    d_model: int | str | None = None
    lr_scale: float = 1.0
    batch_size: int = 32
    steps: int | None = None
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "32"
    compile: bool = False
    strategy: str = "ddp"
    threads: int = 0
    eval_data: str | None = None
    eval_every: int | None = None
    eval_batches: int = 20
    early_stopping: EarlyStopping | None = None
    checkpoint_every: int = 0
    checkpoint: str = "train_checkpoint.pt"
    loggers: tuple[str, ...] = ("csv",)
    log: str = "train_log.csv"
    tensorboard_dir: str = "runs"
    plot: str = "loss.png"
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

    @property
    def csv_log(self) -> str | None:
        """The CSV log's path, or None when it is off."""
        return self.path(self.log) if self.log and "csv" in self.loggers else None

    @property
    def dcp_checkpoint(self) -> str:
        """The sharded (fsdp) checkpoint's folder: `checkpoint` with .dcp for its extension."""
        return os.path.splitext(self.path(self.checkpoint))[0] + ".dcp"

    def path(self, name: str) -> str:
        return name if os.path.isabs(name) else os.path.join(self.project_dir, name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name != "project_dir")
assert set(_KEYS) == {k.name for k in TRAIN_KEYS}, "TrainConfig and TRAIN_KEYS disagree"


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
    project_dir = os.path.dirname(os.path.abspath(path))
    access = file_access(project_dir, config)  # data files are read through the project's policy
    if text is None and config.path:
        text = access.read(config.path)[0]
    text = text or ""
    diags: list[Diagnostic] = []

    def where(key: str | None) -> Range:
        return toml_key_range(text, f"train.{key}" if key else "train")

    def err(key: str | None, msg: str, severity: Severity = Severity.ERROR, code: str = "train-config") -> None:
        diags.append(Diagnostic(path, where(key), severity, code, msg))

    if not isinstance(raw, dict):
        err(None, "train must be a table ([train])")
        return None, diags
    cfg = TrainConfig(project_dir=project_dir)
    for key, v in raw.items():
        if key not in _KEYS:
            near = suggest(key, _KEYS, 1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(_KEYS)})"
            err(key, f"unknown key '{key}' in [train]{hint}")
            continue
        if key == "early_stopping":
            for sub, problem in _check_early_stopping(v, cfg):
                diags.append(Diagnostic(path, _sub_range(text, sub), Severity.ERROR,
                                        "train-config", problem))
            continue
        problem = _check(key, v, cfg)
        if problem:
            err(key, problem)
    if "data" not in raw:
        err(None, "[train] needs data = \"file.py:function\" or \"file.npz\"")
    for key in ("data", "eval_data"):
        spec = getattr(cfg, key)
        if spec and key in raw and not any(d.range == where(key) for d in diags):
            problem = _check_source(spec, project_dir, access)
            if problem:
                _refused_or(err, key, problem)
    if isinstance(raw.get("loss"), str) and ":" in raw["loss"]:
        problem = _check_source(raw["loss"], project_dir, access, callable_only=True)
        if problem:
            _refused_or(err, "loss", problem)
    if cfg.steps is not None and cfg.epochs is not None:
        err("epochs", "give steps or epochs, not both")
    if cfg.schedule in ("inverse_sqrt", "noam"):
        if cfg.warmup <= 0:
            err("warmup" if "warmup" in raw else "schedule",
                f"schedule '{cfg.schedule}' needs warmup = <steps> (a positive integer)")
        if cfg.d_model is not None and "lr" in raw:
            err("lr", "lr is not used when d_model is given: the peak rate comes from d_model "
                "and lr_scale", Severity.WARNING)
    elif "d_model" in raw or "lr_scale" in raw:
        err("d_model" if "d_model" in raw else "lr_scale",
            "d_model and lr_scale apply to schedule = \"inverse_sqrt\" only", Severity.WARNING)
    if cfg.schedule in ("cosine", "linear"):
        if cfg.min_lr > cfg.lr and "min_lr" in raw:
            err("min_lr", f"min_lr ({cfg.min_lr:g}) is above lr ({cfg.lr:g})")
        if cfg.steps is not None and cfg.warmup >= cfg.steps and "warmup" in raw:
            err("warmup", f"warmup ({cfg.warmup}) is not shorter than steps ({cfg.steps}): the "
                "rate never decays", Severity.WARNING)
    elif "min_lr" in raw:
        err("min_lr", "min_lr applies to schedule = \"cosine\" or \"linear\" only", Severity.WARNING)
    es = cfg.early_stopping
    if es is not None and es.metric == "eval_loss" and not raw.get("eval_data"):
        diags.append(Diagnostic(path, _sub_range(text, None), Severity.ERROR, "train-config",
                                "early_stopping on eval_loss needs eval_data (or metric = \"loss\")"))
    if "tensorboard_dir" in raw and "tensorboard" not in cfg.loggers:
        err("tensorboard_dir", "tensorboard_dir is used only with loggers = [..., \"tensorboard\"]",
            Severity.WARNING)
    if "log" in raw and raw.get("log") and "csv" not in cfg.loggers:
        err("log", "log (the CSV file) is not written: loggers lacks \"csv\"", Severity.WARNING)
    if cfg.precision == "16" and cfg.device == "cpu" and "precision" in raw:
        err("precision", "float16 on CPU runs without a gradient scaler (CUDA only); bf16 is the "
            "safer choice on CPU", Severity.WARNING)
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
    positive_int = ("batch_size", "steps", "epochs", "eval_batches", "accumulate")
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
        if v not in DEVICES and not (isinstance(v, str) and v.startswith("cuda:") and v[5:].isdigit()):
            return f"device must be one of {', '.join(DEVICES)} or \"cuda:N\", got {v!r}"
    elif key == "precision":
        if v not in PRECISIONS:
            hint = f'; write precision = "{v}" (a string)' if str(v) in PRECISIONS else ""
            return f"precision must be one of \"32\", \"bf16\", \"16\", got {v!r}{hint}"
    elif key == "strategy":
        if v not in STRATEGIES:
            return f"strategy must be one of {', '.join(STRATEGIES)}, got {v!r}"
    elif key == "compile":
        if not isinstance(v, bool):
            return f"compile must be true or false, got {v!r}"
    elif key == "loggers":
        if not isinstance(v, list) or not all(x in LOGGERS for x in v) or len(set(v)) != len(v):
            return f"loggers must be a list of distinct names among {', '.join(LOGGERS)}, got {v!r}"
        v = tuple(v)
    elif key == "min_lr":
        if not _is_num(v) or v < 0:
            return f"min_lr must be a number ≥ 0, got {v!r}"
        v = float(v)
    elif key == "tensorboard_dir":
        if not isinstance(v, str) or not v:
            return "tensorboard_dir must be a folder name"
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


def _check_early_stopping(v: object, cfg: TrainConfig) -> list[tuple[str | None, str]]:
    """Problems with `early_stopping = { ... }` as (subkey or None, message); sets cfg."""
    if not isinstance(v, dict):
        return [(None, "early_stopping must be a table: { metric = \"eval_loss\", patience = 5, "
                 "min_delta = 0.0 }")]
    es, problems = EarlyStopping(), []
    names = [k.name for k in EARLY_STOPPING_KEYS]
    for key, x in v.items():
        if key not in names:
            near = suggest(key, names, 1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(names)})"
            problems.append((key, f"unknown key '{key}' in early_stopping{hint}"))
        elif key == "metric" and x not in STOP_METRICS:
            problems.append((key, f"early_stopping.metric must be one of {', '.join(STOP_METRICS)}, "
                             f"got {x!r}"))
        elif key == "patience" and (not _is_int(x) or x <= 0):
            problems.append((key, f"early_stopping.patience must be a positive integer, got {x!r}"))
        elif key == "min_delta" and (not _is_num(x) or x < 0):
            problems.append((key, f"early_stopping.min_delta must be a number ≥ 0, got {x!r}"))
        else:
            setattr(es, key, float(x) if key == "min_delta" else x)
    cfg.early_stopping = es
    return problems


def _sub_range(text: str, sub: str | None) -> Range:
    """The range of `early_stopping.<sub>` (or of early_stopping itself): written in a
    [train.early_stopping] table or as the inline table's key."""
    from agrippa.project.toml_text import find_key, split_lines, table_lines

    found = find_key(text, f"train.early_stopping.{sub}") if sub else None
    if found:
        return found[0]
    if find_key(text, "train.early_stopping") is None:
        where = table_lines(text, "train.early_stopping")
        if where is not None:
            line = split_lines(text)[where[0]]
            return Range.of(where[0], 0, where[0], len(line))
    return toml_key_range(text, "train.early_stopping")


def _refused_or(err: Any, key: str, problem: str) -> None:
    """Report a data/loss file's problem at its key: a refusal with its own code."""
    if isinstance(problem, Refusal) and problem.code:
        err(key, f"{key}: {problem}", code=problem.code)
    else:
        err(key, problem)


def source_path(spec: str, project_dir: str) -> str:
    """The file a data/loss spec names ("data.py:batches", "train.npz"), absolute."""
    fname = spec.rpartition(":")[0] if ":" in spec and not spec.endswith(".npz") else spec
    return os.path.abspath(fname if os.path.isabs(fname) else os.path.join(project_dir, fname))


def source_refusal(spec: str, access: FileAccess) -> Refusal | None:
    """Why the project's file-access policy refuses the file a data/loss spec names: outside
    the project (after symlinks) and its roots, not a regular file, or over the size cap
    (`MAX_DATA_BYTES` for an .npz file, the markup cap for Python). None: it may be read."""
    path = source_path(spec, access.root)
    return access.refusal(path, MAX_DATA_BYTES if path.endswith(".npz") else access.max_bytes)


def _check_source(spec: str, project_dir: str, access: FileAccess, callable_only: bool = False) -> str | None:
    """A message when the file a data/loss spec names does not exist or may not be read
    (a `Refusal`, with its diagnostic code, in that case)."""
    fname, _, func = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if callable_only and not func:
        return f"{spec!r} must be \"file.py:function\""
    if ":" in spec and (not fname.endswith(".py") or not func.isidentifier()):
        return f"{spec!r} must be \"file.py:function\""
    why = source_refusal(spec, access)
    if why is None:
        return None
    if not why.code:  # missing or unreadable: the plain message
        return f"{fname or spec} not found in {project_dir}" if not os.path.lexists(
            source_path(spec, project_dir)) else f"'{fname or spec}' is not read: {why}"
    return Refusal(f"'{fname or spec}' is not read: {why}", why.code)


def toml_keys() -> list[tuple[str, KeySpec]]:
    """Every documented key of agrippa.toml, dotted ("train.lr", "model.opset", "bindings.*"),
    with its spec: what an IDE serves as hover and completion (see `toml_docs`)."""
    from agrippa.project.toml_docs import toml_keys as keys

    return keys()
