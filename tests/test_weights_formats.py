"""Weight file formats: numpy pickles in every protocol, torch tensors read without torch,
and writing (plain pickles, safetensors, atomic replacement)."""
from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from weights_pickles import assemble, assert_same_weights, legacy_storage_bytes, tensor, write

from agrippa.backend.weights import (
    WeightsError,
    atomic_write_bytes,
    atomic_writer,
    load_pickle_weights,
    load_safetensors_weights,
    load_weights,
    save_weights,
    write_pickle_weights,
    write_safetensors_weights,
)

# ------------------------------------------------------------ numpy pickle variants


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_numpy_weights_in_every_pickle_protocol_load(tmp_path: Path, protocol: int) -> None:
    weights = OrderedDict(
        W=np.arange(12, dtype=np.float32).reshape(3, 4),
        fortran=np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        big_endian=np.arange(4, dtype=">i4"),
        mask=np.array([True, False]),
        empty=np.zeros((0, 3)),
        scalar=np.float64(2.5),
        complex=np.array([1 + 2j], dtype=np.complex64),
    )
    path = write(tmp_path / "weights.pkl", pickle.dumps(weights, protocol=protocol))
    ours = load_pickle_weights(path)
    assert_same_weights(ours, {k: np.asarray(v).astype(np.asarray(v).dtype.newbyteorder("="))
                               for k, v in weights.items()})
    assert ours["fortran"].flags.f_contiguous


def test_a_hand_assembled_tensor_matches_what_torch_builds(tmp_path: Path) -> None:
    values = np.arange(12, dtype=np.float32)
    data = assemble({"W": tensor(legacy_storage_bytes(values), (2, 3), (1, 4), offset=1)})
    expected = values[1:].reshape(1, 11)[0][np.add.outer([0, 1], [0, 4, 8])]
    ours = load_pickle_weights(write(tmp_path / "weights.pkl", data))["W"]
    np.testing.assert_array_equal(ours, expected)
    torch = pytest.importorskip("torch")
    assert_same_weights({"W": ours}, pickle.loads(data))  # the assembler speaks torch's format
    assert torch  # torch imported only to check the reference


# ------------------------------------------------------------ torch tensors, torch absent at load


def torch_weights() -> dict[str, Any]:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    base = torch.randn(4, 6)
    return {
        "W$1": torch.randn(3, 4),
        "enc$W$3": torch.randn(2, 2, dtype=torch.float64),
        "view": base[1:3, ::2],
        "transposed": base.t(),
        "scalar$constant$1": torch.tensor(3.5),
        "ids": torch.arange(6).reshape(2, 3),
        "int32": torch.arange(3, dtype=torch.int32),
        "int8": torch.tensor([-1, 2], dtype=torch.int8),
        "mask": torch.tensor([True, False, True]),
        "half": torch.randn(3).half(),
        "bf16": torch.randn(3).bfloat16(),
        "conj": torch.randn(2, dtype=torch.complex64).conj(),
        "param": torch.nn.Parameter(torch.ones(2, 2)),
        "empty": torch.zeros(0, 4),
        "expanded": torch.ones(1, 3).expand(4, 3),
    }


def test_a_plain_pickle_of_torch_tensors_loads_without_torch_code(tmp_path: Path) -> None:
    weights = torch_weights()
    path = tmp_path / "weights.pkl"
    with open(path, "wb") as file:
        pickle.dump(weights, file)
    with open(path, "rb") as file:
        reference = pickle.load(file)
    ours = load_pickle_weights(path)
    assert_same_weights(ours, reference)
    assert ours["bf16"].dtype == np.float32


def test_uint16_tensors_load_although_torch_cannot_reload_their_plain_pickle(
    tmp_path: Path,
) -> None:
    torch = pytest.importorskip("torch")
    weights = {"u16": torch.tensor([[0, 1], [60000, 65535]], dtype=torch.uint16)}
    path = write(tmp_path / "weights.pkl", pickle.dumps(weights))  # saved via _rebuild_tensor_v3
    with pytest.raises(AttributeError):
        pickle.loads(path.read_bytes())  # torch's own loader trips on UntypedStorage here
    ours = load_pickle_weights(path)["u16"]
    assert ours.dtype == np.uint16
    np.testing.assert_array_equal(ours, [[0, 1], [60000, 65535]])


def test_torch_storage_bytes_in_zip_format_load(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    class ZipStoragePickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, torch.storage.TypedStorage | torch.UntypedStorage):
                buffer = io.BytesIO()
                torch.save(obj, buffer)
                assert buffer.getvalue()[:2] == b"PK"
                return torch.storage._load_from_bytes, (buffer.getvalue(),)
            return NotImplemented

    weights = {"W": torch.randn(3, 2), "ids": torch.arange(4),
               "u16": torch.tensor([7, 65535], dtype=torch.uint16)}
    buffer = io.BytesIO()
    ZipStoragePickler(buffer).dump(weights)
    path = write(tmp_path / "weights.pkl", buffer.getvalue())
    assert_same_weights(load_pickle_weights(path), pickle.loads(buffer.getvalue()))


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_a_torch_save_file_named_weights_pkl_loads(tmp_path: Path, zipped: bool) -> None:
    torch = pytest.importorskip("torch")
    weights = torch_weights()
    path = tmp_path / "weights.pkl"
    torch.save(weights, path, _use_new_zipfile_serialization=zipped)
    assert_same_weights(load_pickle_weights(path), torch.load(path, weights_only=True))


# ------------------------------------------------------------ writing


def test_written_pickle_weights_are_a_plain_dict_of_numpy_arrays(tmp_path: Path) -> None:
    weights = {"W$1": np.arange(6.0).reshape(2, 3), "ids": np.arange(3), "s": np.float32(1.5)}
    path = tmp_path / "weights.pkl"
    write_pickle_weights(path, weights)
    with open(path, "rb") as file:
        plain = pickle.load(file)  # what the original package does
    assert type(plain) is dict
    assert all(type(v) is np.ndarray for v in plain.values())
    assert_same_weights(load_pickle_weights(path), plain)
    np.testing.assert_array_equal(plain["W$1"], weights["W$1"])


def test_safetensors_round_trip(tmp_path: Path) -> None:
    weights = {"W$1": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
               "enc$W$3": np.arange(4, dtype=np.int64), "mask": np.array([True, False]),
               "scale$constant$1": np.array(2.0)}
    path = tmp_path / "weights.safetensors"
    save_weights(path, weights)
    assert_same_weights(load_weights(path), weights, ordered=False)  # the format sorts names
    write_safetensors_weights(path, {"W": np.ones(2)})
    assert_same_weights(load_safetensors_weights(path), {"W": np.ones(2)})


def test_pickle_round_trip_through_save_and_load_weights(tmp_path: Path) -> None:
    weights = {"W": np.ones((2, 2), dtype=np.float32)}
    save_weights(tmp_path / "w.pickle", weights)
    assert_same_weights(load_weights(tmp_path / "w.pickle"), weights)


def test_unknown_suffixes_and_non_numeric_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="unknown weights format"):
        save_weights(tmp_path / "w.npz", {"W": np.ones(1)})
    with pytest.raises(WeightsError, match="unknown weights format"):
        load_weights(tmp_path / "w.npz")
    with pytest.raises(WeightsError, match="only numeric arrays"):
        save_weights(tmp_path / "w.pkl", {"W": np.array(["a"], dtype=object)})
    assert not (tmp_path / "w.pkl").exists()


def test_a_crash_mid_write_leaves_the_old_file_intact_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(b"old weights")
    with pytest.raises(RuntimeError, match="power cut"), atomic_writer(path) as file:
        file.write(b"half of the new wei")
        raise RuntimeError("power cut")
    assert path.read_bytes() == b"old weights"
    assert os.listdir(tmp_path) == ["weights.pkl"]


def test_a_finished_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o640
    with atomic_writer(tmp_path / "meta.json", "w") as file:
        file.write('{"ok": true}')
    assert (tmp_path / "meta.json").read_text() == '{"ok": true}'
    assert sorted(os.listdir(tmp_path)) == ["meta.json", "weights.pkl"]
