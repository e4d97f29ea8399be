"""`agrippa check` on a file sourced three times: an error inside it says which instance,
the way gcc says "In file included from", and what a tag passes in is blamed at the tag."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ide.projects import PERCEIVER, perceiver_swapped


def check(tmp_path: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return subprocess.run([sys.executable, "-m", "agrippa.cli", "check", ".", *args], cwd=tmp_path,
                          capture_output=True, text=True)


def test_the_clean_model_checks(tmp_path: Path):
    r = check(tmp_path, PERCEIVER)
    assert r.returncode == 0, r.stderr


def test_an_error_in_a_sourced_file_is_preceded_by_its_instance_chain(tmp_path: Path):
    r = check(tmp_path, perceiver_swapped())
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    i = lines.index("attention.agr:21:21: error: Add: cannot broadcast [8, 32] with [32, 8] [shape-mismatch]")
    assert lines[i - 1] == "In up_attn, sourced at perceiver.agr:33:10:"
    assert lines[i + 1] == "attention.agr:17:10: note: the other operand was produced here"


def test_the_tag_that_passes_the_wrong_inputs_is_reported(tmp_path: Path):
    r = check(tmp_path, perceiver_swapped())
    assert ("perceiver.agr:33:10: error: in up_attn, at attention.agr:21: Add: cannot broadcast [8, 32] with "
            "[32, 8]; this tag passes in q_in `[8, 64]`, kv_in `[32, 64]`, mask `[32, 8]` [shape-mismatch]") in r.stderr
    assert "2 errors" in r.stderr


def test_an_error_met_in_every_instance_names_them_all(tmp_path: Path):
    broken = PERCEIVER["attention.agr"].replace('<input src="kt" />', '<input src="kt_typo" />')
    r = check(tmp_path, dict(PERCEIVER, **{"attention.agr": broken}))
    assert ("In cross_attn, sourced at perceiver.agr:21:10:\n"
            "In down_attn, sourced at perceiver.agr:27:10:\n"
            "In up_attn, sourced at perceiver.agr:33:10:\n"
            "attention.agr:16:21: error: 'kt_typo' is not defined (in 3 copies of 'cross_attn' (attention.agr), "
            "'down_attn' (attention.agr), 'up_attn' (attention.agr)) [undefined-tensor]") in r.stderr


def test_json_lists_the_related_locations(tmp_path: Path):
    r = check(tmp_path, perceiver_swapped(), "--format", "json")
    [inside] = [d for d in json.loads(r.stdout) if d["file"] == "attention.agr"]
    chain = [x for x in inside["related"] if "instance" in x]
    assert chain == [{"file": "perceiver.agr", "range": {"start": {"line": 32, "character": 9},
                                                          "end": {"line": 32, "character": 14}},
                      "message": "in up_attn, sourced at perceiver.agr:33", "instance": "up_attn"}]
