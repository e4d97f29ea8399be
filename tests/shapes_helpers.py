"""Shared by the shape-inference tests: one-file projects from node markup, and what
they read back (shapes, shape diagnostics, the marked text)."""
from __future__ import annotations

from pathlib import Path

import pytest
from shared_paths import CASES

from agrippa.base.diagnostics import Severity
from agrippa.sema.analysis import Analysis, analyze
from agrippa.sema.shapes import format_shape

CASE_IDS = sorted(p.name for p in CASES.glob("*") if (p / "ref.json").exists())
DATA = Path(__file__).parent / "data" / "shapes"


@pytest.fixture(autouse=True)
def rules_must_not_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """In these tests a rule's unexpected exception fails the test instead of being swallowed."""
    from agrippa.sema.shapes import engine

    monkeypatch.setattr(engine, "DEBUG", True)


# ------------------------------------------------------------------------------- helpers
def node(op: str, ins: str = "x", outs: str = "y", params: tuple = (), **attrs: object) -> str:
    """`<node>` markup: inputs by name, then params (name, dim), then outputs."""
    a = "".join(f' {k}="{v}"' for k, v in attrs.items())
    body = "".join(f'<input src="{s}" />' for s in ins.split())
    body += "".join(f'<params name="{n}" dim="{d}" />' for n, d in params)
    body += "".join(f'<output name="{o}" />' for o in outs.split())
    return f'<node op="{op}"{a}>{body}</node>'


def write(tmp_path: Path, inputs: dict[str, str], nodes: list[str], exports: str = "",
          opset: int | None = None, extra: str = "") -> Path:
    """A one-file project: root imports (name -> dim, or 'dim:type'), one block of nodes."""
    imports = ""
    for name, dim in inputs.items():
        dim, _, typ = dim.partition(":")
        imports += f'<import from="{name}" dim="{dim}"' + (f' type="{typ}"' if typ else "") + " />\n"
    text = (f'<model script-version="0.0.1">\n{imports}<block title="B">\n' + "\n".join(nodes)
            + f"\n</block>\n{extra}{exports}</model>\n")
    (tmp_path / "main.agr").write_text(text)
    if opset is not None:
        (tmp_path / "agrippa.toml").write_text(f"[model]\nopset = {opset}\n")
    return tmp_path / "main.agr"


def run(tmp_path: Path, inputs: dict[str, str], nodes: list[str], bindings: dict | None = None,
        **kw: object) -> Analysis:
    return analyze(str(write(tmp_path, inputs, nodes, **kw)), bindings=bindings)


def shape(a: Analysis, name: str) -> str:
    return format_shape(a.graph.tensors[name].shape)


def shape_diags(a: Analysis, severity: Severity | None = None) -> list:
    codes = {"shape-mismatch", "possible-shape-mismatch", "bad-axis", "rank-mismatch", "shape-error",
             "stale-dim"}
    return [d for d in a.diagnostics if d.code in codes and (severity is None or d.severity == severity)]


def messages(a: Analysis, severity: Severity | None = None) -> list[str]:
    return [d.message for d in shape_diags(a, severity)]


def line_of(a: Analysis, d) -> str:
    text = Path(d.file).read_text().splitlines()[d.range.start.line]
    return text[d.range.start.character:d.range.end.character]


MATMUL_IN = {"x": "[var(ntokens), var(dmodel)]"}
MATMUL = [node("MatMul", "x", "y", params=(("W", "[var(dkeys), var(dmodel)]"),)),
          node("Relu", "y", "z"), node("Add", "z x", "w")]
