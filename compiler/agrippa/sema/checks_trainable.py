"""The check that a model can be trained: a warning at every node whose op (as in force at
the project's opset) has no PyTorch converter, so `agrippa train` never starts only to
stop at conversion. The facts come from `agrippa.sema.ops.trainable` (generated from the
backend's converters; this layer cannot import torch). The checker registers the rule."""
from __future__ import annotations

from agrippa.base.diagnostics import Diagnostic, Severity
from agrippa.sema.ir import Graph
from agrippa.sema.ops import get_op
from agrippa.sema.ops.trainable import TRAINABLE, WHY_NOT


def untrainable_ops(graph: Graph, out: list[Diagnostic]) -> None:
    """Nodes whose op version has no converter to PyTorch (once per markup element)."""
    seen: set[int] = set()
    fine: set[str] = set()  # ops known trainable at this opset (asked once each)
    for node in graph.nodes:
        if node.op in fine or node.domain not in ("", "ai.onnx") or id(node.origin.element) in seen:
            continue
        schema = get_op(node.op, graph.opset)
        if schema is None or (node.op, schema.since_version) in TRAINABLE:
            fine.add(node.op)
            continue
        seen.add(id(node.origin.element))
        attr = node.origin.element.attrs.get("op")
        if attr is None:
            continue
        why = WHY_NOT.get(node.op, "no converter written yet")
        out.append(Diagnostic(
            node.origin.file, attr.value_range, Severity.WARNING, "untrainable-op",
            f"{node.op} (version {schema.since_version} at opset {graph.opset}) cannot be trained: {why}. "
            "`agrippa compile` and onnxruntime still run it; `agrippa train` would stop at conversion "
            "(see docs/ops.md)"))
