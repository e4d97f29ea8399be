#!/usr/bin/env python3
"""The differential fuzzer's long run (issue 11, item 9; the generator and the judge live in
tests/fuzz/). Prints the counts by category and writes each disagreement, reduced, as a
reproducer project (with VERDICT.json and the inputs) under artifacts/fuzz/.

    .venv/bin/python scripts/fuzz.py --n 10000 --seed 1 --jobs 2
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "compiler"))


def _chunk(seed: int, start: int, stop: int, out: str, budget: int) -> tuple[Counter, list]:
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)
    from fuzz.run import run_batch

    counts, found = run_batch(seed, range(start, stop), out, budget)
    return counts, [(i, v.category, v.detail[:300], where) for i, v, where in found]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="how many models (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="the first model's index in the run")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (at most 2 on a shared machine)")
    ap.add_argument("--out", default=os.path.join(ROOT, "artifacts", "fuzz"), help="where reproducers go")
    ap.add_argument("--reduce", type=int, default=60, help="judgements spent reducing each reproducer (0: none)")
    ap.add_argument("--chunk", type=int, default=50)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    from fuzz.run import format_counts

    t0 = time.monotonic()
    total: Counter = Counter()
    found: list = []
    done = 0
    chunks = [(s, min(s + a.chunk, a.start + a.n)) for s in range(a.start, a.start + a.n, a.chunk)]
    with ProcessPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        futures = [pool.submit(_chunk, a.seed, s, e, a.out, a.reduce) for s, e in chunks]
        for f in as_completed(futures):
            counts, bad = f.result()
            total.update(counts)
            found.extend(bad)
            done += sum(counts.values())
            for i, cat, detail, where in bad:
                print(f"  #{i} {cat}: {detail[:160]}  -> {where}", flush=True)
            print(f"[{done}/{a.n}] {time.monotonic() - t0:.0f} s, "
                  f"{sum(1 for _ in found)} disagreements so far", flush=True)
    print(format_counts(total, done, time.monotonic() - t0))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
