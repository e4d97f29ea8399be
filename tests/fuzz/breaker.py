"""Deliberate breakage: one random edit to a project's markup or bindings, recorded as the
project's `intent`. Some edits leave the model valid (a dim of 1 made 2 may still
broadcast); the oracle judges the result, not the intent."""
from __future__ import annotations

import random
import re

from .project import INDEX, Project

_OPS = ["Relu", "MatMul", "Add", "Softmax", "Transpose", "Gather", "Reshape", "Concat", "Where", "Cast",
        "LayerNormalization", "Conv", "Slice", "Squeeze", "TopK", "Tile", "Expand", "ReduceMean", "Gemm"]
_ATTRS = ["axis", "perm", "alpha", "keepdims", "to", "axes", "shape", "kernel_shape", "pads", "k", "epsilon",
          "transA", "mode", "starts", "ends"]
_VALUES = ["0", "1", "-1", "5", "[0]", "[1, 0]", "[0, 1, 2]", "2.5", "[2, 2]", "constant", "[-1]", "",
           "[0, 0, 0, 0]", "var(zz)", "expr(1 - 2)", "7", "[3, 1]", "abc"]


def _sub_one(rng: random.Random, text: str, pattern: str, repl) -> str | None:
    hits = list(re.finditer(pattern, text))
    if not hits:
        return None
    m = rng.choice(hits)
    new = repl(m)
    return text[:m.start()] + new + text[m.end():]


def _bump_dim(m: re.Match) -> str:
    nums = m.group(2).split(",")
    i = len(nums) - 1
    nums[i] = " 5" if i else "5"
    return m.group(1) + ",".join(nums) + m.group(3)


EDITS = {
    "undefined": (r'<input src="([^"]+)"', lambda m: f'<input src="{m.group(1)}_undef"'),
    "param-dim": (r'(<params name="[^"]+" dim="\[)([^\]"]*)(\]")', lambda m: _bump_dim(m)),
    "axis": (r'axis="[^"]*"', lambda m: 'axis="7"'),
    "import-type": (r'(<import from="x\d+" dim="[^"]*")', lambda m: m.group(1) + ' type="int64"'),
    "perm": (r'perm="\[([^\]]*)\]"', lambda m: f'perm="[{m.group(1)}, 0]"'),
    "shape": (r'shape="\[([^\]]*)\]"', lambda m: f'shape="[{m.group(1)}, 5]"'),
    "op": (r'op="(\w+)"', None),
    "attr": (r'<node op="\w+"', None),
    "export-type": (r'(<export from="[^"]+" dim="[^"]*")', lambda m: m.group(1) + ' type="int32"'),
    "drop-import": (r'\n +<import from="[^"]+"/>', lambda m: ""),
    "rep-count": (r'rep="[^"]*"', lambda m: 'rep="0"'),
    "swap-inputs": (r'(<input src="[^"]+"/>)(<params [^>]*/>)', lambda m: m.group(2) + m.group(1)),
}


def break_model(p: Project, rng: random.Random) -> None:
    kinds = list(EDITS) + ["unbind"]
    rng.shuffle(kinds)
    text = p.files[INDEX]
    for kind in kinds:
        if kind == "unbind":
            used = [k for k in p.bindings if f"({k})" in text or f" {k} " in text or f"({k} " in text]
            if used:
                del p.bindings[rng.choice(used)]
                p.intent = "unbind"
                return
            continue
        pattern, repl = EDITS[kind]
        if kind == "op":
            repl = lambda m: f'op="{rng.choice(_OPS)}"'  # noqa: E731
        elif kind == "attr":
            repl = lambda m: f'{m.group(0)} {rng.choice(_ATTRS)}="{rng.choice(_VALUES)}"'  # noqa: E731
        new = _sub_one(rng, text, pattern, repl)
        if new is not None and new != text:
            p.files[INDEX] = new
            p.intent = kind
            return
