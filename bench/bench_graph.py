"""Benchmark: the graph view in headless Chromium (figures, never assertions).

    .venv/bin/python bench/bench_graph.py [--repeat 3] [--lines 15000] [--netron PYTHON]

For the thesis-size GPT (examples/gpt, profile `full`: 937 nodes, ~127M parameters) and for
the generated 15,000-line model (bench/gen_large.py), it prints:

- **view**: `agrippa view` in a fresh subprocess (analysis, graph, HTML written);
- **first paint**: from navigation to the first frame after the first layout is drawn
  (`firstDraw`, measured in the page: HTML and JSON parsed, elkjs layout, SVG drawn), the
  layout alone, and the wall time playwright saw;
- **expand**: opening the first `rep` group, then its first copy (one layer): layout time
  and the items laid out. Only what is open is laid out, so these stay small.
- **one block, clicked**: a top-level block's toggle clicked, to the painted result (in page):
  expanding lays out that block alone (the top level makes room for it, or is laid out again
  by elkjs when small), collapsing comes from the cache; then the same with the layout cache
  cleared first (every level laid out afresh: what each expand cost before issue 14's item).
- **edit**: the GPT in a page built like the VS Code webview, fed `graph` messages as the
  extension sends them after an edit; from posting the edited graph (one node's attribute
  changed; one node added) to its paint, with a layer open. Unchanged levels come from the cache.

`--baseline BUNDLE` runs the same page-side figures with another graph-view.js (e.g. the bundle
before a change) in the same run, printed beside.

With `--netron PYTHON` (an interpreter with the `netron` package, e.g. a venv made with
`python -m venv /tmp/netron && /tmp/netron/bin/pip install netron`), the same compiled GPT is
also opened in Netron in the same run, and its time to a drawn graph printed beside ours.
Targets (issue 14): first paint of the GPT within 1 s; one block expanded on the 15,000-line
model and an edit to the GPT painted well within 300 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from e2e import harness  # noqa: E402
from gen_large import large_model  # noqa: E402

DRIVER = ROOT / "graph-view" / "test" / "drive.js"
NETRON_DRIVER = ROOT / "graph-view" / "test" / "netron.js"


def view(project: Path, out: Path, profile: str | None) -> float:
    cmd = [sys.executable, "-m", "agrippa.cli", "view", str(project), "-o", str(out)]
    if profile:
        cmd += ["--profile", profile]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def drive(html: Path, out_dir: Path, mode: str = "bench", expect: dict | None = None) -> dict:
    env = {**os.environ, "PLAYWRIGHT_CORE": str(harness.PLAYWRIGHT), "CHROMIUM": harness.CHROMIUM}
    r = subprocess.run(["node", str(DRIVER), mode, str(html), str(out_dir), json.dumps(expect or {})], env=env,
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    for line in r.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError(f"the driver failed:\n{r.stdout}\n{r.stderr}")


def med(xs: list[float]) -> str:
    return f"{statistics.median(xs):7.0f} ms" + (f" (min {min(xs):.0f}, max {max(xs):.0f})" if len(xs) > 1 else "")


def with_bundle(html: Path, bundle: Path) -> Path:
    """The same page with another graph-view.js in it."""
    from agrippa.cli_graph import _script_safe, bundle_text

    out = html.with_name("baseline-" + html.name)
    out.write_text(html.read_text().replace(_script_safe(bundle_text() or ""), _script_safe(bundle.read_text())))
    return out


def stats(r: dict) -> str:
    s = r.get("stats")
    if not s:
        return "(no level stats: whole view laid out)"
    ms = ", ".join(f"{k} {v:.0f}" for k, v in s.get("ms", {}).items())
    return (f"(elkjs: {', '.join(s['elk']) or 'none'}; room made: {', '.join(s['room']) or 'none'}; "
            f"cached {len(s['cached'])}; ms: {ms})")


def print_toggle(runs: list[dict], label: str) -> None:
    if not runs[0].get("toggleBlock"):
        return
    for key, what in (("toggleBlock", "rest cached"), ("toggleBlockScratch", "nothing cached")):
        ex = [r[key]["expand"] for r in runs]
        co = [r[key]["collapse"] for r in runs]
        print(f"  {label}one block, {what + ':':15} expand {med([x['ms'] for x in ex])} to paint "
              f"{stats(ex[0])}")
        print(f"  {label}{'':26}collapse {med([x['ms'] for x in co])} to paint {stats(co[0])}")


def run_case(name: str, project: Path, profile: str | None, repeat: int, work: Path,
             baseline: Path | None) -> None:
    html = work / f"{name}.html"
    views = [view(project, html, profile) * 1000 for _ in range(repeat)]
    runs = [drive(html, work) for _ in range(repeat)]
    base = [drive(with_bundle(html, baseline), work) for _ in range(repeat)] if baseline else []
    size = html.stat().st_size / 1e6
    print(f"\n== {name} ({size:.1f} MB of HTML)")
    print(f"  agrippa view (subprocess)       {med(views)}")
    print(f"  first paint (in page)           {med([r['firstDrawMs'] for r in runs])}")
    print(f"    of which the first layout     {med([r['firstLayoutMs'] for r in runs])}")
    print(f"    wall time seen by playwright  {med([r['firstPaintWallMs'] for r in runs])}")
    print(f"  top-level groups                {runs[0]['topGroups']}, network requests: {runs[0]['requests']}")
    if runs[0].get("expandRep"):
        print(f"  expand the first rep group      {med([r['expandRep']['layoutMs'] for r in runs])} layout, "
              f"{med([r['expandRep']['wall'] for r in runs])} to a frame; {runs[0]['expandRep']['items']} items")
        print(f"  then open one layer (a copy)    {med([r['expandLayer']['layoutMs'] for r in runs])} layout, "
              f"{med([r['expandLayer']['wall'] for r in runs])} to a frame; {runs[0]['expandLayer']['items']} items")
    if runs[0].get("expandBlock"):
        print(f"  expand the first block          {med([r['expandBlock']['layoutMs'] for r in runs])} layout, "
              f"{med([r['expandBlock']['wall'] for r in runs])} to a frame; {runs[0]['expandBlock']['items']} items")
    print_toggle(runs, "")
    if base:
        print(f"  baseline bundle: first paint    {med([r['firstDrawMs'] for r in base])}")
        print_toggle(base, "baseline: ")


EDITS = [  # (what, old text, new text) in examples/gpt/gpt.agr
    ("one node's attribute (Attention Norm epsilon)",
     '<node op="LayerNormalization" title="Attention Norm" axis="-1" epsilon="1e-5">',
     '<node op="LayerNormalization" title="Attention Norm" axis="-1" epsilon="1e-6">'),
    ("one node added (in Embedding)",
     '<output name="stream" dim="[var(ntokens), var(dmodel)]" />\n        </node>\n        <export from="stream" />',
     '<output name="stream_pre" dim="[var(ntokens), var(dmodel)]" />\n        </node>\n'
     '        <node op="Identity" title="Embedding Out">\n            <input src="stream_pre" />\n'
     '            <output name="stream" />\n        </node>\n        <export from="stream" />'),
]


def graph_json(project: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "agrippa.cli", "graph", str(project), "--profile", "full", "-o", str(out)],
                   check=True, capture_output=True, text=True)
    g = json.loads(out.read_text())
    if g.get("errors"):
        raise RuntimeError(f"{out.name}: the edited model has errors: {g.get('diagnostics')}")
    return out


def run_edit(repeat: int, work: Path, baseline: Path | None) -> None:
    """The GPT fed to a webview-like page as 'graph' messages: an edit's graph to its paint."""
    proj = work / "gpt-edit"
    shutil.copytree(ROOT / "examples" / "gpt", proj)
    src = (proj / "gpt.agr").read_text()
    files = [graph_json(proj, work / "edit-0.json")]
    for i, (_, old, new) in enumerate(EDITS, 1):
        assert old in src, old
        (proj / "gpt.agr").write_text(src.replace(old, new))
        files.append(graph_json(proj, work / f"edit-{i}.json"))
    (proj / "gpt.agr").write_text(src)
    g = json.loads(files[0].read_text())
    rep = next(c for c in g["root"]["children"] if c["kind"] == "rep")
    opened = [g["root"]["children"][0]["id"], rep["id"], rep["children"][0]["id"]]
    from agrippa.cli_graph import bundle_text

    print(f"\n== edit -> paint: the GPT (profile full) in a webview-like page, {opened[0]!r} and one layer open")
    for label, bundle in (("", None), ("baseline: ", baseline)):
        if label and not bundle:
            continue
        js = work / "webview-graph-view.js"
        js.write_text(bundle.read_text() if bundle else bundle_text() or "")
        page = work / "webview.html"
        page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%}'
                        '#agrippa-graph{position:fixed;inset:0}</style></head><body><div id="agrippa-graph"></div>'
                        '<script>function acquireVsCodeApi(){return {postMessage(){}}}</script>'
                        f'<script src="{js.name}"></script></body></html>')
        runs = [drive(page, work, "edit", {"graphs": [str(f) for f in files], "open": opened}) for _ in range(repeat)]
        print(f"  {label}first graph message to paint   {med([r['first']['ms'] for r in runs])}")
        for i, (what, _, _) in enumerate(EDITS):
            print(f"  {label}edit: {what:46} {med([r['edits'][i]['ms'] for r in runs])} to paint "
                  f"{stats(runs[0]['edits'][i])}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def netron_version(python: str) -> str:
    r = subprocess.run([python, "-c", "import netron; print(netron.__version__)"], capture_output=True, text=True,
                       cwd=str(ROOT))
    return r.stdout.strip() or "?"


def run_netron(python: str, work: Path, repeat: int) -> None:
    """Netron on the same GPT, compiled to ONNX (weights as external data: the graph alone)."""
    from agrippa.backend.compile import compile_project

    proj = work / "gpt-netron"
    shutil.copytree(ROOT / "examples" / "gpt", proj)
    onnx = proj / "gpt.onnx"
    compile_project(str(proj), str(onnx), profile="full", write_weights=False, seed=0, external_data=True)
    port = free_port()
    server = subprocess.Popen([python, "-c", "import netron, sys; netron.start(sys.argv[1], ('127.0.0.1', int(sys.argv[2])), "
                               "browse=False); netron.wait()", str(onnx), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(2)
        env = {**os.environ, "PLAYWRIGHT_CORE": str(harness.PLAYWRIGHT), "CHROMIUM": harness.CHROMIUM}
        times, boxes = [], []
        shots = ROOT / "artifacts" / "graph"
        shots.mkdir(parents=True, exist_ok=True)
        for _ in range(repeat):
            r = subprocess.run(["node", str(NETRON_DRIVER), f"http://127.0.0.1:{port}/", str(shots)], env=env,
                               capture_output=True, text=True, timeout=300)
            line = next((x for x in r.stdout.splitlines() if x.startswith("NETRON ")), None)
            if line is None:
                print(f"  netron: the driver failed: {r.stdout[-500:]} {r.stderr[-500:]}")
                return
            got = json.loads(line[7:])
            times.append(got["firstGraphMs"])
            boxes.append(got["boxesMs"])
        print(f"\n== Netron {netron_version(python)} on the same GPT (.onnx graph {onnx.stat().st_size / 1e6:.2f} MB, "
              f"weights as external data; {got['nodes']} boxes, flat)")
        print(f"  first drawn graph (wall)        {med(times)}   (screenshot: artifacts/graph/netron.png)")
        print(f"    its node boxes created after  {med(boxes)}")
    finally:
        harness.kill_group(server)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lines", type=int, default=15_000)
    ap.add_argument("--netron", help="a Python with the netron package: time Netron on the same model")
    ap.add_argument("--baseline", type=Path, help="another graph-view.js: its page-side figures beside ours")
    ap.add_argument("--only", choices=("gpt", "large", "edit"), action="append", help="run only these cases")
    args = ap.parse_args()
    for what, missing in (("node", not shutil.which("node")), ("playwright-core", not harness.PLAYWRIGHT.exists()),
                          ("chromium", not Path(harness.CHROMIUM).exists())):
        if missing:
            print(f"cannot run: {what} is missing ({harness.SETUP_HINT})")
            return 2
    work = Path(tempfile.mkdtemp(prefix="agrippa-bench-graph-"))
    try:
        only = set(args.only or ("gpt", "large", "edit"))
        if "gpt" in only:
            run_case("gpt (profile full)", ROOT / "examples" / "gpt", "full", args.repeat, work, args.baseline)
        if "large" in only:
            large = work / "large"
            large.mkdir()
            (large / "large.agr").write_text(large_model(args.lines))
            (large / "agrippa.toml").write_text("[bindings]\nn = 4\nd = 16\n")
            run_case(f"generated {args.lines:,}-line model", large, None, args.repeat, work, args.baseline)
        if "edit" in only:
            run_edit(args.repeat, work, args.baseline)
        if args.netron:
            run_netron(args.netron, work, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
