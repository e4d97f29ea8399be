"""Shared by the hostile-file tests (issue 12): projects from marked text, the audit hook
that records every file opened, and `agrippa check --format json` in a subprocess."""
from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

IO = '<import from="x" dim="[3, 4]" />'
SECRET = "SECRET-7731"

_recording: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("opened", default=None)


def _hook(event: str, args: tuple) -> None:
    if event != "open":
        return
    opened = _recording.get()
    if opened is not None and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        opened.append(os.path.realpath(path))


sys.addaudithook(_hook)  # a hook cannot be removed: it records only inside `recording()`


@contextmanager
def recording():
    """Record the real path of every file opened (builtins.open, os.open, io.open)."""
    opened: list[str] = []
    token = _recording.set(opened)
    try:
        yield opened
    finally:
        _recording.reset(token)


def assert_never_opened(opened: list[str], *paths: str | Path) -> None:
    forbidden = {os.path.realpath(p) for p in paths}
    hit = [p for p in opened if p in forbidden]
    assert not hit, f"opened {hit}"


def assert_only_inside(opened: list[str], *roots: str | Path) -> None:
    """Every opened file is under one of `roots` (the project) or is Python's own."""
    allowed = [os.path.realpath(r) for r in roots] + [os.path.realpath(p) for p in
                                                      (sys.prefix, sys.base_prefix, *sys.path) if p]
    outside = [p for p in opened if not any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in allowed)]
    assert not outside, f"opened outside the project: {outside}"


def write(root: Path, files: dict[str, str | bytes]) -> tuple[Path | None, tuple[int, int, int, int] | None]:
    """Write `files` under `root`; ⟦ and ⟧ in one of them mark the expected range (one line)."""
    where = rng = None
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
            continue
        if "⟦" in text:
            line = text[:text.index("⟦")].count("\n")
            col = text.index("⟦") - (text.rfind("\n", 0, text.index("⟦")) + 1)
            end = text.index("⟧") - (text.rfind("\n", 0, text.index("⟧")) + 1) - 1
            text = text.replace("⟦", "", 1).replace("⟧", "", 1)
            where, rng = path, (line, col, line, end)
        path.write_text(text)
    return where, rng


def span(d) -> tuple[int, int, int, int]:
    r = d.range
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def json_span(d: dict) -> tuple[int, int, int, int]:
    s, e = d["range"]["start"], d["range"]["end"]
    return (s["line"], s["character"], e["line"], e["character"])


def cli_check(target: Path, timeout: float = 30.0) -> tuple[list[dict], float, str]:
    """`agrippa check TARGET --format json` in a fresh process: diagnostics, seconds, stderr."""
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "agrippa.cli", "check", str(target), "--format", "json"],
                       capture_output=True, text=True, timeout=timeout, cwd=str(target if target.is_dir() else
                                                                                    target.parent))
    elapsed = time.perf_counter() - t
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout), elapsed, p.stderr
