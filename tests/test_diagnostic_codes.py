"""One broken project per diagnostic code: the diagnostic a user sees, at its exact range.

Like lemminx's per-code tests: every code in `agrippa.base.codes` has a case here (a
meta-test checks it), asserting the code's severity, its exact range and, where the
registry promises one, its quick fix. In each file ⟦ and ⟧ mark the range the diagnostic
must cover (they are removed before analysis); `main.agr` is analysed, other files are
sourced by it or are the project's `agrippa.toml`.
"""
from __future__ import annotations

import pytest

from agrippa.base import codes
from agrippa.base.diagnostics import Severity
from agrippa.sema.analysis import analyze


def _strip_markers(text: str) -> tuple[str, tuple[int, int, int, int] | None]:
    if "⟦" not in text:
        return text, None
    start = text.index("⟦")
    text = text.replace("⟦", "", 1)
    end = text.index("⟧")
    text = text.replace("⟧", "", 1)

    def pos(i: int) -> tuple[int, int]:
        return text.count("\n", 0, i), i - (text.rfind("\n", 0, i) + 1)

    return text, (*pos(start), *pos(end))


IO = '<import from="x" dim="[3, 4]" />'

CASES = {
    "malformed-xml": ("xml-syntax", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y"/></node>\n'
                    '</block><⟦model⟧ </model>'}),
    "unknown-op": ("unknown-op", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦Relux⟧"><input src="x"/><output name="y"/></node></block></model>'}),
    "unknown-attribute": ("unknown-attribute", Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="Softmax" ⟦axs⟧="1"><input src="x"/><output name="y"/></node>'
                    '</block></model>'}),
    "ill-typed-attribute": ("bad-attribute", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Softmax" axis="⟦one⟧"><input src="x"/><output name="y"/>'
                    '</node></block></model>'}),
    "missing-attribute": ("missing-attribute", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦Concat⟧"><input src="x"/><input src="x"/>'
                    '<output name="y"/></node></block></model>'}),
    "wrong-input-count": ("arity", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦MatMul⟧"><input src="x"/><output name="y"/></node>'
                    '</block></model>'}),
    "undefined-tensor": ("undefined-tensor", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="⟦xx⟧"/><output name="y"/></node>'
                    '</block></model>'}),
    "use-before-definition": ("use-before-definition", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="⟦z⟧"/><output name="y"/></node>'
                    '<node op="Relu"><input src="x"/><output name="z"/></node></block></model>'}),
    "duplicate-output": ("duplicate-output", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y"/></node>'
                    '<node op="Relu"><input src="y"/><output name="⟦y⟧"/></node></block></model>'}),
    "dollar-in-name": ("bad-name", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a⟦$⟧b"/></node>'
                    '</block></model>'}),
    "dot-in-name": ("bad-name", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a⟦.⟧b"/></node>'
                    '</block></model>'}),
    "root-import-without-dim": ("root-io-without-dim", Severity.ERROR, {
        "main.agr": '<model><⟦import⟧ from="x" /><block><node op="Relu"><input src="x"/><output name="y"/>'
                    '</node></block></model>'}),
    "expression-error": ("expr-syntax", Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[expr(2 * ⟦(⟧n))]" /></model>'}),
    "unknown-init": ("unknown-init", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]" '
                    'init="⟦xavir⟧"/><output name="y"/></node></block></model>'}),
    "init-args-length": ("init-args", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]" '
                    'init="constant" init_args="⟦[1, 2]⟧"/><output name="y"/></node></block></model>'}),
    "rep-and-stretch": ("rep-and-stretch", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block rep="2" ⟦stretch⟧="2"><import from="x"/><node op="Relu">'
                    '<input src="x"/><output name="y"/></node><export from="y"/></block></model>'}),
    "rep-without-import": ("rep-without-io", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block ⟦rep⟧="2"><node op="Relu"><input src="x"/><output name="y"/></node>'
                    '<export from="y"/></block></model>'}),
    "missing-sourced-file": ("missing-source", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block src="⟦nothere.agr⟧" name="n"/></model>'}),
    "sourced-tag-with-children": ("sourced-with-children", Severity.ERROR, {
        "main.agr": f'<model>{IO}<⟦block⟧ src="a.agr" name="a"><node op="Relu"/></block></model>',
        "a.agr": '<model></model>'}),
    "sourcing-cycle": ("source-cycle", Severity.ERROR, {
        "main.agr": '<model><block src="a.agr" name="a"/></model>',
        "a.agr": '<model><block src="⟦main.agr⟧" name="m"/></model>'}),
    "dims-for-dim": ("dims-for-dim", Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y" ⟦dims⟧="[3, 4]"/>'
                    '</node></block><export from="y" dim="[3, 4]"/></model>'}),
    "unused-output": ("unused-output", Severity.HINT, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="⟦y⟧"/></node>'
                    '</block></model>'}),
    "shared-dims-differ": ("shared-dims-differ", Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="W" dim="[4]" shared="yes"/>'
                    '<output name="y"/></node><node op="Add"><input src="y"/><params name="W" dim="⟦[3]⟧" '
                    'shared="yes"/><output name="z"/></node></block></model>'}),
}


EXTRA = {
    # code: (severity, files, options); options: bindings, target ("." analyses the folder),
    # compile (compile_project instead of analyze), fix (the new text of the first fix's edit)
    "xml-empty": (Severity.ERROR, {"main.agr": "⟦ ⟧"}, {}),
    "dynamic-dim-in-attribute": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[var(batch), 12]"/><block><node op="Reshape" '
                    'shape="[var(⟦batch⟧), 3, 4]"><input src="x"/><output name="y"/></node></block>'
                    '<export from="y" dim="[var(batch), 3, 4]"/></model>',
        "agrippa.toml": '[model]\ndynamic = ["batch"]\n'}, {}),
    "dynamic-dim-in-params": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[var(batch), 4]"/><block><node op="Add"><input src="x"/>'
                    '<params name="b" dim="[var(⟦batch⟧), 4]"/><output name="y"/></node></block>'
                    '<export from="y" dim="[var(batch), 4]"/></model>',
        "agrippa.toml": '[model]\ndynamic = ["batch"]\n'}, {}),
    "no-exports": (Severity.WARNING, {"main.agr": '<⟦model⟧><import from="x" dim="[2]"/><block><node op="Relu">'
                                    '<input src="x"/><output name="y"/></node></block></model>'}, {}),
    "untrainable-op": (Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="⟦RandomNormalLike⟧"><input src="x"/><output name="y"/></node>'
                    '</block></model>'}, {}),
    "xml-entity": (Severity.ERROR, {"main.agr": '<model><block><desc>a ⟦&foo;⟧ b</desc></block></model>'}, {}),
    "xml-doctype": (Severity.ERROR, {"main.agr": '⟦<!DOCTYPE⟧ model><model></model>'}, {}),
    "xml-duplicate-attribute": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block title="a" ⟦title⟧="b"></block></model>'}, {}),
    "xml-too-deep": (Severity.ERROR, {"main.agr": "<model>" + "<block>" * 300 + "</block>" * 300 + "</model>"},
                     {"anywhere": True}),
    "file-unreadable": (Severity.ERROR, {"main.agr": b"<model>\xff\xfe</model>"}, {"range": (0, 0, 0, 0)}),
    "xml-bad-char": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a⟦&#xD800;⟧b"/></node>'
                    '</block></model>'}, {}),
    "bidi-control": (Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a⟦\u202e⟧b"/></node>'
                    '</block></model>'}, {}),
    "too-many-diagnostics": (Severity.WARNING, {"main.agr": "<model>" + "< " * 1200 + "</model>"},
                             {"range": (0, 0, 0, 0)}),
    "config": (Severity.ERROR, {"main.agr": f"<model>{IO}</model>",
                                "agrippa.toml": "[model]\n⟦opset⟧ = \"new\"\n"}, {}),
    "config-syntax": (Severity.ERROR, {"main.agr": f"<model>{IO}</model>",
                                       "agrippa.toml": "[model\n"}, {"anywhere": True}),
    "train-config": (Severity.ERROR, {"main.agr": f"<model>{IO}</model>",
                                      "agrippa.toml": '[train]\ndata = "d.npz"\n⟦stepz⟧ = 3\n'}, {}),
    "no-index": (Severity.ERROR, {"notes.txt": "nothing here"}, {"target": ".", "range": (0, 0, 0, 0)}),
    "index-choice": (Severity.INFORMATION, {"a.agr": f"<model>{IO}</model>", "b.agr": f"<model>{IO}</model>"},
                     {"target": ".", "range": (0, 0, 0, 0), "file": "a.agr"}),
    "schema-invalid": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x" ⟦dim⟧="[3, 4]"/><output name="y"/>'
                    '</node></block></model>'}, {"skip": "the fallback for xmlschema messages with no specific code; none known"}),
    "schema-bad-root": (Severity.ERROR, {"main.agr": "<⟦graph⟧></graph>"}, {"layer": "schema"}),
    "schema-bad-value": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="MatMul"><params name="W" dim="[4, 4]" shared="⟦true⟧"/>'
                    '<input src="x"/><output name="y"/></node></block></model>'}, {"fix": "yes"}),
    "schema-missing-attribute": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="MatMul"><⟦params⟧ name="W"/><input src="x"/>'
                    '<output name="y"/></node></block></model>'}, {}),
    "schema-missing-element": (Severity.ERROR, {"main.agr": "<model><⟦block⟧></block></model>"},
                               {"skip": "unreachable: no element of today's schema requires a child"}),
    "schema-unexpected-element": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<⟦node⟧ op="Relu"><input src="x"/><output name="y"/></node></model>'}, {}),
    "schema-unexpected-text": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Relu">⟦applies relu⟧<input src="x"/><output name="y"/>'
                    '</node></block></model>'}, {}),
    "schema-unknown-attribute": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block ⟦tilte⟧="a"></block></model>'},
        {"skip": "unreachable: every element of the schema accepts any attribute (docs/language.md §2)"}),
    "schema-unknown-element": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><⟦nod⟧ op="Relu"><input src="x"/><output name="y"/></nod></block></model>'},
        {"fix": "node"}),
    "value-syntax": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[3, 4⟦"⟧ /></model>'}, {}),
    "expr-value": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[expr(⟦n / 0⟧)]" /></model>'}, {"bindings": {"n": 3}}),
    "value-too-large": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[expr(⟦10^99999⟧)]" /></model>'}, {"anywhere": True}),
    "unbound-var": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[var(n), var(⟦m⟧)]" /></model>'}, {"bindings": {"n": 3}}),
    "bad-dim": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="⟦[3.5, 4]⟧" /></model>'}, {}),
    "bad-count": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block rep="⟦0⟧"><import from="x"/><node op="Relu"><input src="x"/>'
                    '<output name="y"/></node><export from="y"/></block></model>'}, {}),
    "bad-root": (Severity.ERROR, {"main.agr": f'<model>{IO}<block src="a.agr" name="a"/></model>',
                                  "a.agr": "<⟦graph⟧></graph>"}, {}),
    "ignored-attribute": (Severity.WARNING, {
        "main.agr": f'<model>{IO}<block src="a.agr" name="a" ⟦rep⟧="2"/></model>',
        "a.agr": "<model></model>"}, {}),
    "duplicate-name": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<import from="⟦x⟧" dim="[3, 4]" /></model>'}, {}),
    "too-many-copies": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block rep="⟦1000000000⟧"><import from="x"/><node op="Relu"><input src="x"/>'
                    '<output name="y"/></node><export from="y"/></block></model>'}, {}),
    "too-many-nodes": (Severity.ERROR, {  # 3 × 90,000: reported once, at the outer count
        "main.agr": f'<model>{IO}<block rep="⟦3⟧"><import from="x"/>'
                    '<block rep="90000"><import from="x"/><node op="Relu"><input src="x"/>'
                    '<output name="y"/></node><export from="y"/></block><export from="y"/></block></model>'}, {}),
    "source-too-deep": (Severity.ERROR, {
        "main.agr": '<model><block src="⟦a.agr⟧" name="a"/></model>',
        **{f"{c}.agr": f'<model><block src="{n}.agr" name="{n}"/></model>'
           for c, n in zip("abcdefghijklmnopqrstuvwxyz", "bcdefghijklmnopqrstuvwxyza")}},
        {"anywhere": True, "skip_if_code": "source-cycle"}),
    "sourced-without-name": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<⟦block⟧ src="a.agr"/></model>', "a.agr": "<model></model>"}, {}),
    "shape-mismatch": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[3, 4]" /><import from="w" dim="[5, 6]" /><block>'
                    '<node op="MatMul"><input src="x"/><input src="⟦w⟧"/><output name="y"/></node></block>'
                    '<export from="y" dim="[3, 6]"/></model>'}, {"anywhere": True}),
    "possible-shape-mismatch": (Severity.WARNING, {
        "main.agr": '<model><import from="x" dim="[n, k]" /><import from="w" dim="[m, p]" /><block>'
                    '<node op="MatMul"><input src="x"/><input src="w"/><output name="y"/></node></block>'
                    '</model>'}, {"anywhere": True, "skip": "symbolic dims need var()"}),
    "rank-mismatch": (Severity.ERROR, {
        "main.agr": '<model><import from="x" dim="[3, 4]" /><block>'
                    '<node op="Conv"><input src="⟦x⟧"/><params name="W" dim="[2, 3, 1, 1]"/><output name="y"/>'
                    '</node></block></model>'}, {"anywhere": True}),
    "bad-axis": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Softmax" axis="⟦5⟧"><input src="x"/><output name="y"/>'
                    '</node></block></model>'}, {}),
    "shape-error": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Reshape"><input src="x"/><params name="s" dim="[2]" '
                    'type="int64" init="constant" init_args="[5]" frozen="yes"/><output name="y"/></node>'
                    '</block></model>'}, {"anywhere": True, "skip": "needs folded frozen constants (issue 13)"}),
    "type-mismatch": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="Gather"><params name="E" dim="[10, 4]"/>'
                    '<input src="⟦x⟧"/><output name="y"/></node></block></model>'}, {}),
    "stale-dim": (Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="y" dim="⟦[3, 5]⟧"/>'
                    '</node></block><export from="y" dim="[3, 4]"/></model>'}, {"fix": "[3, 4]"}),
    "name-for-title": (Severity.WARNING, {
        "main.agr": f'<model>{IO}<block><node op="Relu" ⟦name⟧="act1"><input src="x"/><output name="y"/></node>'
                    '</block></model>'}, {"fix": "title"}),
    "op-needs-opset": (Severity.ERROR, {
        "main.agr": f'<model>{IO}<block><node op="⟦LayerNormalization⟧"><input src="x"/>'
                    '<params name="g" dim="[4]"/><output name="y"/></node></block></model>'},
        {"fix": "[model]\nopset = 17\n"}),
    "dims-differ-symbolically": (Severity.WARNING, {
        "main.agr": '<model><import from="x" dim="[3, var(d)]" /><block><node op="MatMul"><input src="x"/>'
                    '<params name="E" dim="[var(d), var(n)]" shared="yes"/><output name="y"/></node>'
                    '<node op="MatMul"><input src="y"/><params name="E" dim="⟦[var(n), var(d)]⟧" shared="yes"/>'
                    '<output name="z"/></node></block></model>'}, {"bindings": {"d": 4, "n": 4}}),
    "renamed-value": (Severity.WARNING, {
        "main.agr": f'<model>{IO}<block rep="2"><import from="x"/><node op="Mul"><input src="x"/>'
                    '<params name="gain" dim="[4]"/><output name="⟦gain⟧"/></node><node op="Relu">'
                    '<input src="gain"/><output name="y"/></node><export from="y"/></block></model>'}, {}),
    "duplicate-onnx-name": (Severity.ERROR, {
        "main.agr": '<model><import from="X" dim="[4]"/><block><node op="ReduceSum" axes="[0]"><input src="X"/>'
                    '<output name="s"/></node><node op="Identity"><input src="X"/><output name="X$v"/></node>'
                    '</block><block src="a.agr" name="X"/></model>',
        "a.agr": '<block><node op="Add"><input src="v"/><params name="⟦axes⟧" dim="[4]" frozen="yes" shared="yes"/>'
                 '<output name="w"/></node></block>'}, {}),
    "weights-mismatch": (Severity.ERROR, {"main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/>'
                                                      '<params name="b" dim="⟦[4]⟧"/><output name="y"/></node></block>'
                                                      '<export from="y" dim="[3, 4]"/></model>'},
                         {"compile": True, "weights": {"b$1": (5,)}}),
    # issue 11: stored shapes (check reads the header: tests/test_weights_shapes.py), compile validates
    "weights-reshaped": (Severity.WARNING, {"main.agr": f'<model>{IO}<block><node op="MatMul"><input src="x"/>'
                                                        '<params name="W" dim="⟦[4, 2]⟧"/><output name="y"/></node>'
                                                        '</block><export from="y" dim="[3, 2]"/></model>'},
                         {"compile": True, "weights": {"W$1": (2, 4)}}),
    "weights-unchecked": (Severity.INFORMATION, {  # over a million pickle operations: not read at check
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]"/>'
                    '<output name="y"/></node></block><export from="y" dim="[3, 4]"/></model>',
        "weights.pkl": b"\x80\x04](" + b"N" * (1 << 20) + b"e."}, {"range": (0, 0, 0, 0), "file": "weights.pkl"}),
    "weights-unwritable": (Severity.ERROR, {  # a .pkl holds plain numpy types: not bfloat16
        "main.agr": '<model><import from="x" dim="[3, 4]" type="bfloat16"/><block><node op="Add"><input src="x"/>'
                    '<params name="b" dim="[4]" type="bfloat16"/><output name="y"/></node></block>'
                    '<export from="y" dim="[3, 4]"/></model>',
        "agrippa.toml": '[model]\n⟦weights⟧ = "w.pkl"\n'}, {"compile": True, "weights": {}, "weights_file": "w.pkl"}),
    "internal-invalid-model": (Severity.ERROR, {"main.agr": f"<model>{IO}</model>"},
                               {"skip": "only a bug of ours makes it; tests/test_weights_shapes.py simulates one"}),
    # issue 12: the file-access policy, budgets, and weights never lost
    "outside-project": (Severity.ERROR, {"main.agr": f'<model>{IO}<block src="⟦../../etc/passwd⟧" name="p"/></model>'}, {}),
    "not-a-regular-file": (Severity.ERROR, {"main.agr": f'<model>{IO}<block src="⟦.⟧" name="p"/></model>'}, {}),
    "file-too-large": (Severity.ERROR, {"main.agr": '<model><block src="⟦a.agr⟧" name="a"/></model>',
                                        "a.agr": "<model>" + " " * 200 + "</model>",
                                        "agrippa.toml": "[project]\nmax_file_mb = 0.0001\n"}, {}),
    "too-many-sourced": (Severity.ERROR, {"main.agr": '<model><block src="f0.agr" name="r"/></model>',
                                          **{f"f{i}.agr": f'<block><block src="f{i + 1}.agr" name="a"/>'
                                             f'<block src="f{i + 1}.agr" name="b"/></block>' for i in range(17)},
                                          "f17.agr": "<block></block>"}, {"anywhere": True}),
    "non-finite-init": (Severity.ERROR, {"main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params '
                                                     'name="b" dim="[4]" init="constant" init_args="⟦[1e999]⟧"/>'
                                                     '<output name="y"/></node></block></model>'}, {}),
    "param-too-large": (Severity.WARNING, {"main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params '
                                                       'name="b" dim="⟦[30000, 30000]⟧"/><output name="y"/></node>'
                                                       '</block></model>'}, {}),
    "complex-weight": (Severity.ERROR, {"main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/>'
                                                    '<⟦params⟧ name="b" dim="[4]"/><output name="y"/></node></block>'
                                                    '<export from="y" dim="[3, 4]"/></model>'},
                       {"compile": True, "weights": {"b$1": (4,)}, "dtype": "complex64", "weights_file": "weights.pkl"}),
    "unused-weights": (Severity.WARNING, {"main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/>'
                                                      '<params name="b" dim="[4]"/><output name="y"/></node></block>'
                                                      '<export from="y" dim="[3, 4]"/></model>'},
                       {"compile": True, "weights": {"b$1": (4,), "gone$1": (2,)}, "range": (0, 0, 0, 0),
                        "file": "weights.safetensors"}),
    "weights-unreadable": (Severity.ERROR, {  # a pickle whose key is a 2^40-item tuple DAG: hashing never ends
        "main.agr": f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]"/>'
                    '<output name="y"/></node></block><export from="y" dim="[3, 4]"/></model>',
        "agrippa.toml": '[model]\nweights = "w.pkl"\n',
        "w.pkl": b"\x80\x02})q\x000" + b"".join(
            b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86q" + bytes([i + 1]) + b"0" for i in range(40)) + b"h(Ns."},
        {"compile": True, "weights": {}, "range": (0, 0, 0, 0), "file": "w.pkl"}),
}


def _case(code: str):
    if code in EXTRA:
        return EXTRA[code]
    [(sev, files)] = [(s, f) for c, s, f in CASES.values() if c == code][:1] or [(None, None)]
    return sev, files, {}


def _write(tmp_path, files: dict, opts: dict):
    expected_file = expected_range = None
    for name, text in files.items():
        if isinstance(text, bytes):
            (tmp_path / name).write_bytes(text)
            continue
        clean, rng = _strip_markers(text)
        (tmp_path / name).write_text(clean)
        if rng is not None:
            expected_file, expected_range = str(tmp_path / name), rng
    if "range" in opts:
        expected_range = opts["range"]
        expected_file = str(tmp_path / opts.get("file", "main.agr"))
    if opts.get("target") == "." and "file" not in opts:
        expected_file = str(tmp_path)
    return expected_file, expected_range


def _diagnostics(tmp_path, opts: dict):
    target = str(tmp_path if opts.get("target") == "." else tmp_path / "main.agr")
    if opts.get("layer") == "schema":  # masked by a semantic rule in a full analysis
        from agrippa.sema.schema.validate import validate_files
        from agrippa.syntax import parse

        return validate_files([parse(target, (tmp_path / "main.agr").read_text())])
    if not opts.get("compile"):
        return analyze(target, bindings=opts.get("bindings")).diagnostics
    import numpy as np

    from agrippa.backend.compile import compile_project
    from agrippa.backend.weights import save_weights
    from agrippa.base.diagnostics import CompileError

    save_weights(str(tmp_path / opts.get("weights_file", "weights.safetensors")),
                 {k: np.zeros(s, opts.get("dtype", np.float32)) for k, s in opts["weights"].items()})
    try:
        return compile_project(str(tmp_path), str(tmp_path / "out.onnx")).analysis.diagnostics
    except CompileError as e:
        return e.diagnostics


@pytest.mark.parametrize("code", sorted(codes.CODES))
def test_each_code_is_reported_at_its_exact_range(code: str, tmp_path):
    severity, files, opts = _case(code)
    assert files is not None, f"no case for {code}: add one to CASES or EXTRA"
    if opts.get("skip"):
        pytest.skip(opts["skip"])
    expected_file, expected_range = _write(tmp_path, files, opts)
    diags = _diagnostics(tmp_path, opts)
    found = [d for d in diags if d.code == code]
    if not found and opts.get("skip_if_code") in {d.code for d in diags}:
        pytest.skip(f"{opts['skip_if_code']} is reported first")
    assert found, f"no {code} among {[(d.code, d.message) for d in diags]}"
    at = [d for d in found if (d.range.start.line, d.range.start.character, d.range.end.line,
                               d.range.end.character) == expected_range]
    d = (at or found)[0]
    assert d.severity == severity, d.message
    if opts.get("anywhere"):
        return
    assert d.file == expected_file
    got = (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
    assert got == expected_range, d.message
    if "fix" in opts:
        assert d.fixes and d.fixes[0].edits[0].new_text == opts["fix"], d.fixes


def test_every_code_has_a_case_and_every_case_a_registered_code():
    covered = {c for c, _, _ in CASES.values()} | set(EXTRA)
    assert covered == set(codes.CODES), (set(codes.CODES) - covered, covered - set(codes.CODES))


def test_the_docs_list_every_code():
    assert codes.DOCS.read_text(encoding="utf-8") == codes.render_markdown(), \
        "regenerate: python -m agrippa.base.codes > docs/diagnostics.md"


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_model_gets_its_diagnostic(case: str, tmp_path):
    code, severity, files = CASES[case]
    expected_file, expected_range = _write(tmp_path, files, {})
    found = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == code]
    assert found
    d = found[0]
    assert d.severity == severity, d.message
    assert d.file == expected_file
    got = (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
    assert got == expected_range, d.message


def test_unbound_var_is_an_error_once_bindings_are_given(tmp_path):
    (tmp_path / "main.agr").write_text('<model><import from="x" dim="[var(n), var(m)]" /></model>')
    assert not analyze(str(tmp_path / "main.agr")).errors  # no bindings: symbolic, fine
    an = analyze(str(tmp_path / "main.agr"), bindings={"n": 3})
    [d] = [d for d in an.diagnostics if d.code == "unbound-var"]
    assert d.is_error and "'m' has no binding" in d.message
    assert (d.range.start.character, d.range.end.character) == (42, 43)


def test_a_broken_node_does_not_hide_the_rest(tmp_path):
    (tmp_path / "main.agr").write_text(
        f'<model>{IO}<block><node op="Relux"><input src="x"/><output name="y"/></node>'
        '<node op="Relu"><input src="nope"/><output name="z"/></node></block></model>')
    codes = {d.code for d in analyze(str(tmp_path / "main.agr")).diagnostics}
    assert {"unknown-op", "undefined-tensor"} <= codes


def test_did_you_mean_fixes_are_attached(tmp_path):
    (tmp_path / "main.agr").write_text(
        f'<model>{IO}<block><node op="Sofmax"><input src="x"/><output name="y"/></node></block></model>')
    [d] = [d for d in analyze(str(tmp_path / "main.agr")).diagnostics if d.code == "unknown-op"]
    assert "did you mean 'Softmax'?" in d.message
    assert d.fixes[0].edits[0].new_text == "Softmax" and d.fixes[0].preferred
