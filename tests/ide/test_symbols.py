"""The outline (model → blocks → nodes), workspace symbols and folding."""
from __future__ import annotations

from agrippa.ide.symbols import Symbol, document_symbols, flatten, folding_ranges, workspace_symbols

from .markers import open_project
from .projects import SOURCED_PROJECT


def tree(symbols: list[Symbol]) -> list:
    return [(s.name, s.detail, tree(s.children)) if s.children else (s.name, s.detail) for s in symbols]


def test_the_outline_is_a_tree_of_blocks_and_nodes_with_their_shapes(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    got = document_symbols(p.host, p.path("main.agr"))
    [(name, _, children)] = tree(got)
    assert name == "model" and got[0].kind == "model"
    assert children[0] == ("import x", "[3, 4]") and children[-1] == ("export z", "[3, 4]")
    block_name, _, nodes = children[1]
    assert block_name == "Main"
    assert [n[0] for n in nodes] == ["Feed", "enc ← sub/enc.agr", "R", "Sum"]
    assert nodes[2][1] == "Relu → y: [3, 4]" and nodes[3][1] == "Add → z: [3, 4]"
    for s, _ in flatten(got):  # selection ranges lie inside the ranges
        assert s.range.start <= s.selection.start and s.selection.end <= s.range.end
    assert [(s.name, c) for s, c in flatten(got)][:3] == [("model", None), ("import x", "model"), ("Main", "model")]


def test_workspace_symbols_search_every_file_of_the_open_projects(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    main = [p.path("main.agr")]
    found = {(s.name, s.location.file) for s in workspace_symbols(p.host, main, "res")}
    assert ("result", p.path("sub/enc.agr")) in found
    lin = workspace_symbols(p.host, main, "Lin")
    assert {s.name for s in lin} >= {"Lin", "Lin2"} and all(s.kind == "node" for s in lin)
    assert {s.name for s in workspace_symbols(p.host, main, "x")} == {"x"}  # uses of x are not symbols


def test_folding_covers_multi_line_elements_and_comments(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    p.open("main.agr")
    folds = {(f.start_line, f.end_line, f.comment) for f in folding_ranges(p.host, p.path("sub/enc.agr"))}
    # <block> 0..15 keeps its end tag visible; the two nodes; the two-line comment
    assert (0, 14, False) in folds
    assert (4, 7, False) in folds and (9, 12, False) in folds
    assert (2, 3, True) in folds
