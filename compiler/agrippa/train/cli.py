"""`agrippa train PROJECT ...`: train a project as its `[train]` table says."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from agrippa.base.diagnostics import CompileError, Diagnostic
from agrippa.project.bindings import parse_binding  # one --bind rule for every command
from agrippa.project.config import CONFIG_FNAME, load_config
from agrippa.project.train_config import TrainConfig, validate_train_config

EXIT_ERROR = 1
EXIT_USAGE = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", help="the project folder (with agrippa.toml and its [train] table)")
    p.add_argument("--profile", help="a [profiles.NAME] set of bindings")
    p.add_argument("--bind", action="append", type=parse_binding, default=[], metavar="N=V",
                   help="bind var(N) to V (repeatable; over agrippa.toml's bindings)")
    p.add_argument("--steps", type=int, help="train to this many steps (overrides steps/epochs)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=None,
                   help="continue from the checkpoint (default: when an unfinished one exists)")
    p.add_argument("--reinit", action="store_true", help="start from fresh random weights")
    p.add_argument("--device", help="override [train] device (auto, cpu, cuda, cuda:N, mps)")
    p.add_argument("--json-progress", action="store_true",
                   help="print one JSON object per line on stdout instead of the progress bar")
    p.add_argument("--nproc", type=int, default=1,
                   help="processes per machine (torchrun); [train] strategy = ddp | fsdp")
    p.add_argument("--nnodes", help="torchrun --nnodes: machines (N or MIN:MAX); run the same "
                   "command on each, with --rdzv-endpoint")
    p.add_argument("--rdzv-endpoint", help="torchrun --rdzv-endpoint HOST:PORT, where the machines meet")
    p.add_argument("--rdzv-id", help="torchrun --rdzv-id: the job's id, the same on every machine")
    p.add_argument("--vmap", action="store_true", help="run batches through vmap, not the batched path")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="train a project ([train] in agrippa.toml)",
                              description=__doc__, epilog=_keys_help(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def _keys_help() -> str:
    from agrippa.project.toml_docs import train_keys_text

    return train_keys_text() + "\n\nMore: docs/train.md."


def _argv(args: argparse.Namespace) -> list[str]:
    """Command-line arguments that reproduce `args` (for the torchrun workers)."""
    argv = [os.path.abspath(args.project)]
    if args.profile:
        argv += ["--profile", args.profile]
    for name, value in args.bind:
        argv += ["--bind", f"{name}={value}"]
    if args.steps is not None:
        argv += ["--steps", str(args.steps)]
    if args.resume is not None:
        argv.append("--resume" if args.resume else "--no-resume")
    for flag in ("reinit", "json_progress", "vmap"):
        if getattr(args, flag):
            argv.append("--" + flag.replace("_", "-"))
    if args.device:
        argv += ["--device", args.device]
    return argv  # no --nproc: torchrun would take it for its own --nproc-per-node


def _report(diags: Sequence[Diagnostic], json_progress: bool = False) -> None:
    for d in diags:
        print(d.to_text(), file=sys.stderr)
    errors = [d for d in diags if d.is_error]
    if json_progress and errors:
        _json_error(errors[0].to_text(), [d.to_json() for d in diags])


def _json_error(message: str, diagnostics: list[dict] | None = None) -> None:
    """The last line of --json-progress when training cannot start or fails."""
    obj: dict[str, Any] = {"done": False, "error": message}
    if diagnostics:
        obj["diagnostics"] = diagnostics
    print(json.dumps(obj), flush=True)


def load_train_config(project: str) -> tuple[TrainConfig | None, list[Diagnostic]]:
    """The project's validated [train] table, with every diagnostic about agrippa.toml."""
    config = load_config(project)
    cfg, diags = validate_train_config(config)
    diags = [*config.diagnostics, *diags]
    if cfg is None and not any(d.is_error for d in diags):
        path = os.path.join(project, CONFIG_FNAME)
        print(f"{path}: error: no [train] table; add one with at least data = \"...\"",
              file=sys.stderr)
    return (cfg if not any(d.is_error for d in diags) else None), diags


def run(args: argparse.Namespace) -> int:
    project = os.path.abspath(args.project)
    if not os.path.isdir(project):
        print(f"error: {args.project} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    cfg, diags = load_train_config(project)
    _report(diags, args.json_progress)
    if cfg is None:
        if args.json_progress and not any(d.is_error for d in diags):
            _json_error(f"no [train] table in {os.path.join(project, CONFIG_FNAME)}")
        return EXIT_USAGE
    if args.steps is not None:
        if args.steps <= 0:
            print("error: --steps must be positive", file=sys.stderr)
            return EXIT_USAGE
        cfg.steps, cfg.epochs = args.steps, None
    if args.device:
        cfg.device = args.device
    from agrippa.train import dist

    if args.device:
        from agrippa.project.train_keys import DEVICES

        if args.device not in DEVICES and not (args.device.startswith("cuda:") and args.device[5:].isdigit()):
            print(f"error: --device must be one of {', '.join(DEVICES)} or cuda:N", file=sys.stderr)
            return EXIT_USAGE
    multi = bool(args.nnodes or args.rdzv_endpoint)
    if (args.nproc > 1 or multi) and not dist.in_torchrun():
        if args.nnodes and not args.rdzv_endpoint:
            print("error: --nnodes needs --rdzv-endpoint HOST:PORT", file=sys.stderr)
            return EXIT_USAGE
        return dist.launch(args.nproc, _argv(args), nnodes=args.nnodes, rdzv_endpoint=args.rdzv_endpoint,
                           rdzv_id=args.rdzv_id)
    from agrippa.train.loop import TrainOptions, train
    from agrippa.train.model import TrainError

    opts = TrainOptions(project, profile=args.profile, bindings=dict(args.bind), resume=args.resume,
                        reinit=args.reinit, json_progress=args.json_progress, fast=not args.vmap)
    try:
        result = train(cfg, opts)
    except CompileError as e:
        _report(e.diagnostics, args.json_progress)
        return EXIT_ERROR
    except TrainError as e:
        print(f"error: {e}", file=sys.stderr)
        if args.json_progress:
            _json_error(str(e))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return dist.stopped_by_signal_exit_code(signal.SIGINT)
    if result.interrupted:
        return dist.stopped_by_signal_exit_code(result.signal or signal.SIGINT)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m agrippa.train", description=__doc__, epilog=_keys_help(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return run(p.parse_args(argv))
