"""`agrippa-lsp` / `python -m agrippa_lsp`: the language server over stdio."""
from __future__ import annotations

import argparse
import logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="agrippa-lsp", description="The Agrippa language server (stdio).")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    parser.add_argument("--log-file", help="write a debug log here")
    args = parser.parse_args(argv)
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=logging.DEBUG)
    from .server import create_server

    create_server().start_io()


if __name__ == "__main__":
    main()
