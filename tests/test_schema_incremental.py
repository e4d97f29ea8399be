"""Incremental schema validation: unit by unit it gives the answer whole-tree validation
gives, validates each distinct unit once, judges new files in one libxml2 pass, and
stays fast on a large model."""
from __future__ import annotations

import gc
import random
import time
import xml.etree.ElementTree as ET

import pytest
from schema_helpers import CORPUS, load

from agrippa.sema.schema import libxml2 as schema_libxml2
from agrippa.sema.schema import validate as schema
from agrippa.syntax.parser import SourceFile, parse

# -- incremental validation gives the same answer as validating the whole tree ---------------

def whole_tree_errors(sf: SourceFile) -> int:
    """How many distinct errors xmlschema finds validating the full tree in one go."""
    def build(el):
        node = ET.Element(el.tag, {k: a.value for k, a in el.attrs.items()})
        if el.text.strip() and el.tag != "desc":
            node.text = el.text
        node.extend(build(c) for c in el.children)
        return node

    xsd = schema.get_schema().xsd
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
    xsd = schema.get_schema().xsd
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
    s = schema.get_schema()
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


# -- an invalid new file: libxml2 says where, xmlschema judges only the units there -------------

def _full(sf: SourceFile) -> list[tuple[str, str, str]]:
    """Every unit validated by xmlschema (no libxml2 pass), sorted as validate_files sorts."""
    schema.clear_cache()
    found = schema._validate_file(schema.get_schema(), sf)
    found.sort(key=lambda d: (d.file, d.range.start))
    return [(d.code, str(d.range), d.message) for d in found]


def _located(sf: SourceFile) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    schema.clear_cache()
    before = schema.cache_info()
    found = schema.validate_files([sf], schema.prejudge([sf]))
    after = schema.cache_info()
    return [(d.code, str(d.range), d.message) for d in found], {k: after[k] - before[k] for k in before}


def test_a_few_mistakes_in_a_new_file_are_validated_where_libxml2_found_them() -> None:
    """Four blocks of 300 nodes: only the units holding the mistakes are validated, even
    past an unexpected element (libxml2 skips the rest of its parent: taken out, the rest
    is validated again)."""
    node = '<node op="Relu"><input src="y{0}"/><output name="z{0}"/></node>'
    blocks = ["\n".join(node.format(f"{b}_{i}") for i in range(300)) for b in range(4)]
    blocks[1] = "<foo/>\n" + blocks[1].replace('<input src="y1_7"/>', "<input/>")  # the skipped one
    blocks[3] = blocks[3].replace('name="z3_250"', 'name="z3_250" dim="bad"')
    sf = parse("m.agr", "<model>\n" + "\n".join(f"<block>\n{b}\n</block>" for b in blocks) + "\n</model>\n")
    found, stats = _located(sf)
    assert [code for code, _, _ in found] == ["schema-unknown-element", "schema-missing-attribute",
                                              "schema-bad-value"]
    assert stats["located"] == 1 and stats["units"] <= 4  # not the 1,205 units of the file
    assert found == _full(sf)


def test_located_validation_agrees_with_every_unit_validated_on_random_files() -> None:
    """Random new files of several top-level units: what the located path reports is what
    validating every unit reports, in the same order."""
    rng = random.Random(5)
    located = 0
    for _ in range(300):
        kids: list[str] = []
        for _ in range(rng.randint(4, 8)):
            kids += random_markup(rng, 1, rng.choice(["block", "block", "node", "import", "desc", "nod"]))
        sf = parse("r.agr", "\n".join(["<model>", *kids, "</model>"]))
        if sf.diagnostics:
            continue
        found, stats = _located(sf)
        located += stats["located"]
        assert found == _full(sf), sf.text
    assert located > 20


def test_libxml2_places_count_the_elements_taken_out() -> None:
    """A path in a tree some elements were taken out of is counted in the original tree."""
    removed = {((("model", 1),), "block"): [2, 4]}
    assert schema_libxml2._original((("model", 1), ("block", 1)), removed) == (("model", 1), ("block", 1))
    assert schema_libxml2._original((("model", 1), ("block", 2), ("node", 3)), removed) == \
        (("model", 1), ("block", 3), ("node", 3))
    assert schema_libxml2._original((("model", 1), ("block", 3)), removed) == (("model", 1), ("block", 5))
    assert schema_libxml2._steps("/model/block[3]/node") == (("model", 1), ("block", 3), ("node", 1))
    assert schema_libxml2._steps("/*") is None


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

    schema.get_schema()  # loading the XSD is paid once per process (~0.2 s with the meta-schema)
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
