"""No floods: one mistake met by N copies (rep/stretch copies, sourced instances) is said
once with the count, in the file where it is; a rep past the node budget is one diagnostic,
found before expanding; each file's list is capped (base/diagnostics.py `cap_per_file`)."""
from __future__ import annotations

import time
from pathlib import Path

from agrippa.base.diagnostics import MAX_PER_FILE, SUMMARY_CODE
from agrippa.cli import main as cli_main
from agrippa.sema.analysis import analyze

ROOT = Path(__file__).resolve().parents[1]

MAIN = """<model>
  <import from="x" dim="[4, 8]"/>
  <block title="stack" rep="var(nmiddle)">
    <import from="x"/>
    <node op="Identity"><input src="x"/><output name="mid$x"/></node>
    <block src="middle.agr" name="mid"/>
    <node op="Identity"><input src="mid$y"/><output name="x2"/></node>
    <export from="x2"/>
  </block>
  <export from="x2" dim="[4, 8]"/>
</model>
"""
MIDDLE = """<block>
  <import from="x"/>
  <node op="MatMul"><input src="x"/><params name="W" dim="[7, 8]"/><output name="h"/></node>
  <node op="Relu"><input src="x"/><output name="y"/></node>
  <export from="y"/>
</block>
"""


def _stack(tmp_path: Path) -> Path:
    (tmp_path / "main.agr").write_text(MAIN)
    (tmp_path / "middle.agr").write_text(MIDDLE)
    (tmp_path / "agrippa.toml").write_text('[model]\nindex = "main.agr"\n')
    return tmp_path


def test_one_error_from_5000_copies_is_said_once_with_the_count(tmp_path, capsys):
    proj = _stack(tmp_path)
    t = time.perf_counter()
    an = analyze(str(proj), bindings={"nmiddle": 5000})
    print(f"5,000 copies: {time.perf_counter() - t:.2f} s")  # a figure, not an assertion
    [err] = an.errors
    assert err.file == str(proj / "middle.agr") and err.range.start.line == 2
    assert err.message.endswith("(in 5,000 copies of rep block 'stack')"), err.message
    assert err.data["copies"] == 5000
    assert cli_main(["check", str(proj), "--bind", "nmiddle=5000"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert len(lines) == 1 and "middle.agr:3:" in lines[0], lines
    assert "5,000 copies" in lines[0]


def test_one_copy_is_not_counted(tmp_path):
    an = analyze(str(_stack(tmp_path)), bindings={"nmiddle": 1})
    [err] = an.errors
    assert "copies" not in err.message


def test_sourced_instances_are_counted_by_name(tmp_path):
    (tmp_path / "middle.agr").write_text(MIDDLE)
    wiring = "".join(f'<node op="Identity"><input src="x"/><output name="{n}$x"/></node>'
                     f'<block src="middle.agr" name="{n}"/>' for n in ("down", "up", "cross"))
    (tmp_path / "main.agr").write_text(f'<model><import from="x" dim="[4, 8]"/><block>{wiring}</block>'
                                       '<export from="up$y" dim="[4, 8]"/></model>')
    an = analyze(str(tmp_path / "main.agr"))
    [err] = an.errors
    assert err.file == str(tmp_path / "middle.agr")
    assert err.message.endswith("(in 3 copies of 'down' (middle.agr), 'up' (middle.agr), 'cross' (middle.agr))")


def test_a_rep_past_the_budget_is_one_diagnostic_before_expanding(tmp_path):
    proj = tmp_path / "gpt"
    proj.mkdir()
    (proj / "gpt.agr").write_text((ROOT / "examples" / "gpt" / "gpt.agr").read_text())
    (proj / "agrippa.toml").write_text((ROOT / "examples" / "gpt" / "agrippa.toml").read_text())
    t = time.perf_counter()
    an = analyze(str(proj), bindings={"nlayers": 6000})
    print(f"rep=6000 of a GPT layer: {time.perf_counter() - t:.2f} s")
    assert len(an.diagnostics) <= 3, [d.to_text() for d in an.diagnostics]
    [err] = an.errors
    assert err.code == "too-many-nodes" and "rep=6,000" in err.message and "one copy is analysed" in err.message
    assert len(an.graph.nodes) < 100  # judged before expanding, nested stretch counted
    # what follows the block still has its names and shapes (one copy was analysed)
    assert an.graph.tensors["logits"].shape == (32, 512)


def test_each_file_is_capped_with_one_summary(tmp_path):
    nodes = "".join(f'<node op="Relu"><input src="nope{i}"/><output name="y{i}"/></node>' for i in range(1500))
    (tmp_path / "main.agr").write_text(f'<model><import from="x" dim="[2]"/><block>{nodes}</block>'
                                       '<export from="y0" dim="[2]"/></model>')
    diags = analyze(str(tmp_path / "main.agr")).for_file(str(tmp_path / "main.agr"))
    summaries = [d for d in diags if d.code == SUMMARY_CODE]
    assert len(summaries) == 1 and len(diags) <= MAX_PER_FILE + 1
