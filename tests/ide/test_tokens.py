"""Semantic tokens: tensors defined, declared and used; parameters; bindings; ops; sourced
prefixes; unresolved references."""
from __future__ import annotations

from agrippa.ide.tokens import semantic_tokens

from .markers import open_project, strip_markers
from .projects import MODEL, SOURCED_PROJECT, TOML


def token_at(p, name: str, snippet: str) -> list[tuple[str, str, tuple]]:
    """The tokens whose range a `⟦…⟧` in `snippet` marks, as (text, type, modifiers)."""
    text = p.text(name)
    m = strip_markers(snippet)
    start = text.index(m.text)
    line = text.count("\n", 0, start)
    col0 = start - (text.rfind("\n", 0, start) + 1)
    lines = text.split("\n")
    out = []
    for r, kind, mods in semantic_tokens(p.host, p.path(name)):
        if r.start.line == line and col0 <= r.start.character < col0 + len(m.text):
            out.append((lines[line][r.start.character:r.end.character], kind, mods))
    return out


def test_tensors_defined_declared_and_used(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    assert token_at(p, "model.agr", '<output name="h" />') == [("h", "tensor", ("definition",))]
    assert token_at(p, "model.agr", '<import from="x" dim') == [("x", "tensor", ("declaration",))]
    assert token_at(p, "model.agr", '<input src="h" />') == [("h", "tensor", ())]


def test_parameters_bindings_and_ops(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    assert token_at(p, "model.agr", '<params name="W" dim="[var(dhidden), var(dhidden)]"') == [
        ("W", "parameter", ("declaration", "trainable")), ("dhidden", "binding", ()), ("dhidden", "binding", ())]
    assert token_at(p, "model.agr", 'op="MatMul"') == [("MatMul", "op", ("defaultLibrary",))]
    frozen = MODEL.replace('init="zeros"', 'init="zeros" frozen="yes" shared="yes"')
    p2 = open_project(tmp_path / "f", {"model.agr": frozen, "agrippa.toml": TOML})
    [(_, _, mods), *_] = token_at(p2, "model.agr", '<params name="W"')
    assert {"frozen", "readonly", "shared"} <= set(mods) and "trainable" not in mods


def test_sourced_prefixes_are_namespaces(tmp_path):
    p = open_project(tmp_path, SOURCED_PROJECT)
    assert token_at(p, "main.agr", 'src="enc$result"') == [("enc$", "namespace", ()), ("result", "tensor", ())]
    assert token_at(p, "main.agr", 'name="enc"') == [("enc", "namespace", ("definition",))]


def test_unresolved_references_and_unknown_ops(tmp_path):
    broken = MODEL.replace('<input src="h" />', '<input src="nowhere" />').replace('op="Relu"', 'op="Relux"')
    p = open_project(tmp_path, {"model.agr": broken, "agrippa.toml": TOML})
    assert token_at(p, "model.agr", 'src="nowhere"') == [("nowhere", "unresolved", ())]
    assert token_at(p, "model.agr", 'op="Relux"') == [("Relux", "unresolved", ())]


def test_tokens_are_in_order_on_one_line_each_and_a_range_filters(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": TOML})
    tokens = semantic_tokens(p.host, p.path("model.agr"))
    starts = [(r.start.line, r.start.character) for r, _, _ in tokens]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(r.start.line == r.end.line and r.end.character > r.start.character for r, _, _ in tokens)
    from agrippa.base.diagnostics import Position, Range
    some = semantic_tokens(p.host, p.path("model.agr"), Range(Position(5, 0), Position(7, 0)))
    assert some and all(5 <= r.start.line <= 7 for r, _, _ in some)
