"""The graph model (agrippa.ide.graph) and `agrippa graph|view`, on every example and on the
public conformance projects: groups nest as the markup does, rep/stretch groups hold their
copies, and the groups' parameter counts add up to the compiled model's initializers."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from shared_paths import CASES

from agrippa.ide.graph import graph_of

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (REPO / "examples").iterdir() if (p / "agrippa.toml").exists() or list(p.glob("*.agr")))
CONFORMANCE = sorted(CASES.glob("*/project")) if CASES.exists() else []


def _groups(g: dict):
    yield g
    for c in g["children"]:
        yield from _groups(c)


def _all_nodes(g: dict):
    for grp in _groups(g):
        yield from grp["nodes"]


def _check_shape(graph: dict) -> None:
    """The required fields, and counts that add up."""
    for key in ("params", "frozen", "root", "tensors"):
        assert key in graph
    for grp in _groups(graph["root"]):
        for key in ("kind", "title", "children", "nodes", "params", "range"):
            assert key in grp, key
        assert {"file", "line"} <= set(grp["range"])
        assert grp["kind"] in ("model", "block", "rep", "stretch", "sourced", "copy")
        own = sum(p["count"] for n in grp["nodes"] for p in n["params"] if isinstance(p["count"], int))
        assert isinstance(own, int)
        if all(isinstance(c["params"], int) for c in grp["children"]) and isinstance(grp["params"], int):
            assert grp["params"] >= sum(c["params"] for c in grp["children"])
        if grp["kind"] in ("rep", "stretch") and isinstance(grp.get("copies"), int):
            copies = [c for c in grp["children"] if c["kind"] == "copy"]
            assert len(copies) == grp["copies"], grp["title"]
            assert [c["index"] for c in copies] == list(range(grp["copies"]))
    for n in _all_nodes(graph["root"]):
        for key in ("op", "title", "inputs", "outputs", "range"):
            assert key in n
        for t in n["outputs"]:
            assert t in graph["tensors"]
            assert {"shape", "dtype"} <= set(graph["tensors"][t])
    for t in graph["tensors"].values():
        assert set(t) >= {"shape", "dtype"}


def _initializer_total(onnx_path: Path, constants: set[str]) -> int:
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    return sum(math.prod(i.dims) for i in model.graph.initializer if i.name not in constants)


def _compile_and_compare(project: Path, tmp_path: Path, profile: str | None = None,
                         bindings: dict | None = None) -> dict:
    from agrippa.backend.compile import compile_project

    work = tmp_path / project.name
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("*.onnx", "runs", "*.pt", "*.png", "*.csv"))
    graph, an = graph_of(str(work), profile=profile, bindings=bindings)
    assert graph is not None and not an.errors, [d.message for d in an.errors]
    _check_shape(graph)
    res = compile_project(str(work), str(tmp_path / "out.onnx"), profile=profile, bindings=bindings,
                          write_weights=False, seed=0)
    total = _initializer_total(Path(res.onnx_path), set(an.graph.constants))
    assert graph["params"] + graph["frozen"] == total
    assert graph["root"]["params"] == graph["params"]
    assert sum(len(g["nodes"]) for g in _groups(graph["root"])) == len(an.graph.nodes)
    return graph


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples(example, tmp_path):
    _compile_and_compare(example, tmp_path)


@pytest.mark.skipif(not CONFORMANCE, reason="../shared/conformance is not beside the repository")
@pytest.mark.parametrize("project", CONFORMANCE, ids=[p.parent.name for p in CONFORMANCE])
def test_conformance(project, tmp_path):
    ref = project.parent / "ref.json"
    raw = (json.loads(ref.read_text()).get("bindings") or {}) if ref.exists() else {}
    bindings = {k: int(v) if str(v).lstrip("-").isdigit() else v for k, v in raw.items()}
    _compile_and_compare(project, tmp_path, bindings=bindings)


def test_gpt_full_hierarchy():
    """The thesis-size GPT: 937 nodes, ~127M parameters; a rep group holds its 6 layers, each
    with a stretch group of 16 heads; symbolic and concrete shapes side by side."""
    graph, an = graph_of(str(REPO / "examples" / "gpt"), profile="full")
    assert graph is not None
    assert len(an.graph.nodes) == 937
    assert graph["params"] + graph["frozen"] == an.graph.parameter_count
    top = graph["root"]["children"]
    assert [g["title"] for g in top] == ["Embedding", "Decoder Layer", "Output"]
    rep = top[1]
    assert rep["kind"] == "rep" and rep["copies"] == 6
    assert [c["kind"] for c in rep["children"]] == ["copy"] * 6
    layer = rep["children"][0]
    heads = next(c for c in layer["children"] if c["kind"] == "stretch")
    assert heads["copies"] == 16 and len([c for c in heads["children"] if c["kind"] == "copy"]) == 16
    assert any(n["op"] == "Concat" for n in heads["nodes"])  # the stretch concat sits in its group
    # every copy of a layer has the same number of parameters; the shared embedding counts once
    assert len({c["params"] for c in rep["children"]}) == 1
    assert rep["params"] == 6 * layer["params"]
    embed = next(p for n in top[0]["nodes"] for p in n["params"] if p["logical"] == "embed")
    assert embed["shared"] and embed["shape"] == [50257, 1024]
    t = graph["tensors"]["token_embeddings"]
    assert t["concrete"] == [64, 1024] and t["symbolic"] == ["ntokens", "dmodel"] and t["dtype"] == "float32"


def test_sourced_groups():
    graph, _ = graph_of(str(REPO / "examples" / "transformer"))
    enc = next(g for g in graph["root"]["children"] if g["title"] == "Encoder Layer")
    copy = enc["children"][0]
    sourced = [c for c in copy["children"] if c["kind"] == "sourced"]
    assert [s["title"] for s in sourced] == ["enc_attn", "enc_attn_norm", "enc_ffn", "enc_ffn_norm"]
    assert sourced[0]["source"] == "attention.agr"
    assert sourced[0]["range"]["file"].endswith("transformer.agr")
    heads = next(c for c in sourced[0]["children"] if c["kind"] == "stretch")
    assert heads["range"]["file"].endswith("attention.agr")


def test_errors_mark_nodes_and_edges(tmp_path):
    work = tmp_path / "mlp"
    shutil.copytree(REPO / "examples" / "mlp", work)
    agr = work / "mlp.agr"
    text = agr.read_text()
    # a weight matrix of the wrong size: the MatMul's input shapes disagree
    broken = text.replace('dim="[var(din), var(dhidden)]"', 'dim="[3, var(dhidden)]"', 1)
    assert broken != text
    agr.write_text(broken)
    graph, an = graph_of(str(work))
    assert graph is not None and an.errors
    bad = [n for n in _all_nodes(graph["root"]) if n["errors"]]
    assert bad, "a node with an error is marked"
    assert graph["errors"] == len(an.errors)
    assert any(g["errors"] for g in graph["root"]["children"])


def test_symbolic_without_bindings(tmp_path):
    work = tmp_path / "mlp"
    shutil.copytree(REPO / "examples" / "mlp", work)
    (work / "agrippa.toml").write_text("")
    graph, _ = graph_of(str(work))
    assert isinstance(graph["params"], str)  # a count in the user's names
    t = next(iter(t for t in graph["tensors"].values() if t["kind"] == "value"))
    assert t["concrete"] is None and t["symbolic"]


def test_cli_graph_and_view(tmp_path, capsys):
    from agrippa.cli import main
    from agrippa.cli_graph import bundle_text

    assert main(["graph", str(REPO / "examples" / "mlp")]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert graph["params"] == 212 and graph["root"]["kind"] == "model"
    if bundle_text() is None:
        pytest.skip("the graph view is not built (cd graph-view && npm ci && npm run build)")
    out = tmp_path / "mlp.html"
    assert main(["view", str(REPO / "examples" / "gpt"), "--profile", "full", "-o", str(out)]) == 0
    page = out.read_text()
    assert 'id="agrippa-graph-data"' in page and "default-src 'none'" in page
    for attr in ("src=", "href="):  # nothing loaded from elsewhere
        assert f'<script {attr}' not in page and f'<link {attr}' not in page


def test_broken_text_never_raises(tmp_path):
    """Any prefix of a model (as while typing) gives a graph or None, never an exception."""
    from agrippa.ide.graph import model_graph
    from agrippa.sema.analysis import analyze

    text = (REPO / "examples" / "transformer" / "transformer.agr").read_text()
    work = tmp_path / "t"
    shutil.copytree(REPO / "examples" / "transformer", work)
    for cut in range(0, len(text), max(1, len(text) // 40)):
        (work / "transformer.agr").write_text(text[:cut])
        graph = model_graph(analyze(str(work)))
        if graph is not None:
            json.dumps(graph)
