"""Training from agrippa.toml's [train] table: config diagnostics, the CLI, resume, signals,
data parallelism, the batched path, inference and the chargpt example."""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agrippa.backend.weights import load_weights  # noqa: E402
from agrippa.project.config import load_config  # noqa: E402
from agrippa.train import validate_train_config  # noqa: E402
from agrippa.train.cli import main as train_main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
W_TRUE = np.array([0.5, -1.0, 2.0, 0.25, -0.75], dtype=np.float32)
B_TRUE = 0.3

LINREG_AGR = (ROOT / "examples" / "linreg" / "linreg.agr").read_text()

LINREG_DATA = f"""import numpy as np

W = np.array({W_TRUE.tolist()}, dtype=np.float32)
B = {B_TRUE}


def batches(batch_size, seed):
    x = np.random.default_rng(1234).normal(size=(5000, 5)).astype(np.float32)
    y = x @ W + B
    order = np.random.default_rng(seed).permutation(len(x))
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        yield {{"x": x[idx], "y": y[idx]}}
"""


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: the machine is small and shared, where more threads thrash."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def linreg_project(path: Path, train: str, data: str = "callable") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.agr").write_text(LINREG_AGR)
    if data == "callable":
        (path / "data.py").write_text(LINREG_DATA)
        source = 'data = "data.py:batches"'
    else:
        x = np.random.default_rng(1234).normal(size=(5000, 5)).astype(np.float32)
        np.savez(path / "train.npz", x=x, y=x @ W_TRUE + B_TRUE)
        source = 'data = "train.npz"'
    (path / "agrippa.toml").write_text(f"[bindings]\nn = 5\n\n[train]\n{source}\n{train}")
    return path


def read_log(path: Path) -> list[dict[str, str]]:
    with open(path / "train_log.csv", newline="") as f:
        return list(csv.DictReader(f))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# ------------------------------------------------------------------ configuration


def test_config_diagnostics_have_positions(tmp_path: Path) -> None:
    (tmp_path / "data.py").write_text("def batches():\n    return []\n")
    text = ('[bindings]\nn = 5\n\n[train]\ndata = "data.py:batches"\nlr = -1\nstpes = 10\n'
            'optimizer = "rmsprop"\nbetas = [0.9]\nschedule = "inverse_sqrt"\neval_data = "missing.npz"\n')
    (tmp_path / "agrippa.toml").write_text(text)
    cfg, diags = validate_train_config(load_config(str(tmp_path)))
    assert cfg is None
    found = {d.range.start.line: d.message for d in diags if d.is_error}
    assert "positive number" in found[5]  # lr
    assert "did you mean 'steps'" in found[6]
    assert "rmsprop" in found[7]
    assert "betas" in found[8]
    assert "warmup" in found[9]
    assert "missing.npz not found" in found[10]
    assert all(d.file.endswith("agrippa.toml") for d in diags)


def test_config_defaults_and_no_table(tmp_path: Path) -> None:
    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = 1\n")
    assert validate_train_config(load_config(str(tmp_path))) == (None, [])
    (tmp_path / "d.npz").write_bytes(b"")
    (tmp_path / "agrippa.toml").write_text('[train]\ndata = "d.npz"\noptimizer = "adamw"\n')
    cfg, diags = validate_train_config(load_config(str(tmp_path)))
    assert cfg is not None and not diags
    assert (cfg.batch_size, cfg.lr, cfg.decay, cfg.schedule, cfg.loss) == (32, 1e-3, 0.01, "constant", "mse")


def test_cli_reports_config_errors(tmp_path: Path) -> None:
    linreg_project(tmp_path, "lr = 0\nbogus = 1\n")
    proc = subprocess.run([PY, "-m", "agrippa.train", str(tmp_path)], capture_output=True, text=True,
                          env=ENV, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert any(line.startswith(f"{tmp_path / 'agrippa.toml'}:6:1: error: lr must be") for line in lines), lines
    assert any(":7:1: error: unknown key 'bogus'" in line for line in lines), lines


def test_learning_rate_schedules() -> None:
    from agrippa.project.train_config import TrainConfig
    from agrippa.train.optim import learning_rate

    cfg = TrainConfig(schedule="inverse_sqrt", warmup=100, lr_scale=2.0)
    for step in (1, 50, 100, 400):
        expect = 2.0 * 512 ** -0.5 * min(step ** -0.5, step * 100 ** -1.5)
        assert math.isclose(learning_rate(cfg, step, 512), expect)
    cfg = TrainConfig(schedule="inverse_sqrt", warmup=100, lr=0.01)
    assert math.isclose(learning_rate(cfg, 100), 0.01)
    assert math.isclose(learning_rate(cfg, 400), 0.005)
    assert learning_rate(TrainConfig(lr=0.3), 7) == 0.3


# ------------------------------------------------------------------ training


@pytest.mark.parametrize("data", ["callable", "npz"])
def test_linreg_recovers_weights(tmp_path: Path, data: str) -> None:
    proj = linreg_project(tmp_path / "lr", 'target = "y"\nloss = "mse"\noptimizer = "sgd"\nlr = 0.1\n'
                          "batch_size = 50\nepochs = 2\nthreads = 1\n", data)
    assert train_main([str(proj)]) == 0
    w = load_weights(proj / "weights.safetensors")
    assert np.abs(w["W$1"] - W_TRUE).max() < 0.05
    assert abs(float(w["b$1"][0]) - B_TRUE) < 0.05
    rows = read_log(proj)
    assert len(rows) == 200 and float(rows[-1]["loss"]) < 1e-3
    assert (proj / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # inference through onnxruntime on the trained weights
    from agrippa.train.infer import main as run_main

    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert run_main([str(proj), "--input", f"x={tmp_path / 'x.npy'}", "-o", str(tmp_path / "y.npz")]) == 0
    y = np.load(tmp_path / "y.npz")["y"]
    assert y.shape == (3, 1) and np.allclose(y[:, 0], x @ W_TRUE + B_TRUE, atol=0.05)


def test_json_progress_resume_and_sigint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = linreg_project(tmp_path, 'target = "y"\nlr = 0.01\nbatch_size = 10\nsteps = 1000000\n'
                          "checkpoint_every = 50\n")
    proc = subprocess.Popen([PY, "-m", "agrippa.train", str(proj), "--json-progress"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    first = json.loads(proc.stdout.readline())  # training has started
    assert {"step", "total", "loss", "eta_s", "examples_per_s"} <= set(first) and first["total"] == 1000000
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT, err
    done = json_lines(out)[-1]
    assert done["done"] is True and done["interrupted"] is True and done["weights"] == str(proj / "weights.safetensors")
    stopped = done["step"]
    assert stopped > 1 and done["final_loss"] is not None
    assert set(load_weights(done["weights"])) == {"W$1", "b$1"}
    assert int(read_log(proj)[-1]["step"]) == stopped
    # resume continues from the step where it stopped, to the new total
    capsys.readouterr()
    assert train_main([str(proj), "--json-progress", "--steps", str(stopped + 20)]) == 0
    lines = json_lines(capsys.readouterr().out)
    assert lines[0]["step"] == stopped + 1 and lines[-1] == {
        "done": True, "weights": str(proj / "weights.safetensors"), "final_loss": lines[-1]["final_loss"],
        "step": stopped + 20, "interrupted": False}
    steps = [int(r["step"]) for r in read_log(proj)]
    assert steps == list(range(1, stopped + 21))
    # a finished run is not resumed: --resume with no more steps to go does nothing
    assert train_main([str(proj), "--resume", "--steps", str(stopped + 20)]) == 0
    assert len(read_log(proj)) == stopped + 20


def test_json_progress_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proj = linreg_project(tmp_path, 'target = "nope"\nsteps = 3\n')
    assert train_main([str(proj), "--json-progress"]) == 1
    last = json_lines(capsys.readouterr().out)[-1]
    assert last["done"] is False and "lacks nope (the target)" in last["error"]


def test_sigkill_never_leaves_a_broken_weights_file(tmp_path: Path) -> None:
    proj = linreg_project(tmp_path, 'target = "y"\nlr = 0.01\nbatch_size = 10\ncheckpoint_every = 1\n'
                          'plot = ""\n')
    script = ROOT / "tests" / "data" / "train" / "kill_trials.py"
    proc = subprocess.run([PY, str(script), str(proj), "20", "7"], capture_output=True, text=True, env=ENV,
                          timeout=150)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["trials"] == 20 and report["failures"] == [], report
    assert report["loaded"] >= 15 and report["checkpoints"] >= 10, report  # most kills hit training


def test_ddp_matches_single_process(tmp_path: Path) -> None:
    mlp = """<model>
    <import from="x" dim="[4]" />
    <block title="MLP">
        <node op="MatMul"><input src="x" /><params name="W1" dim="[4, 8]" /><output name="h" /></node>
        <node op="Add"><input src="h" /><params name="b1" dim="[8]" /><output name="hb" /></node>
        <node op="Relu"><input src="hb" /><output name="r" /></node>
        <node op="MatMul"><input src="r" /><params name="W2" dim="[8, 1]" /><output name="y" /></node>
    </block>
    <export from="y" dim="[1]" />
</model>
"""
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = np.sin(x.sum(1, keepdims=True)).astype(np.float32)
    logs = {}
    for nproc in (1, 2):
        proj = tmp_path / f"p{nproc}"
        proj.mkdir()
        (proj / "mlp.agr").write_text(mlp)
        np.savez(proj / "d.npz", x=x, y=y)
        (proj / "agrippa.toml").write_text('[train]\ndata = "d.npz"\ntarget = "y"\noptimizer = "adam"\n'
                                           "lr = 0.01\nbatch_size = 16\nsteps = 12\nplot = \"\"\n")
        if nproc == 1:
            assert train_main([str(proj)]) == 0
        else:
            proc = subprocess.run([PY, "-m", "agrippa.train", str(proj), "--nproc", str(nproc), "--json-progress"],
                                  capture_output=True, text=True, env=ENV, timeout=150)
            assert proc.returncode == 0, proc.stderr[-3000:]
            assert json_lines(proc.stdout)[-1]["done"] is True
        logs[nproc] = [float(r["loss"]) for r in read_log(proj)]
    assert len(logs[1]) == len(logs[2]) == 12
    np.testing.assert_allclose(logs[2], logs[1], rtol=1e-4, atol=1e-6)
    w1, w2 = load_weights(tmp_path / "p1" / "weights.safetensors"), load_weights(tmp_path / "p2" / "weights.safetensors")
    for k in w1:
        np.testing.assert_allclose(w2[k], w1[k], rtol=1e-4, atol=1e-6)


def test_ctrl_c_under_nproc_stops_every_worker_cleanly(tmp_path: Path) -> None:
    """Ctrl-C reaches the launcher; the workers stop together, save, and nobody prints a
    traceback (torchrun included)."""
    proj = linreg_project(tmp_path, 'target = "y"\nlr = 0.01\nbatch_size = 10\nsteps = 1000000\nplot = ""\n')
    proc = subprocess.Popen([PY, "-m", "agrippa.train", str(proj), "--nproc", "2", "--json-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)  # its own group, as a shell gives a job
    try:
        first = json.loads(proc.stdout.readline())  # training has started
        assert first["step"] >= 1
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends the foreground job
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGINT, err[-3000:]
    done = json_lines(out)[-1]
    assert done["done"] is True and done["interrupted"] is True
    assert "Traceback" not in err and "SignalException" not in err, err[-3000:]
    assert set(load_weights(done["weights"])) == {"W$1", "b$1"}
    assert int(read_log(proj)[-1]["step"]) == done["step"]


# ------------------------------------------------------------------ batched path


@pytest.mark.parametrize("example", ["chargpt", "gpt", "transformer", "mlp", "cnn", "linreg"])
def test_batched_path_matches_vmap(example: str, tmp_path: Path) -> None:
    import onnx

    from agrippa.backend.compile import compile_project
    from agrippa.backend.torch_bridge import batched, onnx_to_torch
    from agrippa.train.batching import native_batched

    if not (ROOT / "examples" / example).is_dir():
        pytest.skip(f"examples/{example} not present")
    res = compile_project(str(ROOT / "examples" / example), str(tmp_path / "m.onnx"), write_weights=False,
                          reinit=True, seed=0)
    proto = onnx.load(res.onnx_path)
    module = onnx_to_torch(proto)
    runner = native_batched(module, proto)
    assert runner is not None
    g = torch.Generator().manual_seed(0)
    args = [torch.randn(3, *[d.dim_value for d in i.type.tensor_type.shape.dim], generator=g)
            for i in proto.graph.input]
    out, ref = runner.run(args), batched(module)(*args)
    for o, r in zip(out if isinstance(out, tuple) else (out,), ref if isinstance(ref, tuple) else (ref,)):
        # float32 in another summation order (fused projections): relative to the output's scale
        torch.testing.assert_close(o, r, rtol=1e-4, atol=1e-5 * max(1.0, r.abs().max().item()))
    # gradients agree too
    grads = []
    vmapped = batched(module)
    for run in (runner.run, lambda a: vmapped(*a)):
        module.zero_grad()
        o = run(args)
        sum(t.square().sum() for t in (o if isinstance(o, tuple) else (o,))).backward()
        grads.append({k: p.grad.clone() for k, p in module.named_parameters() if p.grad is not None})
    for k, ref_grad in grads[1].items():  # float32 sums in another order: relative to the scale
        scale = max(1.0, ref_grad.abs().max().item())
        torch.testing.assert_close(grads[0][k], ref_grad, rtol=1e-3, atol=1e-4 * scale)


# ------------------------------------------------------------------ chargpt


def test_chargpt_learns_below_unigram_entropy(tmp_path: Path) -> None:
    src = ROOT / "examples" / "chargpt"
    proj = tmp_path / "chargpt"
    shutil.copytree(src, proj, ignore=shutil.ignore_patterns("weights.*", "train_*", "loss.png", "*.onnx",
                                                             "__pycache__"))
    proc = subprocess.run([PY, "-m", "agrippa.train", str(proj), "--steps", "200", "--json-progress"],
                          capture_output=True, text=True, env=ENV, timeout=170)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sys.path.insert(0, str(proj))
    try:
        import data as chardata  # the example's data.py
    finally:
        sys.path.remove(str(proj))
        sys.modules.pop("data", None)
    ids = chardata.corpus("train")
    counts = np.array(list(Counter(ids.tolist()).values()), dtype=np.float64)
    p = counts / counts.sum()
    unigram = float(-(p * np.log(p)).sum())  # nats per character
    rows = read_log(proj)
    assert len(rows) == 200
    final = np.mean([float(r["loss"]) for r in rows[-20:]])
    assert final < unigram - 0.5, (final, unigram)
    evals = [float(r["eval_loss"]) for r in rows if r["eval_loss"]]
    assert evals and evals[-1] < unigram
    assert (proj / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert json_lines(proc.stdout)[-1]["done"] is True
