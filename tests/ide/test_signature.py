"""Signature help in a `<node>`: the op's slots, and which one the `<input>`/`<params>` under
the cursor fills, counting inputs and params together in document order (language.md §5)."""
from __future__ import annotations

from agrippa.ide.signature import signature_help

from .markers import marked, open_project
from .projects import MODEL, TOML


def help_at(tmp_path, model: str, *snippets: str):
    p = open_project(tmp_path, {"model.agr": marked(model, *snippets), "agrippa.toml": TOML})
    return signature_help(p.host, p.file, p.cursor)


def test_the_slots_of_the_op(tmp_path):
    sig = help_at(tmp_path, MODEL, '<input ‸src="x" />')
    assert sig.label.startswith("MatMul(A: T, B: T)")
    assert [sig.label[s.start:s.end] for s in sig.slots] == ["A: T", "B: T"]
    assert "float" in sig.slots[0].doc and sig.active == 0


def test_params_count_as_operands_in_document_order(tmp_path):
    assert help_at(tmp_path, MODEL, '<params ‸name="W"').active == 1
    flipped = MODEL.replace('''            <input src="x" />
            <params name="W" dim="[var(dhidden), var(dhidden)]" init="zeros" />''', '''            <params name="W" dim="[var(dhidden), var(dhidden)]" init="zeros" />
            <input src="x" />''')
    assert help_at(tmp_path / "f", flipped, '<input ‸src="x" />').active == 1
    assert help_at(tmp_path / "g", flipped, '<params ‸name="W"').active == 0


def test_between_children_the_next_slot_and_past_the_last_none(tmp_path):
    assert help_at(tmp_path, MODEL, '<output ‸name="h" />').active is None  # MatMul has two inputs, both given
    sig = help_at(tmp_path / "r", MODEL, '<input src="h" />‸')
    assert sig.label.startswith("Relu(X: T)") and sig.active is None


def test_optional_and_variadic_slots(tmp_path):
    concat = MODEL.replace('op="Relu" title="Act"', 'op="Concat" title="Act" axis="0"')
    sig = help_at(tmp_path, concat, '<input ‸src="h" />')
    assert sig.slots[0].label.startswith("inputs...") and "variadic" in sig.slots[0].doc
    clip = MODEL.replace('op="Relu"', 'op="Clip"')
    sig = help_at(tmp_path / "c", clip, '<input ‸src="h" />')
    assert "[min]" in sig.label and "optional" in sig.slots[1].doc


def test_outside_a_node_nothing(tmp_path):
    assert help_at(tmp_path, MODEL, '<block ‸title="Stack"') is None
