"""Tests for agrippa.torch_bridge against the shared reference ONNX models."""
from __future__ import annotations

import copy
import json
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from shared_paths import CASES, missing_reason

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
tb = pytest.importorskip("agrippa.backend.torch_bridge")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ALL_CASES = sorted(p.parent.name for p in CASES.glob("*/ref.onnx"))
RTOL, ATOL = 1e-4, 1e-5

pytestmark = pytest.mark.skipif(not ALL_CASES, reason=missing_reason(CASES))


def load_case(cid: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[str]]:
    io = np.load(CASES / cid / "io.npz")
    ref = json.loads((CASES / cid / "ref.json").read_text())
    return onnx.load(str(CASES / cid / "ref.onnx")), dict(io), ref["outputs"]


def as_tuple(out: object) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


@pytest.mark.parametrize("cid", ALL_CASES)
def test_case_outputs_and_names(cid: str) -> None:
    proto, io, outputs = load_case(cid)
    m = tb.onnx_to_torch(CASES / cid / "ref.onnx")
    args = [torch.from_numpy(io["in:" + n]) for n in m.agrippa_input_names]
    got = as_tuple(m(*args))
    assert len(got) == len(outputs)
    for value, name in zip(got, outputs):
        np.testing.assert_allclose(value.detach().numpy(), io["out:" + name], rtol=RTOL, atol=ATOL)

    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    assert set(m.state_dict()) == {f"initializers.{n}" for n in inits}
    trainable = {n for n, v in inits.items() if "$constant" not in n and v.dtype.kind == "f"}
    assert {n for n, _ in m.named_parameters()} == {f"initializers.{n}" for n in trainable}
    for name, value in inits.items():
        np.testing.assert_array_equal(getattr(m.initializers, name).detach().numpy(), value)


def test_constant_is_buffer() -> None:
    m = tb.onnx_to_torch(CASES / "constant" / "ref.onnx")
    buffers = dict(m.named_buffers())
    assert "initializers.Constant$constant$1" in buffers
    assert [n for n, _ in m.named_parameters()] == ["initializers.NotConstant$1"]
    assert not m.initializers.get_buffer("Constant$constant$1").requires_grad


def test_int64_axes_constant_is_buffer() -> None:
    m = tb.onnx_to_torch(CASES / "linreg" / "ref.onnx")
    axes = m.initializers.get_buffer("wx$axes$constant")
    assert axes.dtype == torch.int64
    assert "initializers.wx$axes$constant" not in dict(m.named_parameters())
    assert set(dict(m.named_parameters())) == {"initializers.W$1", "initializers.b$1"}


def test_tied_weight_is_one_parameter() -> None:
    proto, io, _ = load_case("anthropic")
    m = tb.onnx_to_torch(proto)
    params = list(m.parameters())
    assert len(params) == 2 and len({id(p) for p in params}) == 2
    w = m.initializers.W
    assert isinstance(w, torch.nn.Parameter)
    # fx reads the tied weight through exactly one get_attr node
    reads = [n for n in m.graph.nodes if n.op == "get_attr" and n.target == "initializers.W"]
    assert len(reads) == 1 and len(reads[0].users) == 2

    x = torch.from_numpy(io["in:input"])
    y, down = m(x)
    (y.sum() + down.sum()).backward()
    assert w.grad is not None and w.grad.abs().sum() > 0
    with torch.no_grad():
        for p in m.parameters():
            p -= 0.1 * p.grad
    # after the step both uses see the new W: compare with onnxruntime on updated weights
    updated = copy.deepcopy(proto)
    for init in updated.graph.initializer:
        init.CopyFrom(numpy_helper.from_array(getattr(m.initializers, init.name).detach().numpy(), init.name))
    want = run_ort(updated, {"input": io["in:input"]})
    for got, exp in zip(m(x), want):
        np.testing.assert_allclose(got.detach().numpy(), exp, rtol=RTOL, atol=ATOL)


def test_model_copies_keep_metadata_and_keywords() -> None:
    _, io, _ = load_case("mha")
    m = tb.onnx_to_torch(CASES / "mha" / "ref.onnx")
    assert m.agrippa_input_names == ("tokens", "mask", "scale", "posembedmatrix")
    assert m.agrippa_input_ranks == {"tokens": 2, "mask": 2, "scale": 1, "posembedmatrix": 2}
    m2 = copy.deepcopy(m)
    assert m2.agrippa_input_ranks == m.agrippa_input_ranks
    kwargs = {n: torch.from_numpy(io["in:" + n]) for n in m.agrippa_input_names}
    for a, b in zip(m(**kwargs), m2(*kwargs.values())):
        torch.testing.assert_close(a, b)


def random_inputs(cid: str, m: torch.nn.Module, batch: int | None, rng: np.random.Generator) -> list:
    """The case's inputs plus noise (realistic scales keep softmaxes unsaturated)."""
    _, io, _ = load_case(cid)
    out = []
    for name in m.agrippa_input_names:
        base = io["in:" + name]
        assert base.ndim == m.agrippa_input_ranks[name]
        shape = ((batch,) if batch else ()) + base.shape
        noisy = base + 0.1 * rng.standard_normal(shape).astype(np.float32)
        out.append(torch.from_numpy(noisy.astype(np.float32)))
    return out


def loop_reference(m: torch.nn.Module, args: list, dims: tuple) -> tuple:
    n = next(a.shape[0] for a, d in zip(args, dims) if d == 0)
    outs = [as_tuple(m(*(a[i] if d == 0 else a for a, d in zip(args, dims)))) for i in range(n)]
    return tuple(torch.stack(parts) for parts in zip(*outs))


def grads(m: torch.nn.Module) -> dict[str, torch.Tensor]:
    result = {n: p.grad.clone() for n, p in m.named_parameters()}
    m.zero_grad()
    return result


@pytest.mark.parametrize("cid", ["mha", "trans", "linreg", "default"])
@pytest.mark.parametrize("shared", [False, True])
def test_batched_equals_loop_with_gradients(cid: str, shared: bool) -> None:
    m = tb.onnx_to_torch(CASES / cid / "ref.onnx")
    args = random_inputs(cid, m, 4, np.random.default_rng(7))
    if shared and len(args) > 1:  # only the first input batched; the rest shared by rank
        args[1:] = [a[0] for a in args[1:]]
    bm = tb.batched(m)
    dims = bm.in_dims(args)
    assert dims[0] == 0 and all(d == (None if shared else 0) for d in dims[1:])

    got = as_tuple(bm(*args))
    assert bm.use_vmap, "vmap should handle the reference models"
    want = loop_reference(m, args, dims)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape[0] == 4
        torch.testing.assert_close(g, w, rtol=0, atol=1e-5)

    sum(o.square().sum() for o in got).backward()
    batched_grads = grads(m)
    sum(o.square().sum() for o in loop_reference(m, args, dims)).backward()
    loop_grads = grads(m)
    assert batched_grads.keys() == loop_grads.keys() and batched_grads
    # (mha's second head is saturated, so some gradients are legitimately zero)
    assert sum(float(g.abs().sum()) for g in batched_grads.values()) > 0
    for name, g in batched_grads.items():
        scale = float(loop_grads[name].abs().max())  # float32 sums in another order
        torch.testing.assert_close(g, loop_grads[name], rtol=1e-3, atol=1e-5 * max(scale, 1.0))


def test_batched_explicit_inputs_and_unbatched_call() -> None:
    # float64: mha amplifies float32 rounding well past 1e-5 whichever way it is summed
    m = tb.onnx_to_torch(CASES / "mha" / "ref.onnx").double()
    args = [a.double() for a in random_inputs("mha", m, None, np.random.default_rng(3))]
    bm = tb.batched(m, batch_inputs={"tokens"})
    tokens = torch.stack([args[0]] * 2)
    out = as_tuple(bm(tokens, *args[1:]))
    single = as_tuple(m(*args))
    for o, s in zip(out, single):
        torch.testing.assert_close(o, torch.stack([s, s]))
    # nothing batched: a plain call
    for o, s in zip(as_tuple(tb.batched(m)(*args)), single):
        torch.testing.assert_close(o, s, rtol=0, atol=0)
    with pytest.raises(ValueError, match="unknown inputs"):
        tb.batched(m, batch_inputs={"nope"})
    with pytest.raises(ValueError, match="rank"):
        tb.batched(m)(args[0][None, None], *args[1:])


def reduce_sum_dynamic_axes() -> onnx.ModelProto:
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4]),
         helper.make_tensor_value_info("axes", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_batched_falls_back_to_loop_when_vmap_fails() -> None:
    m = tb.onnx_to_torch(reduce_sum_dynamic_axes())
    x = torch.randn(4, 3, 4)
    # shared axes are plain tensors inside vmap: fine
    bm = tb.batched(m)
    torch.testing.assert_close(bm(x, torch.tensor([1])), x.sum(2, keepdim=True))
    assert bm.use_vmap
    # batched axes hit `.tolist()` on a BatchedTensor: vmap raises, the loop takes over
    bm = tb.batched(m, batch_inputs={"x", "axes"})
    with pytest.warns(UserWarning, match="vmap failed"):
        out = bm(x, torch.ones(4, 1, dtype=torch.int64))
    torch.testing.assert_close(out, x.sum(2, keepdim=True))
    assert not bm.use_vmap
    torch.testing.assert_close(bm(x, torch.zeros(4, 1, dtype=torch.int64)), x.sum(1, keepdim=True))


def conv_lpnorm_model(rng: np.random.Generator) -> onnx.ModelProto:
    nodes = [
        helper.make_node("Conv", ["x", "K"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["c1", "K", "kb$1"], ["c2"], pads=[0, 1, 0, 1]),
        helper.make_node("LpNormalization", ["c2"], ["n"], axis=1, p=2),
        helper.make_node("Mul", ["n", "s$constant$1"], ["y"]),
    ]
    inits = {
        "K": rng.standard_normal((2, 2, 3, 3)).astype(np.float32),
        "kb$1": rng.standard_normal(2).astype(np.float32),
        "s$constant$1": np.float32([2.0]),
    }
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_conv_and_lp_normalization() -> None:
    rng = np.random.default_rng(5)
    proto = conv_lpnorm_model(rng)
    m = tb.onnx_to_torch(proto)
    assert set(m.state_dict()) == {"initializers.K", "initializers.kb$1", "initializers.s$constant$1"}
    assert {n for n, _ in m.named_parameters()} == {"initializers.K", "initializers.kb$1"}
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    (want,) = run_ort(proto, {"x": x})
    np.testing.assert_allclose(m(torch.from_numpy(x)).detach().numpy(), want, rtol=RTOL, atol=ATOL)
    bx = torch.from_numpy(rng.standard_normal((3, 1, 2, 5, 5)).astype(np.float32))
    out = tb.batched(m)(bx)
    torch.testing.assert_close(out, torch.stack([m(v) for v in bx]))


def test_torchvision_placeholder_or_real() -> None:
    import onnx2torch  # noqa: F401

    tv = sys.modules["torchvision"]
    if getattr(tv, "agrippa_placeholder", False):
        with pytest.raises(RuntimeError, match="need a working torchvision"):
            tv.ops.nms(None, None, 0.5)


def read_weights(path: Path) -> dict[str, np.ndarray]:
    weights = sys.modules.get("agrippa.backend.weights")
    loader = getattr(weights, "load_weights", None)
    if loader is not None:
        return dict(loader(path))
    with open(path, "rb") as fh:
        return pickle.load(fh)


@pytest.fixture
def weights_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use agrippa.weights when it exists, else a temporary pickle-writing stand-in."""
    try:
        import agrippa.backend.weights as real

        if hasattr(real, "save_weights"):
            return
    except ImportError:
        pass

    def save_weights(path: Path, weights: dict[str, np.ndarray]) -> None:
        with open(path, "wb") as fh:
            pickle.dump(dict(weights), fh)

    stand_in = types.ModuleType("agrippa.backend.weights")
    stand_in.save_weights = save_weights
    monkeypatch.setitem(sys.modules, "agrippa.backend.weights", stand_in)


def test_save_torch_model(tmp_path: Path, weights_module: None) -> None:
    m = tb.onnx_to_torch(CASES / "linreg" / "ref.onnx")
    with torch.no_grad():
        m.initializers.get_parameter("W$1").add_(1.0)
    path = tb.save_torch_model(tb.batched(m), tmp_path)
    assert path == tmp_path / "weights.pkl"
    saved = read_weights(path)
    assert set(saved) == {"W$1", "b$1", "wx$axes$constant"}
    for name, value in saved.items():
        assert isinstance(value, np.ndarray)
        np.testing.assert_array_equal(value, getattr(m.initializers, name).detach().numpy())
    assert saved["wx$axes$constant"].dtype == np.int64
    assert tb.torch_weights(m).keys() == saved.keys()
