"""The graph view in a real browser: `agrippa view` writes the HTML, headless Chromium (through
playwright-core, installed by scripts/setup_editors.sh) opens it from disk and
graph-view/test/drive.js checks it as a user would: the number of top-level groups, a rep
group expanded shows its copies, a copy opened shows its nodes and shape-labelled edges,
double-click drills in and the breadcrumb comes back, search finds a node and the sidebar
shows it, SVG and PNG export, and no network request at all. The incremental layout: one block
expanded lays out that block alone, collapsing restores from the cache, an updated graph
relayouts only the levels that changed.

Screenshots: artifacts/graph/ (the GPT example collapsed and with one layer expanded).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import harness  # noqa: E402

pytestmark = pytest.mark.editor

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "graph-view" / "test" / "drive.js"
ARTIFACTS = REPO / "artifacts" / "graph"

CASES = [  # example, profile, top-level groups, a node to search for
    ("gpt", "full", 3, "Attention Output"),
    ("transformer", None, 6, "Encoder Attention Residual"),
]


def browser_missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed"
    if not harness.PLAYWRIGHT.exists():
        return f"playwright-core is not installed in {harness.CACHE} ({harness.SETUP_HINT})"
    if not Path(harness.CHROMIUM).exists():
        return "chromium is not installed"
    return None


def write_html(example: str, profile: str | None, out: Path) -> None:
    from agrippa.cli import main
    from agrippa.cli_graph import bundle_text

    if bundle_text() is None:
        pytest.fail("the graph view is not built: cd graph-view && npm ci && npm run build")
    args = ["view", str(REPO / "examples" / example), "-o", str(out)]
    if profile:
        args += ["--profile", profile]
    assert main(args) == 0


def drive(mode: str, html: Path, expect: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLAYWRIGHT_CORE": str(harness.PLAYWRIGHT), "CHROMIUM": harness.CHROMIUM}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["node", str(DRIVER), mode, str(html), str(ARTIFACTS), json.dumps(expect or {})],
                          env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("example", "profile", "top", "search"), CASES, ids=[c[0] for c in CASES])
def test_html_in_chromium(example, profile, top, search, tmp_path):
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    html = tmp_path / f"{example}.html"
    write_html(example, profile, html)
    r = drive("test", html, {"topGroups": top, "search": search, "prefix": example})
    print(r.stdout, r.stderr)
    assert r.returncode == 0 and "RESULT PASS" in r.stdout, r.stdout + r.stderr
    assert (ARTIFACTS / f"{example}-collapsed.png").exists()
    assert (ARTIFACTS / f"{example}-layer-expanded.png").exists()


INCREMENTAL = [  # a model, its profile, whether its top level is large enough to make room
    ("gpt", "full", False),
    ("generated", None, True),
]


@pytest.mark.parametrize(("example", "profile", "room"), INCREMENTAL, ids=[c[0] for c in INCREMENTAL])
def test_incremental_layout(example, profile, room, tmp_path):
    """Expanding one block lays out that block alone (plus placing it in the top level), collapsing
    restores the earlier layout from the cache, and an updated graph relayouts only what changed:
    an attribute edit nothing, a renamed node its own block (the other open block is cached)."""
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    from agrippa.cli import main
    from agrippa.cli_graph import bundle_text

    if bundle_text() is None:
        pytest.fail("the graph view is not built: cd graph-view && npm ci && npm run build")
    if example == "generated":  # about 70 top-level blocks of 10 nodes (bench/gen_large.py)
        sys.path.insert(0, str(REPO / "bench"))
        from gen_large import large_model

        project = tmp_path / "large"
        project.mkdir()
        (project / "large.agr").write_text(large_model(3000))
        (project / "agrippa.toml").write_text("[bindings]\nn = 4\nd = 16\n")
    else:
        project = REPO / "examples" / example
    html = tmp_path / f"{example}.html"
    assert main(["view", str(project), "-o", str(html), *(["--profile", profile] if profile else [])]) == 0
    r = drive("incremental", html, {"room": room})
    print(r.stdout, r.stderr)
    assert r.returncode == 0 and "RESULT PASS" in r.stdout, r.stdout + r.stderr


NVIM_SCRIPT = r"""
local ok, err = pcall(function()
  require('agrippa').setup({ python = vim.env.AGRIPPA_E2E_PYTHON })
  vim.g.agrippa_graph_browser = { 'sh', '-c', 'echo "$1" > "$0"', vim.env.AGRIPPA_MARK }
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.AGRIPPA_E2E_FILE))
  vim.cmd('AgrippaGraph full')
  vim.wait(120000, function() return vim.fn.filereadable(vim.env.AGRIPPA_MARK) == 1 end, 100)
  local r = require('agrippa.graph').last
  print('RESULT code=' .. tostring(r and r.code) .. ' html=' .. tostring(r and r.html))
end)
if not ok then print('ERROR ' .. tostring(err)) end
vim.cmd('qa!')
"""


@pytest.mark.parametrize("nvim", [harness.NVIM_DEBIAN, harness.NVIM_WHEEL], ids=["nvim-debian", "nvim-wheel"])
def test_neovim_agrippa_graph(nvim, tmp_path):
    """:AgrippaGraph writes the HTML and hands it to the browser opener."""
    missing = harness.nvim_missing(nvim)
    if missing:
        pytest.skip(missing)
    from agrippa.cli_graph import bundle_text

    if bundle_text() is None:
        pytest.fail("the graph view is not built: cd graph-view && npm ci && npm run build")
    ws = tmp_path / "gpt"
    shutil.copytree(REPO / "examples" / "gpt", ws)
    script = tmp_path / "graph.lua"
    script.write_text(NVIM_SCRIPT)
    mark = tmp_path / "opened.txt"
    env = {**os.environ, **harness.xdg_env(tmp_path), "AGRIPPA_E2E_PYTHON": harness.PYTHON,
           "AGRIPPA_E2E_FILE": str(ws / "gpt.agr"), "AGRIPPA_MARK": str(mark)}
    r = subprocess.run([nvim, "--headless", "--clean", "-n", "-i", "NONE", "--cmd", f"set rtp^={harness.NVIM_PLUGIN}",
                        "-S", str(script)], env=env, capture_output=True, text=True, timeout=180, cwd=str(ws),
                       stdin=subprocess.DEVNULL, start_new_session=True)
    out = r.stdout + r.stderr
    assert "RESULT code=0" in out, out
    assert mark.exists(), out
    opened = Path(mark.read_text().strip())
    assert opened.suffix == ".html" and opened.exists()
    page = opened.read_text()
    assert 'id="agrippa-graph-data"' in page and '"ntokens":"64"' in page  # the `full` profile


def test_vscode_graph(tmp_path):
    """In code-server: "Agrippa: Show Model Graph" opens the webview, a node clicked lands on its
    line, the cursor highlights its node, and a broken file leaves the last graph marked stale."""
    missing = harness.vscode_missing()
    if missing:
        pytest.skip(missing)
    out_dir = harness.fresh_dir(ARTIFACTS / "vscode")
    work = tmp_path
    ws = work / "gpt"
    shutil.copytree(REPO / "examples" / "gpt", ws)
    env = {**os.environ, **harness.xdg_env(work)}
    data, exts = work / "data", work / "extensions"
    (data / "User").mkdir(parents=True)
    with open(out_dir / "harness.log", "w") as log:
        vsix = harness.build_vsix(log)
    r = subprocess.run([str(harness.CODE_SERVER), "--install-extension", str(vsix), "--extensions-dir", str(exts),
                        "--user-data-dir", str(data)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    settings = {"agrippa.server.python": harness.PYTHON, "security.workspace.trust.enabled": False,
                "telemetry.telemetryLevel": "off", "update.mode": "none", "extensions.autoCheckUpdates": False,
                "workbench.startupEditor": "none", "workbench.tips.enabled": False, "chat.disableAIFeatures": True,
                "git.enabled": False, "agrippa.trace.server": "messages"}
    (data / "User" / "settings.json").write_text(json.dumps(settings))
    port = harness.free_port()
    with open(out_dir / "code-server.log", "w") as cs_log:
        cs = subprocess.Popen(
            [str(harness.CODE_SERVER), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--config",
             str(work / "config.yaml"), "--user-data-dir", str(data), "--extensions-dir", str(exts),
             "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", "--ignore-last-opened", str(ws)],
            env=env, stdout=cs_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(work),
            start_new_session=True)
        try:
            import urllib.request

            for _ in range(600):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    if cs.poll() is not None:
                        pytest.fail("code-server exited")
                    import time

                    time.sleep(0.1)
            denv = {**env, "PLAYWRIGHT_CORE": str(harness.PLAYWRIGHT), "CHROMIUM": harness.CHROMIUM}
            d = subprocess.run(["node", str(REPO / "graph-view" / "test" / "vscode_graph.js"), f"http://127.0.0.1:{port}",
                                str(ws), "gpt.agr", str(out_dir)], env=denv, capture_output=True, text=True,
                               timeout=400, stdin=subprocess.DEVNULL)
        finally:
            harness.kill_group(cs)
    print(d.stdout, d.stderr)
    assert d.returncode == 0 and "RESULT PASS" in d.stdout, d.stdout + d.stderr
