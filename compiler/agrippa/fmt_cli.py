"""`agrippa fmt [--check] PATH`: format markup files in place (`agrippa.ide.format`).

PATH is a file, a folder (every `.agr`/`.xml` under it whose root is markup, hidden
folders skipped) or `-` (standard input, formatted to standard output). `--check` writes
nothing and exits 1 when a file is not formatted, for CI. A file with XML syntax errors
is never rewritten (it counts as not formatted). Exit codes: 0 formatted, 1 a file is not
(or cannot be) formatted, 2 usage or I/O errors.
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_OK, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2
SKIP_DIRS = {"node_modules", "__pycache__", "venv"}


def add_parser(sub) -> None:
    from agrippa.ide.format import ATTRIBUTE_MODES

    f = sub.add_parser("fmt", help="format markup files (indentation and attribute layout)")
    f.add_argument("path", metavar="PATH", help="a markup file, a folder of them, or - for standard input")
    f.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when a file is not formatted (for CI)")
    f.add_argument("--indent", type=int, default=4, metavar="N", help="spaces per level (default 4)")
    f.add_argument("--tabs", action="store_true", help="indent with tabs")
    f.add_argument("--attributes", choices=ATTRIBUTE_MODES, default="preserve",
                   help="attribute layout: keep the line breaks (preserve, the default), align them "
                        "under the first, or one per line")
    f.set_defaults(func=cmd_fmt)


def _files(path: str) -> list[str]:
    from agrippa.project.config import SOURCE_SUFFIXES

    if not os.path.isdir(path):
        return [path]
    out = []
    for d, dirs, names in os.walk(path):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x not in SKIP_DIRS)
        out += [os.path.join(d, n) for n in sorted(names) if n.endswith(SOURCE_SUFFIXES)]
    return out


def _read(path: str) -> tuple[str | None, bool, str | None]:
    """(text, it had a UTF-8 BOM, why it cannot be read)."""
    from agrippa.base.text import decode_source
    from agrippa.project.files import read_regular_bytes

    data, why = read_regular_bytes(path)
    if data is None:
        return None, False, str(why)
    text, bad = decode_source(data)
    return text, data.startswith(b"\xef\xbb\xbf"), bad


def cmd_fmt(args: argparse.Namespace) -> int:
    from agrippa.cli_report import STDIN, read_stdin
    from agrippa.ide.format import Options, format_text

    opts = Options(tab_size=max(1, min(args.indent, 16)), insert_spaces=not args.tabs, attributes=args.attributes)
    if args.path == STDIN:
        text, why = read_stdin()
        if text is None:
            print(f"agrippa fmt: {why}", file=sys.stderr)
            return EXIT_USAGE
        out = format_text(text, opts, "<stdin>")
        if out is None:
            print("agrippa fmt: <stdin>: not formatted: it has XML syntax errors (see agrippa check)", file=sys.stderr)
            sys.stdout.write(text)
            return EXIT_CHANGES
        sys.stdout.write(out)
        return EXIT_CHANGES if args.check and out != text else EXIT_OK
    status, changed = EXIT_OK, 0
    for path in _files(args.path):
        text, bom, why = _read(path)
        if text is None:
            print(f"agrippa fmt: {path}: {why}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        if not text.lstrip().startswith("<"):
            continue  # not markup
        out = format_text(text, opts, path)
        if out is None:
            print(f"{path}: not formatted: it has XML syntax errors (see agrippa check)", file=sys.stderr)
            status = max(status, EXIT_CHANGES)
            continue
        if out == text:
            continue
        changed += 1
        if args.check:
            print(f"{path}: not formatted")
            status = max(status, EXIT_CHANGES)
            continue
        try:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(("\ufeff" if bom else "") + out)
        except OSError as e:
            print(f"agrippa fmt: {path}: {e.strerror or e}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        print(f"formatted {path}")
    if not args.check and changed == 0 and status == EXIT_OK:
        print("nothing to format")
    return status
