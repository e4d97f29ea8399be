"""Projects: finding the index file, reading `agrippa.toml`, loading source files.

A project is a folder of `.agr`/`.xml` files with an optional `agrippa.toml`:

    [model]
    index = "gpt.agr"           # the main file (default: see `find_index`)
    opset = 13                  # ONNX opset, 13..17
    weights = "weights.safetensors"  # default: weights.pkl if present, else weights.safetensors

    [bindings]                  # default values for var()
    ntokens = 64

    [profiles.small]            # named sets of bindings, layered over [bindings]
    nlayers = 2

    [train]                     # see agrippa.train
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from agrippa.base.diagnostics import Diagnostic, Range, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FNAME = "agrippa.toml"
WEIGHTS_FNAME = "weights.pkl"  # the original package's weights file
META_FNAME = "meta.json"  # producer and graph name, copied into the ONNX metadata
SOURCE_SUFFIXES = (".agr", ".xml")
DEFAULT_OPSET = 13
MAX_OPSET = 17
MIN_OPSET = 13



@dataclass
class Config:
    """What `agrippa.toml` says, with the positions of its keys for diagnostics."""

    path: str | None = None
    index: str | None = None
    opset: int = DEFAULT_OPSET
    weights: str | None = None
    bindings: dict[str, object] = field(default_factory=dict)
    profiles: dict[str, dict[str, object]] = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    text: str | None = None  # the toml's text (an editor buffer or the file), for positions
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def bindings_for(self, profile: str | None = None) -> dict[str, object]:
        b = dict(self.bindings)
        if profile and profile in self.profiles:
            b.update(self.profiles[profile])
        return b


def toml_key_range(text: str, dotted: str) -> Range:
    """Best-effort range of a key (`train.lr` → the `lr = ` line in `[train]`) in toml text."""
    *tables, key = dotted.split(".")
    table = ".".join(tables)
    current = ""
    for lineno, line in enumerate(text.splitlines()):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            current = s.strip("[]").strip()
            continue
        if current == table and (s.startswith(key + " ") or s.startswith(key + "=")):
            col = line.index(key)
            return Range.of(lineno, col, lineno, col + len(key))
        if not table and current == "" and s.startswith(key):
            col = line.index(key)
            return Range.of(lineno, col, lineno, col + len(key))
    if table:
        for lineno, line in enumerate(text.splitlines()):
            if line.strip() == f"[{table}]":
                return Range.of(lineno, 0, lineno, len(line))
    return Range.of(0, 0, 0, 0)


def load_config(project_dir: str, text: str | None = None) -> Config:
    """Read `agrippa.toml` in `project_dir`; mistakes become diagnostics, never exceptions."""
    path = os.path.join(project_dir, CONFIG_FNAME)
    cfg = Config()
    if text is None:
        if not os.path.isfile(path):
            return cfg
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            cfg.diagnostics.append(Diagnostic(path, Range.of(0, 0, 0, 0), Severity.ERROR, "config",
                                              f"cannot read {CONFIG_FNAME}: {e}"))
            return cfg
    cfg.path = path
    cfg.text = text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = getattr(e, "msg", str(e))
        line, col = getattr(e, "lineno", None), getattr(e, "colno", None)
        if line is None:  # Python 3.11 puts the position only in the message
            import re

            m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
            msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        cfg.diagnostics.append(Diagnostic(path, Range.of(line - 1, col - 1, line - 1, col), Severity.ERROR,
                                          "config-syntax", f"{CONFIG_FNAME}: {msg}"))
        return cfg
    cfg.raw = data

    def bad(key: str, message: str, severity: Severity = Severity.ERROR) -> None:
        cfg.diagnostics.append(Diagnostic(path, toml_key_range(text, key), severity, "config", message))

    known = {"model", "bindings", "profiles", "train"}
    for k in data:
        if k not in known:
            bad(k, f"unknown table or key '{k}' in {CONFIG_FNAME} (known: {', '.join(sorted(known))})",
                Severity.WARNING)
    model = data.get("model", {})
    if isinstance(model, dict):
        for k, v in model.items():
            if k == "index":
                if isinstance(v, str):
                    cfg.index = v
                else:
                    bad("model.index", "model.index must be a file name")
            elif k == "opset":
                if isinstance(v, int) and MIN_OPSET <= v <= MAX_OPSET:
                    cfg.opset = v
                else:
                    bad("model.opset", f"model.opset must be an integer from {MIN_OPSET} to {MAX_OPSET}, got {v!r}")
            elif k == "weights":
                if isinstance(v, str) and v.endswith((".pkl", ".safetensors")):
                    cfg.weights = v
                else:
                    bad("model.weights", "model.weights must name a .safetensors or .pkl file")
            else:
                bad(f"model.{k}", f"unknown key '{k}' in [model] (known: index, opset, weights)", Severity.WARNING)
    cfg.bindings = _read_bindings(data.get("bindings", {}), "bindings", bad)
    profiles = data.get("profiles", {})
    if isinstance(profiles, dict):
        for name, table in profiles.items():
            cfg.profiles[name] = _read_bindings(table, f"profiles.{name}", bad)
    train = data.get("train", {})
    cfg.train = train if isinstance(train, dict) else {}
    return cfg


def _read_bindings(table: object, where: str, bad) -> dict[str, object]:
    out: dict[str, object] = {}
    if not isinstance(table, dict):
        bad(where, f"[{where}] must be a table of name = number")
        return out
    for k, v in table.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            bad(f"{where}.{k}", f"binding '{k}' must be a number (or a string), got {type(v).__name__}")
            continue
        out[k] = v
    return out


def find_index(project_dir: str, config: Config | None = None, index: str | None = None) -> tuple[str | None, str | None]:
    """The index file of a project and, when the choice was a guess, a note saying so.

    Order: an explicit `index`, then `[model] index`, then the only markup file, then one
    whose root is `<model>` and that no other file sources, alphabetically first.
    """
    if index:
        p = index if os.path.isabs(index) else os.path.join(project_dir, index)
        return p, None
    if config and config.index:
        return os.path.join(project_dir, config.index), None
    try:
        names = sorted(n for n in os.listdir(project_dir) if n.endswith(SOURCE_SUFFIXES))
    except OSError:
        return None, None
    if not names:
        return None, None
    if len(names) == 1:
        return os.path.join(project_dir, names[0]), None
    models = [n for n in names if _root_is_model(os.path.join(project_dir, n))]
    chosen = (models or names)[0]
    return os.path.join(project_dir, chosen), (
        f"several markup files in {project_dir}; using {chosen} as the index "
        f"(set [model] index in {CONFIG_FNAME} or pass --index to choose)")


def _root_is_model(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return False
    import re

    m = re.search(r"<([A-Za-z_][-\w]*)", re.sub(r"<!--.*?-->|<\?.*?\?>", "", head, flags=re.S))
    return bool(m and m.group(1) == "model")


def project_dir_of(path: str) -> str:
    """The project folder for a file: the nearest ancestor with agrippa.toml, else its folder."""
    p = Path(path).resolve()
    d = p if p.is_dir() else p.parent
    for cand in [d, *d.parents]:
        if (cand / CONFIG_FNAME).is_file():
            return str(cand)
    return str(d)
