"""Atomic file replacement: write a temporary file beside the target, fsync it, rename it
over the target, fsync the folder. A crash leaves the old file or the new, never half.

Temporary files are named `.agrippa-tmp-<pid>-<random>-<target name>`: recognisable, and
owned by a process. A write that was killed (SIGKILL, power loss) leaves one behind; the
next atomic write into that folder removes those whose process is gone (or, should the
id be taken again, that are over a day old), so they never pile up. `clean_stale_temps`
does the same on demand (compile and train call it when they start).
"""
from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from agrippa.backend.weights.common import StrPath

TEMP_PREFIX = ".agrippa-tmp-"
STALE_AGE = 24 * 3600.0  # a temp file this old is stale whatever its pid says
LEGACY_AGE = 60.0  # earlier versions' `.NAME.<hex>.tmp`, removed once this old


def temp_path(path: Path) -> Path:
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{path.name}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: assume alive
    return True


def _stale(entry: str, full: str, now: float) -> bool:
    try:
        age = now - os.lstat(full).st_mtime
    except OSError:
        return False
    if entry.startswith(TEMP_PREFIX):
        pid = entry[len(TEMP_PREFIX):].split("-", 1)[0]
        return age > STALE_AGE or (pid.isdigit() and not _alive(int(pid)))
    return entry.startswith(".") and entry.endswith(".tmp") and entry.count(".") >= 3 and age > LEGACY_AGE


def clean_stale_temps(folder: StrPath, names: tuple[str, ...] | None = None) -> list[str]:
    """Remove the temporary files that killed writes left in `folder` (for the targets
    `names` only, if given); returns the paths removed."""
    removed: list[str] = []
    now = time.time()
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return removed
    for entry in entries:
        if not entry.startswith(TEMP_PREFIX) and not entry.endswith(".tmp"):
            continue
        if names is not None and not any(entry.endswith("-" + n) or entry.startswith(f".{n}.") for n in names):
            continue
        full = os.path.join(folder, entry)
        if _stale(entry, full, now):
            with suppress(OSError):
                os.remove(full)
                removed.append(full)
    return removed


@contextmanager
def atomic_writer(path: StrPath, mode: str = "wb") -> Iterator[IO[Any]]:
    """Yield a file that replaces ``path`` only once the block ends without error."""
    if mode not in ("wb", "w", "wt"):
        raise ValueError(f"atomic_writer mode must be 'wb', 'w' or 'wt', not {mode!r}")
    path = Path(path)
    clean_stale_temps(path.parent, (path.name,))
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        file = os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"}))
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        with suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: StrPath, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename, fsync dir)."""
    with atomic_writer(path) as file:
        file.write(data)
