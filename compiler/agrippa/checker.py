"""Semantic checks over the IR and the syntax trees (filled in by the checker work)."""
from __future__ import annotations

from .diagnostics import Diagnostic
from .expand import Options
from .ir import Graph


def check(graph: Graph, options: Options) -> list[Diagnostic]:
    return []
