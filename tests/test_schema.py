"""The XSD layer (agrippa.schema), told as what a user sees.

Each broken file under tests/data/schema/ shows one kind of mistake; the table in schema_helpers.py is
the exact code, 0-based range (line, col, end line, end col) and message the user gets.

Incremental validation, its caches and its speed are in test_schema_incremental.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from schema_helpers import CORPUS, DATA, XSD, check, load
from shared_paths import CASES, NEEDS_SHARED

from agrippa.base.diagnostics import Range, Severity
from agrippa.sema.schema import validate as schema
from agrippa.syntax.parser import parse

# -- a user opens a broken file ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_mistake_is_reported_at_its_exact_range(name: str) -> None:
    sf = load(name)
    assert sf.diagnostics == [], "corpus files are well-formed XML"
    got = [(d.code, (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character),
            d.message) for d in schema.validate_files([sf])]
    assert got == CORPUS[name]


def test_every_corpus_file_is_in_the_table() -> None:
    assert {p.name for p in DATA.glob("*.agr")} - {"unclosed.agr"} == set(CORPUS)


def test_schema_diagnostics_are_errors_in_the_right_file() -> None:
    sf = load("bad_yes_no.agr")
    (d,) = schema.validate_files([sf])
    assert d.severity is Severity.ERROR and d.file == sf.path
    assert d.data == {"element": "params", "attribute": "shared"}  # lets the pipeline merge overlaps


# -- quick fixes the editor offers ------------------------------------------------------------

def fix_edits(name: str) -> list[tuple[str, Range, str]]:
    (d,) = schema.validate_files([load(name)])
    assert len(d.fixes) == 1
    return [(d.fixes[0].title, e.range, e.new_text) for e in d.fixes[0].edits]


def test_a_misspelled_dims_can_be_renamed_to_dim() -> None:
    assert fix_edits("misspelled_attribute.agr") == [("Rename 'dims' to 'dim'", Range.of(3, 29, 3, 33), "dim")]


def test_true_becomes_yes() -> None:
    assert fix_edits("bad_yes_no.agr") == [("Change to 'yes'", Range.of(3, 50, 3, 54), "yes")]


def test_a_near_miss_value_gets_the_closest_choice() -> None:
    assert fix_edits("bad_init.agr") == [("Change to 'zeros'", Range.of(3, 45, 3, 49), "zeros")]
    assert fix_edits("bad_type.agr")[0][2] == "float32"  # ties go to the first (the default)


def test_a_misspelled_tag_is_renamed_in_both_tags() -> None:
    assert fix_edits("unknown_element.agr") == [
        ("Change to <node>", Range.of(2, 9, 2, 12), "node"),
        ("Change to <node>", Range.of(5, 10, 5, 13), "node"),
    ]


def test_a_missing_attribute_can_be_added() -> None:
    assert fix_edits("missing_attribute.agr") == [('Add dim=""', Range.of(3, 19, 3, 19), ' dim=""')]


# -- what the schema accepts ------------------------------------------------------------------

def conformance_markup() -> list[Path]:
    return sorted(p for p in CASES.glob("*/project/**/*") if p.suffix in (".agr", ".xml"))


@NEEDS_SHARED
@pytest.mark.parametrize("path", conformance_markup(), ids=lambda p: str(p.relative_to(CASES)))
def test_every_conformance_project_validates(path: Path) -> None:
    assert schema.validate_files([parse(str(path), path.read_text())]) == []


def test_unknown_attributes_like_dims_are_left_to_the_semantic_checker() -> None:
    assert check('<model><block><node op="Relu" axis="1"><input src="x" foo="1"/>'
                 '<output name="y" dims="[3]"/></node></block></model>') == []


@pytest.mark.parametrize("dim", ["[]", "[3]", "[var(n), 1]", "[expr(2 * n), expr(var(n) // 2)]",
                                 "var(shape)", " [ 3 , 4 ] "])
def test_dim_accepts_lists_of_whole_numbers_var_and_expr(dim: str) -> None:
    assert check(f'<model><import from="x" dim="{dim}"/></model>') == []


@pytest.mark.parametrize("dim", ["3", "[3.5]", "[3, ]", "(3, 4)", "[var()]", "[expr(2*(n))]"])
def test_dim_rejects_everything_else(dim: str) -> None:
    assert [c for c, _ in check(f'<model><import from="x" dim="{dim}"/></model>')] == ["schema-bad-value"]


@pytest.mark.parametrize("value,ok", [("1", True), ("12", True), ("var(n)", True), ("expr(n + 1)", True),
                                      ("0", False), ("-2", False), ("1.5", False), ("n", False)])
def test_rep_and_stretch_are_counts(value: str, ok: bool) -> None:
    for attr in ("rep", "stretch"):
        assert (check(f'<model><block {attr}="{value}"/></model>') == []) is ok


def test_a_sourced_file_may_have_a_block_root() -> None:
    assert check('<block><import from="x"/><node op="Relu"><input src="x"/><output name="y"/></node></block>') == []


def test_a_model_inside_a_block_is_only_a_root() -> None:
    assert check("<model><block><model/></block></model>") == [
        ("schema-unexpected-element", "<model> is not allowed inside <block>; it can only be the root element")]


# -- half-typed files ----------------------------------------------------------------------------

def test_an_unclosed_file_still_gets_schema_diagnostics_for_what_was_recovered() -> None:
    sf = load("unclosed.agr")
    assert sf.diagnostics, "the parser reports the unclosed tags"
    got = [(d.code, d.range) for d in schema.validate_files([sf])]
    assert got == [
        ("schema-missing-attribute", Range.of(3, 13, 3, 19)),
        ("schema-bad-value", Range.of(3, 37, 3, 42)),
        ("schema-unexpected-element", Range.of(5, 9, 5, 13)),  # the inner <node> ended up in the outer one
    ]


@pytest.mark.parametrize("text", ["", "<", "<model", "<model><", "<model><block rep=", "text only",
                                  '<model><a:b x:y="1" xmlns="u"/></model>', "<model><block></model>",
                                  "<model>" + "<block>" * 300])
def test_garbage_never_crashes(text: str) -> None:
    schema.validate_files([parse("m.agr", text)])


def test_files_without_a_root_are_skipped() -> None:
    sf = parse("m.agr", "   ")
    assert sf.root is None and schema.validate_files([sf]) == []


# -- documentation for completion and hover ---------------------------------------------------

def test_schema_docs_list_params_attributes_with_init_choices() -> None:
    params = schema.schema_docs()["params"]
    assert params["parents"] == ["node"] and params["doc"]
    attrs = params["attributes"]
    assert list(attrs) == ["name", "dim", "type", "init", "init_args", "shared", "frozen"]
    assert attrs["name"]["required"] and attrs["dim"]["required"] and not attrs["init"]["required"]
    assert attrs["init"]["values"] == ["xavier", "normal", "uni_random", "ones", "zeros", "constant"]
    assert "default" in attrs["init"]["value_docs"]["xavier"]
    assert attrs["shared"]["values"] == ["yes", "no"]
    assert "int64" in attrs["type"]["values"]


def test_schema_docs_document_every_element_and_attribute() -> None:
    docs = schema.schema_docs()
    assert set(docs) == {"model", "import", "export", "block", "node", "input", "output", "params", "desc"}
    for tag, info in docs.items():
        assert info["doc"], tag
        for name, attr in info["attributes"].items():
            assert attr["doc"] and "\n" not in attr["doc"], (tag, name)
    assert docs["model"]["children"] == ["import", "block", "export", "desc"]
    assert docs["node"]["children"] == ["input", "params", "output", "desc"]
    assert docs["block"]["parents"] == ["model", "block"] and docs["block"]["root"]
    assert docs["desc"]["mixed"] and docs["node"]["any_attribute"]


def test_schema_docs_know_import_dim_is_required_at_the_model_root_only() -> None:
    imp = schema.schema_docs()["import"]
    assert not imp["attributes"]["dim"]["required"]
    assert imp["contexts"]["model"]["attributes"]["dim"]["required"]
    assert not imp["contexts"]["block"]["attributes"]["dim"]["required"]


# -- the schema file itself --------------------------------------------------------------------

def test_the_xsd_is_valid_xsd_1_0_for_other_tools_too() -> None:
    lxml_etree = pytest.importorskip("lxml.etree")
    xsd = lxml_etree.XMLSchema(lxml_etree.parse(str(XSD)))  # libxml2, as editors' validators
    for path in conformance_markup():
        assert xsd.validate(lxml_etree.parse(str(path))), (path, xsd.error_log)
    assert not xsd.validate(lxml_etree.parse(str(DATA / "bad_yes_no.agr")))
