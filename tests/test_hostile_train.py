"""Issue 12, training data: `[train] data`, `eval_data` and a `loss` from a file are read only
through the project's file-access policy. A file outside the project (after symlinks), a
FIFO or a device is refused with a diagnostic at its key of agrippa.toml, in `agrippa
check` and in the editor, and again when training opens it (nothing is opened then)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import assert_never_opened, cli_check, json_span, recording, write

from agrippa.project.config import load_config
from agrippa.project.train_config import validate_train_config
from agrippa.train.data import DataError, NpzSource, open_source

MODEL = ('<model><import from="x" dim="[3, 4]"/><block><node op="Relu"><input src="x"/><output name="y"/>'
         '</node></block><export from="y" dim="[3, 4]"/></model>')


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    """A project, and beside it a data file that must never be read."""
    project = tmp_path / "project"
    project.mkdir()
    secret = tmp_path / "secret.npz"
    np.savez(secret, x=np.zeros((8, 3, 4), np.float32), target=np.zeros((8, 3, 4), np.float32))
    (project / "main.agr").write_text(MODEL)
    return project, secret


def _toml(key: str, value: str) -> str:
    return f'[model]\nindex = "main.agr"\n\n[train]\n⟦{key}⟧ = "{value}"\n' + (
        'data = "d.npz"\n' if key != "data" else "")


def _refused(project: Path, key: str, value: str, code: str) -> None:
    """`check` reports `code` at `key` of agrippa.toml, and training refuses the file."""
    where, rng = write(project, {"agrippa.toml": _toml(key, value)})
    diags, _, _ = cli_check(project)
    found = [d for d in diags if d["code"] == code]
    assert found, diags
    assert json_span(found[0]) == rng and Path(project, found[0]["file"]).resolve() == where.resolve()
    assert f"{key}: " in found[0]["message"] and "is not read" in found[0]["message"]


def test_data_outside_the_project_is_refused_at_its_key(world):
    project, secret = world
    _refused(project, "data", str(secret), "outside-project")
    _refused(project, "data", "../secret.npz", "outside-project")


def test_a_symlink_pointing_outside_is_refused_and_never_opened(world):
    project, secret = world
    (project / "d.npz").symlink_to(secret)
    _refused(project, "data", "d.npz", "outside-project")
    with recording() as opened, pytest.raises(DataError, match="outside the project folder"):
        open_source("d.npz", project_dir=str(project), batch_size=2, seed=0, split="train", bindings={},
                    ranks={"x": 2}, target="target")
    assert_never_opened(opened, secret)


def test_eval_data_and_a_loss_file_are_judged_too(world, tmp_path):
    project, secret = world
    np.savez(project / "d.npz", x=np.zeros((8, 3, 4), np.float32), target=np.zeros((8, 3, 4), np.float32))
    (project / "e.npz").symlink_to(secret)
    _refused(project, "eval_data", "e.npz", "outside-project")
    outside_py = tmp_path / "loss.py"
    outside_py.write_text("def f(pred, target):\n    raise SystemExit('ran')\n")
    (project / "loss.py").symlink_to(outside_py)
    _refused(project, "loss", "loss.py:f", "outside-project")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_data_is_refused_without_hanging(world):
    project, _ = world
    os.mkfifo(project / "pipe.npz")
    _refused(project, "data", "pipe.npz", "not-a-regular-file")
    with pytest.raises(DataError, match="FIFO"):
        NpzSource(str(project / "pipe.npz"), batch_size=2, seed=0, ranks={}, target="target")


def test_a_device_behind_a_symlink_is_never_opened(world):
    project, _ = world
    (project / "z.npz").symlink_to("/dev/zero")
    _refused(project, "data", "z.npz", "outside-project")
    with recording() as opened, pytest.raises(DataError):
        open_source("z.npz", project_dir=str(project), batch_size=2, seed=0, split="train", bindings={},
                    ranks={}, target="target")
    assert_never_opened(opened, "/dev/zero")


def test_a_data_file_in_an_allowed_root_is_read(world, tmp_path):
    project, secret = world
    (project / "agrippa.toml").write_text('[project]\nroots = [".."]\n[train]\ndata = "../secret.npz"\n')
    cfg, diags = validate_train_config(load_config(str(project)))
    assert cfg is not None and not diags, [d.message for d in diags]
    source = open_source(cfg.data, project_dir=str(project), batch_size=2, seed=0, split="train", bindings={},
                         ranks={"x": 2}, target="target")
    assert source.steps_per_epoch == 4


def test_data_inside_the_project_is_read_as_before(world):
    project, _ = world
    np.savez(project / "d.npz", x=np.ones((6, 3, 4), np.float32), target=np.ones((6, 3, 4), np.float32))
    (project / "agrippa.toml").write_text('[train]\ndata = "d.npz"\n')
    cfg, diags = validate_train_config(load_config(str(project)))
    assert cfg is not None and not diags
    source = open_source("d.npz", project_dir=str(project), batch_size=3, seed=0, split="train", bindings={},
                         ranks={"x": 2}, target="target")
    batch = next(iter(source.epoch(0)))
    assert batch["x"].shape == (3, 3, 4) and float(batch["target"].sum()) == 36.0
