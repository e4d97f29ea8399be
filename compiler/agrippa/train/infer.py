"""`agrippa run PROJECT --input NAME=FILE.npy ... [-o out.npz]`: inference through onnxruntime.

The project is compiled (with its stored weights) and run on the given inputs. An input
with one more axis than the model declares is a batch: the model runs once per example
and the outputs are stacked. Without `-o` the outputs are printed.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agrippa.base.diagnostics import CompileError
from agrippa.train.cli import EXIT_ERROR, EXIT_USAGE, parse_binding


def _input_arg(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE.npy, got {text!r}")
    return name, path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="the project folder")
    p.add_argument("--input", "-i", action="append", type=_input_arg, default=[], metavar="NAME=FILE.npy",
                   help="a value for the root import NAME (repeatable)")
    p.add_argument("-o", "--output", help="write the exports to this .npz (default: print them)")
    p.add_argument("--profile", help="a [profiles.NAME] set of bindings")
    p.add_argument("--bind", action="append", type=parse_binding, default=[], metavar="N=V",
                   help="bind var(N) to V (repeatable; over agrippa.toml's bindings)")
    p.add_argument("--dynamic", action="append", default=[], metavar="NAME",
                   help="a dim chosen at run time, e.g. batch (repeatable; with [model] dynamic)")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("run", help="run a project on inputs (onnxruntime)", description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def infer(onnx_path: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the ONNX model on `inputs` (batched inputs are run example by example)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    specs = {i.name: i for i in sess.get_inputs()}
    missing = sorted(set(specs) - set(inputs))
    unknown = sorted(set(inputs) - set(specs))
    if missing or unknown:
        parts = [f"missing inputs: {', '.join(missing)}" if missing else "",
                 f"unknown inputs: {', '.join(unknown)}" if unknown else ""]
        raise ValueError("; ".join(p for p in parts if p) + f" (the model takes {', '.join(specs)})")
    feeds: dict[str, np.ndarray] = {}
    batched: dict[str, bool] = {}
    for name, spec in specs.items():
        dtype = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(double)": np.float64,
                 "tensor(int32)": np.int32, "tensor(bool)": np.bool_}.get(spec.type, np.float32)
        value = np.asarray(inputs[name]).astype(dtype, copy=False)
        rank = len(spec.shape)
        if value.ndim not in (rank, rank + 1):
            raise ValueError(f"input {name!r} has {value.ndim} axes; the model declares {rank}")
        feeds[name], batched[name] = value, value.ndim == rank + 1
    out_names = [o.name for o in sess.get_outputs()]
    sizes = {len(v) for k, v in feeds.items() if batched[k]}
    if not sizes:
        return dict(zip(out_names, sess.run(out_names, feeds)))
    if len(sizes) > 1:
        raise ValueError(f"batched inputs disagree on the batch size: {sorted(sizes)}")
    results = [sess.run(out_names, {k: v[i] if batched[k] else v for k, v in feeds.items()})
               for i in range(sizes.pop())]
    return {name: np.stack([r[k] for r in results]) for k, name in enumerate(out_names)}


def run(args: argparse.Namespace) -> int:
    from agrippa.backend.compile import compile_project

    inputs: dict[str, np.ndarray] = {}
    for name, path in args.input:
        try:
            inputs[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            print(f"error: cannot read {path}: {e}", file=sys.stderr)
            return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="agrippa-run-") as tmp:
        try:
            result = compile_project(args.project, os.path.join(tmp, "model.onnx"), bindings=dict(args.bind),
                                     profile=args.profile, write_weights=False, dynamic=args.dynamic)
        except CompileError as e:
            for d in e.diagnostics:
                print(d.to_text(), file=sys.stderr)
            return EXIT_ERROR
        if result.fresh:
            print(f"warning: parameters without stored weights were initialized randomly: "
                  f"{', '.join(result.fresh[:5])}{' ...' if len(result.fresh) > 5 else ''}", file=sys.stderr)
        try:
            outputs = infer(result.onnx_path, inputs)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
    names = {t.name: el.get("from") or t.name for t, el in result.analysis.graph.outputs}
    outputs = {names.get(k, k): v for k, v in outputs.items()}
    if args.output:
        from agrippa.backend.weights import atomic_writer

        with atomic_writer(args.output) as f:
            np.savez(f, **outputs)
    else:
        for name, value in outputs.items():
            print(f"{name} {list(value.shape)} {value.dtype}:\n{np.array2string(value, threshold=200)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="agrippa run", description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))
