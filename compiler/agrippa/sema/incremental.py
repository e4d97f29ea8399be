"""Incremental re-analysis: what an edit left alone is reused from the previous analysis.

Expansion replays the index file's unchanged top-level elements (`expand/units.py`);
the checker and shape inference then redo only the units expanded again and the nodes
whose inputs changed. Diagnostics kept from the previous analysis are moved by the edit
(`shift.py`). The result equals a full analysis (tests/test_incremental.py checks it on
random edits); whatever could make it differ falls back to a full one.
"""
from __future__ import annotations

from typing import Any, Protocol

from agrippa.project.config import Config
from agrippa.sema.expand.options import Options
from agrippa.sema.ir import Graph
from agrippa.sema.shift import Shifter
from agrippa.syntax.tree import SourceFile


class Recorded(Protocol):
    """What `prepare` reads of a previous analysis (`analysis.Analysis`)."""

    graph: Graph | None
    index: str | None
    strict: bool
    config: Config
    bindings: dict[str, Any]
    texts: dict[str, str]


def prepare(opts: Options, base: Recorded, index: str, config: Config, strict: bool,
            files: dict[str, SourceFile] | None) -> None:
    """Let expansion reuse `base` when it was made of the same project, index and settings."""
    g = base.graph
    if (g is None or g.units is None or g.consumed or base.index != index or base.strict != strict
            or base.config is not config or base.bindings != opts.bindings
            or tuple(sorted(opts.dynamic)) != g.dynamic or g.opset != opts.opset):
        return
    old = base.texts.get(index)
    sf = files.get(index) if files is not None else None
    if old is None:
        return
    opts.base = g
    if sf is not None:
        opts.shift = Shifter(index, old, sf).diagnostics
    else:
        opts.shift = _later(index, old, files)


def _later(index: str, old: str, files: dict[str, SourceFile] | None):
    """A shifter made when the index file is parsed (it is re-parsed by the expansion)."""
    made: list = []

    def shift(diags):
        if not made:
            sf = files.get(index) if files is not None else None
            if sf is None:
                return None
            made.append(Shifter(index, old, sf))
        return made[0].diagnostics(diags)
    return shift
