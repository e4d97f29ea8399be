"""Stored weights of another shape (issue 11, item 6), compile validating what it writes
(item 8), and bfloat16 weights: check reads the weights file's header, never its data."""
from __future__ import annotations

import json
import os
import pickle
import struct
import time

import numpy as np
import onnx
import pytest

from agrippa.backend.compile import compile_project
from agrippa.backend.weights import load_weights, save_weights
from agrippa.base.diagnostics import CompileError, Severity
from agrippa.project.weights_header import read_header
from agrippa.sema.analysis import analyze

MODEL = """<model>
  <import from="x" dim="[3, 4]" />
  <block>
    <node op="MatMul"><input src="x"/><params name="W" dim="[4, 16]"/><output name="h"/></node>
    <node op="Add"><input src="h"/><params name="b" dim="[16]"/><output name="y"/></node>
  </block>
  <export from="y" dim="[3, 16]" />
</model>
"""
REP = """<model>
  <import from="x" dim="[3, 4]" />
  <block rep="2"><import from="x"/>
    <node op="Add"><input src="x"/><params name="b" dim="[4]"/><output name="y"/></node>
    <export from="y"/>
  </block>
  <export from="y" dim="[3, 4]" />
</model>
"""


def _project(tmp_path, weights: dict, fname: str = "weights.safetensors", model: str = MODEL):
    (tmp_path / "main.agr").write_text(model)
    if fname.endswith(".pkl"):
        (tmp_path / fname).write_bytes(pickle.dumps(weights, protocol=4))
    else:
        save_weights(str(tmp_path / fname), weights)
    return tmp_path


def _dim_range(text: str, nth: int = 0) -> tuple[int, int, int, int]:
    """The range of the nth `dim` value of a params element."""
    at = -1
    for _ in range(nth + 1):
        at = text.index('<params', at + 1)
    start = text.index('dim="', at) + 5
    end = text.index('"', start)
    line = text.count("\n", 0, start)
    col = start - (text.rfind("\n", 0, start) + 1)
    return line, col, line, col + end - start


def _rng(d) -> tuple[int, int, int, int]:
    return d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character


@pytest.mark.parametrize("fname", ["weights.safetensors", "weights.pkl"])
def test_swapped_dims_warn_at_the_dim_value_in_check_and_compile(tmp_path, fname):
    w = np.arange(64, dtype=np.float32).reshape(16, 4)
    _project(tmp_path, {"W$1": w, "b$1": np.zeros(16, np.float32)}, fname)
    found = [d for d in analyze(str(tmp_path)).diagnostics if d.code == "weights-reshaped"]
    assert len(found) == 1 and found[0].severity == Severity.WARNING
    assert "W$1 is stored as [16, 4] but declared [4, 16]; it will be reshaped (not transposed)" in found[0].message
    assert found[0].file == str(tmp_path / "main.agr") and _rng(found[0]) == _dim_range(MODEL)
    res = compile_project(str(tmp_path), str(tmp_path / "out.onnx"))
    assert [_rng(d) for d in res.warnings if d.code == "weights-reshaped"] == [_dim_range(MODEL)]
    model = onnx.load(str(tmp_path / "out.onnx"))
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    np.testing.assert_array_equal(stored["W$1"], w.reshape(4, 16))  # reshaped, as the original does


@pytest.mark.parametrize("fname", ["weights.safetensors", "weights.pkl"])
def test_every_count_mismatch_is_an_error_at_its_params_at_once(tmp_path, fname):
    _project(tmp_path, {"W$1": np.zeros((5, 16), np.float32), "b$1": np.zeros(15, np.float32)}, fname)
    checked = [d for d in analyze(str(tmp_path)).diagnostics if d.code == "weights-mismatch"]
    assert sorted(_rng(d) for d in checked) == [_dim_range(MODEL, 0), _dim_range(MODEL, 1)]
    assert all(d.severity == Severity.ERROR for d in checked)
    assert "[5, 16] (80 values)" in checked[0].message and "[4, 16] (64 values)" in checked[0].message
    with pytest.raises(CompileError) as e:
        compile_project(str(tmp_path), str(tmp_path / "out.onnx"))
    errors = [d for d in e.value.diagnostics if d.code == "weights-mismatch"]
    assert sorted(_rng(d) for d in errors) == sorted(_rng(d) for d in checked)
    assert not (tmp_path / "out.onnx").exists()


def test_each_rep_copy_is_named(tmp_path):
    _project(tmp_path, {"b$1": np.zeros(3, np.float32), "b$2": np.zeros(5, np.float32)}, model=REP)
    found = [d for d in analyze(str(tmp_path)).diagnostics if d.code == "weights-mismatch"]
    assert sorted("b$1" in d.message for d in found) == [False, True]
    assert {_rng(d) for d in found} == {_dim_range(REP)}


def test_reinit_ignores_a_mismatch(tmp_path):
    _project(tmp_path, {"W$1": np.zeros((5, 16), np.float32)})
    res = compile_project(str(tmp_path), str(tmp_path / "out.onnx"), reinit=True)
    assert load_weights(res.weights_path)["W$1"].shape == (4, 16)


def test_check_reads_the_header_never_the_data(tmp_path):
    """A 3 GiB array in a sparse file (reading it would take seconds): check answers at once;
    over the 4 GiB loading limit, the file is refused as compile would refuse it."""
    (tmp_path / "main.agr").write_text(MODEL)
    for n, code in ((3 << 30, "weights-mismatch"), (1 << 40, "weights-unreadable")):
        head = json.dumps({"W$1": {"dtype": "F32", "shape": [n // 4, 1], "data_offsets": [0, n]}}).encode()
        head += b" " * (-len(head) % 8)
        with open(tmp_path / "weights.safetensors", "wb") as f:
            f.write(struct.pack("<Q", len(head)) + head)
            f.truncate(8 + len(head) + n)
        t = time.perf_counter()
        found = [d for d in analyze(str(tmp_path)).diagnostics if d.code.startswith("weights-")]
        assert time.perf_counter() - t < 2 and [d.code for d in found] == [code], found


def test_pickle_shapes_skip_the_payloads(tmp_path, monkeypatch):
    w = {"W$1": np.zeros((16, 4), np.float32), "s": np.float64(1.0)}
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps(w, protocol=4))
    reads = []
    real = os.fdopen

    def spying_fdopen(*a, **k):
        f = real(*a, **k)
        orig = f.read

        def read(n=-1):
            reads.append(n)
            return orig(n)

        f.read = read
        return f

    monkeypatch.setattr(os, "fdopen", spying_fdopen)
    h = read_header(str(path))
    assert h.entries == {"W$1": ((16, 4), "float32"), "s": ((), "float64")}
    assert max(reads) < 256  # opcodes and their arguments, never the 256-byte array payload


@pytest.mark.parametrize("proto", [0, 2, 4, 5])
def test_pickle_header_matches_the_loader(tmp_path, proto):
    w = {"a": np.ones((2, 3), np.float32), "b": np.asfortranarray(np.ones((3, 5), np.int64)), "c": 1.5}
    p = tmp_path / "w.pkl"
    p.write_bytes(pickle.dumps(w, protocol=proto))
    h = read_header(str(p))
    assert {k: s for k, (s, _) in h.entries.items()} == {k: v.shape for k, v in load_weights(p).items()}


def test_torch_files_give_their_shapes(tmp_path):
    torch = pytest.importorskip("torch")
    sd = {"W$1": torch.zeros(16, 4), "b$1": torch.zeros(16, dtype=torch.bfloat16)}
    for legacy in (False, True):
        p = tmp_path / f"w{legacy}.pkl"
        torch.save(sd, p, _use_new_zipfile_serialization=not legacy)
        assert read_header(str(p)).entries == {"W$1": ((16, 4), "float32"), "b$1": ((16,), "bfloat16")}


@pytest.mark.parametrize("data", [b"\x80\x04cos\nsystem\n(S'true'\ntR.", b"\x80\x04", b"not a pickle", b""])
def test_hostile_or_broken_pickles_are_refused_at_check(tmp_path, data):
    (tmp_path / "main.agr").write_text(MODEL)
    (tmp_path / "weights.pkl").write_bytes(data)
    found = [d for d in analyze(str(tmp_path)).diagnostics if d.code.startswith("weights-")]
    assert [d.code for d in found] == ["weights-unreadable"] and found[0].file == str(tmp_path / "weights.pkl")


def test_a_fifo_is_never_opened(tmp_path):
    (tmp_path / "main.agr").write_text(MODEL)
    os.mkfifo(tmp_path / "weights.pkl")
    found = [d.code for d in analyze(str(tmp_path)).diagnostics if d.code.startswith("weights-")]
    assert found == ["weights-unreadable"]


def test_bfloat16_weights_round_trip(tmp_path):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    w = {"a": np.arange(6, dtype=ml_dtypes.bfloat16).reshape(2, 3), "f": np.ones(3, np.float32)}
    save_weights(tmp_path / "w.safetensors", w)
    back = load_weights(tmp_path / "w.safetensors")
    assert back["a"].dtype == w["a"].dtype and np.array_equal(back["a"], w["a"])
    assert read_header(str(tmp_path / "w.safetensors")).entries["a"] == ((2, 3), "bfloat16")


def test_a_bfloat16_param_compiles_with_safetensors(tmp_path):
    (tmp_path / "main.agr").write_text(MODEL.replace('name="b" dim="[16]"', 'name="b" dim="[16]" type="bfloat16"'))
    try:
        res = compile_project(str(tmp_path), str(tmp_path / "out.onnx"))
    except CompileError as e:  # the markup may refuse mixing types: never a traceback
        assert all(d.code != "weights-unwritable" for d in e.diagnostics)
        return
    assert load_weights(res.weights_path)["b$1"].dtype.name == "bfloat16"


def test_an_invalid_model_is_an_internal_error_and_nothing_is_written(tmp_path, monkeypatch):
    from agrippa.backend import onnx_export

    real = onnx_export.build_model

    def duplicating(*a, **k):
        model = real(*a, **k)
        model.graph.node[1].output[0] = model.graph.node[0].output[0]  # a duplicate name
        return model

    monkeypatch.setattr(onnx_export, "build_model", duplicating)
    (tmp_path / "main.agr").write_text(MODEL)
    with pytest.raises(CompileError) as e:
        compile_project(str(tmp_path), str(tmp_path / "out.onnx"))
    [d] = [d for d in e.value.diagnostics if d.code == "internal-invalid-model"]
    assert d.severity == Severity.ERROR and d.file == str(tmp_path / "main.agr") and _rng(d) == (0, 0, 0, 0)
    assert "out.onnx" in d.message and "single static assignment" in d.message
    assert sorted(os.listdir(tmp_path)) == ["main.agr"]  # neither the model nor fresh weights


def test_skeleton_keeps_the_structure_without_the_data():
    from onnx import helper, numpy_helper

    from agrippa.backend.validate import check_written_model, skeleton

    big = numpy_helper.from_array(np.ones((64, 64), np.float32), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", 1, [2, 64])],
                          [helper.make_tensor_value_info("y", 1, [2, 64])], [big])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    sk = skeleton(m)
    assert sk.ByteSize() < 1000 and m.ByteSize() > 16000 and len(m.graph.initializer[0].raw_data) == 16384
    assert check_written_model(m) is None
    m.graph.node[0].op_type = "MatMull"
    assert "MatMull" in check_written_model(m)


def test_bombs_and_hostile_headers_are_diagnostics_at_check_not_hangs(tmp_path):
    from test_hostile_weights import DTYPE_BOMB, KEY_BOMB

    (tmp_path / "main.agr").write_text(MODEL)
    huge_header = struct.pack("<Q", 1 << 62) + b"{}"
    for name, data in (("weights.pkl", DTYPE_BOMB), ("weights.pkl", KEY_BOMB), ("w.safetensors", huge_header),
                       ("w.safetensors", struct.pack("<Q", 2) + b"[]"), ("w.safetensors", b"\0")):
        for old in tmp_path.glob("w*"):
            old.unlink()
        (tmp_path / name).write_bytes(data)
        (tmp_path / "agrippa.toml").write_text(f'[model]\nweights = "{name}"\n')
        t = time.perf_counter()
        found = [d.code for d in analyze(str(tmp_path)).diagnostics if d.code.startswith("weights-")]
        assert found == ["weights-unreadable"] and time.perf_counter() - t < 5, (name, data[:20])


def test_the_header_agrees_with_the_loader_on_the_sample_projects():
    from weights_pickles import SAMPLES

    for path in SAMPLES:
        h = read_header(str(path))
        assert h.error is None and h.unknown is None, (path, h)
        assert {k: s for k, (s, _) in h.entries.items()} == {k: v.shape for k, v in load_weights(path).items()}


def test_a_command_hidden_in_torch_storage_bytes_is_refused_at_check(tmp_path):
    from weights_pickles import Call, assemble, legacy_storage_bytes, tensor, write

    evil = assemble(Call("os", "system", "true"))
    path = write(tmp_path / "weights.pkl", assemble({"W": tensor(evil, (1,), (1,))}))
    assert "os.system" in read_header(str(path)).error
    fine = write(tmp_path / "w.pkl", assemble({"W": tensor(legacy_storage_bytes(np.zeros(3, np.float32)), (3,), (1,))}))
    assert read_header(str(fine)).entries == {"W": ((3,), "float32")}
