"""Shared by the schema tests: the broken-file corpus under tests/data/schema/ with the exact
code, 0-based range (line, col, end line, end col) and message of each mistake."""
from __future__ import annotations

from pathlib import Path

from agrippa.sema.schema import validate as schema
from agrippa.syntax.parser import SourceFile, parse

DATA = Path(__file__).parent / "data" / "schema"
XSD = Path(__file__).parents[1] / "schema" / "agrippa.xsd"


def load(name: str) -> SourceFile:
    path = DATA / name
    return parse(str(path), path.read_text())


def check(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in schema.validate_files([parse("m.agr", text)])]


CORPUS: dict[str, list[tuple[str, tuple[int, int, int, int], str]]] = {
    "missing_attribute.agr": [
        ("schema-missing-attribute", (3, 13, 3, 19), "<params> needs the attribute 'dim'"),
    ],
    "misspelled_attribute.agr": [
        ("schema-missing-attribute", (3, 13, 3, 19),
         "<params> needs the attribute 'dim' (is 'dims' a typo?)"),
    ],
    "root_import_without_dim.agr": [  # the block's <import from="x"/> needs no dim
        ("schema-missing-attribute", (1, 5, 1, 11), "<import> needs the attribute 'dim'"),
        ("schema-missing-attribute", (9, 5, 9, 11), "<export> needs the attribute 'dim'"),
    ],
    "bad_yes_no.agr": [
        ("schema-bad-value", (3, 50, 3, 54), "shared must be 'yes' or 'no', got 'true'"),
    ],
    "bad_type.agr": [
        ("schema-bad-value", (1, 40, 1, 45),
         "type must be one of float32, float64, float16, bfloat16, int64, int32, int16, int8, "
         "uint8, uint16, uint32, uint64, bool, got 'float'"),
    ],
    "bad_init.agr": [
        ("schema-bad-value", (3, 45, 3, 49),
         "init must be one of xavier, normal, uni_random, ones, zeros, constant, got 'zero'"),
    ],
    "bad_dim.agr": [
        ("schema-bad-value", (1, 26, 1, 30), "dim must be a list such as [3, var(n)], got '3, 1'"),
        ("schema-bad-value", (2, 26, 2, 32),
         "dim must be a list such as [3, var(n)], got '[3, n]'; write var(n) to use a binding"),
    ],
    "bad_rep.agr": [
        ("schema-bad-value", (1, 16, 1, 19),
         "rep must be a whole number of at least 1 (or var()/expr()), got 'two'"),
        ("schema-bad-value", (1, 24, 1, 28), "x must be a number (or var()/expr()), got 'left'"),
    ],
    "empty_name.agr": [  # an empty value marks its quotes
        ("schema-bad-value", (4, 25, 4, 27), "name must not be empty"),
    ],
    "node_in_model.agr": [
        ("schema-unexpected-element", (2, 5, 2, 9),
         "<node> is not allowed inside <model>; put it in a <block>"),
    ],
    "output_in_block.agr": [
        ("schema-unexpected-element", (5, 9, 5, 15),
         "<output> is not allowed inside <block>; put it in a <node>"),
    ],
    "unknown_element.agr": [
        ("schema-unknown-element", (2, 9, 2, 12), "<nod> is not an Agrippa element; did you mean <node>?"),
    ],
    "markup_in_desc.agr": [
        ("schema-unknown-element", (1, 13, 1, 14), "<b> is not an Agrippa element; <desc> holds text only"),
    ],
    "text_in_node.agr": [
        ("schema-unexpected-text", (3, 12, 3, 24), "text is not allowed in <node>; put notes in a <desc>"),
    ],
    "bad_root.agr": [
        ("schema-bad-root", (0, 1, 0, 6), "the root element must be <model> or <block>, not <graph>"),
    ],
    "accepted.agr": [],
}
