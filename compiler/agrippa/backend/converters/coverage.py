"""Who converts each op version: upstream onnx2torch, a converter of ours, or nobody (and why).

The op versions considered are those the catalog can put in force: for every opset from
``MIN_OPSET`` to the highest the installed onnx knows, each default-domain op's schema in
force there (deprecated ones left out, as the catalog does).
"""
from __future__ import annotations

import functools

import onnx.defs

from agrippa.project.config import MIN_OPSET
from agrippa.sema.ops.catalog import history

UNTRAINABLE: dict[str, str] = {
    # op: why it has no converter (the text ends the checker's warning)
    **dict.fromkeys(("If", "Loop", "Scan"), "control flow (subgraphs) cannot be converted to PyTorch"),
    **dict.fromkeys(("ConcatFromSequence", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
                     "SequenceInsert", "SequenceLength", "SequenceMap", "SplitToSequence"),
                    "sequence values have no PyTorch tensor equivalent"),
    **dict.fromkeys(("Optional", "OptionalGetElement", "OptionalHasElement"),
                    "optional values have no PyTorch tensor equivalent"),
    **dict.fromkeys(("Bernoulli", "Multinomial", "RandomNormal", "RandomNormalLike", "RandomUniform",
                     "RandomUniformLike"), "a random op: its samples cannot match onnxruntime's"),
    **dict.fromkeys(("RegexFullMatch", "StringConcat", "StringNormalizer", "StringSplit", "TfIdfVectorizer"),
                    "string tensors have no PyTorch equivalent"),
    **dict.fromkeys(("ConvInteger", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearConv",
                     "QLinearMatMul", "QuantizeLinear"), "a quantization op: integer arithmetic has no gradient"),
    "ImageDecoder": "decodes encoded image bytes, not a tensor computation",
    "BitCast": "reinterprets bits across element types, which PyTorch cannot do for every pair",
    "NonMaxSuppression": "data-dependent output, no gradient",
}
NOT_YET = "no converter written yet"


def _opsets() -> range:
    return range(MIN_OPSET, onnx.defs.onnx_opset_version() + 1)


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, tuple[int, ...]]:
    """op -> the since_versions in force at some opset from MIN_OPSET to onnx's highest."""
    out: dict[str, tuple[int, ...]] = {}
    for name, schemas in history().items():
        found: set[int] = set()
        for opset in _opsets():
            in_force = [s for s in schemas if s.since_version <= opset]
            if in_force and not in_force[-1].deprecated:
                found.add(in_force[-1].since_version)
        if found:
            out[name] = tuple(sorted(found))
    return dict(sorted(out.items()))


def converters() -> dict[tuple[str, int], str]:
    """(op, since_version) -> "upstream" or "agrippa", for every registered default-domain converter."""
    from agrippa.backend.converters import load

    load()
    from onnx2torch.node_converters.registry import _CONVERTER_REGISTRY

    out: dict[tuple[str, int], str] = {}
    for desc, fn in _CONVERTER_REGISTRY.items():
        if desc.domain in ("", "ai.onnx"):
            who = "agrippa" if getattr(fn, "__module__", "").startswith("agrippa") else "upstream"
            out[(desc.operation_type, desc.version)] = who
    return out


def trainable() -> frozenset[tuple[str, int]]:
    """Every (op, since_version) the catalog can use that has a converter."""
    have = converters()
    return frozenset((op, v) for op, vs in versions().items() for v in vs if (op, v) in have)


def status(op: str, version: int) -> tuple[str, str]:
    """("upstream onnx2torch" | "agrippa converter" | "not trainable", a note)."""
    who = converters().get((op, version))
    if who == "upstream":
        return "upstream onnx2torch", ""
    if who == "agrippa":
        from agrippa.backend.converters._common import FIXED
        from agrippa.backend.converters.versions import ALIASES, DELEGATES

        def whose(old: int) -> str:
            return f"{'our' if (op, old) in FIXED else 'upstream' + chr(39) + 's'} {op}-{old} converter"

        if op in ALIASES and version in ALIASES[op][1]:
            return "agrippa converter", f"{whose(ALIASES[op][0])} (only types were added)"
        if op in DELEGATES and version in DELEGATES[op][1]:
            return "agrippa converter", f"{whose(DELEGATES[op][0])} when new attributes keep their defaults"
        return "agrippa converter", ""
    return "not trainable", UNTRAINABLE.get(op, NOT_YET)
