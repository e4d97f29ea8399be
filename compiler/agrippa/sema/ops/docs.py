"""Hover documentation for an op: signature, inputs, outputs, attributes, the ONNX doc."""
from __future__ import annotations

import re

import numpy as np

from agrippa.sema.ops.catalog import OpInput, OpOutput, OpSchema
from agrippa.sema.ops.inputs import attribute_input_specs

ONNX_OPERATOR_URL = "https://onnx.ai/onnx/operators/onnx__{}.html"
ONNX_DOCS_URL = "https://onnx.ai/onnx/repo-docs/{}.html"
"""The ONNX docs' relative links (`Broadcasting.md`) point into onnx's repository: here, to its site."""
_RELATIVE_MD = re.compile(r"\]\((?![a-z]+:|#)([A-Za-z0-9_./-]+)\.md(#[^)]*)?\)")

DOC_LIMIT = 1500
"""Characters of the ONNX doc shown in a hover; longer docs are cut at a paragraph."""


def _signature(schema: OpSchema) -> str:
    def fmt(p: OpInput | OpOutput) -> str:
        name = f"{p.name}..." if p.variadic else p.name
        return f"[{name}]" if p.optional else name

    ins = ", ".join(fmt(p) for p in schema.inputs)
    outs = ", ".join(fmt(p) for p in schema.outputs)
    return (
        f"{schema.name}({ins}) -> {outs}"
        if len(schema.outputs) <= 1
        else f"{schema.name}({ins}) -> ({outs})"
    )


def _first_sentence(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    cut = re.search(r"(?<=[.!?])\s", text)
    if cut and cut.start() <= limit:
        return text[: cut.start()]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _trim_doc(doc: str, limit: int = DOC_LIMIT) -> str:
    if len(doc) <= limit:
        return doc
    cut = doc.rfind("\n\n", 0, limit)
    if cut < limit // 3:
        cut = doc.rfind(" ", 0, limit)
    return doc[: max(cut, 1)].rstrip() + "\n\n…"


def _format_default(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.ndarray):
        return "tensor"
    return str(value)


def op_markdown(schema: OpSchema) -> str:
    """Markdown for hover: signature, inputs, outputs, attributes, then the ONNX doc (trimmed)."""
    lines = [
        f"**{schema.name}** — ONNX op, version {schema.since_version} (in force at opset {schema.opset})",
        "",
        f"```\n{_signature(schema)}\n```",
    ]
    specs = attribute_input_specs(schema)

    def param_lines(title: str, params: tuple[OpInput, ...] | tuple[OpOutput, ...]) -> None:
        if not params:
            return
        lines.extend(["", f"**{title}**", ""])
        for p in params:
            flags = [f for f, on in (("optional", p.optional), ("variadic", p.variadic)) if on]
            if p.name in specs:
                flags.append("may be given as an attribute")
            flag = f" ({', '.join(flags)})" if flags else ""
            lines.append(f"- `{p.name}`: `{p.type_str}`{flag} — {_first_sentence(p.description)}")

    param_lines("Inputs", schema.inputs)
    param_lines("Outputs", schema.outputs)
    if schema.attributes:
        lines.extend(["", "**Attributes**", ""])
        for a in schema.attributes.values():
            extra = (
                "required"
                if a.required
                else (
                    f"default {_format_default(a.default)}" if a.default is not None else "optional"
                )
            )
            lines.append(f"- `{a.name}`: {a.kind}, {extra} — {_first_sentence(a.description)}")
    if schema.type_constraints:
        lines.extend(["", "**Types**", ""])
        for param, allowed in schema.type_constraints.items():
            short = ", ".join(t.removeprefix("tensor(").removesuffix(")") for t in allowed)
            lines.append(f"- `{param}`: {short}")
    if schema.doc:
        lines.extend(["", "---", "", _trim_doc(_absolute_links(schema.doc))])
    if schema.domain in ("", "ai.onnx"):
        lines.extend(["", f"[ONNX documentation of {schema.name}]({ONNX_OPERATOR_URL.format(schema.name)})"])
    return "\n".join(lines)


def _absolute_links(doc: str) -> str:
    """`[text](Broadcasting.md)` → the page on onnx.ai (the relative link leads nowhere in an editor)."""
    return _RELATIVE_MD.sub(lambda m: f"]({ONNX_DOCS_URL.format(m.group(1).rsplit('/', 1)[-1])}{m.group(2) or ''})", doc)
