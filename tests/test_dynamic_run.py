"""A dynamic batch dim end to end: compiled as ONNX dim_param, run in onnxruntime at batch
1 and 7 (the same numbers as a fixed-batch compile, example by example), and trained."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from agrippa.backend.compile import compile_project

ort = pytest.importorskip("onnxruntime")
ROOT = Path(__file__).resolve().parents[1]


def _session(path: str):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def _io_dims(path: str) -> list[list]:
    import onnx

    g = onnx.load(path).graph
    inits = {i.name for i in g.initializer}
    return [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*g.input, *g.output] if v.name not in inits]


def _compile(proj: Path, out: str, **kw) -> str:
    return compile_project(str(proj), str(proj / out), **kw).onnx_path


def _with_weights(src: Path, dst: Path) -> None:
    shutil.copy(src / "weights.safetensors", dst / "weights.safetensors")


# -- the CNN: examples/cnn already writes var(batch) ----------------------------------------------
def test_cnn_runs_at_any_batch(tmp_path):
    dyn, fixed = tmp_path / "dyn", tmp_path / "fixed"
    for p in (dyn, fixed):
        shutil.copytree(ROOT / "examples" / "cnn", p)
    toml = (dyn / "agrippa.toml").read_text().replace("batch = 2\n", "")
    (dyn / "agrippa.toml").write_text(toml.replace("opset = 13\n", 'opset = 13\ndynamic = ["batch"]\n'))
    model = _compile(dyn, "cnn.onnx", seed=0)
    assert _io_dims(model) == [["batch", 1, 28, 28], ["batch", 10]]
    _with_weights(dyn, fixed)
    sess = _session(model)
    rng = np.random.default_rng(0)
    for b in (1, 7):
        x = rng.normal(size=(b, 1, 28, 28)).astype(np.float32)
        got = sess.run(None, {"image": x})[0]
        want = _session(_compile(fixed, f"cnn{b}.onnx", bindings={"batch": b}, write_weights=False)).run(
            None, {"image": x})[0]
        assert got.shape == (b, 10)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# -- a GPT: examples/gpt with a leading batch dim on its tokens -------------------------------------
def gpt_batched(text: str) -> str:
    """examples/gpt/gpt.agr taking [batch, ntokens, nvocab] tokens: hints dropped, the keys'
    Transpose keeping the batch axis first, the root import and export with var(batch)."""
    text = re.sub(r'(<(?:input|output|import|export)\b[^>]*?) dim="[^"]*"', r"\1", text)
    text = text.replace('<import from="tokens" />',
                        '<import from="tokens" dim="[var(batch), var(ntokens), var(nvocab)]" />', 1)
    text = text.replace('<import from="mask" />', '<import from="mask" dim="[var(ntokens), var(ntokens)]" />', 1)
    head, sep, tail = text.rpartition('<export from="logits" />')
    text = head + '<export from="logits" dim="[var(batch), var(ntokens), var(nvocab)]" />' + tail
    return text.replace('title="Keys Transposed" perm="[1, 0]"', 'title="Keys Transposed" perm="[0, 2, 1]"')


def _gpt_inputs(b: int, rng) -> dict[str, np.ndarray]:
    ids = rng.integers(0, 512, size=(b, 32))
    tokens = np.eye(512, dtype=np.float32)[ids]
    mask = np.triu(np.full((32, 32), -1e9, np.float32), 1)
    return {"tokens": tokens, "mask": mask}


def test_gpt_runs_at_any_batch(tmp_path):
    one = tmp_path / "one"  # the example as it is: one sequence, no batch axis
    shutil.copytree(ROOT / "examples" / "gpt", one)
    dyn, fixed = tmp_path / "dyn", tmp_path / "fixed"
    for p in (dyn, fixed):
        shutil.copytree(one, p)
        (p / "gpt.agr").write_text(gpt_batched((one / "gpt.agr").read_text()))
    toml = (dyn / "agrippa.toml").read_text()
    (dyn / "agrippa.toml").write_text(toml.replace("opset = 17", 'dynamic = ["batch"]\nopset = 17'))
    model = _compile(dyn, "gpt.onnx", seed=0)
    assert _io_dims(model) == [["batch", 32, 512], [32, 32], ["batch", 32, 512]]
    _with_weights(dyn, fixed)
    _with_weights(dyn, one)
    single = _session(_compile(one, "gpt1.onnx", write_weights=False))
    sess = _session(model)
    rng = np.random.default_rng(0)
    for b in (1, 7):
        feeds = _gpt_inputs(b, rng)
        got = sess.run(None, feeds)[0]
        assert got.shape == (b, 32, 512)
        want = _session(_compile(fixed, f"gpt{b}.onnx", bindings={"batch": b}, write_weights=False)).run(None, feeds)[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        for i in range(b):  # example by example, through the batch-free model
            each = single.run(None, {"tokens": feeds["tokens"][i], "mask": feeds["mask"]})[0]
            np.testing.assert_allclose(got[i], each, rtol=1e-4, atol=1e-4)


# -- training feeds batches through the model's own batch dim ---------------------------------------
LINEAR = """<model>
  <import from="x" dim="[var(batch), var(n)]" />
  <block>
    <node op="MatMul" title="Betas">
      <input src="x" />
      <params name="W" dim="[var(n)]" />
      <output name="wx" />
    </node>
    <node op="Add" title="Bias">
      <input src="wx" />
      <params name="b" dim="[1]" init="zeros" />
      <output name="y" />
    </node>
  </block>
  <export from="y" dim="[var(batch)]" />
</model>
"""

DATA = """import numpy as np

W = np.array([0.5, -1.0, 2.0, 0.25, -0.75], dtype=np.float32)


def batches(batch_size, seed):
    x = np.random.default_rng(1234).normal(size=(2000, 5)).astype(np.float32)
    y = x @ W + 0.3
    order = np.random.default_rng(seed).permutation(len(x))
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        yield {"x": x[idx], "y": y[idx]}
"""


def test_training_uses_the_models_own_batch_dim(tmp_path):
    torch = pytest.importorskip("torch")
    from agrippa.backend.weights import load_weights
    from agrippa.train.cli import main as train_main
    from agrippa.train.model import build

    (tmp_path / "main.agr").write_text(LINEAR)
    (tmp_path / "data.py").write_text(DATA)
    (tmp_path / "agrippa.toml").write_text(
        '[model]\ndynamic = ["batch"]\n\n[bindings]\nn = 5\n\n[train]\ndata = "data.py:batches"\n'
        'target = "y"\nloss = "mse"\noptimizer = "sgd"\nlr = 0.1\nbatch_size = 25\nsteps = 150\nthreads = 1\n')
    (tmp_path / "build").mkdir()
    model = build(str(tmp_path), str(tmp_path / "build"), bindings={}, profile=None, seed=0, reinit=True,
                  write_weights=False, device=torch.device("cpu"))
    assert model.runner is model.module and model.inputs[0].batch_axis  # no vmap, no batched path
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert train_main([str(tmp_path)]) == 0
    finally:
        torch.set_num_threads(threads)
    w = load_weights(tmp_path / "weights.safetensors")
    assert np.abs(w["W$1"] - [0.5, -1.0, 2.0, 0.25, -0.75]).max() < 0.05
    assert abs(float(w["b$1"][0]) - 0.3) < 0.05


NPZ_MODEL = """<model>
  <import from="img" dim="[var(batch), 2, 4, 4]" />
  <block title="net">
    <node op="Flatten"><input src="img"/><output name="flat"/></node>
    <node op="MatMul"><input src="flat"/><params name="W" dim="[32, 3]"/><output name="y"/></node>
  </block>
  <export from="y" dim="[var(batch), 3]" />
</model>
"""


@pytest.mark.parametrize("dynamic", [True, False])
def test_npz_rows_train_a_model_whose_first_dim_is_the_batch(tmp_path, dynamic: bool) -> None:
    """An .npz of 16 images [16, 2, 4, 4] for a model declaring [batch, 2, 4, 4]: with `batch`
    dynamic, each step reads 4 rows (the array has the model's rank but holds the examples);
    without, the run stops with a one-line explanation instead of a torch traceback."""
    import subprocess
    import sys

    (tmp_path / "net.agr").write_text(NPZ_MODEL)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", img=rng.normal(size=(16, 2, 4, 4)).astype(np.float32),
             target=rng.normal(size=(16, 3)).astype(np.float32))
    model = '[model]\nindex = "net.agr"\n' + ('dynamic = ["batch"]\n' if dynamic else '[bindings]\nbatch = 4\n')
    (tmp_path / "agrippa.toml").write_text(model + '[train]\ndata = "d.npz"\nloss = "mse"\nbatch_size = 4\n'
                                           'steps = 3\nplot = ""\n')
    proc = subprocess.run([sys.executable, "-m", "agrippa.train", str(tmp_path)], capture_output=True, text=True,
                          timeout=240)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    if dynamic:
        assert proc.returncode == 0 and (tmp_path / "weights.safetensors").is_file(), proc.stderr[-2000:]
    else:
        assert proc.returncode != 0
        assert "the model gives 16 predictions for a batch of 4 targets" in proc.stderr + proc.stdout
