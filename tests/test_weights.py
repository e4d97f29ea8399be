"""User stories for agrippa.backend.weights: the original package's weights.pkl files load
safely, and hostile or broken pickles are refused.

Formats (numpy protocols, torch tensors) and writing are in test_weights_formats.py."""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shared_paths import CASES, NEEDS_SHARED
from weights_pickles import (
    SAMPLES,
    Build,
    Call,
    Global,
    assemble,
    assert_same_weights,
    legacy_storage_bytes,
    tensor,
    write,
)

from agrippa.backend.weights import (
    WeightsError,
    load_pickle_weights,
    load_weights,
)

# ------------------------------------------------------------ the original package's files


@NEEDS_SHARED
def test_all_sixteen_conformance_weight_files_are_present() -> None:
    assert len(SAMPLES) == 16


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.parts[-3])
def test_every_conformance_weights_file_loads_like_a_trusted_plain_load(sample: Path) -> None:
    if b"torch" in sample.read_bytes():
        pytest.importorskip("torch")
    with open(sample, "rb") as file:
        reference = pickle.load(file)  # trusted sample: plain pickle is fine in the test only
    assert_same_weights(load_pickle_weights(sample), reference)


@NEEDS_SHARED
def test_loaded_arrays_are_fresh_writable_copies() -> None:
    sample = CASES / "linreg" / "project" / "weights.pkl"
    weights = load_weights(sample)
    assert all(a.flags.writeable and a.flags.owndata for a in weights.values())


# ------------------------------------------------------------ hostile pickles are refused

HOSTILE = [
    ("os", "system", lambda m: (f"touch {m}",)),
    ("posix", "system", lambda m: (f"touch {m}",)),
    ("builtins", "eval", lambda m: (f"__import__('os').system('touch {m}')",)),
    ("builtins", "exec", lambda m: (f"import os; os.system('touch {m}')",)),
    ("subprocess", "Popen", lambda m: (["touch", str(m)],)),
]


def test_the_hostile_payload_is_real_when_loaded_with_plain_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pickle.loads(assemble(Call("os", "system", f"touch {marker}")))
    assert marker.exists()  # so the refusals below really prevent something


@pytest.mark.parametrize(("module", "name", "args"), HOSTILE, ids=lambda x: str(x))
def test_a_pickle_that_would_run_a_command_is_refused(tmp_path: Path, module: str, name: str,
                                                      args: Any) -> None:
    marker = tmp_path / "pwned"
    payload = {"W$1": Call("numpy", "dtype", "f8"), "evil": Call(module, name, *args(marker))}
    path = write(tmp_path / "weights.pkl", assemble(payload))
    with pytest.raises(WeightsError, match=rf"weights.pkl asks to run '{module}.{name}'; "
                                           "refusing to load it: it is not a plain weights file"):
        load_pickle_weights(path)
    assert not marker.exists()


def test_a_command_hidden_inside_torch_storage_bytes_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = assemble(Call("os", "system", f"touch {marker}"))
    path = write(tmp_path / "weights.pkl", assemble({"W": tensor(evil, (1,), (1,))}))
    with pytest.raises(WeightsError, match="asks to run 'os.system'"):
        load_pickle_weights(path)
    assert not marker.exists()


def test_a_command_hidden_in_the_object_record_of_legacy_storage_bytes_is_refused(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    storage = legacy_storage_bytes(np.zeros(1, np.float32),
                                   main=Call("os", "system", f"touch {marker}"))
    path = write(tmp_path / "weights.pkl", assemble({"W": tensor(storage, (1,), (1,))}))
    with pytest.raises(WeightsError, match="asks to run 'os.system'"):
        load_pickle_weights(path)
    assert not marker.exists()


def test_storage_bytes_nested_inside_storage_bytes_are_refused(tmp_path: Path) -> None:
    inner = legacy_storage_bytes(np.zeros(1, np.float32))
    outer = legacy_storage_bytes(np.zeros(1, np.float32),
                                 main=Call("torch.storage", "_load_from_bytes", inner))
    path = write(tmp_path / "weights.pkl", assemble({"W": tensor(outer, (1,), (1,))}))
    with pytest.raises(WeightsError, match="nest"):
        load_pickle_weights(path)


def test_torch_load_itself_is_not_on_the_allow_list(tmp_path: Path) -> None:
    path = write(tmp_path / "weights.pkl", assemble({"W": Call("torch", "load", "x.pt")}))
    with pytest.raises(WeightsError, match="asks to run 'torch.load'"):
        load_pickle_weights(path)


def test_object_dtype_arrays_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "weights.pkl",
                 pickle.dumps({"W": np.array([1, "two"], dtype=object)}))
    with pytest.raises(WeightsError, match="only plain numeric arrays"):
        load_pickle_weights(path)


# ------------------------------------------------------------ bounds


@NEEDS_SHARED
def test_a_truncated_pickle_gives_weights_error_at_every_cut(tmp_path: Path) -> None:
    for sample in ("linreg", "constant"):
        data = (CASES / sample / "project" / "weights.pkl").read_bytes()
        for cut in range(len(data)):
            path = write(tmp_path / "weights.pkl", data[:cut])
            with pytest.raises(WeightsError):
                load_pickle_weights(path)


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path / "weights.pkl", pickle.dumps({"W": np.zeros(100)}))
    with pytest.raises(WeightsError, match="over the 100-byte limit"):
        load_pickle_weights(path, max_bytes=100)


def test_a_numpy_array_declaring_more_data_than_it_holds_is_refused(tmp_path: Path) -> None:
    dtype = Build(Call("numpy", "dtype", "f8", False, True), (3, "<", None, None, None, -1, -1, 0))
    array = Build(Call("numpy.core.multiarray", "_reconstruct", Global("numpy", "ndarray"), (0,),
                       b"b"),
                  (1, (1000,), dtype, False, b"\0" * 8))
    path = write(tmp_path / "weights.pkl", assemble({"W": array}))
    with pytest.raises(WeightsError, match="declares 8000 bytes but its data holds 8"):
        load_pickle_weights(path)


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path: Path) -> None:
    storage = legacy_storage_bytes(np.arange(5, dtype=np.float32))
    path = write(tmp_path / "weights.pkl", assemble({"W": tensor(storage, (100,), (1,))}))
    with pytest.raises(WeightsError, match="reaches past the end of its storage"):
        load_pickle_weights(path)


def test_a_tiny_file_cannot_broadcast_into_a_huge_array(tmp_path: Path) -> None:
    storage = legacy_storage_bytes(np.ones(1, dtype=np.float32))
    bomb = tensor(storage, (10**6, 10**6), (0, 0))
    path = write(tmp_path / "weights.pkl", assemble({"W": bomb}))
    with pytest.raises(WeightsError, match="far more array data"):
        load_pickle_weights(path)


def test_a_pickle_that_is_not_a_dict_of_arrays_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "weights.pkl", pickle.dumps([np.zeros(2)]))
    with pytest.raises(WeightsError, match="holds a list, not a dict of arrays"):
        load_pickle_weights(path)
    path = write(tmp_path / "weights.pkl", pickle.dumps({"W": "text"}))
    with pytest.raises(WeightsError, match="'W' is a str, not an array"):
        load_pickle_weights(path)


def test_a_missing_file_gives_weights_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="cannot read"):
        load_pickle_weights(tmp_path / "absent.pkl")
