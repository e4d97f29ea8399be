"""How an expansion runs: bindings, symbolic or strict, the opset, where files come from,
and what it may reuse of a previous one."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agrippa.base.diagnostics import Diagnostic
from agrippa.project.config import DEFAULT_OPSET
from agrippa.project.files import TextProvider
from agrippa.sema.ir import Graph
from agrippa.syntax.tree import SourceFile


@dataclass
class Options:
    """How to expand: bindings, symbolic or strict, the opset, and where files come from."""

    bindings: dict[str, object] = field(default_factory=dict)
    symbolic: bool = True  # unbound names become symbols (editor); False: they are errors
    dynamic: frozenset[str] = frozenset()  # names that stay symbolic even when compiling (a batch size)
    opset: int = DEFAULT_OPSET
    provider: TextProvider | None = None
    previous: dict[str, SourceFile] | None = None  # earlier parses of edited files (reparse.py)
    on_parse: Callable[[SourceFile], None] | None = None  # told of each file parsed afresh
    cancel: Callable[[], None] | None = None  # called every CANCEL_EVERY nodes; raises to stop (analysis.Cancelled)
    record: bool = False  # log each unit (units.py), so the next analysis can reuse them
    base: Graph | None = None  # a previous expansion whose units may be replayed (it is consumed)
    shift: Callable[[list[Diagnostic]], list[Diagnostic] | None] | None = None  # a replayed unit's
    # diagnostics moved by the edit (None: they touch the edited text, so the unit is expanded again)


