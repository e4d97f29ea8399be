"""Parsing one file: `parse(path, text)` → a `SourceFile` with its tree and syntax diagnostics.

The entry point of the syntax layer: a full scan (`scanner.py`), or, given an earlier
parse of the same file, an incremental re-parse of what an edit touched (`reparse.py`).
The tree types are defined in `tree.py` and importable from here too.
"""
from __future__ import annotations

from agrippa.syntax.reparse import reparse
from agrippa.syntax.scanner import MAX_DEPTH, Scanner
from agrippa.syntax.tree import Attr, Element, LineIndex, SourceFile


def parse(path: str, text: str, previous: SourceFile | None = None) -> SourceFile:
    """Parse `text` (the content of `path`) into a SourceFile; never raises.

    With `previous` (an earlier parse of the same file), only the top-level elements an
    edit touched are read again (`reparse.py`); the result is the same either way. The
    previous parse is consumed: its elements move into the result, leaving it empty."""
    if previous is not None:
        sf = reparse(previous, text)
        if sf is not None:
            return sf
    sf = SourceFile(path, text)
    Scanner(sf).run()
    return sf


__all__ = ["MAX_DEPTH", "Attr", "Element", "LineIndex", "SourceFile", "Scanner", "parse"]
