"""The differential fuzzer in CI (issue 11, item 9): a seeded batch of generated projects,
each judged by onnx.checker, onnxruntime and the PyTorch bridge (tests/fuzz/oracle.py),
must give zero disagreements. The long run is scripts/fuzz.py."""
from __future__ import annotations

import os
import re
import sys
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytest.importorskip("torch")

from fuzz.gen import generate  # noqa: E402
from fuzz.oracle import DISAGREEMENTS  # noqa: E402
from fuzz.run import format_counts, make, run_batch, timed  # noqa: E402

SEED = 2026
N = int(os.environ.get("AGRIPPA_FUZZ_N", "400"))


def test_seeded_batch_has_no_disagreements() -> None:
    warnings.filterwarnings("ignore")
    (counts, found), seconds = timed(run_batch, SEED, range(N))
    print("\n" + format_counts(counts, N, seconds))
    report = "\n".join(f"#{i} {v.category}: {v.detail[:400]}" for i, v, _ in found)
    assert not found, f"disagreements (reproduce: make({SEED}, i) in tests/fuzz/run.py):\n{report}"
    assert counts["green-ok"] >= N // 2, "the generator should mostly make valid models"
    assert counts["red-ok"] + counts["red-allowed"] >= N // 20, "and a share of broken ones"


def test_generation_is_deterministic_and_covers_the_grammar() -> None:
    assert make(SEED, 7).files == make(SEED, 7).files
    text = "\n".join(t for i in range(150) for t in generate(i, broken=0).files.values())
    for needle in ('rep="', 'stretch="', '<block src="', 'shared="yes"', 'frozen="yes"', "var(", "expr(",
                   'type="int64"', 'op="Gather"', 'op="Cast"', 'op="Where"', 'op="Reshape"', 'op="Transpose"',
                   'name="nm', "dims=", 'expose="yes"'):
        assert needle in text, needle
    assert re.search(r'src="t\d+\$1"', text), "a rep copy read by its mangled name"


def test_every_category_is_printed() -> None:
    text = format_counts({}, 0)
    for cat in DISAGREEMENTS:
        assert cat in text


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_every_op_of_the_catalog(opset: int) -> None:
    """One model per op of the catalog (random attributes from the schema): no disagreement."""
    import tempfile

    from fuzz.catalog import generate as one_op
    from fuzz.run import judge_project

    from agrippa.sema.ops import all_ops

    warnings.filterwarnings("ignore")
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, schema in enumerate(all_ops(opset)):
            if schema.name.startswith(("Sequence", "Optional")):
                continue
            p = one_op(SEED + k, schema.name, opset)
            v = judge_project(p, tmp)
            if v.category in DISAGREEMENTS:
                bad.append(f"{schema.name} ({p.intent}): {v.category}: {v.detail[-300:]}")
    assert not bad, "\n".join(bad)
