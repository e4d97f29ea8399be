"""Commands (`workspace/executeCommand`): compile, train, list and select profiles.

`agrippa.compile` runs the compiler in a thread; `agrippa.train` runs
`python -m agrippa.train PROJECT --json-progress` as a subprocess. Both report
`$/progress` through a server-initiated work-done token; training is cancellable
(SIGINT to the trainer, which stops cleanly and saves its weights). Failures come back
as `{"error": ...}` results and a `window/showMessage`, never as request errors.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from lsprotocol import types as lsp

from agrippa.project.config import project_dir_of
from agrippa.project.files import within

from .convert import uri_to_path
from .features.configuration import refresh_views
from .language_server import AgrippaServer  # at run time: pygls reads the handlers' hints

log = logging.getLogger(__name__)

COMPILE = "agrippa.compile"
TRAIN = "agrippa.train"
LIST_PROFILES = "agrippa.listProfiles"
SELECT_PROFILE = "agrippa.selectProfile"
DEBUG_MODULES = "agrippa.debug.modules"
DEBUG_TEXT = "agrippa.debug.text"
DEBUG_ANALYSES = "agrippa.debug.analyses"
HEAVY_MODULES = ("torch", "onnxruntime", "onnx", "onnx2torch", "sympy", "numpy")
STOP_GRACE_S = 15.0  # after SIGINT, how long the trainer gets before SIGTERM, then SIGKILL


class Progress:
    """A server-initiated work-done progress; a no-op when the client has no progress UI."""

    def __init__(self, server: AgrippaServer, title: str, cancellable: bool = False):
        self.server, self.title, self.cancellable = server, title, cancellable
        self.token: str | None = None
        self.last = 0.0

    async def begin(self, on_cancel: Callable[[], None] | None = None) -> None:
        window = self.server.client_capabilities.window
        if window is None or not window.work_done_progress:
            return
        token = f"agrippa-{uuid.uuid4()}"
        try:
            await asyncio.wait_for(self.server.work_done_progress.create_async(token), 10)
        except Exception:
            log.exception("window/workDoneProgress/create failed")
            return
        self.token = token
        if on_cancel is not None:
            fut = self.server.work_done_progress.tokens.get(token)
            if fut is not None:
                fut.add_done_callback(lambda f: on_cancel() if f.cancelled() else None)
        self.server.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(
            title=self.title, cancellable=self.cancellable, percentage=0))

    def report(self, message: str, percentage: int | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if self.token is None or (not force and now - self.last < 0.1):
            return
        self.last = now
        self.server.work_done_progress.report(self.token, lsp.WorkDoneProgressReport(
            message=message, percentage=percentage, cancellable=self.cancellable or None))

    def end(self, message: str) -> None:
        if self.token is None:
            return
        self.server.work_done_progress.end(self.token, lsp.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(self.token, None)
        self.token = None


def show(server: AgrippaServer, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
    server.window_show_message(lsp.ShowMessageParams(type=kind, message=message))


def fail(server: AgrippaServer, message: str, **extra: Any) -> dict:
    show(server, message, lsp.MessageType.Error)
    return {"error": message, **extra}


def _path_arg(args: tuple) -> str | None:
    if not args or not isinstance(args[0], str):
        return None
    return uri_to_path(args[0])


def refused(ls: AgrippaServer, path: str, command: str) -> dict | None:
    """An error result when `path` is outside every workspace folder (after symlinks): a
    command builds and trains (running the project's data.py) only inside them. With no
    folder open, only a file open in the editor is taken."""
    real = os.path.realpath(path)
    roots = ls.workspace_roots()
    if any(within(real, os.path.realpath(r)) for r in roots) or (not roots and ls.open_text(path) is not None):
        return None
    return fail(ls, f"{command}: {path} is outside the workspace folders; commands only act on files inside them")


# -- compile -----------------------------------------------------------------------------
def _compile(server: AgrippaServer, path: str, report: Callable[[str, float], None]) -> dict:
    from agrippa.backend.compile import compile_project
    from agrippa.base.diagnostics import CompileError

    host = server.host
    index = host.index_for(path)
    project_dir = project_dir_of(index)
    out = os.path.splitext(index)[0] + ".onnx"
    try:
        res = compile_project(index, out, bindings=host.settings.bindings,
                              profile=host.profile_for(project_dir), progress=report)
    except CompileError as e:
        errors = [d for d in e.diagnostics if d.is_error] or e.diagnostics
        shown = [d.to_text(os.path.relpath(d.file, project_dir)) for d in errors[:3]]
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return {"path": None, "errors": [d.to_text() for d in errors],
                "message": f"Compile failed: {'; '.join(shown)}{more}"}
    message = f"Compiled {os.path.basename(index)} → {os.path.relpath(res.onnx_path, project_dir)}"
    if res.fresh:
        message += f" ({len(res.fresh)} new parameters initialized)"
    return {"path": res.onnx_path, "message": message, "weights": res.weights_path}


async def compile_command(ls: AgrippaServer, *args: object) -> dict:
    path = _path_arg(args)
    if path is None:
        return fail(ls, f"{COMPILE} needs the file's URI as its argument")
    if (no := refused(ls, path, COMPILE)) is not None:
        return no
    prog = Progress(ls, "Compiling to ONNX")
    await prog.begin()
    loop = asyncio.get_running_loop()

    def report(stage: str, frac: float) -> None:
        loop.call_soon_threadsafe(prog.report, stage, int(frac * 100))

    try:
        result = await asyncio.to_thread(_compile, ls, path, report)
    except Exception as e:
        log.exception("compile failed")
        result = {"path": None, "message": f"Compile failed: {e}"}
    prog.end(result["message"])
    show(ls, result["message"], lsp.MessageType.Info if result["path"] else lsp.MessageType.Error)
    return result


# -- train -------------------------------------------------------------------------------
def _eta(seconds: object) -> str:
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return "?"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def progress_message(ev: dict) -> tuple[str, int | None]:
    """`step 120/1000 · loss 0.4132 · ETA 12s` and the percentage, from one JSON line."""
    step, total = ev.get("step"), ev.get("total")
    parts = [f"step {step}/{total}" if total else f"step {step}"]
    if isinstance(ev.get("loss"), (int, float)):
        parts.append(f"loss {ev['loss']:.4f}")
    if ev.get("eta_s") is not None:
        parts.append(f"ETA {_eta(ev['eta_s'])}")
    pct = None
    if isinstance(step, (int, float)) and isinstance(total, (int, float)) and total > 0:
        pct = max(0, min(100, int(100 * step / total)))
    return " · ".join(parts), pct


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGINT (the trainer saves and exits), then SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.wait(), wait)


async def train_command(ls: AgrippaServer, *args: object) -> dict:
    path = _path_arg(args)
    if path is None:
        return fail(ls, f"{TRAIN} needs the file's URI as its argument")
    if (no := refused(ls, path, TRAIN)) is not None:
        return no
    if importlib.util.find_spec("agrippa.train") is None:
        return fail(ls, "Training is not available: the agrippa.train module is not installed "
                        "(install agrippa[train])")
    project_dir = project_dir_of(ls.host.index_for(path))
    if project_dir in ls.trainings.values():
        return fail(ls, f"{os.path.basename(project_dir)} is already training; cancel that run first")
    profile = ls.host.profile_for(project_dir)
    cmd = [sys.executable, "-m", "agrippa.train", project_dir, "--json-progress"]
    if profile:
        cmd += ["--profile", profile]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=project_dir, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=1 << 20)
    ls.trainings[proc] = project_dir
    cancelled = False
    stopper: list[asyncio.Task] = []

    def on_cancel() -> None:
        nonlocal cancelled
        cancelled = True
        stopper.append(asyncio.ensure_future(_stop(proc)))

    prog = Progress(ls, f"Training {os.path.basename(project_dir)}", cancellable=True)
    await prog.begin(on_cancel)
    stderr: deque[str] = deque(maxlen=20)

    async def drain_stderr() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            stderr.append(line.decode(errors="replace").rstrip())

    err_task = asyncio.ensure_future(drain_stderr())
    done: dict = {}
    last: dict = {}
    try:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            try:
                ev = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(ev, dict):
                continue
            if ev.get("done"):
                done = ev
            elif "step" in ev:
                last = ev
                prog.report(*progress_message(ev))
        code = await proc.wait()
        await err_task
    except (asyncio.CancelledError, Exception):  # the request was cancelled, or reading failed
        await _stop(proc)
        prog.end("Training cancelled")
        raise
    finally:
        ls.trainings.pop(proc, None)
        for t in stopper:
            await t
    if done:
        result = {"weights": done.get("weights"), "final_loss": done.get("final_loss")}
        if cancelled:
            result["cancelled"] = True
        loss = result["final_loss"]
        msg = ("Training stopped" if cancelled else "Training done") + (
            f": final loss {loss:.4f}" if isinstance(loss, (int, float)) else "")
        prog.end(msg)
        show(ls, msg + (f", weights in {result['weights']}" if result["weights"] else ""))
        return result
    if cancelled:
        prog.end("Training cancelled")
        return {"weights": None, "final_loss": last.get("loss"), "cancelled": True}
    prog.end("Training failed")
    tail = " | ".join(list(stderr)[-3:]) or f"exit code {code}"
    return fail(ls, f"Training failed: {tail}", exit_code=code, stderr=list(stderr))


# -- profiles ------------------------------------------------------------------------------
def list_profiles(ls: AgrippaServer, *args: object) -> dict:
    path = _path_arg(args)
    if path is None:
        return {"error": f"{LIST_PROFILES} needs a URI", "profiles": [], "active": None}
    d = project_dir_of(path)
    return {"profiles": sorted(ls.host.config(d).profiles), "active": ls.host.profile_for(d)}


def select_profile(ls: AgrippaServer, *args: object) -> dict:
    path = _path_arg(args)
    name = args[1] if len(args) > 1 else None
    if path is None or not (name is None or isinstance(name, str)):
        return fail(ls, f"{SELECT_PROFILE} takes [uri, name]")
    d = project_dir_of(path)
    profiles = ls.host.config(d).profiles
    if name and name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        return fail(ls, f"No profile '{name}' in agrippa.toml (profiles: {known})", active=ls.host.profile_for(d))
    ls.host.set_profile(d, name or None)
    refresh_views(ls)
    return {"active": name or None}


def debug_modules(ls: AgrippaServer, *args: object) -> dict:
    return {"modules": [m for m in HEAVY_MODULES if m in sys.modules]}


def debug_text(ls: AgrippaServer, *args: object) -> dict:
    """The server's copy of an open document (tests check it equals the editor's)."""
    doc = ls.workspace.text_documents.get(args[0]) if args and isinstance(args[0], str) else None
    return {"text": doc.source, "version": doc.version} if doc is not None else {"error": "not open"}


def debug_analyses(ls: AgrippaServer, *args: object) -> dict:
    """The host's counters: analyses made, and runs stopped early by a newer change."""
    return {"runs": ls.host.runs, "cancelled": ls.host.cancelled}


def register(server: AgrippaServer) -> None:
    server.command(COMPILE)(compile_command)
    server.command(TRAIN)(train_command)
    server.command(LIST_PROFILES)(list_profiles)
    server.command(SELECT_PROFILE)(select_profile)
    server.command(DEBUG_MODULES)(debug_modules)
    server.command(DEBUG_TEXT)(debug_text)
    server.command(DEBUG_ANALYSES)(debug_analyses)

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: AgrippaServer, *args: object) -> None:
        await asyncio.gather(*(_stop(p) for p in list(ls.trainings)), return_exceptions=True)
