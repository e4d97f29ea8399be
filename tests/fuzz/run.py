"""Batches: make the i-th project of a seeded run, judge it, count by category, and reduce
each disagreement to a small reproducer project (under artifacts/fuzz/ in the long run)."""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable

from .oracle import DISAGREEMENTS, Verdict, judge
from .project import INDEX, Project

MIX = (("gen", 70), ("catalog", 20), ("mutant", 10))


def make(seed: int, index: int) -> Project:
    """The index-th project of the run with `seed` (deterministic)."""
    s = seed * 1_000_003 + index
    kind = random.Random(s).choices([k for k, _ in MIX], [w for _, w in MIX])[0]
    if kind == "catalog":
        from .catalog import generate as cat
        return cat(s)
    if kind == "mutant":
        from .mutate import generate as mut
        return mut(s)
    from .gen import generate
    return generate(s)


def judge_project(p: Project, tmp: str) -> Verdict:
    folder = tempfile.mkdtemp(dir=tmp)
    try:
        p.write(folder)
        return judge(folder, p.feeds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- reducing ---------------------------------------------------------------------------------------

_ELEMENT = re.compile(r"[ \t]*<(node|block|export|import)\b[^>]*?(/>|>.*?</node>)[ \t]*\n?", re.S)


def _candidates(text: str) -> list[tuple[int, int]]:
    """Spans of single elements that deleting might keep the bug: nodes, root exports, and
    blocks (whole, found by matching tags)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"[ \t]*<node\b.*?</node>[ \t]*\n?", text, re.S)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"[ \t]*<(export|import)\b[^>]*/>[ \t]*\n?", text)]
    depth, start = 0, None
    for m in re.finditer(r"<block\b[^>]*?(/?)>|</block>", text):
        if m.group(0).startswith("</"):
            depth -= 1
            if depth == 0 and start is not None:
                spans.append((start, m.end()))
        elif m.group(1) == "/":
            if depth == 0:
                spans.append((m.start(), m.end()))
        else:
            if depth == 0:
                start = m.start()
            depth += 1
    return sorted(set(spans), key=lambda s: s[0] - s[1])  # biggest first


def signature(v: Verdict) -> tuple[str, str]:
    """A verdict without its names and numbers: reducing keeps the same bug, not just the category."""
    return v.category, re.sub(r"[\w$.]*\d[\w$.]*|'[^']*'", "#", v.detail)[:100]


def reduce(p: Project, verdict: Verdict, tmp: str, budget: int = 60) -> Project:
    """Greedily delete elements of the index while the verdict stays the same bug."""
    best = p
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        text = best.files[INDEX]
        for a, b in _candidates(text):
            if tries >= budget:
                break
            tries += 1
            cand = Project({**best.files, INDEX: text[:a] + text[b:]}, dict(best.bindings), best.opset,
                           dict(best.feeds), best.kind, best.intent)
            if signature(judge_project(cand, tmp)) == signature(verdict):
                best, changed = cand, True
                break
    return best


def write_reproducer(root: str, name: str, p: Project, v: Verdict) -> str:
    folder = os.path.join(root, name)
    shutil.rmtree(folder, ignore_errors=True)
    p.write(folder)
    with open(os.path.join(folder, "VERDICT.json"), "w", encoding="utf-8") as f:
        json.dump({"category": v.category, "detail": v.detail, "codes": list(v.codes), "kind": p.kind,
                   "intent": p.intent}, f, indent=2)
    return folder


# -- a batch ------------------------------------------------------------------------------------------


def run_batch(seed: int, indices: range, out_dir: str | None = None, reduce_budget: int = 60,
              progress: Callable[[int, Counter], None] | None = None) -> tuple[Counter, list[tuple]]:
    """Judge projects `indices` of run `seed`; returns (counts by category, disagreements as
    (index, verdict, reproducer folder or None))."""
    counts: Counter = Counter()
    found: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="agrippa-fuzz-") as tmp:
        for k, i in enumerate(indices):
            p = make(seed, i)
            v = judge_project(p, tmp)
            counts[v.category] += 1
            if v.category in DISAGREEMENTS:
                where = None
                if out_dir:
                    small = reduce(p, v, tmp, reduce_budget) if reduce_budget else p
                    where = write_reproducer(out_dir, f"{v.category}-s{seed}-{i}", small, v)
                found.append((i, v, where))
            if progress is not None:
                progress(k + 1, counts)
    return counts, found


def format_counts(counts: Counter, n: int, seconds: float | None = None) -> str:
    lines = [f"{n} models" + (f" in {seconds:.0f} s" if seconds is not None else "")]
    for cat in ("green-ok", "red-ok", "red-allowed", "red-unbuilt", "skipped", *DISAGREEMENTS):
        lines.append(f"  {cat:28s} {counts.get(cat, 0)}")
    lines.append(f"  {'disagreements':28s} {sum(counts.get(c, 0) for c in DISAGREEMENTS)}")
    return "\n".join(lines)


def timed(fn, *a, **kw):
    t = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t
