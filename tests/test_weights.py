"""User stories for agrippa.weights: read weights.pkl safely, write weights atomically."""
from __future__ import annotations

import io
import os
import pickle
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agrippa.weights import (
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

CASES = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "cases"
NEEDS_SHARED = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/conformance is not beside the project")
SAMPLES = sorted(CASES.glob("*/project/weights.pkl"))
TORCH_MAGIC = 0x1950A86A20F9469CFC6C


# ------------------------------------------------------------ a tiny pickle assembler
# Hand-built pickles let the tests name any global, craft torch's storage bytes and
# declare lies (sizes, strides) that no well-behaved pickler would produce.


class Global:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name


class Call:
    """``module.name(*args)`` when loaded by plain pickle."""

    def __init__(self, module: str, name: str, *args: Any) -> None:
        self.func, self.args = Global(module, name), args


class Build:
    """``obj.__setstate__(state)`` (pickle's BUILD)."""

    def __init__(self, obj: Any, state: Any) -> None:
        self.obj, self.state = obj, state


class PersId:
    """A persistent id, as torch writes for storages."""

    def __init__(self, pid: tuple) -> None:
        self.pid = pid


def emit(obj: Any) -> bytes:
    if obj is None:
        return b"N"
    if obj is True or obj is False:
        return b"\x88" if obj else b"\x89"
    if isinstance(obj, int):
        data = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
        return b"\x8a" + bytes([len(data)]) + data
    if isinstance(obj, str):
        data = obj.encode()
        return b"X" + struct.pack("<I", len(data)) + data
    if isinstance(obj, bytes):
        return b"B" + struct.pack("<I", len(obj)) + obj
    if isinstance(obj, tuple):
        return b"(" + b"".join(map(emit, obj)) + b"t"
    if isinstance(obj, list):
        return b"](" + b"".join(map(emit, obj)) + b"e"
    if isinstance(obj, dict):
        return b"}(" + b"".join(emit(k) + emit(v) for k, v in obj.items()) + b"u"
    if isinstance(obj, Global):
        return b"c" + f"{obj.module}\n{obj.name}\n".encode()
    if isinstance(obj, Call):
        return emit(obj.func) + emit(obj.args) + b"R"
    if isinstance(obj, Build):
        return emit(obj.obj) + emit(obj.state) + b"b"
    if isinstance(obj, PersId):
        return emit(obj.pid) + b"Q"
    raise TypeError(obj)


def assemble(obj: Any) -> bytes:
    return b"\x80\x03" + emit(obj) + b"."


def legacy_storage_bytes(values: np.ndarray, storage: str = "FloatStorage",
                         main: Any = None) -> bytes:
    """torch's legacy ``_load_from_bytes`` payload for one storage (or ``main`` instead)."""
    raw = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes()
    pid = PersId(("storage", Global("torch", storage), "key0", "cpu", values.size, None))
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 8}}
    return (assemble(TORCH_MAGIC) + assemble(1001) + assemble(sys_info)
            + assemble(pid if main is None else main) + assemble(["key0"])
            + struct.pack("<q", values.size) + raw)


def tensor(storage_bytes: bytes, size: tuple, stride: tuple, offset: int = 0) -> Call:
    return Call("torch._utils", "_rebuild_tensor_v2",
                Call("torch.storage", "_load_from_bytes", storage_bytes),
                offset, size, stride, False, Call("collections", "OrderedDict"))


def to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, from a trusted reference load
        value = value.detach().resolve_conj().resolve_neg()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def assert_same_weights(ours: dict[str, np.ndarray], reference: dict[str, Any],
                        ordered: bool = True) -> None:
    assert (list(ours) if ordered else sorted(ours)) == (
        list(reference) if ordered else sorted(reference))
    for key, value in reference.items():
        expected = to_numpy(value)
        assert isinstance(ours[key], np.ndarray), key
        assert ours[key].dtype == expected.dtype, key
        assert ours[key].shape == expected.shape, key
        np.testing.assert_array_equal(ours[key], expected, err_msg=key)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------ the original package's files


@pytest.mark.skipif(not CASES.is_dir(), reason="shared conformance cases not beside the repo")
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
