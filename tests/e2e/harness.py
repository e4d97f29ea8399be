"""Run the editor end-to-end checks: VS Code (code-server + headless Chromium) and Neovim.

Used by tests/e2e/test_editors.py, and runnable by hand:

    .venv/bin/python tests/e2e/harness.py vscode
    .venv/bin/python tests/e2e/harness.py nvim [/usr/bin/nvim]

What they need is installed by scripts/setup_editors.sh into
${AGRIPPA_E2E_CACHE:-~/.cache/agrippa-e2e}. Screenshots and logs go to artifacts/e2e/.

Environment:
  AGRIPPA_E2E_CACHE    where setup_editors.sh installed the editors
  AGRIPPA_E2E_PYTHON   interpreter that runs the language server (default: this one)
  AGRIPPA_E2E_EXAMPLE  example project to copy and open (default: examples/mlp)
  AGRIPPA_VSIX         a prebuilt .vsix (default: build it with `npm run package`)
  AGRIPPA_E2E_TRAIN    1: also "Compile and Train" (a [train] table on random data is added
                       to the copy when the example has none); cancel: and cancel it
  AGRIPPA_E2E_TIMEOUT_MS  per-step timeout in the editors (default 60000 / 30000)
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

try:
    from .workspace_edits import add_training, misformat
except ImportError:  # run as a script: python tests/e2e/harness.py
    from workspace_edits import add_training, misformat  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
EXT_DIR = REPO / "vscode-extension"
NVIM_PLUGIN = REPO / "editors" / "nvim"
CACHE = Path(os.environ.get("AGRIPPA_E2E_CACHE") or Path.home() / ".cache" / "agrippa-e2e")
ARTIFACTS = REPO / "artifacts" / "e2e"
EXAMPLE = Path(os.environ.get("AGRIPPA_E2E_EXAMPLE") or REPO / "examples" / "mlp")
PYTHON = os.environ.get("AGRIPPA_E2E_PYTHON") or sys.executable

CODE_SERVER = CACHE / "cs" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT = CACHE / "tools" / "node_modules" / "playwright-core"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
NVIM_DEBIAN = "/usr/bin/nvim"
NVIM_WHEEL = str(CACHE / "venv" / "bin" / "nvim")
SETUP_HINT = "run scripts/setup_editors.sh"


@dataclass
class Run:
    """The outcome of one editor run."""

    returncode: int
    output: str
    artifacts: Path
    workspace: Path
    timings: dict[str, float] = field(default_factory=dict)
    work: Path | None = None  # temporary folder (profiles, the workspace copy)

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and "RESULT PASS" in self.output

    def cleanup(self) -> None:
        """Remove the temporary folder (the artifacts stay)."""
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


# -- what is missing ---------------------------------------------------------------------
def vscode_missing() -> str | None:
    """Why the VS Code run cannot happen here, or None."""
    if not shutil.which("node"):
        return "node is not installed"
    if not CODE_SERVER.exists():
        return f"code-server is not installed in {CACHE} ({SETUP_HINT})"
    if not PLAYWRIGHT.exists():
        return f"playwright-core is not installed in {CACHE} ({SETUP_HINT})"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed ({SETUP_HINT})"
    if not os.environ.get("AGRIPPA_VSIX") and not (EXT_DIR / "node_modules").is_dir():
        return f"vscode-extension/node_modules is missing (npm ci, or {SETUP_HINT})"
    return None


def nvim_missing(nvim: str) -> str | None:
    if not (shutil.which(nvim) or Path(nvim).exists()):
        return f"{nvim} is not installed ({SETUP_HINT})"
    return None


def server_problem() -> str | None:
    """Why the real language server cannot run with PYTHON, or None."""
    if not (EXAMPLE / "mlp.agr").exists() and not any(EXAMPLE.glob("*.agr")):
        return f"the example project {EXAMPLE} has no .agr file"
    r = subprocess.run([PYTHON, "-c", "import agrippa_lsp.__main__"], capture_output=True, text=True,
                       cwd=tempfile.gettempdir(), timeout=120)
    if r.returncode != 0:
        return f"{PYTHON} cannot import agrippa_lsp.__main__: {r.stderr.strip().splitlines()[-1:]}"
    return None


def training_available() -> bool:
    """Whether PYTHON can train (the [train] extra: torch)."""
    r = subprocess.run([PYTHON, "-c", "import agrippa.train, torch"], capture_output=True,
                       cwd=tempfile.gettempdir(), timeout=300)
    return r.returncode == 0


def bare_python() -> str | None:
    """A Python without the language server (to see the "not installed" prompt), or None."""
    for cand in (os.environ.get("AGRIPPA_E2E_BARE_PYTHON"), "/usr/bin/python3"):
        if cand and Path(cand).exists():
            r = subprocess.run([cand, "-c", "import agrippa_lsp"], capture_output=True, cwd=tempfile.gettempdir(),
                               timeout=60)
            if r.returncode != 0:
                return cand
    return None


def model_file(ws: Path) -> Path:
    f = ws / "mlp.agr"
    if f.exists():
        return f
    return sorted(ws.glob("*.agr"))[0]


def copy_example(dest: Path) -> Path:
    """A fresh copy of the example project (the runs edit and compile it)."""
    ws = dest / EXAMPLE.name
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns("*.onnx", "__pycache__", ".vscode", "weights*",
                                                                  "*.safetensors", "*.pkl", "runs"))
    return ws


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xdg_env(base: Path) -> dict[str, str]:
    """Keep editors from writing into $HOME."""
    return {"XDG_CONFIG_HOME": str(base / "xdg-config"), "XDG_DATA_HOME": str(base / "xdg-data"),
            "XDG_CACHE_HOME": str(base / "xdg-cache"), "XDG_STATE_HOME": str(base / "xdg-state")}


def _text(b: bytes | str | None) -> str:
    if isinstance(b, bytes):
        return b.decode(errors="replace")
    return b or ""


def kill_group(proc: subprocess.Popen) -> None:
    """End a process started with start_new_session=True, and everything it started."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


# -- VS Code -----------------------------------------------------------------------------
def build_vsix(log) -> Path:
    if os.environ.get("AGRIPPA_VSIX"):
        return Path(os.environ["AGRIPPA_VSIX"])
    r = subprocess.run(["npm", "run", "--silent", "package"], cwd=EXT_DIR, capture_output=True, text=True,
                       timeout=600)
    log.write(r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"npm run package failed:\n{r.stdout}\n{r.stderr}")
    return EXT_DIR / "agrippa.vsix"


def run_vscode(train: bool | str | None = None, timeout_s: float = 600) -> Run:
    """code-server on 127.0.0.1 with the extension's .vsix; vscode_e2e.js drives Chromium."""
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    out_dir = fresh_dir(ARTIFACTS / "vscode")
    work = Path(tempfile.mkdtemp(prefix="agrippa-vscode-e2e-"))
    ws = copy_example(work)
    mode = train if isinstance(train, str) else os.environ.get("AGRIPPA_E2E_TRAIN", "0")
    if train is True or mode not in ("", "0"):
        add_training(ws, steps=100000 if mode == "cancel" else 300)
    env = {**os.environ, **xdg_env(work)}
    data, exts = work / "data", work / "extensions"
    (data / "User").mkdir(parents=True)
    with open(out_dir / "harness.log", "w") as log:
        vsix = build_vsix(log)
        timings["build_vsix_s"] = time.monotonic() - t0
        t = time.monotonic()
        r = subprocess.run([str(CODE_SERVER), "--install-extension", str(vsix), "--extensions-dir", str(exts),
                            "--user-data-dir", str(data)], env=env, capture_output=True, text=True, timeout=300)
        log.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"installing {vsix} into code-server failed:\n{r.stdout}\n{r.stderr}")
        timings["install_vsix_s"] = time.monotonic() - t
        settings = {
            "agrippa.server.python": PYTHON,
            "agrippa.trace.server": "messages",
            "security.workspace.trust.enabled": False,
            "telemetry.telemetryLevel": "off",
            "update.mode": "none",
            "extensions.autoCheckUpdates": False,
            "extensions.autoUpdate": False,
            "extensions.ignoreRecommendations": True,
            "workbench.startupEditor": "none",
            "workbench.tips.enabled": False,
            "workbench.enableExperiments": False,
            "chat.disableAIFeatures": True,
            "editor.hover.delay": 200,
            "git.enabled": False,
        }
        (data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
        port = free_port()
        t = time.monotonic()
        cs_log = open(out_dir / "code-server.log", "w")  # noqa: SIM115 (closed in finally)
        cs = subprocess.Popen(
            [str(CODE_SERVER), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
             "--config", str(work / "config.yaml"), "--user-data-dir", str(data), "--extensions-dir", str(exts),
             "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", "--ignore-last-opened", str(ws)],
            env=env, stdout=cs_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=str(work), start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2):
                        break
                except OSError as e:
                    if time.monotonic() > deadline or cs.poll() is not None:
                        raise RuntimeError(f"code-server did not come up; see {out_dir / 'code-server.log'}") from e
                    time.sleep(0.1)
            timings["code_server_start_s"] = time.monotonic() - t
            t = time.monotonic()
            # the same model as an .xml file: the extension must recognise its <model> root
            xml = ws / "e2e_model.xml"
            xml.write_text(model_file(ws).read_text())
            # the same model with wrapped attributes and broken indentation, for Format Document
            fmt = ws / "e2e_format.agr"
            fmt.write_text(misformat(model_file(ws).read_text()))
            denv = {**env, "PLAYWRIGHT_CORE": str(PLAYWRIGHT), "CHROMIUM": CHROMIUM, "AGRIPPA_E2E_XML": xml.name,
                    "AGRIPPA_E2E_FORMAT": fmt.name}
            bare = bare_python()
            if bare:
                denv["AGRIPPA_E2E_BARE_PYTHON"] = bare
            if train is not None:
                denv["AGRIPPA_E2E_TRAIN"] = train if isinstance(train, str) else ("1" if train else "0")
            try:
                d = subprocess.run(["node", str(E2E_DIR / "vscode_e2e.js"), url, str(ws), model_file(ws).name,
                                    str(out_dir)], env=denv, capture_output=True, text=True, timeout=timeout_s,
                                   stdin=subprocess.DEVNULL)
                rc, output = d.returncode, d.stdout + d.stderr
            except subprocess.TimeoutExpired as e:
                rc, output = 124, f"{_text(e.stdout)}{_text(e.stderr)}\nTIMEOUT after {timeout_s}s"
            timings["browser_session_s"] = time.monotonic() - t
        finally:
            kill_group(cs)
            cs_log.close()
            # keep the extension host's logs (the server's output channel among them)
            logs = data / "logs"
            if logs.is_dir():
                shutil.copytree(logs, out_dir / "vscode-logs", dirs_exist_ok=True)
        timings["total_s"] = time.monotonic() - t0
        log.write(output)
        log.write("\n" + json.dumps(timings) + "\n")
    (out_dir / "output.txt").write_text(output)
    return Run(rc, output, out_dir, ws, timings, work)


# -- Neovim ------------------------------------------------------------------------------
def nvim_version(nvim: str) -> str:
    r = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=30)
    return r.stdout.splitlines()[0].split()[-1] if r.stdout else "?"


def run_nvim(nvim: str, train: bool | str | None = None, timeout_s: float = 300, script: str = "nvim_e2e.lua",
             project_venv: bool = False) -> Run:
    """Headless Neovim with editors/nvim on the runtimepath, as README.md tells users.
    `script`: nvim_e2e.lua (setup()) or nvim_enable_e2e.lua (0.11's vim.lsp.enable, no setup);
    `project_venv`: give the workspace a .venv (a link to PYTHON's) for the default search."""
    t0 = time.monotonic()
    version = nvim_version(nvim)
    out_dir = fresh_dir(ARTIFACTS / f"nvim-{version}{'' if script == 'nvim_e2e.lua' else '-' + Path(script).stem}")
    work = Path(tempfile.mkdtemp(prefix="agrippa-nvim-e2e-"))
    ws = copy_example(work)
    venv_python = link_project_venv(ws) if project_venv else None
    mode = train if isinstance(train, str) else os.environ.get("AGRIPPA_E2E_TRAIN", "0")
    if train is True or mode not in ("", "0"):
        add_training(ws, steps=100000 if mode == "cancel" else 300)
    env = {**os.environ, **xdg_env(work), "AGRIPPA_E2E_PYTHON": PYTHON, "AGRIPPA_E2E_FILE": str(model_file(ws))}
    if train is not None:
        env["AGRIPPA_E2E_TRAIN"] = train if isinstance(train, str) else ("1" if train else "0")
    if venv_python:  # the default search must find the project's .venv, not an active venv
        env.pop("VIRTUAL_ENV", None)
        env["AGRIPPA_E2E_VENV_PYTHON"] = venv_python
    cmd = [nvim, "--headless", "--clean", "-n", "-i", "NONE", "--cmd", f"set rtp^={NVIM_PLUGIN}",
           "-S", str(E2E_DIR / script)]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s, cwd=str(ws),
                           stdin=subprocess.DEVNULL, start_new_session=True)
        rc, output = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc, output = 124, f"{_text(e.stdout)}{_text(e.stderr)}\nTIMEOUT after {timeout_s}s"
    timings = {"total_s": time.monotonic() - t0}
    (out_dir / "output.txt").write_text(output + "\n" + json.dumps(timings) + "\n")
    return Run(rc, output, out_dir, ws, timings, work)


def link_project_venv(ws: Path) -> str | None:
    """Make `ws/.venv` a link to the virtualenv PYTHON belongs to (as a user's project .venv);
    returns ws/.venv/bin/python, or None when PYTHON is not in a virtualenv."""
    prefix = Path(PYTHON).parent.parent
    if (prefix / "pyvenv.cfg").is_file():
        (ws / ".venv").symlink_to(prefix, target_is_directory=True)
        return str(ws / ".venv" / "bin" / "python")
    return None


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("vscode", "nvim"):
        print(__doc__)
        return 2
    problem = server_problem()
    if problem:
        print("cannot run:", problem)
        return 2
    if argv[0] == "vscode":
        missing = vscode_missing()
        if missing:
            print("cannot run:", missing)
            return 2
        run = run_vscode()
    else:
        nvim = argv[1] if len(argv) > 1 else NVIM_DEBIAN
        missing = nvim_missing(nvim)
        if missing:
            print("cannot run:", missing)
            return 2
        run = run_nvim(nvim)
    print(run.output)
    print("timings:", json.dumps({k: round(v, 1) for k, v in run.timings.items()}))
    print("artifacts:", run.artifacts)
    if run.passed:
        run.cleanup()
    else:
        print("kept:", run.work)
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
