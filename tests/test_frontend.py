"""The front end keeps exact ranges, evaluates values without eval, and names like the original."""
from __future__ import annotations

import pytest

from agrippa.sema.analysis import analyze
from agrippa.sema.values import ValueError_, evaluate, parse_value
from agrippa.syntax.parser import parse


def test_every_attribute_name_and_value_has_its_range():
    sf = parse("/m.agr", '<model>\n  <import from="x" dim="[var(n), 4]" />\n</model>')
    imp = sf.root.children[0]
    a = imp.attrs["dim"]
    assert (a.name_range.start.line, a.name_range.start.character, a.name_range.end.character) == (1, 19, 22)
    assert (a.value_range.start.character, a.value_range.end.character) == (24, 35)
    assert (imp.tag_range.start.character, imp.tag_range.end.character) == (3, 9)
    assert not sf.diagnostics


def test_a_half_typed_file_still_yields_a_tree():
    sf = parse("/m.agr", '<model>\n <block>\n  <node op="Relu">\n   <input src="x"\n')
    assert sf.root is not None and sf.root.tag == "model"
    assert [c.tag for c in sf.root.children] == ["block"]
    assert sf.diagnostics  # and it says what is wrong


@pytest.mark.parametrize("text,bindings,expected", [
    ("[var(n), expr(2 * n)]", {"n": 3}, [3, 6]),
    ("expr(2 ^ 3 ^ 2)", {}, 64),  # left to right, as the original
    ("expr(1 - 2 - 3)", {}, -4),
    ("expr(2 + 3 * 4 ^ 2)", {}, 50),
    ("[expr(x // y), expr(x % 5)]", {"x": 11, "y": 3}, [3, 1]),
    ("[var(features), 1]", {"features": "5"}, [5, 1]),
])
def test_expressions(text, bindings, expected):
    assert evaluate(parse_value(text), bindings) == expected


def test_symbolic_dims_keep_the_users_names():
    v = evaluate(parse_value("[var(ntokens), expr(dvalues * nheads)]"), {}, symbolic=True)
    assert [str(d) for d in v] == ["ntokens", "dvalues*nheads"]


@pytest.mark.parametrize("text,message,col", [
    ("expr(2 * (n))", "parentheses are not allowed", 9),
    ("expr(-n)", "unary minus", 5),
    ("expr(2 ** 3)", "write '^'", 7),
    ("expr(n *)", "needs a right operand", 7),
    ("expr(10 ^ 99)", "too large", 5),
])
def test_expression_errors_point_at_their_column(text, message, col):
    with pytest.raises(ValueError_) as e:
        evaluate(parse_value(text), {"n": 2})
    assert message in e.value.message and e.value.start == col


def test_rep_copies_are_named_like_the_original(tmp_path):
    (tmp_path / "m.agr").write_text(
        '<model><import from="x" dim="[3]"/><block rep="3"><import from="x"/>'
        '<node op="Mul" title="Scale"><params name="W" dim="[3]"/><input src="x"/><output name="y"/></node>'
        '<export from="y"/></block><export from="y" dim="[3]"/></model>')
    g = analyze(str(tmp_path / "m.agr"), strict=True).graph
    assert [n.name for n in g.nodes] == ["Scale$1", "Scale$2", "Scale$3"]
    assert list(g.params) == ["W$1", "W$2", "W$3"]
    assert [[u.tensor.name for u in n.inputs] for n in g.nodes] == [["W$1", "x"], ["W$2", "y"], ["W$3", "y$1"]]
    assert g.outputs[0][0].name == "y$2"
