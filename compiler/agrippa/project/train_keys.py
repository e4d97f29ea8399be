"""The keys of `agrippa.toml`'s `[train]` table as plain data: name, TOML type, default,
allowed values, an example and a line of documentation.

One source of truth: `train_config.validate_train_config` checks these keys,
`toml_docs` renders them for `agrippa train --help`, docs/train.md and the JSON Schema,
and the IDE layer can serve them as hover and completion. No torch, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOSSES = ("mse", "cross_entropy")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "inverse_sqrt", "noam", "cosine", "linear")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("32", "bf16", "16")
LOGGERS = ("csv", "tensorboard")
STRATEGIES = ("ddp", "fsdp")
STOP_METRICS = ("eval_loss", "loss")


@dataclass(frozen=True)
class KeySpec:
    """One key of a table in agrippa.toml.

    `type` is the TOML type ("string", "integer", "number", "boolean", "array", "table",
    or "integer|string" for either); `default` the value when the key is absent (None: no
    value), `default_text` how to say it when it depends on other keys; `example` is TOML
    text for the value; `schema` adds JSON Schema constraints (minimum, pattern, ...).
    """

    name: str
    type: str
    doc: str
    default: Any = None
    example: str = ""
    choices: tuple[Any, ...] = ()
    default_text: str | None = None
    schema: dict[str, Any] = field(default_factory=dict)
    keys: tuple[KeySpec, ...] = ()  # the keys of a "table"

    @property
    def default_repr(self) -> str:
        """The default as TOML text, or how it is chosen."""
        if self.default_text is not None:
            return self.default_text
        return toml_value(self.default) if self.default is not None else "none"


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return repr(v)


_POS_INT = {"minimum": 1}
_NAT = {"minimum": 0}
_POS_NUM = {"exclusiveMinimum": 0}
_SOURCE = {"pattern": r"^(.+\.py:[A-Za-z_][A-Za-z0-9_]*|.+\.npz)$"}

EARLY_STOPPING_KEYS = (
    KeySpec("metric", "string", "what to watch: the eval loss (each evaluation) or the training loss "
            "(each step)", "eval_loss", '"eval_loss"', STOP_METRICS),
    KeySpec("patience", "integer", "stop after this many evaluations (steps, for loss) without an "
            "improvement", 3, "5", schema=_POS_INT),
    KeySpec("min_delta", "number", "an improvement must lower the best value by more than this",
            0.0, "0.001", schema=_NAT),
)

TRAIN_KEYS: tuple[KeySpec, ...] = (
    # data and loss
    KeySpec("data", "string", "training batches: a function in a project file (\"file.py:function\") "
            "or an .npz file of named arrays (required)", None, '"data.py:batches"',
            default_text="required", schema=_SOURCE),
    KeySpec("prediction", "string", "the export that is the prediction", None, '"logits"',
            default_text="the only export"),
    KeySpec("target", "string", "the key of the target in each batch", "target", '"next"'),
    KeySpec("loss", "string", "mse, cross_entropy or a function \"loss.py:fn\"(pred, target)", "mse",
            '"cross_entropy"', schema={"anyOf": [{"enum": list(LOSSES)}, {"pattern": r"^.+\.py:\w+$"}]}),
    # optimizer
    KeySpec("optimizer", "string", "the optimizer", "sgd", '"adamw"', OPTIMIZERS),
    KeySpec("lr", "number", "learning rate (the peak rate under a schedule)", 1e-3, "3e-4", schema=_POS_NUM),
    KeySpec("momentum", "number", "sgd momentum", 0.0, "0.9", schema=_NAT),
    KeySpec("betas", "array", "adam and adamw betas", [0.9, 0.999], "[0.9, 0.98]",
            schema={"items": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                    "minItems": 2, "maxItems": 2}),
    KeySpec("eps", "number", "adam and adamw epsilon", 1e-8, "1e-6", schema=_POS_NUM),
    KeySpec("weight_decay", "number", "weight decay", None, "0.1", default_text="0.01 for adamw, else 0",
            schema=_NAT),
    KeySpec("grad_clip", "number", "clip the gradients' global norm to this", None, "1.0",
            default_text="no clipping", schema=_POS_NUM),
    KeySpec("accumulate", "integer", "gradient accumulation: batches per optimizer step (each step sees "
            "accumulate × batch_size examples)", 1, "4", schema=_POS_INT),
    # schedule
    KeySpec("schedule", "string", "learning-rate schedule: constant; inverse_sqrt (alias noam, "
            "\"Attention is all you need\"); cosine or linear decay to min_lr over the run", "constant",
            '"cosine"', SCHEDULES),
    KeySpec("warmup", "integer", "steps of linear warmup to lr (inverse_sqrt: required, the peak step)",
            0, "100", schema=_NAT),
    KeySpec("min_lr", "number", "cosine and linear: the rate at the last step", 0.0, "1e-5", schema=_NAT),
    KeySpec("d_model", "integer|string", "inverse_sqrt: lr = lr_scale · d_model^-0.5 · min(s^-0.5, "
            "s · warmup^-1.5); an integer or a binding's name", None, '"dmodel"',
            default_text="none: the curve peaks at lr_scale · lr"),
    KeySpec("lr_scale", "number", "inverse_sqrt: a factor on the rate", 1.0, "0.5", schema=_POS_NUM),
    # length
    KeySpec("batch_size", "integer", "examples per batch (over all processes)", 32, "64", schema=_POS_INT),
    KeySpec("steps", "integer", "optimizer steps to train (not with epochs)", None, "1000",
            default_text="1 epoch", schema=_POS_INT),
    KeySpec("epochs", "integer", "passes over the data (not with steps)", None, "3",
            default_text="1 epoch", schema=_POS_INT),
    KeySpec("seed", "integer", "random seed for initialization and data order", 0, "1", schema=_NAT),
    # hardware
    KeySpec("device", "string", "where to train: auto is cuda when available, else cpu (also \"cuda:N\")",
            "auto", '"cuda"', schema={"anyOf": [{"enum": list(DEVICES)}, {"pattern": r"^cuda:\d+$"}]}),
    KeySpec("precision", "string", "\"32\" float32; \"bf16\" bfloat16 autocast (CPU too); \"16\" float16 "
            "autocast, with a gradient scaler on CUDA", "32", '"bf16"', PRECISIONS),
    KeySpec("compile", "boolean", "run the model through torch.compile (on CPU it needs a C++ compiler; "
            "falls back to eager with a message when compiling fails)", False, "true"),
    KeySpec("strategy", "string", "with --nproc N: ddp replicates the model; fsdp shards parameters, "
            "gradients and optimizer state (fully_shard) and saves sharded checkpoints in "
            "<checkpoint>.dcp/", "ddp", '"fsdp"', STRATEGIES),
    KeySpec("threads", "integer", "torch CPU threads (0: torch's default)", 0, "4", schema=_NAT),
    # evaluation and stopping
    KeySpec("eval_data", "string", "evaluation batches, like data", None, '"eval.npz"',
            default_text="no evaluation", schema=_SOURCE),
    KeySpec("eval_every", "integer", "steps between evaluations", None, "100",
            default_text="checkpoint_every, else 100", schema=_NAT),
    KeySpec("eval_batches", "integer", "at most this many eval batches per evaluation", 20, "50",
            schema=_POS_INT),
    KeySpec("early_stopping", "table", "stop when the metric stops improving (the run counts as "
            "finished)", None, '{ metric = "eval_loss", patience = 5, min_delta = 0.001 }',
            default_text="never stop early", keys=EARLY_STOPPING_KEYS),
    # output
    KeySpec("checkpoint_every", "integer", "steps between saved weights and checkpoints (0: at the end only)",
            0, "100", schema=_NAT),
    KeySpec("checkpoint", "string", "the resume checkpoint's file name", "train_checkpoint.pt",
            '"ckpt.pt"', schema={"minLength": 1}),
    KeySpec("loggers", "array", "where to log: csv (the file `log`) and/or tensorboard (event files in "
            "tensorboard_dir: loss, lr, eval loss, throughput)", ["csv"], '["csv", "tensorboard"]',
            schema={"items": {"enum": list(LOGGERS)}, "uniqueItems": True}),
    KeySpec("log", "string", "the CSV log's file name (\"\": none)", "train_log.csv", '"log.csv"'),
    KeySpec("tensorboard_dir", "string", "the folder of TensorBoard event files", "runs", '"tb"',
            schema={"minLength": 1}),
    KeySpec("plot", "string", "the loss curve PNG (\"\": none)", "loss.png", '""'),
)

TRAIN_KEY_NAMES = tuple(k.name for k in TRAIN_KEYS)


def train_key(name: str) -> KeySpec | None:
    """The spec of a `[train]` key (dotted for subkeys: "early_stopping.patience")."""
    head, _, sub = name.partition(".")
    spec = next((k for k in TRAIN_KEYS if k.name == head), None)
    if spec is None or not sub:
        return spec
    return next((k for k in spec.keys if k.name == sub), None)
