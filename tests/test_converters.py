"""The bridge's own converters (`agrippa.backend.converters`): for every (op, version)
registered there, one-node models whose torch forward matches onnxruntime's (rtol 1e-4)
and whose backward pass gives finite gradients. Where onnxruntime has no kernel for the
version, onnx's reference evaluator is the judge."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from converter_cases import CASES, Init  # noqa: E402

from agrippa.backend.converters import coverage  # noqa: E402
from agrippa.backend.torch_bridge import onnx_to_torch  # noqa: E402

OURS = sorted(k for k, who in coverage.converters().items() if who == "agrippa" and k[0] in coverage.versions())


def build(op: str, version: int, inputs: list, attrs: dict, n_out: int) -> tuple[onnx.ModelProto, dict]:
    names, graph_inputs, inits, feeds = [], [], [], {}
    for k, value in enumerate(inputs):
        if value is None:
            names.append("")
            continue
        name = f"in{k}"
        names.append(name)
        if isinstance(value, Init):
            inits.append(numpy_helper.from_array(value.value, name))
        else:
            feeds[name] = value
            graph_inputs.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(value.dtype), list(value.shape)))
    while names and not names[-1]:
        names.pop()
    attrs = {k: numpy_helper.from_array(v) if isinstance(v, np.ndarray) else v for k, v in attrs.items()}
    outs = [f"out{k}" for k in range(n_out)]
    node = helper.make_node(op, names, outs, **attrs)
    graph = helper.make_graph([node], "g", graph_inputs, [helper.make_empty_tensor_value_info(o) for o in outs],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", version)])
    model.ir_version = 10
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type for v in inferred.graph.output}
    for out in model.graph.output:
        if out.name in types:
            out.type.CopyFrom(types[out.name])
    return model, feeds


def reference(model: onnx.ModelProto, feeds: dict, op: str, version: int) -> list[np.ndarray]:
    """onnxruntime's outputs; without a kernel for this version, onnx's reference evaluator's;
    without either, onnxruntime's at the op's previous version when the newer one only adds
    types (the same inputs, outputs and attributes)."""
    import onnxruntime as ort
    from onnx.reference import ReferenceEvaluator

    def unimplemented(exc: Exception) -> bool:
        text = str(exc).lower()
        return any(s in text for s in ("not_implemented", "not implemented", "no registered implementation",
                                       "are not supported"))

    try:
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    except Exception as exc:
        if not unimplemented(exc):
            raise
    try:
        return list(ReferenceEvaluator(model).run(None, feeds))
    except Exception as exc:
        older = _types_only_predecessor(op, version)
        if not unimplemented(exc) or older is None:
            raise
    model.opset_import[0].version = older
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)


def _types_only_predecessor(op: str, version: int) -> int | None:
    from onnx import defs

    def signature(s: defs.OpSchema) -> tuple:
        return sorted(s.attributes), [i.name for i in s.inputs], [o.name for o in s.outputs]

    new = defs.get_schema(op, version, "")
    try:
        old = defs.get_schema(op, version - 1, "")
    except defs.SchemaError:
        return None
    return old.since_version if signature(old) == signature(new) else None


def _cases() -> list:
    params = []
    for op, version in OURS:
        for k, spec in enumerate(CASES[op](version) if op in CASES else [None]):
            params.append(pytest.param(op, version, spec, id=f"{op}-{version}-{k}"))
    return params


@pytest.mark.parametrize(("op", "version", "spec"), _cases())
def test_forward_matches_onnxruntime_and_backward_runs(op: str, version: int, spec) -> None:
    assert spec is not None, f"no case for {op}: add one to tests/converter_cases.py"
    if op == "RoiAlign" and getattr(sys.modules.get("torchvision"), "agrippa_placeholder", False):
        pytest.skip("torchvision is broken here (upstream's RoiAlign needs it)")
    inputs, attrs, n_out = spec
    model, feeds = build(op, version, inputs, attrs, n_out)
    expected = reference(model, feeds, op, version)
    module = onnx_to_torch(model).eval()  # Dropout: inference, as onnxruntime runs it
    args = [torch.from_numpy(np.array(feeds[i.name])) for i in model.graph.input if i.name in feeds]
    for a in args:
        if a.is_floating_point():
            a.requires_grad_(True)
    got = module(*args)
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = g.detach().numpy()
        assert g.shape == np.asarray(e).shape, (g.shape, np.asarray(e).shape)
        if np.asarray(e).dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(g, e)
    differentiable = [g for g in got if g.is_floating_point() and g.requires_grad]
    if not differentiable:
        return
    loss = sum((g * torch.linspace(0.5, 1.5, g.numel()).reshape(g.shape)).sum() for g in differentiable)
    loss.backward()
    grads = [a.grad for a in args if a.requires_grad] + [p.grad for p in module.parameters()]
    assert all(torch.isfinite(g).all() for g in grads if g is not None)


def test_every_converter_of_ours_has_a_case() -> None:
    assert sorted({op for op, _ in OURS} - set(CASES)) == []
