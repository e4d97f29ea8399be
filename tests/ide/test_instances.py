"""A file sourced several times is analysed per instance: a PerceiverAR-style model sources
attention.agr as `cross_attn`, `down_attn` and `up_attn`, each with its own shapes.

Hover on a tag shows that instance's imports and exports; inside attention.agr, hover and
inlay hints label each instance's shape; a mistake inside the file names its instances,
and a mistake in what a tag passes in is reported at that tag too. Counts in hover agree
with the code lenses."""
from __future__ import annotations

from agrippa.ide.hints import inlay_hints
from agrippa.ide.hover import hover
from agrippa.ide.lenses import code_lenses

from .markers import marked, open_project
from .projects import PERCEIVER, perceiver_swapped


def hover_in(tmp_path, name: str, snippet: str, files: dict[str, str] = PERCEIVER) -> str:
    p = open_project(tmp_path, dict(files, **{name: marked(files[name], snippet)}))
    got = hover(p.host, p.file, p.cursor)
    return got.text if got is not None else ""


def diagnostics(tmp_path, files: dict[str, str]):
    p = open_project(tmp_path, files)
    return p, p.host.analysis_for(p.path("perceiver.agr")).diagnostics


def test_hover_on_each_tag_shows_its_own_instance(tmp_path):
    up = hover_in(tmp_path / "up", "perceiver.agr", 'name="‸up_attn"')
    assert "- `q_in` `[32, 64]` = `[ninputs, dmodel]`" in up
    assert "- `kv_in` `[8, 64]` = `[nlatent, dmodel]`" in up
    assert "- `mask` `[32, 8]`" in up and "- `y` `[32, 64]`" in up
    cross = hover_in(tmp_path / "cross", "perceiver.agr", 'name="‸cross_attn"')
    assert "- `q_in` `[8, 64]`" in cross and "- `kv_in` `[32, 64]`" in cross and "- `mask` `[8, 32]`" in cross
    down = hover_in(tmp_path / "down", "perceiver.agr", 'name="‸down_attn"')
    assert "- `kv_in` `[8, 64]`" in down and "- `mask` `[8, 8]`" in down and "- `y` `[8, 64]`" in down


def test_inside_the_sourced_file_each_instance_is_labelled(tmp_path):
    scores = hover_in(tmp_path, "attention.agr", 'name="‸scores"')
    assert ("shape cross_attn: `[8, 32]` = `[nlatent, ninputs]` · down_attn: `[8, 8]` = `[nlatent, nlatent]` · "
            "up_attn: `[32, 8]` = `[ninputs, nlatent]`") in scores
    assert "in 3 instances" in scores and "copies" not in scores
    read = hover_in(tmp_path / "read", "attention.agr", '<input src="‸q_in"')
    assert "up_attn: `[32, 64]`" in read and "cross_attn: `[8, 64]`" in read


def test_inlay_hints_label_instances_where_shapes_differ(tmp_path):
    p = open_project(tmp_path, PERCEIVER)
    labels = [h.label for h in inlay_hints(p.host, p.path("attention.agr"), 0, 100)]
    assert "cross_attn: [8, 32] · down_attn: [8, 8] · up_attn: [32, 8]" in labels
    assert not any(" | " in label for label in labels)  # never one label for shapes that differ by instance


def test_a_file_sourced_once_keeps_its_plain_shapes(tmp_path):
    """One context: no instance labels."""
    files = dict(PERCEIVER)
    main = files["perceiver.agr"]
    files["perceiver.agr"] = main.replace('<block src="attention.agr" name="down_attn" />', "").replace(
        '<block src="attention.agr" name="up_attn" />', "")
    text = hover_in(tmp_path, "attention.agr", 'name="‸scores"', files)
    assert "shape `[8, 32]` = `[nlatent, ninputs]`" in text and "instances" not in text


def test_an_error_inside_the_sourced_file_names_its_instances(tmp_path):
    broken = PERCEIVER["attention.agr"].replace('<input src="kt" />', '<input src="kt_typo" />')
    p, diags = diagnostics(tmp_path, dict(PERCEIVER, **{"attention.agr": broken}))
    [d] = [d for d in diags if d.code == "undefined-tensor"]
    assert d.file == p.path("attention.agr")
    chain = [(r.message, r.location.file) for r in d.related if r.instance]
    assert chain == [("in cross_attn, sourced at perceiver.agr:21", p.path("perceiver.agr")),
                     ("in down_attn, sourced at perceiver.agr:27", p.path("perceiver.agr")),
                     ("in up_attn, sourced at perceiver.agr:33", p.path("perceiver.agr"))]
    tag = [r.location.range for r in d.related if r.instance == "up_attn"][0]
    assert tag.start.line == 32 and p.text("perceiver.agr").splitlines()[32][tag.start.character:].startswith("block")


def test_a_shape_error_names_the_instance_it_happens_in(tmp_path):
    p, diags = diagnostics(tmp_path, perceiver_swapped())
    [inside] = [d for d in diags if d.file == p.path("attention.agr") and d.is_error]
    assert inside.message == "Add: cannot broadcast [8, 32] with [32, 8]"
    assert [r.message for r in inside.related if r.instance] == ["in up_attn, sourced at perceiver.agr:33"]


def test_swapped_inputs_are_reported_at_the_tag_that_passes_them(tmp_path):
    p, diags = diagnostics(tmp_path, perceiver_swapped())
    [at_tag] = [d for d in diags if d.file == p.path("perceiver.agr") and d.is_error]
    assert at_tag.range.start.line == 32 and at_tag.code == "shape-mismatch"
    assert at_tag.message == ("in up_attn, at attention.agr:21: Add: cannot broadcast [8, 32] with [32, 8]; "
                              "this tag passes in q_in `[8, 64]`, kv_in `[32, 64]`, mask `[32, 8]`")
    assert [r.location.file for r in at_tag.related] == [p.path("attention.agr")]


def test_a_mistake_in_the_file_itself_is_not_blamed_on_the_tags(tmp_path):
    """Every instance fails alike: the file is wrong, not what the tags pass in."""
    broken = PERCEIVER["attention.agr"].replace('<input src="kt" />', '<input src="kv_in" />')
    p, diags = diagnostics(tmp_path, dict(PERCEIVER, **{"attention.agr": broken}))
    assert [d for d in diags if d.is_error and d.file == p.path("attention.agr")]
    assert not [d for d in diags if d.is_error and d.file == p.path("perceiver.agr")]


def test_a_rep_whose_copies_chain_the_wrong_export_is_reported_at_its_import(tmp_path):
    model = """<model>
    <import from="x" dim="[4, 16]" />
    <block title="Stack" rep="3">
        <import from="x" />
        <node op="MatMul" title="Down">
            <input src="x" />
            <params name="W" dim="[16, 8]" />
            <output name="h" />
        </node>
        <node op="Add" title="Skip">
            <input src="h" />
            <params name="b" dim="[8]" />
            <output name="y" />
        </node>
        <export from="y" />
    </block>
    <export from="y" dim="[4, 8]" />
</model>
"""
    p = open_project(tmp_path, {"model.agr": model})
    diags = p.host.analysis_for(p.path("model.agr")).diagnostics
    [blamed] = [d for d in diags if d.data.get("blamed")]
    assert blamed.range.start.line == 3  # <import from="x" /> of the rep block
    assert blamed.message.startswith("copy 2 of rep block 'Stack' reads 'x' from the previous copy's 'y' "
                                     "`[4, 8]`, where the first copy read `[4, 16]`: MatMul")


def test_block_counts_in_hover_agree_with_the_lenses(tmp_path):
    p = open_project(tmp_path, PERCEIVER)
    lenses = {lens.range.start.line: lens.title for lens in code_lenses(p.host, p.path("perceiver.agr"))}
    assert lenses[32] == "4,097 parameters (1 frozen)"  # Wq [64, 64] and the frozen scale [1]
    text = hover_in(tmp_path / "h", "perceiver.agr", 'name="‸up_attn"')
    assert "4,097 parameters (1 frozen) = dmodel^2 + 1" in text


def test_shared_and_frozen_parameters_in_a_symbolic_rep_count_alike(tmp_path):
    """Without bindings for the count, the formula counts a shared parameter once and the
    frozen ones apart, as the lenses do with the count bound."""
    model = """<model>
    <import from="x" dim="[4, var(d)]" />
    <block title="Stack" rep="var(n)">
        <import from="x" />
        <node op="MatMul" title="Lin">
            <input src="x" />
            <params name="W" dim="[var(d), var(d)]" />
            <output name="h" />
        </node>
        <node op="Add" title="Bias">
            <input src="h" />
            <params name="b" dim="[var(d)]" shared="yes" />
            <output name="g" />
        </node>
        <node op="Mul" title="Scale">
            <input src="g" />
            <params name="s" dim="[1]" frozen="yes" init="ones" />
            <output name="y" />
        </node>
        <export from="y" />
    </block>
    <export from="y" dim="[4, var(d)]" />
</model>
"""
    files = {"model.agr": marked(model, '<block title="‸Stack"'), "agrippa.toml": "[bindings]\nd = 64\nn = 4\n"}
    p = open_project(tmp_path, files)
    text = hover(p.host, p.file, p.cursor).text
    # 4 × 64² + 64 (shared, once) + 4 frozen
    assert "16,452 parameters (4 frozen) = d^2*n + d + n" in text
    lens = [lens.title for lens in code_lenses(p.host, p.file) if lens.range.start.line == 2]
    assert lens[0] == "16,452 parameters (4 frozen)"
