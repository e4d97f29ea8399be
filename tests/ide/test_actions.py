"""Quick fixes: a misspelt op, `dims` for `dim`, and a missing binding added to agrippa.toml."""
from __future__ import annotations

from agrippa.base.diagnostics import ZERO_RANGE, Position, TextEdit
from agrippa.ide.actions import Reported, binding_insertion, quick_fixes

from .markers import open_project
from .test_rename import applied

MODEL = """<model>
    <import from="x" dim="[3, 4]" />
    <block title="B">
        <node op="⟦Reluu⟧">
            <input src="x" />
            <output name="y" dims="[3, 4]" />
        </node>
    </block>
    <export from="y" dim="[3, 4]" />
</model>
"""


def shown(p, name: str, code: str) -> list[Reported]:
    """The diagnostics of file `name` with this code, as the editor sends them back."""
    diags = p.host.analysis_for(p.path(name)).diagnostics
    return [Reported(d.code, d.range, d.data.get("name")) for d in diags if d.code == code]


def test_a_misspelt_op_is_fixed(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL})
    [op] = shown(p, "model.agr", "unknown-op")
    assert op.range == p.ranges("model.agr")[0]
    fixes = quick_fixes(p.host, p.path("model.agr"), [op])
    i, first = fixes[0]
    assert (i, first.title, first.preferred) == (0, "Change to 'Relu'", True)
    assert '<node op="Relu">' in applied(p.text("model.agr"), list(first.edits))


def test_dims_becomes_dim(tmp_path):
    p = open_project(tmp_path, {"model.agr": MODEL})
    [(_, fix)] = quick_fixes(p.host, p.path("model.agr"), shown(p, "model.agr", "dims-for-dim"))
    assert '<output name="y" dim="[3, 4]" />' in applied(p.text("model.agr"), list(fix.edits))


def test_a_missing_binding_is_added_to_the_toml(tmp_path):
    toml = "[model]\nopset = 13\n\n[bindings]\nn = 3\n\n[train]\nepochs = 1\n"
    model = MODEL.replace("⟦Reluu⟧", "Relu").replace('dim="[3, 4]" />\n    <block', 'dim="[var(n), var(m)]" />\n    <block')
    p = open_project(tmp_path, {"model.agr": model, "agrippa.toml": toml})
    [(_, add)] = [f for f in quick_fixes(p.host, p.path("model.agr"), shown(p, "model.agr", "unbound-var"))
                  if "agrippa.toml" in f[1].title]
    assert add.creates is None
    assert applied(toml, list(add.edits)) == "[model]\nopset = 13\n\n[bindings]\nn = 3\nm = 1\n\n[train]\nepochs = 1\n"


def test_without_a_toml_the_fix_creates_one(tmp_path):
    model = MODEL.replace("⟦Reluu⟧", "Relu").replace('dim="[3, 4]" />\n    <block', 'dim="[var(n), var(m)]" />\n    <block')
    p = open_project(tmp_path, {"model.agr": model})
    p.settings(bindings={"n": 3})  # bound in the editor's settings: m is missing
    [(_, add)] = quick_fixes(p.host, p.path("model.agr"), shown(p, "model.agr", "unbound-var"))
    toml = p.path("agrippa.toml")
    assert add.creates == toml and add.edits == (TextEdit(toml, ZERO_RANGE, "[bindings]\nm = 1\n"),)


def test_where_a_binding_goes_in_any_toml():
    assert binding_insertion("", "n") == (Position(0, 0), "[bindings]\nn = 1\n")
    assert binding_insertion("[model]\nopset = 13\n", "n") == (Position(2, 0), "\n[bindings]\nn = 1\n")
    assert binding_insertion("[model]\nopset = 13", "n") == (Position(1, 10), "\n\n[bindings]\nn = 1\n")
    assert binding_insertion("[bindings]\na = 1", "n") == (Position(1, 5), "\nn = 1")
    assert binding_insertion("[bindings]\na = 1\n\n[train]\n", "n") == (Position(2, 0), "n = 1\n")
