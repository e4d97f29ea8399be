"""Benchmark: compile examples/gpt at the thesis size (~127M parameters) against a floor.

Every measurement runs in a fresh subprocess; its wall time (interpreter start included)
and peak RSS (from `os.wait4`) are taken by this process. The floor draws as many float32
normal samples as the model has parameters and writes as many bytes to disk (with fsync,
as the compiler's atomic writes do): no compiler can do less than that.

    .venv/bin/python bench/bench_compile.py [--repeat 3] [--over-2gb] [--keep DIR]

Targets: a fresh compile within 2x the floor's time and within 2 GB peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPT = ROOT / "examples" / "gpt"
TIME_TARGET = 2.0  # x floor
RSS_TARGET = 2e9  # bytes
OVER_2GB = {"nvocab": 500000}  # with the full profile: ~2.35 GB of float32 parameters

FLOOR_CHILD = """
import os, sys, numpy as np
n, path = int(sys.argv[1]), sys.argv[2]
a = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
with open(path, "wb") as f:
    f.write(memoryview(a))
    f.flush()
    os.fsync(f.fileno())
"""

COMPILE_CHILD = """
import json, sys
from agrippa.backend.compile import compile_project
project, out, kw = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
compile_project(project, out, profile="full", seed=0, **kw)
"""

RUN_CHILD = """
import sys, numpy as np, onnxruntime as ort
ort.set_default_logger_severity(3)
s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
feeds = {}
for i in s.get_inputs():
    if i.name == "mask":
        feeds[i.name] = np.triu(np.full(i.shape, -1e9, np.float32), 1)
    else:
        x = np.zeros(i.shape, np.float32)
        x[np.arange(i.shape[0]), np.arange(i.shape[0]) % i.shape[1]] = 1
        feeds[i.name] = x
(y,) = s.run(None, feeds)
assert np.isfinite(y).all(), "non-finite logits"
print(list(y.shape))
"""


@dataclass
class Run:
    seconds: float  # wall time
    cpu: float  # user + system time: less sensitive than wall time to other processes' load
    peak_rss: int  # bytes
    output: str = ""


def measure(code: str, *args: str) -> Run:
    """Run `code` in a fresh interpreter; its wall time and peak RSS."""
    start = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    out = p.stdout.read() if p.stdout else ""
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"benchmark child failed with exit code {p.returncode}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.strip())


def clean(*paths: str | Path) -> None:
    for p in paths:
        Path(p).unlink(missing_ok=True)


def parameter_count(bindings: dict | None = None) -> int:
    from agrippa.sema.analysis import analyze

    an = analyze(str(GPT), profile="full", bindings=bindings, strict=True)
    n = an.graph.parameter_count if an.graph is not None else None
    if an.errors or n is None:
        raise SystemExit(f"examples/gpt does not analyse: {[str(d) for d in an.errors]}")
    return n


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def ratio_line(name: str, run: Run, floor: Run) -> str:
    return (f"{name:<22} {run.seconds:6.2f} s / floor {floor.seconds:5.2f} s = {run.seconds / floor.seconds:4.2f}x; "
            f"peak RSS {gb(run.peak_rss)} (floor {gb(floor.peak_rss)}); "
            f"cpu {run.cpu:.2f} s / {floor.cpu:.2f} s = {run.cpu / floor.cpu:.2f}x")


def best(runs: list[Run]) -> Run:
    """The fastest times with the highest peak RSS seen (the least disturbed, the worst memory)."""
    return Run(min(r.seconds for r in runs), min(r.cpu for r in runs), max(r.peak_rss for r in runs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best time is kept)")
    ap.add_argument("--over-2gb", action="store_true",
                    help=f"also compile a >2 GB model ({OVER_2GB}) to external data and run it")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files (default: a temp dir)")
    args = ap.parse_args(argv)

    work = Path(args.keep or tempfile.mkdtemp(prefix="agrippa-bench-"))
    project = work / "gpt"
    project.mkdir(parents=True, exist_ok=True)
    for f in [*GPT.glob("*.agr"), GPT / "agrippa.toml"]:
        shutil.copy(f, project)
    out = str(work / "gpt.onnx")
    try:
        n = parameter_count()
        print(f"examples/gpt, profile full: {n:,} parameters ({gb(4 * n)} float32); "
              f"best of {args.repeat} runs each")
        floor_file = str(work / "floor.bin")
        runs: dict[str, list[Run]] = {"floor": [], "compile": [], "compile-onnx": [], "recompile": []}
        weights = project / "weights.safetensors"
        for _ in range(args.repeat):
            # every run writes new files, as the floor does: replacing a file costs its page cache
            runs["floor"].append(measure(FLOOR_CHILD, str(n), floor_file))
            os.unlink(floor_file)
            # the back end alone: fresh parameters and the ONNX file, no weights written back
            clean(out, weights)
            runs["compile-onnx"].append(measure(COMPILE_CHILD, str(project), out, json.dumps({"write_weights": False})))
            # a first compile: fresh parameters, the ONNX file and the weights file written
            clean(out)
            runs["compile"].append(measure(COMPILE_CHILD, str(project), out, "{}"))
            # the weights read back from the file the first compile wrote
            clean(out)
            runs["recompile"].append(measure(COMPILE_CHILD, str(project), out, "{}"))
        floor = best(runs["floor"])
        print(f"{'floor':<22} {floor.seconds:6.2f} s; peak RSS {gb(floor.peak_rss)}; cpu {floor.cpu:.2f} s "
              f"({n:,} normal samples drawn, {gb(4 * n)} written)")
        ok = True
        for name in ("compile", "compile-onnx", "recompile"):
            r = best(runs[name])
            print(ratio_line(name, r, floor))
            if name == "compile":
                ok = r.seconds <= TIME_TARGET * floor.seconds and r.peak_rss <= RSS_TARGET
                print(f"{'targets':<22} time <= {TIME_TARGET:g}x floor: "
                      f"{'met' if r.seconds <= TIME_TARGET * floor.seconds else 'MISSED'}; peak RSS <= "
                      f"{gb(RSS_TARGET)}: {'met' if r.peak_rss <= RSS_TARGET else 'MISSED'}")
        print(f"{'files':<22} {os.path.basename(out)} {gb(os.path.getsize(out))}, "
              f"weights.safetensors {gb((project / 'weights.safetensors').stat().st_size)}")
        if args.over_2gb:
            over_2gb(work, project)
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def over_2gb(work: Path, project: Path) -> None:
    n = parameter_count(OVER_2GB)
    big = str(work / "gpt-big.onnx")
    kw = {"bindings": OVER_2GB, "reinit": True, "write_weights": False}  # reinit: the weights file is smaller
    print(f"\nover 2 GB: {OVER_2GB} -> {n:,} parameters ({gb(4 * n)}), no weights written back")
    floor = measure(FLOOR_CHILD, str(n), str(work / "floor.bin"))
    os.unlink(work / "floor.bin")
    clean(big, big + ".data")
    r = measure(COMPILE_CHILD, str(project), big, json.dumps(kw))
    data = Path(big + ".data")
    print(ratio_line("compile (external)", r, floor))
    print(f"{'files':<22} {os.path.basename(big)} {os.path.getsize(big) / 1e6:.2f} MB, "
          f"{data.name} {gb(data.stat().st_size) if data.exists() else 'MISSING'}")
    run = measure(RUN_CHILD, big)
    print(f"{'onnxruntime':<22} loaded and ran in {run.seconds:.2f} s, peak RSS {gb(run.peak_rss)}; "
          f"logits {run.output}, finite")


if __name__ == "__main__":
    sys.exit(main())
