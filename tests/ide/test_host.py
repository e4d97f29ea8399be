"""The analysis host: one analysis per project, kept until a file of it changes; what the
features derive from an analysis is made once and goes away with it."""
from __future__ import annotations

import gc

from agrippa.ide.host import BindingOrigin
from agrippa.ide.index import names_in_scope, tensor_index

from .markers import open_project
from .projects import MODEL, SOURCED_PROJECT, TOML


def test_a_sourced_file_is_covered_by_its_index_once_that_is_open(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    p.open("main.agr")
    main, enc = p.path("main.agr"), p.path("sub/enc.agr")
    assert p.host.index_for(enc) == main and p.host.analysis_for(enc) is p.host.analysis_for(main)
    runs = p.host.runs
    p.type("sub/enc.agr", SOURCED_PROJECT["sub/enc.agr"] + "\n")
    assert p.host.cached(main) is None  # an edit of enc.agr drops main's analysis
    assert p.host.analysis_for(enc).index == main and p.host.runs == runs + 1


def test_recent_for_answers_at_once_with_the_analysis_before_an_edit(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL})
    path = p.path("model.agr")
    assert p.host.recent_for(path, make=False) is None
    before = p.host.recent_for(path)
    p.type("model.agr", MODEL + "\n")
    assert p.host.recent_for(path, make=False) is before
    assert p.host.analysis_for(path) is not before


def test_derived_indexes_are_made_once_per_analysis_and_dropped_with_it(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    a = p.host.analysis_for(p.path("main.agr"))
    idx = tensor_index(p.host, a)
    assert tensor_index(p.host, a) is idx
    assert names_in_scope(p.host, a, p.path("main.agr")) is names_in_scope(p.host, a, p.path("main.agr"))
    p.type("main.agr", SOURCED_PROJECT["main.agr"] + "\n")
    b = p.host.analysis_for(p.path("main.agr"))
    assert tensor_index(p.host, b) is not idx
    del a, idx
    gc.collect()
    assert len(p.host.memo) == 1  # only b's


def test_where_a_binding_comes_from(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML + "\n[profiles.big]\nbatch = 64\n"})
    toml = p.path("agrippa.toml")
    assert p.host.binding_origin(str(tmp_path), "dhidden") == BindingOrigin("dhidden", 16, "toml", toml, 2)
    p.host.set_profile(str(tmp_path), "big")
    assert p.host.binding_origin(str(tmp_path), "batch") == BindingOrigin("batch", 64, "profile", toml, 6, "big")
    p.settings(bindings={"batch": 2})
    assert p.host.binding_origin(str(tmp_path), "batch") == BindingOrigin("batch", 2, "settings")
    assert p.host.binding_origin(str(tmp_path), "nope") is None
