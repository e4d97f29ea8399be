"""`agrippa check|compile|train|run`: the command line front door."""
from __future__ import annotations

import argparse
import os
import sys

from agrippa.base.diagnostics import CompileError, Diagnostic, Severity
from agrippa.project.bindings import parse_binding


def _display(path: str) -> str:
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    except ValueError:
        return path


def print_diagnostics(diags: list[Diagnostic], fmt: str = "text", min_severity: Severity = Severity.HINT) -> None:
    shown = [d for d in diags if d.severity <= min_severity]
    if fmt == "json":
        print(_json_with_display(shown))
        return
    from agrippa.cli_report import diagnostic_text

    for d in shown:
        print(diagnostic_text(d, _display), file=sys.stderr if d.is_error else sys.stdout)


def _json_with_display(diags: list[Diagnostic]) -> str:
    import json

    from agrippa.cli_report import diagnostic_json

    return json.dumps([diagnostic_json(d, _display) for d in diags], indent=2)


def cmd_check(args: argparse.Namespace) -> int:
    from agrippa.cli_report import EXIT_USAGE, analyze_for_check, print_sarif

    an = args.analysis = analyze_for_check(args)  # PATH, or standard input with `-` (cli_report.py)
    if an is None:
        return EXIT_USAGE
    if args.format == "sarif":
        print_sarif(an)
        return 1 if an.errors else 0
    print_diagnostics(an.diagnostics, args.format)
    if args.format == "text":
        n_err = len(an.errors)
        n_warn = sum(1 for d in an.diagnostics if d.severity == Severity.WARNING)
        print(f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}", file=sys.stderr)
    return 1 if an.errors else 0


def cmd_compile(args: argparse.Namespace) -> int:
    from agrippa.backend.compile import OutputError, compile_project

    try:
        res = compile_project(args.path, args.output, bindings=dict(args.bind), index=args.index,
                              profile=args.profile, reinit=args.reinit, write_weights=not args.no_weights,
                              seed=args.seed, external_data=True if args.external_data else None,
                              dynamic=args.dynamic)
    except CompileError as e:
        print_diagnostics([d for d in e.diagnostics if d.severity <= Severity.WARNING])
        return 1
    except OutputError as e:  # -o onto a source, a folder, a missing folder, a full disk: one line
        print(f"agrippa compile: {e}", file=sys.stderr)
        return 2
    print_diagnostics([d for d in res.warnings if d.severity <= Severity.WARNING])
    msg = f"wrote {_display(res.onnx_path)}"
    if res.weights_path:
        msg += f"; weights in {_display(res.weights_path)}"
    if res.fresh:
        msg += f" ({len(res.fresh)} parameter{'s' * (len(res.fresh) != 1)} initialized)"
    print(msg)
    return 0


CORE_COMMANDS = ("check", "compile")  # defined here; the others come from their own modules


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command` one of CORE_COMMANDS (the one asked for), only
    those, without importing the other commands' modules (`agrippa check` starts faster)."""
    p = argparse.ArgumentParser(prog="agrippa", description="Check, compile and train Agrippa models.")
    from agrippa.cli_report import version_text

    p.add_argument("--version", action="version", version=version_text(), help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("path", help="a project folder or a markup file ('-' with check: one file from "
                                     "standard input, as if in the current folder)")
        sp.add_argument("--index", help="the main file of the project")
        sp.add_argument("--bind", action="append", type=parse_binding, default=[], metavar="NAME=VALUE",
                        help="bind var(NAME) (repeatable; over agrippa.toml's bindings)")
        sp.add_argument("--profile", help="a [profiles.NAME] of agrippa.toml")
        sp.add_argument("--dynamic", action="append", default=[], metavar="NAME",
                        help="a dim chosen at run time, e.g. batch: symbolic, ONNX dim_param when compiled "
                             "(repeatable; with [model] dynamic of agrippa.toml)")

    c = sub.add_parser("check", help="report diagnostics")
    common(c)
    c.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                   help="text: file:line:col: severity: message [code]; json: a list; "
                        "sarif: SARIF 2.1.0 for code scanning")
    c.set_defaults(func=cmd_check)

    k = sub.add_parser("compile", help="compile to ONNX")
    common(k)
    k.add_argument("-o", "--output", help="the .onnx file to write (default: beside the index)")
    k.add_argument("--reinit", action="store_true", help="ignore stored weights")
    k.add_argument("--no-weights", action="store_true", help="do not write new weights back")
    k.add_argument("--seed", type=int, help="seed for initialization")
    k.add_argument("--external-data", action="store_true", help="store weights beside the .onnx file")
    k.set_defaults(func=cmd_compile)
    if command in CORE_COMMANDS:
        return p

    from agrippa.cli_graph import add_parsers as add_graph_parsers  # `agrippa graph|view`

    add_graph_parsers(sub, common)
    from agrippa.fmt_cli import add_parser as add_fmt_parser  # `agrippa fmt`

    add_fmt_parser(sub)
    for name in ("train", "infer"):
        try:
            mod = __import__(f"agrippa.train.{'cli' if name == 'train' else 'infer'}", fromlist=["add_parser"])
        except ImportError:
            continue
        mod.add_parser(sub)
    return p


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named on the command line (its first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    """Run one command. Called without `argv` (the process's own command line: the `agrippa`
    script, `python -m agrippa.cli`), `check` ends the process as soon as its output is
    flushed, without freeing the analysis first (a large model's tree and graph take a
    noticeable time to free, for nothing)."""
    from agrippa.base.runtime import one_shot, tune_gc
    from agrippa.cli_report import EXIT_USAGE, path_problem

    words = sys.argv[1:] if argv is None else argv
    command = _command_of(words)
    args = build_parser(command if command in CORE_COMMANDS else None).parse_args(words)  # a usage error exits 2
    problem = path_problem(args)  # a missing path is a usage error too (2), not a model error (1)
    if problem:
        print(f"agrippa {args.command}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    tune_gc()
    try:
        if argv is None and args.command == "check":
            one_shot()
            code = args.func(args)
            _exit_now(code)  # the analysis (args.analysis) is never freed
        return args.func(args)
    except KeyboardInterrupt:
        return 130


def _exit_now(code: int) -> None:
    """End the process with `code` once stdout and stderr are flushed, skipping the
    interpreter's teardown (nothing of check's needs it: no file is left open for writing)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the exit code still tells
        code = code or 1
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
