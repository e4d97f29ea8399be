"""Projects: finding the index file, reading `agrippa.toml`, loading source files.

A project is a folder of `.agr`/`.xml` files with an optional `agrippa.toml`:

    [model]
    index = "gpt.agr"           # the main file (default: see `find_index`)
    opset = 13                  # ONNX opset, 13 to the installed onnx's highest
    weights = "weights.safetensors"  # default: weights.pkl if present, else weights.safetensors
    dynamic = ["batch"]         # dims chosen at run time: symbolic in check, ONNX dim_param when compiled

    [bindings]                  # default values for var()
    ntokens = 64

    [profiles.small]            # named sets of bindings, layered over [bindings]
    nlayers = 2

    [project]                   # the file-access policy (project/files.py)
    roots = ["../shared-blocks"]  # more folders whose files may be sourced (default: none)
    max_file_mb = 20            # markup files over this many MiB are not read
    max_param_mb = 1024         # check warns about a parameter over this many MiB

    [train]                     # see agrippa.train

Only files under the project folder (after symlinks) and the `[project] roots` are read.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from agrippa.base.diagnostics import Diagnostic, Position, Range, Severity
from agrippa.project.files import MAX_FILE_BYTES, FileAccess, TextProvider, read_regular_bytes
from agrippa.project.toml_text import (
    MAX_NESTING,
    find_key,
    for_toml,
    split_lines,
    table_lines,
    too_deep,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FNAME = "agrippa.toml"
WEIGHTS_FNAME = "weights.pkl"  # the original package's weights file
META_FNAME = "meta.json"  # producer and graph name, copied into the ONNX metadata
SOURCE_SUFFIXES = (".agr", ".xml")
DEFAULT_OPSET = 13
MIN_OPSET = 13


def max_opset() -> int:
    """The highest opset the installed onnx knows (onnx is imported only when asked)."""
    from onnx.defs import onnx_opset_version

    return onnx_opset_version()
MAX_PARAM_BYTES = 2**30  # check warns about (and compile refuses) a larger parameter


@dataclass
class Config:
    """What `agrippa.toml` says, with the positions of its keys for diagnostics."""

    path: str | None = None
    index: str | None = None
    opset: int = DEFAULT_OPSET
    weights: str | None = None
    dynamic: list[str] = field(default_factory=list)  # [model] dynamic: dims chosen at run time
    bindings: dict[str, object] = field(default_factory=dict)
    profiles: dict[str, dict[str, object]] = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    text: str | None = None  # the toml's text (an editor buffer or the file), for positions
    roots: list[str] = field(default_factory=list)  # [project] roots, absolute
    max_file_bytes: int = MAX_FILE_BYTES
    max_param_bytes: int = MAX_PARAM_BYTES
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def bindings_for(self, profile: str | None = None) -> dict[str, object]:
        b = dict(self.bindings)
        if profile and profile in self.profiles:
            b.update(self.profiles[profile])
        return b


def toml_key_range(text: str, dotted: str) -> Range:
    """The range of a key's name (`train.lr` → `lr` in `[train]`), else its table's header
    line, else the start of the file."""
    found = find_key(text, dotted)
    if found is not None:
        return found[0]
    table = dotted.rpartition(".")[0]
    where = table_lines(text, table) if table else None
    if where is not None:
        line = split_lines(text)[where[0]]
        return Range.of(where[0], 0, where[0], len(line))
    return Range.of(0, 0, 0, 0)


def load_config(project_dir: str, text: str | None = None) -> Config:
    """Read `agrippa.toml` in `project_dir`; mistakes become diagnostics, never exceptions."""
    path = os.path.join(project_dir, CONFIG_FNAME)
    cfg = Config()
    if text is None:
        if not os.path.lexists(path):
            return cfg
        why = FileAccess(project_dir).outside(path)
        data, why = (None, why) if why is not None else read_regular_bytes(path, MAX_FILE_BYTES)
        try:
            text = data.decode("utf-8") if data is not None else None
        except UnicodeDecodeError:
            why = "it is not UTF-8 text"
        if text is None:
            cfg.diagnostics.append(Diagnostic(path, Range.of(0, 0, 0, 0), Severity.ERROR, "config",
                                              f"cannot read {CONFIG_FNAME}: {why}"))
            return cfg
    cfg.path = path
    cfg.text = text
    deep = too_deep(text)
    if deep is not None:  # tomllib recurses into nested arrays: refused before it runs
        cfg.diagnostics.append(Diagnostic(path, Range(deep, Position(deep.line, deep.character + 1)), Severity.ERROR,
                                          "config-syntax", f"{CONFIG_FNAME}: arrays and inline tables nest more than "
                                          f"{MAX_NESTING} deep here; the file is not read"))
        return cfg
    try:
        data = tomllib.loads(for_toml(text))  # a lone \r ends a line, as in the editor
    except tomllib.TOMLDecodeError as e:
        msg = getattr(e, "msg", str(e))
        line, col = getattr(e, "lineno", None), getattr(e, "colno", None)
        if line is None:  # Python 3.11 puts the position only in the message
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
            msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        cfg.diagnostics.append(Diagnostic(path, Range.of(line - 1, col - 1, line - 1, col), Severity.ERROR,
                                          "config-syntax", f"{CONFIG_FNAME}: {msg}"))
        return cfg
    cfg.raw = data

    def bad(key: str, message: str, severity: Severity = Severity.ERROR) -> None:
        cfg.diagnostics.append(Diagnostic(path, toml_key_range(text, key), severity, "config", message))

    known = {"model", "bindings", "profiles", "train", "project"}
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
                if isinstance(v, int) and not isinstance(v, bool) and MIN_OPSET <= v <= max_opset():
                    cfg.opset = v
                else:
                    bad("model.opset", f"model.opset must be an integer from {MIN_OPSET} to {max_opset()}, got {v!r}")
            elif k == "weights":
                if isinstance(v, str) and v.endswith((".pkl", ".safetensors")):
                    cfg.weights = v
                else:
                    bad("model.weights", "model.weights must name a .safetensors or .pkl file")
            elif k == "dynamic":
                cfg.dynamic = _read_dynamic(v, text, path, cfg.diagnostics, bad)
            else:
                bad(f"model.{k}", f"unknown key '{k}' in [model] (known: index, opset, weights, dynamic)",
                    Severity.WARNING)
    _read_project(cfg, project_dir, data.get("project", {}), bad)
    cfg.bindings = _read_bindings(data.get("bindings", {}), "bindings", bad)
    profiles = data.get("profiles", {})
    if isinstance(profiles, dict):
        for name, table in profiles.items():
            cfg.profiles[name] = _read_bindings(table, f"profiles.{name}", bad)
    train = data.get("train", {})
    cfg.train = train if isinstance(train, dict) else {}
    for name in cfg.dynamic:
        if name in cfg.bindings:
            bad(f"bindings.{name}", f"binding '{name}' is not used: '{name}' is a dynamic dim ([model] dynamic)",
                Severity.WARNING)
    return cfg


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _read_dynamic(v: object, text: str, path: str, out: list[Diagnostic], bad) -> list[str]:
    """[model] dynamic: a list of names (`["batch"]`), each reported at its place when wrong."""
    if not isinstance(v, list):
        bad("model.dynamic", 'model.dynamic must be a list of dim names, e.g. ["batch"]')
        return []
    found = find_key(text, "model.dynamic")
    value = found[1] if found is not None else None
    line = split_lines(text)[value.start.line] if value is not None else ""
    names: list[str] = []
    pos = value.start.character if value is not None else 0
    for item in v:
        shown = f'"{item}"' if isinstance(item, str) else str(item).lower() if isinstance(item, bool) else str(item)
        at = line.find(shown, pos) if value is not None else -1
        pos = at + len(shown) if at >= 0 else pos
        if isinstance(item, str) and _NAME.fullmatch(item) and item not in names:
            names.append(item)
            continue
        rng = Range.of(value.start.line, at, value.start.line, at + len(shown)) if at >= 0 else \
            toml_key_range(text, "model.dynamic")
        why = "is named twice" if item in names else "is not a name (letters, digits, _)"
        out.append(Diagnostic(path, rng, Severity.ERROR, "config", f"model.dynamic: {shown} {why}"))
    return names


def _read_project(cfg: Config, project_dir: str, table: object, bad) -> None:
    """[project]: roots (folders whose files may be read too) and the size limits."""
    if not isinstance(table, dict):
        bad("project", "[project] must be a table (roots, max_file_mb, max_param_mb)")
        return
    for k, v in table.items():
        if k == "roots":
            if not isinstance(v, list) or not all(isinstance(r, str) and r for r in v):
                bad("project.roots", 'project.roots must be a list of folder paths, e.g. ["../shared-blocks"]')
                continue
            for r in v:
                full = os.path.normpath(os.path.join(project_dir, os.path.expanduser(r)))
                if not os.path.isdir(full):
                    bad("project.roots", f"project.roots: '{r}' is not a folder", Severity.WARNING)
                    continue
                cfg.roots.append(full)
        elif k in ("max_file_mb", "max_param_mb"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 2**40:
                bad(f"project.{k}", f"project.{k} must be a positive number of MiB, got {v!r}")
                continue
            setattr(cfg, "max_file_bytes" if k == "max_file_mb" else "max_param_bytes", int(v * 2**20))
        else:
            bad(f"project.{k}", f"unknown key '{k}' in [project] (known: roots, max_file_mb, max_param_mb)",
                Severity.WARNING)


def file_access(project_dir: str, config: Config | None = None, buffers: TextProvider | None = None) -> FileAccess:
    """The file-access policy of the project in `project_dir` (see `project.files`)."""
    if isinstance(buffers, FileAccess):
        buffers = buffers.buffers
    if config is None:
        return FileAccess(project_dir, buffers=buffers)
    return FileAccess(project_dir, tuple(config.roots), config.max_file_bytes, buffers)


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
    if FileAccess(os.path.dirname(path)).outside(path) is not None:
        return False
    data, _ = read_regular_bytes(path, head=4096)
    if data is None:
        return False
    head = data.decode("utf-8", errors="replace")
    m = re.search(r"<([A-Za-z_][-\w]*)", re.sub(r"<!--.*?-->|<\?.*?\?>", "", head, flags=re.S))
    return bool(m and m.group(1) == "model")


def project_dir_of(path: str, resolve: bool = False) -> str:
    """The project folder for a file: the nearest ancestor with agrippa.toml, else its folder.
    Symlinks are not followed (unless `resolve`): the project is where the path's name puts
    it, so a link inside a project pointing elsewhere stays that project's file, and the
    file-access policy (project/files.py, which compares resolved paths) refuses it."""
    p = Path(path).resolve() if resolve else Path(os.path.abspath(path))
    d = p if p.is_dir() else p.parent
    for cand in [d, *d.parents]:
        if (cand / CONFIG_FNAME).is_file():
            return str(cand)
    return str(d)
