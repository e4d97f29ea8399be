"""The XSD layer (agrippa.schema), told as what a user sees.

Each broken file under tests/data/schema/ shows one kind of mistake; the table below is
the exact code, 0-based range (line, col, end line, end col) and message the user gets.
"""
from __future__ import annotations

import gc
import random
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agrippa import schema, schema_libxml2
from agrippa.diagnostics import Range, Severity
from agrippa.syntax import SourceFile, parse

DATA = Path(__file__).parent / "data" / "schema"
CASES = Path("/work/shared/conformance/cases")
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
         "uint8, bool, got 'float'"),
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


@pytest.mark.skipif(not CASES.is_dir(), reason="conformance fixtures absent")
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


# -- incremental validation gives the same answer as validating the whole tree ---------------

def whole_tree_errors(sf: SourceFile) -> int:
    """How many distinct errors xmlschema finds validating the full tree in one go."""
    def build(el):
        node = ET.Element(el.tag, {k: a.value for k, a in el.attrs.items()})
        if el.text.strip() and el.tag != "desc":
            node.text = el.text
        node.extend(build(c) for c in el.children)
        return node

    xsd = schema._get_schema().xsd
    return len({(id(e.elem), e.reason) for e in xsd.iter_errors(build(sf.root))})


@pytest.mark.parametrize("name", sorted(set(CORPUS) - {"bad_root.agr"}) + ["unclosed.agr"])
def test_unit_by_unit_validation_agrees_with_whole_tree_validation(name: str) -> None:
    schema.clear_cache()
    sf = load(name)
    assert len(schema.validate_files([sf])) == whole_tree_errors(sf)


TAGS = ["model", "block", "node", "import", "export", "input", "output", "params", "desc", "nod"]
ATTRS = ["from", "dim", "type", "src", "name", "op", "rep", "stretch", "shared", "init", "init_args",
         "x", "dims", "title"]
VALUES = ["yes", "true", "[3]", "[var(n), 2]", "3", "var(n)", "", "float32", "zero", "zeros", "-1",
          "1.5", "x", "[0, 1]", "expr(n + 1)", "MatMul"]


def random_markup(rng: random.Random, depth: int = 0, tag: str = "model") -> list[str]:
    """A random one-tag-per-line document over Agrippa's tags, attributes and typical values."""
    names = rng.sample(ATTRS, rng.randint(0, 3))
    attrs = "".join(f' {n}="{rng.choice(VALUES)}"' for n in names)
    kids = [] if depth > 3 else [rng.choice(TAGS[1:]) for _ in range(rng.randint(0, 4))]
    if not kids:
        return [f"<{tag}{attrs}/>"]
    lines = [f"<{tag}{attrs}>"]
    for k in kids:
        lines += random_markup(rng, depth + 1, k)
    return lines + [f"</{tag}>"]


def test_unit_by_unit_validation_agrees_with_whole_tree_validation_on_random_files() -> None:
    """The same mistakes, on the same lines, as one xmlschema pass over the whole tree."""
    def build(el, line_of: dict[ET.Element, int]) -> ET.Element:
        node = ET.Element(el.tag, {k: a.value for k, a in el.attrs.items()})
        line_of[node] = el.tag_range.start.line
        node.extend(build(c, line_of) for c in el.children)
        return node

    rng = random.Random(7)
    xsd = schema._get_schema().xsd
    for _ in range(300):
        sf = parse("r.agr", "\n".join(random_markup(rng, tag=rng.choice(["model", "block"]))))
        line_of: dict[ET.Element, int] = {}
        whole = {(line_of[e.elem if getattr(e, "invalid_child", None) is None else e.invalid_child], e.reason)
                 for e in xsd.iter_errors(build(sf.root, line_of))}
        mine = [d.range.start.line for d in schema.validate_files([sf])]
        assert sorted(mine) == sorted(line for line, _ in whole), sf.text


def test_identical_blocks_are_validated_once_and_an_edit_revalidates_one_block(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Units are the root, each block and each node; identical ones are validated once."""
    monkeypatch.setattr(schema, "WHOLE_FILE_MIN_UNITS", 10**9)  # the unit path only
    schema.clear_cache()
    layer = '<block title="L"><node op="Relu"><input src="x"/><output name="x"/></node></block>'
    text = "<model>" + layer * 50 + "</model>"
    before = schema.cache_info()
    schema.validate_files([parse("m.agr", text)])
    mid = schema.cache_info()
    assert mid["units"] - before["units"] == 101 and mid["validated"] - before["validated"] == 3
    edited = text.replace('title="L"', 'title="L" rep="0"', 1)
    diags = schema.validate_files([parse("m.agr", edited)])
    after = schema.cache_info()
    assert after["validated"] - mid["validated"] == 1
    assert [d.code for d in diags] == ["schema-bad-value"]


def test_a_new_valid_file_is_judged_by_one_libxml2_pass_then_edits_go_unit_by_unit() -> None:
    schema.clear_cache()
    layer = '<block title="L{}"><node op="Relu"><input src="x"/><output name="x"/></node></block>'
    text = "<model>" + "".join(layer.format(i) for i in range(50)) + "</model>"
    before = schema.cache_info()
    assert schema.validate_files([parse("m.agr", text)]) == []
    mid = schema.cache_info()
    assert mid["whole_files"] - before["whole_files"] == 1 and mid["validated"] == before["validated"]
    edited = text.replace('title="L7"', 'title="L7" rep="0"', 1)
    diags = schema.validate_files([parse("m.agr", edited)])
    after = schema.cache_info()
    assert after["whole_files"] == mid["whole_files"]  # one block changed: the unit path
    assert after["validated"] - mid["validated"] == 2  # that block and its node; the root is known
    assert [(d.code, d.range.start.character) for d in diags] == [("schema-bad-value", edited.index('"0"') + 1)]


def test_libxml2_and_the_unit_path_agree_on_what_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-file pass may only ever say "valid" where the unit path finds nothing."""
    monkeypatch.setattr(schema, "WHOLE_FILE_MIN_UNITS", 10**9)
    s = schema._get_schema()
    rng = random.Random(11)
    files = [load(n) for n in sorted(CORPUS)]
    files += [parse("r.agr", "\n".join(random_markup(rng, tag=rng.choice(["model", "block"]))))
              for _ in range(400)]
    judged = valid = 0
    for sf in files:
        if sf.diagnostics or sf.root is None or sf.root.tag not in s.globals:
            continue
        schema.clear_cache()
        judged += 1
        unit_valid = not schema.validate_files([sf])
        valid += unit_valid
        assert schema_libxml2.is_valid(sf) == unit_valid, sf.text
    assert judged > 300 and 20 < valid < judged


def test_remembered_blocks_are_bounded_by_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """One huge block edited again and again must not pile up copies of its text."""
    monkeypatch.setattr(schema, "MAX_CACHED_CHARS", 50_000)
    schema.clear_cache()
    body = "".join(f'<node op="Relu" title="n{i}"><input src="x"/><output name="x"/></node>' for i in range(300))
    for k in range(40):
        schema.validate_files([parse("m.agr", f'<model><block title="v{k}">{body}</block></model>')])
        assert schema._text_chars <= 50_000 + len(body) + 100
    assert schema._text_chars == sum(len(t or "") for _, t in schema._text_cache)


def test_renaming_a_tensor_needs_no_revalidation() -> None:
    schema.validate_files([parse("m.agr", '<model><block><node op="Relu"><input src="a"/></node></block></model>')])
    before = schema.cache_info()["validated"]
    schema.validate_files([parse("m.agr", '<model><block><node op="Relu"><input src="b"/></node></block></model>')])
    assert schema.cache_info()["validated"] == before


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


# -- speed ----------------------------------------------------------------------------------

def big_model(lines: int = 15_000) -> str:
    out = ['<model script-version="0.0.1">', '  <import from="x0" dim="[var(n), 1]" type="float32" />']
    k = 0
    while len(out) < lines - 2:
        out.append(f'  <block title="Layer {k // 10}" x="10" y="{k}">')
        for _ in range(10):
            out += [f'    <node title="Linear {k}" op="MatMul">',
                    f'      <params name="W{k}" dim="[var(n), var(n)]" init="xavier" />',
                    f'      <input src="x{k}" dim="[var(n), 1]" />',
                    f'      <output name="x{k + 1}" dim="[var(n), 1]" />',
                    '    </node>']
            k += 1
        out.append("  </block>")
    out += [f'  <export from="x{k}" dim="[var(n), 1]" />', "</model>"]
    return "\n".join(out) + "\n"


def test_speed_on_a_15000_line_model(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints CPU milliseconds, best of a few runs (other work on the machine does not count)."""
    text = big_model()
    sf = parse("big.agr", text)

    def ms(run, n: int = 3) -> float:
        """Best of n; a full garbage collection first, so an unrelated one is not counted."""
        times = []
        for _ in range(n):
            gc.collect()
            t = time.process_time()
            run()
            times.append((time.process_time() - t) * 1000)
        return min(times)

    def cold() -> None:
        schema.clear_cache()
        schema.validate_files([sf])

    schema._get_schema()  # loading the XSD is paid once per process (~0.2 s with the meta-schema)
    cold_ms = ms(cold)
    edited = [parse("big.agr", text.replace(f'name="W{i}"', f'name="W{i}" shared="true"')) for i in (5, 500)]
    reparsed = parse("big.agr", text)
    edit_ms = ms(lambda: schema.validate_files([edited.pop()]), 2)
    warm_ms = ms(lambda: (schema._by_file.clear(), schema.validate_files([reparsed])))
    same_ms = ms(lambda: schema.validate_files([sf]))
    assert len(schema.validate_files([parse("big.agr", text.replace('init="xavier"', 'init="glorot"', 1))])) == 1
    with capsys.disabled():
        print(f"\n[schema] {text.count(chr(10))} lines, {sum(1 for _ in sf.elements())} elements, CPU ms: "
              f"cold {cold_ms:.1f}, "
              f"re-parsed unchanged {warm_ms:.1f}, one edit {edit_ms:.1f}, same SourceFile {same_ms:.2f}")
