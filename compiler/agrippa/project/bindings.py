"""Bindings given on the command line (`--bind NAME=VALUE`), one rule for every command."""
from __future__ import annotations

import argparse


def parse_binding(text: str) -> tuple[str, object]:
    """`--bind N=V` → (N, V) with V an int, a float or else the text (an argparse type)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    for conv in (int, float):
        try:
            return name.strip(), conv(value.strip())
        except ValueError:
            pass
    return name.strip(), value.strip()
