"""The researcher's [train] keys, on a copy of examples/chargpt (4 steps each): precision,
accumulate, schedules, TensorBoard, early stopping, compile's fallback, the CUDA path;
and the key docs, JSON Schema and docs/train.md generated from one schema."""
from __future__ import annotations

import csv
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agrippa.project.config import load_config  # noqa: E402
from agrippa.project.train_config import TrainConfig, validate_train_config  # noqa: E402
from agrippa.train.cli import load_train_config  # noqa: E402
from agrippa.train.loop import TrainOptions, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N, V = 8, 39  # a short context (the binding ntokens) and chargpt's alphabet


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def chargpt(path: Path, train_lines: str, examples: int = 32) -> Path:
    """A copy of examples/chargpt (small bindings) whose [train] table is `train_lines`, with
    data.npz: `examples` one-hot windows, their next characters and the shared mask."""
    shutil.copytree(ROOT / "examples" / "chargpt", path, ignore=shutil.ignore_patterns(
        "weights.*", "train_*", "loss.png", "*.onnx", "__pycache__", "runs"))
    ids = np.random.default_rng(0).integers(0, V, (examples, N + 1))
    np.savez(path / "data.npz", tokens=np.eye(V, dtype=np.float32)[ids[:, :-1]], next=ids[:, 1:],
             mask=np.triu(np.full((N, N), -1e9, dtype=np.float32), 1))
    toml = (path / "agrippa.toml").read_text().split("[train]")[0]
    toml = re.sub(r"ntokens = \d+", f"ntokens = {N}", toml)
    toml = re.sub(r"dffn = \d+", "dffn = 64", toml)
    (path / "agrippa.toml").write_text(
        toml + '[train]\ndata = "data.npz"\nprediction = "logits"\ntarget = "next"\n'
        'loss = "cross_entropy"\noptimizer = "adamw"\nlr = 0.003\nplot = ""\nseed = 0\n' + train_lines)
    return path


def run(path: Path, capsys: pytest.CaptureFixture[str] | None = None, **opts):
    cfg, diags = load_train_config(str(path))
    assert cfg is not None, [d.to_text() for d in diags]
    return train(cfg, TrainOptions(str(path), progress_bar=False, **opts))


def log_rows(path: Path) -> list[dict[str, str]]:
    with open(path / "train_log.csv", newline="") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ configuration


def test_new_keys_are_validated_with_positions(tmp_path: Path) -> None:
    (tmp_path / "d.npz").write_bytes(b"")
    lines = ['data = "d.npz"', "precision = 16", "accumulate = 0", 'schedule = "cosinus"',
             'loggers = ["csv", "wandb"]', "early_stopping = { patience = 0, metrik = 1 }",
             'device = "tpu"', 'compile = "yes"', 'strategy = "zero"', "min_lr = -1"]
    (tmp_path / "agrippa.toml").write_text("[train]\n" + "\n".join(lines) + "\n")
    cfg, diags = validate_train_config(load_config(str(tmp_path)))
    assert cfg is None
    found: dict[int, list[str]] = {}
    for d in diags:
        found.setdefault(d.range.start.line, []).append(d.message)
    assert 'write precision = "16" (a string)' in found[2][0]
    assert "accumulate must be a positive integer" in found[3][0]
    assert "cosinus" in found[4][0]
    assert "loggers" in found[5][0]
    assert any("patience" in m for m in found[6]) and any("did you mean 'metric'" in m for m in found[6])
    assert "tpu" in found[7][0] and "true or false" in found[8][0] and "zero" in found[9][0]
    assert "min_lr" in found[10][0]
    # early stopping on eval_loss needs eval_data; cosine's min_lr above lr
    (tmp_path / "agrippa.toml").write_text('[train]\ndata = "d.npz"\nschedule = "cosine"\nlr = 0.1\n'
                                           "min_lr = 0.5\n[train.early_stopping]\npatience = 2\n")
    cfg, diags = validate_train_config(load_config(str(tmp_path)))
    msgs = {d.range.start.line: d.message for d in diags if d.is_error}
    assert "above lr" in msgs[4] and "needs eval_data" in msgs[5]


def test_key_docs_schema_and_help_come_from_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses
    import json

    from agrippa.project.toml_docs import json_schema_text, toml_keys, train_markdown
    from agrippa.project.train_keys import TRAIN_KEYS
    from agrippa.train.cli import main as train_main

    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for k in TRAIN_KEYS:  # the documented defaults are the dataclass's
        if k.default_text is None and k.default is not None:
            want = defaults[k.name]
            assert (list(want) if isinstance(want, tuple) else want) == k.default, k.name
    assert (ROOT / "docs" / "train.md").read_text() == train_markdown(), \
        "docs/train.md is stale: python -m agrippa.project.toml_docs --write"
    schema_file = ROOT / "schema" / "agrippa.toml.schema.json"
    assert schema_file.read_text() == json_schema_text(), \
        "the schema is stale: python -m agrippa.project.toml_docs --write"
    schema = json.loads(schema_file.read_text())
    assert set(schema["properties"]["train"]["properties"]) == {k.name for k in TRAIN_KEYS}
    names = dict(toml_keys())
    assert {"model.opset", "project.roots", "train.lr", "train.early_stopping.patience",
            "bindings.*", "profiles.*.*"} <= set(names)
    # every key the examples write is in the schema
    import tomllib

    for toml in ROOT.glob("examples/*/agrippa.toml"):
        data = tomllib.loads(toml.read_text())
        for table in ("model", "project", "train"):
            assert set(data.get(table, {})) <= set(schema["properties"][table]["properties"]), toml
    with pytest.raises(SystemExit):
        train_main(["--help"])
    text = capsys.readouterr().out
    for k in TRAIN_KEYS:
        assert f"  {k.name} ({k.type}, default {k.default_repr}; e.g. {k.name} = {k.example})" in text


def test_schedules_follow_their_formulas() -> None:
    from agrippa.train.optim import learning_rate, make_scheduler

    cfg = TrainConfig(schedule="cosine", lr=0.1, min_lr=0.01, warmup=2)
    total = 10
    for s in range(1, total + 1):
        p = (s - 2) / (total - 2)
        want = 0.1 * s / 2 if s <= 2 else 0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * p))
        assert math.isclose(learning_rate(cfg, s, None, total), want)
    lin = TrainConfig(schedule="linear", lr=0.1, min_lr=0.0, warmup=0)
    assert [round(learning_rate(lin, s, None, 4), 6) for s in (1, 2, 4)] == [0.075, 0.05, 0.0]
    assert learning_rate(TrainConfig(lr=0.2, warmup=4), 1) == 0.05  # constant with warmup
    # the LambdaLR gives the same rates, one optimizer step after another
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make_scheduler(cfg, opt, None, lambda: total)
    seen = []
    for _ in range(total):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert np.allclose(seen, [learning_rate(cfg, s, None, total) for s in range(1, total + 1)])


# ------------------------------------------------------------------ on chargpt


def test_cosine_schedule_in_training(tmp_path: Path) -> None:
    proj = chargpt(tmp_path / "c", 'batch_size = 8\nsteps = 4\nschedule = "cosine"\nwarmup = 1\nmin_lr = 0.0003\n')
    run(proj)
    cfg = TrainConfig(schedule="cosine", lr=0.003, warmup=1, min_lr=0.0003)
    lrs = [float(r["lr"]) for r in log_rows(proj)]
    assert np.allclose(lrs, [learning_rate_of(cfg, s, 4) for s in range(1, 5)], rtol=1e-5)
    # warmup to lr at step 1, then p = 1/3, 2/3, 1 of the cosine down to min_lr
    assert lrs[0] == 0.003 and math.isclose(lrs[1], 0.0003 + 0.0027 * 0.75, rel_tol=1e-5)
    assert math.isclose(lrs[-1], 0.0003, rel_tol=1e-5)


def learning_rate_of(cfg: TrainConfig, step: int, total: int) -> float:
    from agrippa.train.optim import learning_rate

    return learning_rate(cfg, step, None, total)


def test_accumulate_2_of_8_equals_batch_16(tmp_path: Path) -> None:
    from agrippa.backend.weights import load_weights

    big = chargpt(tmp_path / "big", "batch_size = 16\nsteps = 4\n")
    acc = chargpt(tmp_path / "acc", "batch_size = 8\naccumulate = 2\nsteps = 4\n")
    run(big)
    run(acc)
    np.testing.assert_allclose([float(r["loss"]) for r in log_rows(acc)],
                               [float(r["loss"]) for r in log_rows(big)], rtol=1e-5)
    wb, wa = load_weights(big / "weights.safetensors"), load_weights(acc / "weights.safetensors")
    for k in wb:
        np.testing.assert_allclose(wa[k], wb[k], rtol=1e-4, atol=1e-6, err_msg=k)
    one = chargpt(tmp_path / "one", "batch_size = 8\nsteps = 4\n")  # and it is not batch 8
    run(one)
    wo = load_weights(one / "weights.safetensors")
    assert not all(np.allclose(wo[k], wb[k], atol=1e-6) for k in wb)


def test_tensorboard_event_file_holds_the_scalars(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    proj = chargpt(tmp_path / "tb", 'batch_size = 8\nsteps = 4\neval_data = "data.npz"\neval_every = 2\n'
                   'eval_batches = 1\nloggers = ["csv", "tensorboard"]\n')
    run(proj)
    acc = EventAccumulator(str(proj / "runs"))
    acc.Reload()
    assert {"train/loss", "train/lr", "train/examples_per_s", "eval/loss"} <= set(acc.Tags()["scalars"])
    rows = log_rows(proj)
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in acc.Scalars("train/loss")],
                               [float(r["loss"]) for r in rows], rtol=1e-5)
    assert [e.step for e in acc.Scalars("eval/loss")] == [2, 4]
    assert all(e.value > 0 for e in acc.Scalars("train/examples_per_s"))
    # without "csv" there is no CSV log
    proj2 = chargpt(tmp_path / "tb2", 'batch_size = 8\nsteps = 1\nloggers = ["tensorboard"]\n')
    run(proj2)
    assert not (proj2 / "train_log.csv").exists() and (proj2 / "runs").is_dir()


def test_early_stopping_stops_at_the_right_step(tmp_path: Path) -> None:
    from agrippa.train.loggers import EarlyStopper

    s = EarlyStopper("eval_loss", patience=2, min_delta=0.1)
    assert [s.observe(v) for v in (5.0, 4.0, 3.95, 3.0, 2.95, 2.99)] == [False, False, False, False, False, True]
    # every evaluation after the first fails to improve by 1e9: patience 2 stops at step 3
    proj = chargpt(tmp_path / "es", 'batch_size = 8\nsteps = 4\neval_data = "data.npz"\neval_every = 1\n'
                   "eval_batches = 1\nearly_stopping = { patience = 2, min_delta = 1e9 }\n")
    result = run(proj)
    assert result.early_stopped and result.step == 3 and len(log_rows(proj)) == 3
    state = torch.load(proj / "train_checkpoint.pt", weights_only=True)
    assert state["finished"] and state["step"] == 3 and state["early_stopping"]["bad"] == 2


def test_bf16_autocast_is_active(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agrippa.train import loop

    dtypes = []
    make_loss = loop.make_loss

    def spy(spec, project_dir):
        fn = make_loss(spec, project_dir)

        def loss(pred, target):
            dtypes.append(pred.dtype)  # the logits: an intermediate of the step
            return fn(pred, target)

        return loss

    monkeypatch.setattr(loop, "make_loss", spy)
    proj = chargpt(tmp_path / "bf", 'batch_size = 8\nsteps = 4\nprecision = "bf16"\n')
    result = run(proj)
    assert dtypes == [torch.bfloat16] * 4 and math.isfinite(result.final_loss)
    # the weights stay float32
    from agrippa.backend.weights import load_weights

    assert all(w.dtype == np.float32 for w in load_weights(proj / "weights.safetensors").values())


def test_compile_failure_falls_back_to_eager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def broken(module, **kw):
        def call(*a, **k):
            raise RuntimeError("inductor: C++ compile error (simulated)")

        return call

    monkeypatch.setattr(torch, "compile", broken)
    proj = chargpt(tmp_path / "co", "batch_size = 8\nsteps = 2\ncompile = true\n")
    result = run(proj)
    assert result.step == 2 and len(log_rows(proj)) == 2
    err = capsys.readouterr().err
    assert "compile = true: compiling the model failed (RuntimeError: inductor: C++ compile error" in err
    assert "training eagerly" in err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine: the CUDA "
                    "path (device placement, pinned memory, float16 autocast with a GradScaler) is untested here")
def test_cuda_float16_with_scaler(tmp_path: Path) -> None:
    proj = chargpt(tmp_path / "cu", 'batch_size = 8\nsteps = 4\ndevice = "cuda"\nprecision = "16"\n'
                   "checkpoint_every = 2\n")
    result = run(proj)
    assert math.isfinite(result.final_loss)
    state = torch.load(proj / "train_checkpoint.pt", weights_only=True)
    assert state["scaler"] and state["scaler"]["scale"] > 0 and state["cuda_rng"]


@pytest.mark.slow
def test_compile_trains_like_eager(tmp_path: Path) -> None:
    """A real torch.compile (inductor; on CPU it builds C++): the same losses as eager."""
    from agrippa.train.accel import cxx_compiler

    if cxx_compiler() is None:
        pytest.skip("no C++ compiler: torch.compile cannot build CPU kernels here")
    mlp = (ROOT / "tests" / "test_train_fsdp.py").read_text().split('MLP = """')[1].split('"""')[0]
    runs = {}
    for flag in ("false", "true"):
        proj = tmp_path / flag
        proj.mkdir()
        (proj / "mlp.agr").write_text(mlp)
        x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
        np.savez(proj / "d.npz", x=x, y=np.sin(x.sum(1, keepdims=True)).astype(np.float32))
        (proj / "agrippa.toml").write_text('[train]\ndata = "d.npz"\ntarget = "y"\noptimizer = "adam"\n'
                                           f'lr = 0.01\nbatch_size = 8\nsteps = 3\nplot = ""\ncompile = {flag}\n')
        runs[flag] = run(proj).losses
    np.testing.assert_allclose(runs["true"], runs["false"], rtol=1e-4)
