"""Issue 12: never lose data, never overwrite sources. Pickle bombs refused fast, huge and
non-finite parameters caught by check, complex weights refused, stored weights kept,
`compile -o` never over a source, output errors in one line, temp files cleaned up."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import IO

from agrippa.backend.compile import OutputError, compile_project
from agrippa.backend.weights import WeightsError, clean_stale_temps, load_weights, save_weights
from agrippa.backend.weights.atomic import TEMP_PREFIX, atomic_write_bytes
from agrippa.base.diagnostics import CompileError
from agrippa.sema.analysis import analyze

LIMIT = 10.0
MODEL = (f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]"/><output name="y"/>'
         '</node></block><export from="y" dim="[3, 4]"/></model>')


def _dag(levels: int) -> bytes:
    """EMPTY_TUPLE, then each level a 2-tuple of the previous one through the memo: a few
    bytes a level, 2^levels items when walked or hashed."""
    out = b")q\x000"  # EMPTY_TUPLE, BINPUT 0, POP
    for i in range(levels):
        out += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86q" + bytes([i + 1]) + b"0"  # 2-tuple, memo, pop
    return out + b"h" + bytes([levels])  # the last level


DTYPE_BOMB = b"\x80\x02}X\x01\x00\x00\x00wcnumpy\ndtype\n" + _dag(60) + b"\x85Rs."  # numpy.dtype(<2^60 DAG>)
KEY_BOMB = b"\x80\x02}" + _dag(60) + b"Ns."  # {<2^60 DAG>: None}: its hash never finishes


@pytest.mark.parametrize("bomb", [DTYPE_BOMB, KEY_BOMB], ids=["dtype-dag", "dict-key-dag"])
def test_pickle_bombs_are_refused_fast(tmp_path: Path, bomb: bytes):
    assert len(bomb) < 700
    path = tmp_path / "weights.pkl"
    path.write_bytes(bomb)
    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(WeightsError, match="refused"):
        load_weights(path)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 50 * 2**20, (elapsed, peak)


def test_a_pickle_bomb_in_a_project_is_a_compile_diagnostic(tmp_path: Path):
    (tmp_path / "main.agr").write_text(MODEL)
    (tmp_path / "weights.pkl").write_bytes(KEY_BOMB)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "agrippa.cli", "compile", str(tmp_path)], capture_output=True,
                       text=True, timeout=60)
    assert time.perf_counter() - t < LIMIT
    assert p.returncode == 1 and "[weights-unreadable]" in p.stderr and "Traceback" not in p.stderr
    assert (tmp_path / "weights.pkl").read_bytes() == KEY_BOMB


def test_ordinary_pickles_stay_within_the_budget(tmp_path: Path):
    weights = {f"W${i}": np.ones((3, 2), np.float32) * i for i in range(2000)}
    save_weights(tmp_path / "w.pkl", weights)
    back = load_weights(tmp_path / "w.pkl")
    assert back.keys() == weights.keys() and float(back["W$7"][0, 0]) == 7.0


def test_check_warns_about_a_huge_parameter_and_compile_refuses_it(tmp_path: Path):
    (tmp_path / "main.agr").write_text(MODEL.replace('dim="[4]"', 'dim="[30000, 30000]"'))
    [d] = [d for d in analyze(str(tmp_path)).diagnostics if d.code == "param-too-large"]
    assert not d.is_error and "3.4 GiB" in d.message
    tracemalloc.start()
    with pytest.raises(CompileError) as e:
        compile_project(str(tmp_path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "param-too-large" in {d.code for d in e.value.diagnostics} and peak < 200 * 2**20


def test_the_parameter_limit_is_configurable(tmp_path: Path):
    (tmp_path / "main.agr").write_text(MODEL.replace('dim="[4]"', 'dim="[300, 300]"'))
    (tmp_path / "agrippa.toml").write_text("[project]\nmax_param_mb = 0.1\n")
    assert "param-too-large" in {d.code for d in analyze(str(tmp_path)).diagnostics}


def test_non_finite_initial_values_are_errors(tmp_path: Path):
    (tmp_path / "main.agr").write_text(MODEL.replace('dim="[4]"', 'dim="[4]" init="constant" init_args="[1e999]"'))
    [d] = [d for d in analyze(str(tmp_path)).diagnostics if d.code == "non-finite-init"]
    assert d.is_error
    with pytest.raises(CompileError):
        compile_project(str(tmp_path))
    assert not (tmp_path / "main.onnx").exists()


def test_complex_weights_are_refused_at_the_params_element(tmp_path: Path):
    (tmp_path / "main.agr").write_text(MODEL)
    save_weights(tmp_path / "weights.pkl", {"b$1": np.array([1 + 2j] * 4, np.complex64)})
    with pytest.raises(CompileError) as e:
        compile_project(str(tmp_path))
    [d] = [d for d in e.value.diagnostics if d.code == "complex-weight"]
    assert d.file == str(tmp_path / "main.agr") and d.range.start.character == MODEL.index("<params") + 1


@pytest.mark.parametrize("reinit", [False, True])
def test_compile_keeps_stored_weights_the_markup_no_longer_uses(tmp_path: Path, reinit: bool):
    (tmp_path / "main.agr").write_text(MODEL)
    kept = np.arange(6, dtype=np.float32).reshape(2, 3)
    save_weights(tmp_path / "weights.safetensors", {"old$1": kept})  # b$1 is fresh: the file is rewritten
    res = compile_project(str(tmp_path), reinit=reinit)
    assert res.weights_path and res.unused.keys() == {"old$1"}
    assert any(d.code == "unused-weights" and "old$1" in d.message for d in res.warnings)
    back = load_weights(tmp_path / "weights.safetensors")
    assert set(back) == {"b$1", "old$1"} and np.array_equal(back["old$1"], kept)


def test_training_keeps_stored_weights_the_markup_no_longer_uses(tmp_path: Path):
    pytest.importorskip("torch")
    from agrippa.train.cli import main as train_main

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "main.agr").write_text((root / "examples" / "linreg" / "linreg.agr").read_text())
    x = np.random.default_rng(0).normal(size=(100, 5)).astype(np.float32)
    np.savez(tmp_path / "train.npz", x=x, y=x.sum(1))
    (tmp_path / "agrippa.toml").write_text('[bindings]\nn = 5\n\n[train]\ndata = "train.npz"\ntarget = "y"\n'
                                           'batch_size = 50\nepochs = 1\nthreads = 1\nplot = ""\n')
    save_weights(tmp_path / "weights.safetensors", {"dropped$1": np.full(3, 7.0, np.float32)})
    assert train_main([str(tmp_path)]) == 0
    back = load_weights(tmp_path / "weights.safetensors")
    assert "W$1" in back and np.array_equal(back["dropped$1"], np.full(3, 7.0, np.float32))


# -- compile -o never overwrites a source; output errors are one line --------------------------


def _compile(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agrippa.cli", "compile", str(project), *args],
                          capture_output=True, text=True, timeout=120, cwd=str(project))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "p"
    p.mkdir()
    (p / "main.agr").write_text(MODEL)
    (p / "agrippa.toml").write_text("[bindings]\n")
    assert _compile(p).returncode == 0  # writes main.onnx and weights.safetensors
    return p


@pytest.mark.parametrize("target", ["main.agr", "agrippa.toml", "weights.safetensors"])
def test_compile_o_refuses_the_projects_own_files(project: Path, target: str):
    before = (project / target).read_bytes()
    p = _compile(project, "-o", target)
    assert p.returncode == 2 and "refusing" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert (project / target).read_bytes() == before


def test_compile_o_refuses_a_symlink_and_a_device(project: Path):
    (project / "link.onnx").symlink_to(project / "main.agr")
    before = (project / "main.agr").read_bytes()
    for target in ("link.onnx", os.devnull):
        p = _compile(project, "-o", target)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert (project / "link.onnx").is_symlink() and (project / "main.agr").read_bytes() == before
    assert Path(os.devnull).is_char_device()


def test_compile_o_refuses_an_existing_file_that_is_not_onnx(project: Path):
    (project / "notes.txt").write_text("mine")
    assert _compile(project, "-o", "notes.txt").returncode == 2
    assert (project / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("where", ["folder", "missing-folder", "read-only-folder"])
def test_output_errors_are_one_line_with_exit_code_2(project: Path, tmp_path: Path, where: str):
    target = {"folder": tmp_path, "missing-folder": tmp_path / "nope" / "m.onnx",
              "read-only-folder": tmp_path / "ro" / "m.onnx"}[where]
    if where == "read-only-folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        target.parent.mkdir()
        target.parent.chmod(0o500)
    p = _compile(project, "-o", str(target))
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, p.stderr


def test_a_write_failure_is_an_output_error(project: Path, monkeypatch):
    import agrippa.backend.onnx_export as export

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "save_model", full)
    with pytest.raises(OutputError, match="No space left on device"):
        compile_project(str(project), str(project / "new.onnx"))


def test_compile_writes_an_existing_onnx_file_and_a_new_path(project: Path):
    assert _compile(project, "-o", "main.onnx").returncode == 0
    assert _compile(project, "-o", "other.onnx").returncode == 0 and (project / "other.onnx").is_file()


# -- temporary files ---------------------------------------------------------------------------


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temp_files_of_killed_writes_are_recognisable_and_cleaned_up(tmp_path: Path):
    target = tmp_path / "weights.safetensors"
    dead = _dead_pid()
    leftovers = [tmp_path / f"{TEMP_PREFIX}{dead}-{i:08x}-weights.safetensors" for i in range(3)]
    for f in leftovers:
        f.write_bytes(b"half")
    alive = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-00000000-weights.safetensors"
    alive.write_bytes(b"in progress")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert not any(f.exists() for f in leftovers) and alive.exists()
    alive.unlink()
    assert sorted(os.listdir(tmp_path)) == ["weights.safetensors"]


def test_a_killed_write_leaves_a_temp_file_that_the_next_run_removes(tmp_path: Path):
    code = ("import os, sys\nfrom agrippa.backend.weights import atomic_writer\n"
            "with atomic_writer(sys.argv[1]) as f:\n    f.write(b'half'); f.flush(); os._exit(9)\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "w.pkl")], timeout=60)
    left = [n for n in os.listdir(tmp_path) if n.startswith(TEMP_PREFIX)]
    assert len(left) == 1 and left[0].endswith("-w.pkl")
    assert clean_stale_temps(tmp_path) == [str(tmp_path / left[0])]
    assert os.listdir(tmp_path) == []


def test_compile_cleans_up_what_killed_runs_left(project: Path):
    dead = _dead_pid()
    for name in ("weights.safetensors", "main.onnx", "checkpoint.pt"):
        (project / f"{TEMP_PREFIX}{dead}-0000abcd-{name}").write_bytes(b"x")
    assert _compile(project).returncode == 0
    assert not [n for n in os.listdir(project) if n.startswith(TEMP_PREFIX)]
