"""The example projects: they analyse cleanly, compile, run in onnxruntime, and compute
what their numpy re-implementations compute with the same weights. Also the back end's
file writing (streamed, external data) on them."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from agrippa.backend import onnx_export
from agrippa.backend.compile import compile_project
from agrippa.sema.analysis import analyze

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAMES = ["linreg", "mlp", "cnn", "gpt", "transformer"]
OUTPUT_SHAPES = {  # with each example's [bindings]
    "linreg": {"y": [1]},
    "mlp": {"y": [4, 4]},
    "cnn": {"logits": [2, 10]},
    "gpt": {"logits": [32, 512]},
    "transformer": {"logits": [8, 100]},
}


def copy_project(name: str, dest: Path) -> Path:
    """A copy of the example's markup and agrippa.toml (compiling writes weights beside them)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in EXAMPLES.joinpath(name).iterdir():
        if f.suffix in (".agr", ".xml", ".toml"):
            shutil.copy(f, dest)
    return dest


def compile_example(name: str, tmp: Path, **kw) -> tuple[str, dict[str, np.ndarray]]:
    """Compile without touching examples/; the ONNX path and the initializers by name."""
    out = str(tmp / f"{name}.onnx")
    compile_project(str(EXAMPLES / name), out, seed=0, write_weights=False, **kw)
    model = onnx.load(out)
    return out, {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def causal_mask(n: int) -> np.ndarray:
    return np.triu(np.full((n, n), -1e9, np.float32), 1)


def one_hot(n: int, vocab: int, rng: np.random.Generator) -> np.ndarray:
    x = np.zeros((n, vocab), np.float32)
    x[np.arange(n), rng.integers(0, vocab, n)] = 1
    return x


def feeds_for(session: ort.InferenceSession, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Plausible inputs: one-hot tokens, causal or empty masks, normal samples otherwise."""
    feeds = {}
    for i in session.get_inputs():
        shape = [int(d) for d in i.shape]
        if i.name.endswith("tokens"):
            feeds[i.name] = one_hot(shape[0], shape[1], rng)
        elif i.name in ("mask", "tgt_mask"):
            feeds[i.name] = causal_mask(shape[0])
        elif i.name.endswith("mask"):
            feeds[i.name] = np.zeros(shape, np.float32)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def run(path: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, feeds)))


# -- every example -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_example_analyses_cleanly(name: str) -> None:
    for strict in (False, True):
        an = analyze(str(EXAMPLES / name), strict=strict)
        for d in an.diagnostics:
            print(f"{name}: {d}")
        assert not an.errors, [str(d) for d in an.errors]
        assert an.graph is not None and an.graph.complete


@pytest.mark.parametrize("name", NAMES)
def test_example_compiles_and_runs(name: str, tmp_path: Path) -> None:
    out, _ = compile_example(name, tmp_path)
    onnx.checker.check_model(onnx.load(out), full_check=True)
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    results = run(out, feeds_for(session, np.random.default_rng(1)))
    assert {k: list(v.shape) for k, v in results.items()} == OUTPUT_SHAPES[name]
    for v in results.values():
        assert np.isfinite(v).all()


def test_gpt_full_profile_is_the_thesis_size() -> None:
    an = analyze(str(EXAMPLES / "gpt"), profile="full", strict=True)
    assert not an.errors
    assert 126_000_000 < an.graph.parameter_count < 128_000_000  # ~127M, embedding tied


def test_transformer_sources_its_blocks() -> None:
    an = analyze(str(EXAMPLES / "transformer"), strict=True)
    sourced = sorted({Path(p).name for p in an.graph.sourced.values()})
    assert sourced == ["attention.agr", "ffn.agr", "layernorm.agr"]
    names = set(an.graph.params)
    assert {"embed", "enc_attn$query_w$1", "cross_attn$out_w$2", "dec_ffn_norm$gain$2"} <= names


# -- numpy re-implementations --------------------------------------------------------------------


def test_linreg_matches_numpy(tmp_path: Path) -> None:
    out, w = compile_example("linreg", tmp_path)
    x = np.random.default_rng(2).standard_normal(5).astype(np.float32)
    y = run(out, {"x": x})["y"]
    np.testing.assert_allclose(y, np.sum(w["W$1"] * x, keepdims=True) + w["b$1"], rtol=1e-5, atol=1e-6)


def test_mlp_matches_numpy(tmp_path: Path) -> None:
    out, w = compile_example("mlp", tmp_path)
    x = np.random.default_rng(3).standard_normal((4, 8)).astype(np.float32)
    hidden = np.maximum(x @ w["W1$1"] + w["b1$1"], 0)
    assert hidden.shape == (4, 16)
    np.testing.assert_allclose(run(out, {"x": x})["y"], hidden @ w["W2$1"] + w["b2$1"], rtol=1e-5, atol=1e-5)


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def gpt_numpy(w: dict[str, np.ndarray], tokens: np.ndarray, mask: np.ndarray, nlayers: int, nheads: int) -> np.ndarray:
    """The GPT of examples/gpt, with parameters named as the compiler names them."""
    x = layer_norm(tokens @ w["embed"] + w["positions$1"], w["embed_norm_gain$1"], w["embed_norm_bias$1"])
    for layer in range(1, nlayers + 1):
        a = layer_norm(x, w[f"attn_norm_gain${layer}"], w[f"attn_norm_bias${layer}"])
        heads = []
        for h in range((layer - 1) * nheads + 1, layer * nheads + 1):
            q, k, v = a @ w[f"query_w${h}"], a @ w[f"key_w${h}"], a @ w[f"value_w${h}"]
            heads.append(softmax(q @ k.T / w["sqrt_dkeys$constant"] + mask) @ v)
        x = x + np.concatenate(heads, -1) @ w[f"attn_out_w${layer}"]
        f = layer_norm(x, w[f"ffn_norm_gain${layer}"], w[f"ffn_norm_bias${layer}"])
        x = x + np.maximum(f @ w[f"ffn_w1${layer}"] + w[f"ffn_b1${layer}"], 0) @ w[f"ffn_w2${layer}"] + w[f"ffn_b2${layer}"]
    x = layer_norm(x, w["final_norm_gain$1"], w["final_norm_bias$1"])
    return x @ w["embed"].T


@pytest.mark.parametrize(("nlayers", "nheads"), [(1, 1), (2, 3)])
def test_gpt_attention_matches_numpy(tmp_path: Path, nlayers: int, nheads: int) -> None:
    from agrippa.backend.weights import load_weights, save_weights

    bindings = {"nlayers": nlayers, "nheads": nheads, "ntokens": 6, "nvocab": 11, "dmodel": 8,
                "dqueries": 4, "dkeys": 4, "dvalues": 5, "dffnhidden": 16}
    project = copy_project("gpt", tmp_path / "gpt")
    first = compile_project(str(project), str(tmp_path / "first.onnx"), bindings=bindings, seed=0)
    # every parameter random (norm gains and biases included), read back from the weights file
    rng = np.random.default_rng(4)
    stored = load_weights(first.weights_path)
    save_weights(first.weights_path, {k: v if "$constant" in k else
                                      (v + rng.normal(0, 0.5, v.shape)).astype(np.float32) for k, v in stored.items()})
    out = str(tmp_path / "gpt.onnx")
    assert compile_project(str(project), out, bindings=bindings).fresh == []
    w = {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    assert sum(name == "embed" for name in w) == 1 and np.allclose(w["sqrt_dkeys$constant"], 2.0)
    assert not np.allclose(w["final_norm_gain$1"], 1)
    tokens, mask = one_hot(6, 11, rng), causal_mask(6)
    logits = run(out, {"tokens": tokens, "mask": mask})["logits"]
    np.testing.assert_allclose(logits, gpt_numpy(w, tokens, mask, nlayers, nheads), rtol=1e-4, atol=1e-4)
    # the causal mask: logits at position i do not depend on tokens after i
    later = tokens.copy()
    later[4:] = one_hot(2, 11, rng)
    np.testing.assert_allclose(run(out, {"tokens": later, "mask": mask})["logits"][:4], logits[:4], rtol=1e-5, atol=1e-5)


# -- the back end writing files ------------------------------------------------------------------


@pytest.mark.parametrize("stream_min", [0, onnx_export.STREAM_MIN_BYTES])
def test_streamed_model_file_is_the_serialization(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  stream_min: int) -> None:
    an = analyze(str(EXAMPLES / "transformer"), strict=True)
    values, _ = onnx_export.param_values(an.graph, {}, np.random.default_rng(0))
    model = onnx_export.build_model(an.graph, values, producer="test", graph_name="t")
    for t in model.graph.initializer:
        if t.name in values:
            assert numpy_helper.from_array(values[t.name], t.name) == t
    monkeypatch.setattr(onnx_export, "STREAM_MIN_BYTES", stream_min)
    onnx_export.save_model(model, str(tmp_path / "t.onnx"))
    serialized = model.SerializeToString()
    assert (tmp_path / "t.onnx").read_bytes() == serialized
    onnx_export.save_model(model, str(tmp_path / "ext.onnx"), external_data=True)
    assert model.SerializeToString() == serialized  # the model is left as it was


def test_external_data_compiles_and_runs(tmp_path: Path) -> None:
    project = copy_project("gpt", tmp_path / "gpt")
    inline = compile_project(str(project), str(tmp_path / "inline.onnx"), seed=5, write_weights=False)
    result = compile_project(str(project), str(tmp_path / "ext.onnx"), seed=5, external_data=True)
    data = tmp_path / "ext.onnx.data"
    assert data.stat().st_size > 500_000 > (tmp_path / "ext.onnx").stat().st_size
    model = onnx.load(result.onnx_path, load_external_data=False)
    external = [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert {e.key for e in external[0].external_data} == {"location", "offset", "length"}
    assert all(int(dict((e.key, e.value) for e in t.external_data)["offset"]) % 4096 == 0 for t in external)
    onnx.checker.check_model(result.onnx_path, full_check=True)
    session = ort.InferenceSession(result.onnx_path, providers=["CPUExecutionProvider"])
    feeds = feeds_for(session, np.random.default_rng(6))
    np.testing.assert_array_equal(run(result.onnx_path, feeds)["logits"], run(inline.onnx_path, feeds)["logits"])


def test_weights_written_back_and_reused(tmp_path: Path) -> None:
    project = copy_project("mlp", tmp_path / "mlp")
    first = compile_project(str(project), str(tmp_path / "a.onnx"), seed=7)
    assert first.weights_path is not None and Path(first.weights_path).exists()
    second = compile_project(str(project), str(tmp_path / "b.onnx"), seed=8)
    assert second.fresh == []
    a, b = onnx.load(first.onnx_path), onnx.load(second.onnx_path)
    assert [numpy_helper.to_array(t).tolist() for t in a.graph.initializer] == \
        [numpy_helper.to_array(t).tolist() for t in b.graph.initializer]
