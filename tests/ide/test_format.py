"""The formatter: indentation, attribute layouts, comments and `<desc>` as written, refusal
on broken files; and over every example and conformance project: idempotent, same
diagnostics, same ONNX graph."""
from __future__ import annotations

import glob
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from shared_paths import CASES

from agrippa.base.diagnostics import Position, Range
from agrippa.ide.format import Options, format_edits, format_text
from agrippa.syntax import parse

REPO = Path(__file__).resolve().parents[2]
MESSY = """<?xml version="1.0"?>
<!-- header -->
<model>
  <import from="x"   dim="[4, 8]"/>
      <!-- a comment,
           on two lines -->


  <block title="B"
         rep="2">
<desc>  Kept   as
   written. </desc>
        <node op="Relu" title="R"><input src="x" /> <!-- trailing -->
     <output name="x" /></node>
  </block>
  <export   from="x" dim="[4, 8]" ></export>
</model>"""

FORMATTED = """<?xml version="1.0"?>
<!-- header -->
<model>
    <import from="x" dim="[4, 8]" />
    <!-- a comment,
           on two lines -->

    <block title="B"
           rep="2">
        <desc>  Kept   as
   written. </desc>
        <node op="Relu" title="R">
            <input src="x" /> <!-- trailing -->
            <output name="x" />
        </node>
    </block>
    <export from="x" dim="[4, 8]"></export>
</model>
"""


def test_indents_keeps_comments_desc_and_attribute_breaks():
    assert format_text(MESSY) == FORMATTED
    assert format_text(FORMATTED) == FORMATTED


def test_align_and_one_per_line():
    text = '<model>\n<node op="Add" title="A"\n  axis="0"><input src="x" /></node>\n</model>\n'
    assert format_text(text, Options(attributes="align")) == (
        '<model>\n    <node op="Add"\n          title="A"\n          axis="0">\n'
        '        <input src="x" />\n    </node>\n</model>\n')
    assert format_text(text, Options(attributes="onePerLine")) == (
        '<model>\n    <node\n        op="Add"\n        title="A"\n        axis="0">\n'
        '        <input src="x" />\n    </node>\n</model>\n')


def test_tabs_and_crlf():
    text = '<model>\r\n<block>\r\n<node op="Relu" />\r\n</block>\r\n</model>\r\n'
    assert format_text(text, Options(tab_size=2, insert_spaces=False)) == (
        '<model>\r\n\t<block>\r\n\t\t<node op="Relu" />\r\n\t</block>\r\n</model>\r\n')


def test_a_file_with_syntax_errors_is_not_formatted():
    assert format_text('<model>\n<block>\n  <node op="Relu"\n</model>') is None
    assert format_edits(parse("x.agr", "<model><block></model>")) is None


def test_range_formatting_touches_only_the_range():
    sf = parse("x.agr", MESSY)
    edits = format_edits(sf, Options(), Range(Position(3, 0), Position(4, 0)))
    assert edits and all(r.start.line >= 3 and r.end.line <= 4 for r, _ in edits)


def _sources(project: Path) -> list[Path]:
    return [Path(p) for p in sorted(glob.glob(str(project / "**" / "*.agr"), recursive=True)
                                    + glob.glob(str(project / "**" / "*.xml"), recursive=True))]


def _outcome(project: Path, bindings: dict) -> tuple[list[str], object]:
    from agrippa.backend import onnx_export
    from agrippa.sema.analysis import analyze

    an = analyze(str(project), bindings=bindings)
    codes = sorted(d.code for d in an.diagnostics)
    g = an.graph
    if g is None or any(d.severity.name == "ERROR" for d in an.diagnostics) or g.parameter_count is None:
        return codes, None if g is None else [(n.name, n.op) for n in g.nodes]
    values, _ = onnx_export.param_values(g, {}, np.random.default_rng(0))
    model = onnx_export.build_model(g, values, producer="test", graph_name="t")
    return codes, ([(n.name, n.op_type, tuple(n.input), tuple(n.output)) for n in model.graph.node],
                   sorted(t.name for t in model.graph.initializer))


PROJECTS = sorted({Path(p).parent for p in glob.glob(str(REPO / "examples" / "*" / "agrippa.toml"))}
                  | {Path(p) for p in glob.glob(str(CASES / "*" / "project"))})


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_formatting_every_project_is_idempotent_and_changes_no_meaning(project: Path, tmp_path: Path):
    copy = tmp_path / "p"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("data", "*.onnx", "__pycache__"))
    ref = project.parent / "ref.json"
    bindings = json.loads(ref.read_text()).get("bindings") or {} if ref.is_file() else {}
    before = _outcome(copy, bindings)
    for f in _sources(copy):
        text = f.read_text()
        for mode in ("align", "onePerLine", "preserve"):  # ends with the default layout
            once = format_text(text, Options(attributes=mode))
            assert once is not None, f"{f} was not formatted"
            assert format_text(once, Options(attributes=mode)) == once, f"{f} ({mode}) is not idempotent"
        f.write_text(once)
    assert _outcome(copy, bindings) == before


def test_the_attribute_layout_is_a_setting():
    from agrippa.ide.host import Settings

    assert Settings.from_json({"format": {"attributes": "onePerLine"}}).format_attributes == "onePerLine"
    assert Settings.from_json({"format": {"attributes": "sideways"}}).format_attributes == "preserve"
