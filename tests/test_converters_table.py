"""The op table (`docs/ops.md`), the checker's copy of it (`agrippa.sema.ops.trainable`), the
`untrainable-op` warning, and training end to end through ops upstream onnx2torch lacks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agrippa.project.config import max_opset
from agrippa.sema.analysis import analyze

torch = pytest.importorskip("torch")

from agrippa.backend.converters import coverage, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_docs_ops_md_is_up_to_date() -> None:
    assert (ROOT / "docs" / "ops.md").read_text() == table.render_markdown(), (
        "regenerate: python -m agrippa.backend.converters.table > docs/ops.md")


def test_sema_trainable_is_up_to_date() -> None:
    path = ROOT / "compiler" / "agrippa" / "sema" / "ops" / "trainable.py"
    assert path.read_text() == table.render_trainable(), (
        "regenerate: python -m agrippa.backend.converters.table --trainable > compiler/agrippa/sema/ops/trainable.py")


def test_trainable_equals_the_registry() -> None:
    from agrippa.sema.ops.trainable import TRAINABLE, WHY_NOT

    assert coverage.trainable() == TRAINABLE
    untrained = {op for op, vs in coverage.versions().items() for v in vs if (op, v) not in TRAINABLE}
    assert set(WHY_NOT) == untrained
    # what the issue asked for, at every version the catalog can use
    for op in ("Trilu", "Gelu", "RMSNormalization", "LayerNormalization", "Erf", "Softplus", "Mish", "HardSwish",
               "CumSum", "Einsum", "Where", "Equal", "Less", "Range", "Expand", "OneHot", "TopK", "ArgMax",
               "ReduceL2", "ReduceMean", "GatherElements", "ScatterND", "InstanceNormalization",
               "GroupNormalization", "Attention", "Cast", "Split", "Pad"):
        assert all((op, v) in TRAINABLE for v in coverage.versions()[op]), op
    assert "If" in WHY_NOT and "SequenceAt" in WHY_NOT


AGR = """<model script-version="0.0.1">
    <import from="x" dim="[var(n), var(d)]" />
    <block title="Causal mixing">
        <node op="MatMul"><input src="x"/><params name="Wq" dim="[var(d), var(d)]"/>
            <output name="q" dim="[var(n), var(d)]"/></node>
        <node op="Transpose" perm="[1, 0]"><input src="x"/><output name="xt" dim="[var(d), var(n)]"/></node>
        <node op="MatMul"><input src="q"/><input src="xt"/><output name="scores" dim="[var(n), var(n)]"/></node>
        <node op="Trilu" upper="0"><input src="scores"/><output name="causal" dim="[var(n), var(n)]"/></node>
        <node op="MatMul"><input src="causal"/><input src="x"/><output name="mixed" dim="[var(n), var(d)]"/></node>
        <node op="ACTIVATION"><input src="mixed"/><output name="act" dim="[var(n), var(d)]"/></node>
        NORM
        <node op="MatMul"><input src="act"/><params name="Wo" dim="[var(d), var(d)]"/>
            <output name="y" dim="[var(n), var(d)]"/></node>
    </block>
    <export from="y" dim="[var(n), var(d)]" />
</model>
"""

DATA = """import numpy as np


def batches(batch_size, seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        x = rng.normal(size=(batch_size, 4, 3)).astype(np.float32)
        y = np.tril(np.ones((4, 4), np.float32)) @ x * 0.5
        yield {"x": x, "y": y}
"""


RMS_NORM = """<node op="RMSNormalization"><input src="act"/><params name="g" dim="[var(d)]" init="ones"/>
            <output name="normed" dim="[var(n), var(d)]"/></node>"""


def _project(path: Path, activation: str, opset: int, norm: bool = False) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    text = AGR.replace("ACTIVATION", activation).replace("NORM", RMS_NORM if norm else "")
    if norm:
        text = text.replace('<input src="act"/><params name="Wo"', '<input src="normed"/><params name="Wo"')
    (path / "main.agr").write_text(text)
    (path / "data.py").write_text(DATA)
    (path / "agrippa.toml").write_text(
        f'[model]\nopset = {opset}\n\n[bindings]\nn = 4\nd = 3\n\n[train]\ndata = "data.py:batches"\n'
        'target = "y"\nloss = "mse"\nlr = 0.05\nbatch_size = 8\nsteps = 6\nthreads = 1\n')
    return path


@pytest.mark.parametrize("norm", [False, True], ids=["trilu-gelu", "trilu-gelu-rmsnorm"])
def test_trilu_causal_mask_gelu_and_rms_norm_train(tmp_path: Path, norm: bool) -> None:
    from agrippa.backend.weights import load_weights
    from agrippa.train.cli import main as train_main

    opset, activation = (20, "Gelu") if max_opset() >= 20 else (17, "Erf")
    if norm and max_opset() < 23:
        pytest.skip("RMSNormalization needs opset 23")
    proj = _project(tmp_path / "p", activation, 23 if norm else opset, norm)
    result = analyze(str(proj / "main.agr"))
    assert [d for d in result.diagnostics if d.severity.name in ("ERROR", "WARNING")] == []
    assert train_main([str(proj)]) == 0
    weights = load_weights(proj / "weights.safetensors")
    assert set(weights) == {"Wq$1", "Wo$1"} | ({"g$1"} if norm else set()) and all(np.isfinite(w).all() for w in weights.values())


def test_untrainable_op_is_warned_at_its_op_value(tmp_path: Path) -> None:
    proj = _project(tmp_path / "p", "RandomNormalLike", 17)
    result = analyze(str(proj / "main.agr"))
    [warning] = [d for d in result.diagnostics if d.code == "untrainable-op"]
    text = (proj / "main.agr").read_text().splitlines()[warning.range.start.line]
    assert text[warning.range.start.character:warning.range.end.character] == "RandomNormalLike"
    assert "random op" in warning.message and warning.severity.name == "WARNING"
