"""A replaced analysis is freed by reference counting alone: no reference cycles, so a
long editing session never waits for the cyclic garbage collector to reclaim one."""
from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path

import pytest

from agrippa.sema.analysis import analyze
from agrippa.syntax.parser import parse

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from gen_large import large_model  # noqa: E402


def ours_in_cyclic_garbage() -> list[str]:
    """Type names of the front end's objects that only the cyclic collector could free."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = sorted({type(o).__name__ for o in gc.garbage
                        if type(o).__module__.startswith("agrippa.")})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("project", ["gpt", "transformer", "mlp"])
def test_dropping_an_analysis_frees_it_at_once(project: str, no_cyclic_gc) -> None:
    path = str(ROOT / "examples" / project)
    for _ in range(2):
        analyze(path)  # caches and lazily loaded libraries settle first
    gc.collect()  # (loading xmlschema leaves cyclic frames that may reference those runs)
    a = analyze(path)
    graph = weakref.ref(a.graph)
    files = [weakref.ref(sf) for sf in a.graph.files.values()]
    node = weakref.ref(a.graph.nodes[-1])
    assert a.graph.nodes[-1].outputs[0].producer is a.graph.nodes[-1]
    del a
    assert graph() is None and node() is None and all(f() is None for f in files)
    assert ours_in_cyclic_garbage() == []


def test_an_incremental_reparse_leaves_no_cycles(no_cyclic_gc, tmp_path: Path) -> None:
    text = large_model(600)
    old = parse("m.agr", text)
    new = parse("m.agr", text.replace('title="act50"', 'title="act50 renamed"'), previous=old)
    assert old.root is None  # its elements moved into `new`
    replaced = weakref.ref(new)
    del old, new
    assert replaced() is None
    assert ours_in_cyclic_garbage() == []  # nothing was left for the cyclic collector
