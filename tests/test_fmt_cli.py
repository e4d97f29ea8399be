"""`agrippa fmt [--check] PATH`: formats in place, checks for CI, refuses broken files,
reads standard input; exit codes 0 / 1 / 2."""
from __future__ import annotations

import io
import sys

from agrippa.cli import main

MESSY = '<model>\n  <import from="x"   dim="[2]"/>\n<export from="x" dim="[2]" />\n</model>\n'
NEAT = '<model>\n    <import from="x" dim="[2]" />\n    <export from="x" dim="[2]" />\n</model>\n'


def test_check_then_format_then_check(tmp_path, capsys):
    (tmp_path / "m.agr").write_text(MESSY)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.agr").write_text(NEAT)
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert "m.agr: not formatted" in capsys.readouterr().out
    assert (tmp_path / "m.agr").read_text() == MESSY  # --check writes nothing
    assert main(["fmt", str(tmp_path)]) == 0
    assert (tmp_path / "m.agr").read_text() == NEAT and (tmp_path / "sub" / "ok.agr").read_text() == NEAT
    assert main(["fmt", "--check", str(tmp_path)]) == 0


def test_a_broken_file_is_left_alone(tmp_path, capsys):
    broken = "<model>\n<block>\n</model>\n"
    (tmp_path / "b.agr").write_text(broken)
    assert main(["fmt", str(tmp_path / "b.agr")]) == 1
    assert "syntax errors" in capsys.readouterr().err
    assert (tmp_path / "b.agr").read_text() == broken


def test_a_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "nowhere.agr")]) == 2


def test_standard_input_to_standard_output(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MESSY.encode())))
    assert main(["fmt", "--attributes", "onePerLine", "-"]) == 0
    assert capsys.readouterr().out == NEAT.replace(
        '<import from="x" dim="[2]" />', '<import\n        from="x"\n        dim="[2]" />').replace(
        '<export from="x" dim="[2]" />', '<export\n        from="x"\n        dim="[2]" />')
