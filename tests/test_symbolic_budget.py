"""Symbolic shapes have a budget: past it a dim is unknown, with a note, never a traceback."""
from __future__ import annotations

import time

from agrippa.sema.analysis import analyze
from agrippa.sema.shapes import dims


def test_a_long_chain_of_floor_divisions_is_a_note_not_a_recursion_error(tmp_path):
    chain = "n" + " // 2" * 240
    (tmp_path / "main.agr").write_text(
        f'<model><import from="x" dim="[expr({chain}), 4]" /><block><node op="Relu"><input src="x"/>'
        '<output name="y"/></node></block><export from="y" dim="[3, 4]"/></model>')
    start = time.perf_counter()
    an = analyze(str(tmp_path / "main.agr"))
    assert time.perf_counter() - start < 10
    [note] = [d for d in an.diagnostics if d.code == "symbolic-too-complex"]
    assert not note.is_error
    assert an.graph is not None


def test_the_chain_still_compiles_when_its_names_are_bound(tmp_path):
    chain = "n" + " // 2" * 240
    (tmp_path / "main.agr").write_text(f'<model><import from="x" dim="[expr({chain}), 4]" /></model>')
    an = analyze(str(tmp_path / "main.agr"), bindings={"n": 10 ** 9}, strict=True)
    assert not [d for d in an.diagnostics if d.code == "symbolic-too-complex"]


def test_arithmetic_past_the_budget_gives_an_unknown_dim():
    import sympy

    n = sympy.Symbol("n", integer=True, positive=True)
    big = sum(n ** k for k in range(1, 120))
    assert dims.size(big) > dims.MAX_SYMBOLIC_SIZE
    assert dims.mul(big, big) is None
    assert dims.compare(big, big + 1) == dims.MAYBE
    assert dims.mul(n, 2) == 2 * n
