"""Every key of `agrippa.toml` with its documentation, as plain data, and what is generated
from it: the JSON Schema (schema/agrippa.toml.schema.json, for taplo / Even Better TOML),
docs/train.md and the key list of `agrippa train --help`.

`toml_keys()` is the one list an IDE layer needs for hover and completion in agrippa.toml.
The `[train]` keys live in `train_keys.py` (validated by `train_config.py`); the other
tables' keys are read by `config.py` and described here.
"""
from __future__ import annotations

import json
from typing import Any

from agrippa.project.config import CONFIG_FNAME, MIN_OPSET
from agrippa.project.train_keys import TRAIN_KEYS, KeySpec

SCHEMA_ID = "https://agrippa.dev/schema/agrippa.toml.schema.json"

MODEL_KEYS = (
    KeySpec("index", "string", "the main markup file", None, '"gpt.agr"',
            default_text="the only markup file, else the one whose root is <model>"),
    KeySpec("opset", "integer", f"the ONNX opset, {MIN_OPSET} to the installed onnx's highest",
            MIN_OPSET, "17", schema={"minimum": MIN_OPSET}),
    KeySpec("weights", "string", "the weights file (.safetensors or .pkl)", None, '"weights.safetensors"',
            default_text="weights.pkl if present, else weights.safetensors",
            schema={"pattern": r"\.(safetensors|pkl)$"}),
    KeySpec("dynamic", "array", "dims chosen at run time, such as a batch size: symbolic in check and hover, "
            "ONNX dim_param in the compiled model (write them var(batch) in dims; parameters cannot use them)",
            [], '["batch"]',
            schema={"items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "uniqueItems": True}),
)
PROJECT_KEYS = (
    KeySpec("roots", "array", "more folders whose files may be sourced", [], '["../shared-blocks"]',
            schema={"items": {"type": "string", "minLength": 1}}),
    KeySpec("max_file_mb", "number", "markup files over this many MiB are not read", 20, "50",
            schema={"exclusiveMinimum": 0}),
    KeySpec("max_param_mb", "number", "check warns about (and compile refuses) a parameter over this "
            "many MiB", 1024, "4096", schema={"exclusiveMinimum": 0}),
)
BINDING = KeySpec("*", "number|string", "a default value for var(NAME)", None, "64")
TABLES: tuple[tuple[str, str, tuple[KeySpec, ...]], ...] = (
    ("model", "the model: its index file, ONNX opset, weights file and dynamic dims", MODEL_KEYS),
    ("bindings", "default values for var(): name = number", ()),
    ("profiles", "named sets of bindings, layered over [bindings]: [profiles.NAME]", ()),
    ("project", "the file-access policy", PROJECT_KEYS),
    ("train", "training with `agrippa train` (docs/train.md)", TRAIN_KEYS),
)


def toml_keys() -> list[tuple[str, KeySpec]]:
    """(dotted name, spec) of every documented key: "model.opset", "train.lr",
    "train.early_stopping.patience", "bindings.*" and "profiles.*.*" for any name."""
    out: list[tuple[str, KeySpec]] = []
    for table, _, keys in TABLES:
        if table == "bindings":
            out.append(("bindings.*", BINDING))
        elif table == "profiles":
            out.append(("profiles.*.*", BINDING))
        for k in keys:
            out.append((f"{table}.{k.name}", k))
            out.extend((f"{table}.{k.name}.{sub.name}", sub) for sub in k.keys)
    return out


def _type(t: str) -> dict[str, Any]:
    kinds = [{"table": "object"}.get(k, k) for k in t.split("|")]
    return {"type": kinds[0] if len(kinds) == 1 else kinds}


def _key_schema(k: KeySpec) -> dict[str, Any]:
    s: dict[str, Any] = {"description": k.doc + f" (default: {k.default_repr})"}
    s.update(_type(k.type))
    if k.choices:
        s["enum"] = list(k.choices)
    if k.default is not None:
        s["default"] = list(k.default) if isinstance(k.default, tuple) else k.default
    s.update(k.schema)
    if k.keys:
        s["properties"] = {sub.name: _key_schema(sub) for sub in k.keys}
        s["additionalProperties"] = False
    return s


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of agrippa.toml."""
    binding = {"type": ["number", "string"], "description": BINDING.doc}
    bindings = {"type": "object", "additionalProperties": binding}
    props: dict[str, Any] = {}
    for table, doc, keys in TABLES:
        if table == "bindings":
            props[table] = {**bindings, "description": doc}
        elif table == "profiles":
            props[table] = {"type": "object", "description": doc, "additionalProperties": bindings}
        else:
            props[table] = {"type": "object", "description": doc, "additionalProperties": False,
                            "properties": {k.name: _key_schema(k) for k in keys}}
    props["train"]["required"] = ["data"]
    props["train"]["not"] = {"required": ["steps", "epochs"]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": CONFIG_FNAME, "description": "An Agrippa project's configuration",
            "type": "object", "properties": props}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def train_keys_text(width: int = 100) -> str:
    """The `[train]` keys as plain text (for `agrippa train --help`)."""
    lines = ["[train] keys in agrippa.toml (type, default; e.g. an example):"]
    for k in TRAIN_KEYS:
        lines.append(f"  {k.name} ({k.type}, default {k.default_repr}; e.g. {k.name} = {k.example})")
        lines.append(f"      {k.doc}" + (f"; one of {', '.join(map(str, k.choices))}" if k.choices else ""))
        for sub in k.keys:
            lines.append(f"      .{sub.name} ({sub.type}, default {sub.default_repr}): {sub.doc}")
    return "\n".join(lines)


def train_markdown() -> str:
    """docs/train.md."""
    rows = []
    for k in TRAIN_KEYS:
        choices = f" One of {', '.join(f'`{c}`' for c in k.choices)}." if k.choices else ""
        rows.append(f"| `{k.name}` | {k.type} | `{k.default_repr}` | `{k.name} = {k.example}` | "
                    f"{_md(k.doc)}.{choices} |")
        for sub in k.keys:
            rows.append(f"| `{k.name}.{sub.name}` | {sub.type} | `{sub.default_repr}` | "
                        f"`{sub.name} = {sub.example}` | {_md(sub.doc)}. |")
    return _TRAIN_MD.format(table="\n".join(rows))


def _md(text: str) -> str:
    return text.replace("|", "\\|")


_TRAIN_MD = """# Training: the `[train]` table

<!-- Generated from compiler/agrippa/project/train_keys.py by
     `python -m agrippa.project.toml_docs --write`; do not edit by hand. -->

`agrippa train PROJECT` compiles the project to ONNX, converts it to PyTorch and trains it
as the `[train]` table of its `agrippa.toml` says:

```toml
[train]
data = "data.py:batches"      # or "train.npz"
loss = "cross_entropy"
optimizer = "adamw"
lr = 3e-4
schedule = "cosine"
warmup = 100
min_lr = 1e-5
accumulate = 2
precision = "bf16"
steps = 2000
eval_data = "data.py:batches"
early_stopping = {{ metric = "eval_loss", patience = 5 }}
loggers = ["csv", "tensorboard"]
```

| key | type | default | example | meaning |
|---|---|---|---|---|
{table}

## Command line

`agrippa train PROJECT [--steps N] [--device D] [--resume | --no-resume] [--reinit]
[--json-progress] [--nproc N] [--nnodes N --rdzv-endpoint HOST:PORT] [--vmap]`.
`--nproc N` runs N processes through `torchrun` (one machine; add `--nnodes` and
`--rdzv-endpoint` on every machine for several); `strategy` chooses DDP or FSDP.

## Checkpoints and resume

Every `checkpoint_every` steps and at the end, the weights file and the resume
checkpoint are written atomically. The checkpoint keeps the parameters, the optimizer
state, the step, the CPU and CUDA random states, the gradient scaler and the early-stopping
counters. With `strategy = "fsdp"` it is a folder of shards, `<checkpoint>.dcp/`
(torch.distributed.checkpoint), written to `<checkpoint>.dcp.tmp/` and renamed into place,
and readable by any number of processes. An unfinished run resumes by itself.

## Editor support

`schema/agrippa.toml.schema.json` is the JSON Schema of the whole file. Taplo and
Even Better TOML use it for completion and checks when the file starts with

```toml
#:schema ./path/to/agrippa/schema/agrippa.toml.schema.json
```

or when a `.taplo.toml` beside your projects says

```toml
[[rule]]
include = ["**/agrippa.toml"]
[rule.schema]
path = "./path/to/agrippa/schema/agrippa.toml.schema.json"
```
"""


def main(argv: list[str] | None = None) -> int:
    """`python -m agrippa.project.toml_docs --write`: regenerate docs/train.md and the schema."""
    import argparse
    import os

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    outputs = {os.path.join(root, "docs", "train.md"): train_markdown(),
               os.path.join(root, "schema", "agrippa.toml.schema.json"): json_schema_text()}
    for path, text in outputs.items():
        if args.write:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
