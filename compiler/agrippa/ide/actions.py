"""Quick fixes: the checker's `Diagnostic.fixes`, and adding a missing binding to agrippa.toml.

A diagnostic the editor sends back is matched to the analysis's by code and range; each
of its fixes becomes a quick fix for it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from agrippa.base.diagnostics import ZERO_RANGE, Diagnostic, Position, Range, TextEdit
from agrippa.project.config import CONFIG_FNAME
from agrippa.project.toml_text import set_key
from agrippa.sema.analysis import Analysis

from .host import AnalysisHost

UNBOUND = "unbound-var"


@dataclass(frozen=True)
class Reported:
    """A diagnostic as the editor shows it: its code, range and (for unbound names) name."""

    code: str | None
    range: Range
    name: str | None = None


@dataclass(frozen=True)
class QuickFix:
    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False
    creates: str | None = None  # a file to create before the edits (they then fill it)


def binding_insertion(text: str, name: str, value: str = "1") -> tuple[Position, str]:
    """Where and what to insert into toml `text` to add `name = value` to `[bindings]`."""
    rng, new = set_key(text, f"bindings.{name}", value)
    return rng.start, new


def binding_fix(host: AnalysisHost, analysis: Analysis, name: str) -> QuickFix:
    """Add `name = 1` to `[bindings]` of the project's agrippa.toml (made when missing)."""
    path = os.path.join(analysis.project_dir, CONFIG_FNAME)
    text = host.read(path)
    title = f"Add '{name} = 1' to [bindings] in {CONFIG_FNAME}"
    if text is None:
        return QuickFix(title, (TextEdit(path, ZERO_RANGE, f"[bindings]\n{name} = 1\n"),), True, creates=path)
    pos, new = binding_insertion(text, name)
    return QuickFix(title, (TextEdit(path, Range(pos, pos), new),), True)


def quick_fixes(host: AnalysisHost, path: str, reported: list[Reported]) -> list[tuple[int, QuickFix]]:
    """The fixes for diagnostics the editor shows in `path`: (index into `reported`, fix)."""
    got = host.file_analysis(path)
    if got is None:
        return []
    analysis = got[0]
    ours: dict[tuple[str, Range], list[Diagnostic]] = {}
    for d in analysis.diagnostics:
        if d.file == path:
            ours.setdefault((d.code, d.range), []).append(d)
    out: list[tuple[int, QuickFix]] = []
    for i, r in enumerate(reported):
        matched = ours.get((r.code, r.range), [])
        out += [(i, QuickFix(f.title, f.edits, f.preferred, f.creates)) for d in matched for f in d.fixes]
        name = r.name
        if r.code == UNBOUND and name is None and matched:
            name = matched[0].data.get("name")
        if r.code == UNBOUND and name:
            fix = binding_fix(host, analysis, name)
            if fix.title not in {f.title for _, f in out}:
                out.append((i, fix))
    return out
