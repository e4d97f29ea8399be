"""Mutants of the example projects (examples/*): one random edit of an attribute, a value or
an element (the breaker's edits, plus a random number changed anywhere)."""
from __future__ import annotations

import functools
import random
import re
from pathlib import Path

import tomllib

from .breaker import EDITS, _sub_one
from .project import INDEX, Project

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@functools.lru_cache(maxsize=1)
def examples() -> list[tuple[str, dict, int, dict[str, str]]]:
    """(name, bindings, opset, files with the index renamed to INDEX) of each example."""
    out = []
    for d in sorted(p for p in EXAMPLES.iterdir() if (p / "agrippa.toml").exists()):
        conf = tomllib.loads((d / "agrippa.toml").read_text())
        index = conf.get("model", {}).get("index")
        files = {}
        for f in d.rglob("*.agr"):
            rel = str(f.relative_to(d))
            files[INDEX if rel == index else rel] = f.read_text()
        if INDEX in files:
            out.append((d.name, dict(conf.get("bindings", {})), conf.get("model", {}).get("opset", 13), files))
    return out


def _number(rng: random.Random, m: re.Match) -> str:
    n = int(m.group(0))
    return str(rng.choice([n + 1, max(n - 1, 0), n * 2, 1, 0]))


def generate(seed: int) -> Project:
    rng = random.Random(seed)
    name, bindings, opset, files = rng.choice(examples())
    files = dict(files)
    rel = rng.choice(sorted(files))
    text = files[rel]
    kind = rng.choice([*EDITS, "number", "binding", "none"])
    if kind == "number":
        new = _sub_one(rng, text, r'(?<=[\[ "])\d+(?=[\],"])', lambda m: _number(rng, m))
    elif kind == "binding":
        if bindings:
            k = rng.choice(sorted(bindings))
            bindings = {**bindings, k: max(1, bindings[k] + rng.choice([-1, 1, 2]))}
        new = text
    elif kind == "none":
        new = text
    else:
        pattern, repl = EDITS[kind]
        if repl is None:
            repl = lambda m: m.group(0) + ' axis="1"'  # noqa: E731
        new = _sub_one(rng, text, pattern, repl)
    files[rel] = new if new is not None else text
    return Project(files, bindings, opset, {}, "mutant", f"{kind} in {name}/{rel}")
