"""The per-code corpus: for each diagnostic code, a broken project with ⟦ ⟧ marking the
range the diagnostic must cover (used by tests/test_diagnostic_codes.py).

`CASES` holds the checker's classic cases (name → code, severity, files); `EXTRA` one case
per remaining code (code → severity, files, options; the options are read by the test).
"""
from __future__ import annotations

from agrippa.base.diagnostics import Severity

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
    "symbolic-too-complex": (Severity.INFORMATION, {
        "main.agr": '<model><import from="x" dim="[expr(⟦n' + ' // 2' * 60 + '⟧), 4]" /></model>'}, {}),
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
