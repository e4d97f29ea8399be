#!/usr/bin/env python3
"""The differential fuzzer's long run (issue 11, item 9; the generator and the judge live in
tests/fuzz/). Prints the counts by category and writes each disagreement, reduced, as a
reproducer project (with VERDICT.json and the inputs) under artifacts/fuzz/.

    .venv/bin/python scripts/fuzz.py --n 10000 --seed 1 --jobs 2

Chunks run in worker processes; a chunk whose process dies (onnxruntime can abort the
process on a model it accepted) is rerun one model per process, and the model that kills
its process is a `false-green-ort-run` disagreement ("the process died").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "compiler"))


def worker(seed: int, start: int, stop: int, out: str, budget: int) -> None:
    """Judge models start..stop-1; print one JSON line: counts and disagreements."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from fuzz.run import run_batch

    counts, found = run_batch(seed, range(start, stop), out, budget)
    bad = [(i, v.category, v.detail[:300], where) for i, v, where in found]
    print("RESULT " + json.dumps({"counts": dict(counts), "bad": bad}), flush=True)


def _spawn(a, start: int, stop: int) -> tuple[Counter, list] | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--seed", str(a.seed), "--start", str(start),
           "--n", str(stop - start), "--out", a.out, "--reduce", str(a.reduce)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            return Counter(r["counts"]), r["bad"]
    _died.append((start, stop, p.returncode, p.stderr.strip().splitlines()[-1:] or [""]))
    return None  # the process died


_died: list[tuple] = []


def _chunk(a, start: int, stop: int) -> tuple[Counter, list]:
    got = _spawn(a, start, stop)
    if got is not None:
        return got
    counts: Counter = Counter()
    bad: list = []
    for i in range(start, stop):  # one model per process, to find the one that kills it
        one = _spawn(a, i, i + 1)
        if one is None:
            why = next((d for d in reversed(_died) if d[0] == i), (i, i + 1, None, [""]))
            category, detail = "false-green-ort-run", f"the process died (exit {why[2]}): {why[3][0][:300]}"
            # written by another process too: making the model may be what kills it (onnx's own
            # shape inference aborts on some nodes), and this one must live to report the rest
            cmd = [sys.executable, os.path.abspath(__file__), "--write", "--seed", str(a.seed), "--start", str(i),
                   "--out", a.out, "--why", detail]
            where = subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or None
            if where is None:
                detail = "the process died making the model (the generator's own onnx calls): " + detail
            one = Counter({category: 1}), [(i, category, detail, where)]
        counts.update(one[0])
        bad.extend(one[1])
    return counts, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="how many models (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="the first model's index in the run")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (at most 2 on a shared machine)")
    ap.add_argument("--out", default=os.path.join(ROOT, "artifacts", "fuzz"), help="where reproducers go")
    ap.add_argument("--reduce", type=int, default=60, help="judgements spent reducing each reproducer (0: none)")
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--write", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--why", default="", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    if a.worker:
        worker(a.seed, a.start, a.start + a.n, a.out, a.reduce)
        return 0
    if a.write:  # the reproducer of a model whose process died; prints its folder
        from fuzz.oracle import Verdict
        from fuzz.run import make, write_reproducer

        v = Verdict("false-green-ort-run", a.why)
        print(write_reproducer(a.out, f"{v.category}-s{a.seed}-{a.start}", make(a.seed, a.start), v))
        return 0
    from fuzz.run import format_counts

    t0 = time.monotonic()
    total: Counter = Counter()
    found: list = []
    chunks = [(s, min(s + a.chunk, a.start + a.n)) for s in range(a.start, a.start + a.n, a.chunk)]
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        futures = [pool.submit(_chunk, a, s, e) for s, e in chunks]
        for f in as_completed(futures):
            counts, bad = f.result()
            total.update(counts)
            found.extend(bad)
            for i, cat, detail, where in bad:
                print(f"  #{i} {cat}: {detail[:160]}  -> {where}", flush=True)
            print(f"[{sum(total.values())}/{a.n}] {time.monotonic() - t0:.0f} s, {len(found)} disagreements so far",
                  flush=True)
    print(format_counts(total, sum(total.values()), time.monotonic() - t0))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
