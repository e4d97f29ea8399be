"""Navigation: go to definition, find references, links from a sourced block to its file.

Tensors resolve through the compiler's `Graph.definitions`, so a use jumps across sourced
files and through `name$` prefixes (`src="enc$result"` lands on `result` in enc.agr).
A `var()` name goes to where agrippa.toml binds it (`[bindings]` and every profile).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from agrippa.base.diagnostics import ZERO_RANGE, Location, Position, Range
from agrippa.project.config import CONFIG_FNAME, toml_key_range
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph
from agrippa.syntax import Element, SourceFile

from . import locate as L
from .host import AnalysisHost
from .index import first_param, param_locations, tensor_index, var_uses


@dataclass(frozen=True)
class Link:
    """A span of a file that opens another file."""

    range: Range
    target: str
    tooltip: str


def sourced_path(graph: Graph, sf: SourceFile, el: Element) -> str | None:
    """The file a sourced `<block src>` reads (resolved even when it was not loaded)."""
    path = graph.sourced.get(el)
    src = el.get("src")
    if path is None and src:
        path = os.path.abspath(os.path.join(os.path.dirname(sf.path), src))
    return path


def binding_locations(host: AnalysisHost, analysis: Analysis, name: str) -> list[Location]:
    """Where agrippa.toml binds `name`: in `[bindings]` and in each profile, in file order."""
    path = os.path.join(analysis.project_dir, CONFIG_FNAME)
    text = host.read(path)
    if not text:
        return []
    cfg = host.config(analysis.project_dir)
    keys = [f"bindings.{name}"] if name in cfg.bindings else []
    keys += [f"profiles.{p}.{name}" for p, table in cfg.profiles.items() if name in table]
    ranges = sorted({toml_key_range(text, k) for k in keys})
    return [Location(path, r) for r in ranges if r != ZERO_RANGE]


def target_at(host: AnalysisHost, path: str, pos: Position) -> tuple[Analysis, SourceFile, L.Target] | None:
    got = host.file_analysis(path)
    if got is None:
        return None
    analysis, sf = got
    return analysis, sf, L.at_position(analysis, sf, pos)


def named_target(host: AnalysisHost, path: str, pos: Position) -> tuple[Analysis, SourceFile, L.Target, Graph] | None:
    """`target_at`, when the analysis has a graph and the cursor is on an element's name."""
    got = target_at(host, path, pos)
    if got is None or got[0].graph is None or got[2].element is None:
        return None
    return (*got, got[0].graph)


def definitions(host: AnalysisHost, path: str, pos: Position) -> list[Location]:
    """Where what is at `pos` is defined (empty when it is not a name)."""
    got = named_target(host, path, pos)
    if got is None:
        return []
    analysis, sf, t, graph = got
    if t.is_tensor:
        idx = tensor_index(host, analysis)
        d = idx.definition(t.element)
        loc = idx.location(d) if d is not None else None
        return [loc] if loc is not None else []
    if t.kind in (L.SOURCE, L.SOURCED_NAME):
        target = sourced_path(graph, sf, t.element)
        return [Location(target, ZERO_RANGE)] if target and os.path.isfile(target) else []
    if t.kind == L.VAR and t.name is not None:
        return binding_locations(host, analysis, t.name.name)
    if t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        return param_locations(p)[:1] if p is not None and p.shared else []
    return []


def references(host: AnalysisHost, path: str, pos: Position, include_declaration: bool) -> list[Location]:
    """Every place naming what is at `pos` (a tensor, a parameter or a `var()` name)."""
    got = named_target(host, path, pos)
    if got is None:
        return []
    analysis, _, t, graph = got
    if t.is_tensor:
        idx = tensor_index(host, analysis)
        d = idx.definition(t.element)
        if d is None:
            return []
        els = idx.occurrences(d)[(0 if include_declaration else 1):]
        return [loc for loc in map(idx.location, els) if loc is not None]
    if t.kind == L.PARAMS_NAME:
        p = first_param(graph, t.element)
        if p is None:
            return []
        locs = param_locations(p)
        return locs if include_declaration or not p.shared else locs[1:]
    if t.kind == L.VAR and t.name is not None:
        decls = binding_locations(host, analysis, t.name.name) if include_declaration else []
        return decls + var_uses(graph, t.name.name)
    return []


def document_links(host: AnalysisHost, path: str) -> list[Link]:
    """The `src` of each sourced block that names an existing file."""
    got = host.file_analysis(path)
    if got is None:
        return []
    analysis, sf = got
    out = []
    for el in sf.elements():
        if el.tag != "block" or "src" not in el.attrs:
            continue
        target = sourced_path(analysis.graph, sf, el)
        if target and os.path.isfile(target):
            out.append(Link(el.attrs["src"].value_range, target, f"Open {os.path.basename(target)}"))
    return out
