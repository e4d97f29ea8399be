"""Code lenses: ▶ Train · Compile · Show graph · total parameters on `<model>`; each block's
parameters (shared once, frozen apart) and copies."""
from __future__ import annotations

from agrippa.ide.lenses import COMPILE, GRAPH, TRAIN, code_lenses

from .markers import open_project
from .projects import MODEL, SOURCED_PROJECT, TOML


def titles(lenses, line: int) -> list[tuple[str, str | None]]:
    return [(lens.title, lens.action) for lens in lenses if lens.range.start.line == line]


def test_the_model_runs_and_counts(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    lenses = code_lenses(p.host, p.path("model.agr"), graph_view=True)
    assert titles(lenses, 0) == [("▶ Train", TRAIN), ("Compile", COMPILE), ("Show graph", GRAPH),
                                 ("512 parameters", None)]
    assert titles(lenses, 2) == [("512 parameters", None), ("rep × 2 copies", None)]
    assert all(lens.range.start.character == 5 for lens in lenses if lens.range.start.line == 2)  # on `block`


def test_without_the_graph_view_there_is_no_graph_lens(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    assert GRAPH not in [lens.action for lens in code_lenses(p.host, p.path("model.agr"))]


def test_a_shared_parameter_counts_once_and_a_frozen_one_apart(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    main = code_lenses(p.host, p.path("main.agr"))
    assert ("16 parameters", None) in titles(main, 0)  # W [4, 4] declared twice, shared
    enc = code_lenses(p.host, p.path("sub/enc.agr"))
    assert titles(enc, 0) == [("16 parameters", None)]
    frozen = MODEL.replace('init="zeros"', 'init="zeros" frozen="yes"')
    p2 = open_project(tmp_path / "frozen", {"model.agr": frozen, "agrippa.toml": TOML})
    assert ("512 parameters (512 frozen)", None) in titles(code_lenses(p2.host, p2.path("model.agr")), 2)


def test_without_bindings_counts_stay_symbolic(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL})
    block = titles(code_lenses(p.host, p.path("model.agr")), 2)
    assert block[1] == ("rep × nlayers copies", None)
    assert "dhidden" in block[0][0]
