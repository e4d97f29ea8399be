"""Reading the user's files: the project's file-access policy, and the one reader for
"the editor's buffer, else the disk".

Every front door reads project files through here (the CLI, the language server, the
compiler, training). The policy (`FileAccess`):

- a project reads only files under its own folder, or under the extra roots its
  `agrippa.toml` lists (`[project] roots`); the path is judged after symlinks are resolved,
  so a link pointing outside is refused like the path it points to;
- only regular files: FIFOs, devices, sockets and folders are refused after an `os.stat`
  and before they are opened (and a file is opened non-blocking, then checked again);
- a size cap (`[project] max_file_mb`, default `MAX_FILE_BYTES`; training data files
  have their own, `MAX_DATA_BYTES`).

A refused file is never opened, and the reason (`Refusal`, a message with a diagnostic
code) never quotes its contents. `TextProvider` gives an open editor buffer's text; a
`FileAccess` is itself a `TextProvider` (its `buffers`), so callers that only know
providers keep working, and `read_source` applies the policy when it is given one.
"""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_FILE_BYTES = 20 * 1024 * 1024  # a larger markup file is refused with a diagnostic
MAX_DATA_BYTES = 8 * 2**30  # a larger training data file (`[train] data = "x.npz"`) is refused
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

TextProvider = Callable[[str], "str | None"]
"""Gives the current text of a file (an editor's unsaved buffer), or None to read the disk."""


class Refusal(str):
    """Why a file was not read: a message (never the file's contents) and a diagnostic code
    (empty for a plain failure, such as a missing file: the caller chooses its code then)."""

    code: str

    def __new__(cls, message: str, code: str = "") -> Refusal:
        self = super().__new__(cls, message)
        self.code = code
        return self


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_large(size: int, cap: int) -> Refusal:
    return Refusal(f"the file is {size / 1e6:.0f} MB; files over {cap / 2**20:g} MiB are not read "
                   "(raise [project] max_file_mb in agrippa.toml)", "file-too-large")


def judge_stat(st: os.stat_result, max_bytes: int | None) -> Refusal | None:
    """Refuse anything but a regular file of at most `max_bytes`."""
    if not stat.S_ISREG(st.st_mode):
        return Refusal(f"it is {_kind(st.st_mode)}, not a regular file; it is not read", "not-a-regular-file")
    if max_bytes is not None and st.st_size > max_bytes:
        return _too_large(st.st_size, max_bytes)
    return None


def stat_file(path: str, max_bytes: int | None = MAX_FILE_BYTES) -> Refusal | None:
    """`os.stat` `path` (following links) and judge it; None when it may be read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Refusal("the file does not exist")
    except OSError as e:
        return Refusal(f"cannot read the file: {e.strerror}")
    return judge_stat(st, max_bytes)


def open_regular(path: str, max_bytes: int | None = MAX_FILE_BYTES) -> tuple[BinaryIO | None, Refusal | None]:
    """`path` opened for binary reading when it is a regular file of at most `max_bytes`
    (judged before opening, and again on what was opened); never blocks on a FIFO."""
    why = stat_file(path, max_bytes)
    if why is not None:
        return None, why
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        return None, Refusal("the file does not exist" if e.errno == errno.ENOENT else
                             f"cannot read the file: {e.strerror}")
    try:
        why = judge_stat(os.fstat(fd), max_bytes)
    except OSError as e:
        why = Refusal(f"cannot read the file: {e.strerror}")
    if why is not None:
        os.close(fd)
        return None, why
    return os.fdopen(fd, "rb"), None


def read_regular_bytes(path: str, max_bytes: int | None = MAX_FILE_BYTES,
                       head: int | None = None) -> tuple[bytes | None, Refusal | None]:
    """The bytes of a regular file (its first `head` bytes only, if given), never blocking
    on a FIFO nor reading a device."""
    if head is not None:
        max_bytes = None
    f, why = open_regular(path, max_bytes)
    if f is None:
        return None, why
    try:
        with f:
            size = os.fstat(f.fileno()).st_size
            # sized by the file, not the cap (a 4 GiB buffer is not allocated for a small file)
            want = head if head is not None else size + 1
            data = f.read(want if max_bytes is None else min(want, max_bytes + 1))
            if head is None and len(data) > size:  # it grew while being read
                data += f.read(-1 if max_bytes is None else max(0, max_bytes + 1 - len(data)))
    except OSError as e:
        return None, Refusal(f"cannot read the file: {e.strerror}")
    if max_bytes is not None and len(data) > max_bytes:
        return None, _too_large(len(data), max_bytes)
    return data, None


def _decode(data: bytes) -> tuple[str | None, Refusal | None]:
    from agrippa.base.text import decode_source  # a UTF-8 BOM dropped, UTF-16 refused by name

    text, why = decode_source(data)
    return text, (Refusal(why) if why is not None else None)


def within(path: str, root: str) -> bool:
    """Whether `path` is `root` or under it (both already resolved)."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


@dataclass(frozen=True)
class FileAccess:
    """A project's file-access policy: its folder, the extra roots, the size cap, and the
    editor's buffers. Calling it asks the buffers only (it is a `TextProvider`)."""

    root: str
    extra_roots: tuple[str, ...] = ()
    max_bytes: int = MAX_FILE_BYTES
    buffers: TextProvider | None = None
    _judged: dict[str, Refusal | None] = field(default_factory=dict, compare=False, repr=False)
    _resolved: list[tuple[str, ...]] = field(default_factory=list, compare=False, repr=False)

    def __call__(self, path: str) -> str | None:
        return self.buffers(path) if self.buffers is not None else None

    def roots(self) -> tuple[str, ...]:
        """The folders files may come from, resolved once per policy (one analysis)."""
        if not self._resolved:
            self._resolved.append(tuple(os.path.realpath(r) for r in (self.root, *self.extra_roots)))
        return self._resolved[0]

    def outside(self, path: str) -> Refusal | None:
        """Refuse a path whose resolved form (after symlinks) leaves every root (judged
        once per path and policy: an analysis makes a new policy)."""
        if path in self._judged:
            return self._judged[path]
        why = self._judged[path] = self._outside(path)
        return why

    def _outside(self, path: str) -> Refusal | None:
        real = os.path.realpath(path)
        if any(within(real, r) for r in self.roots()):
            return None
        how = "links to a file" if os.path.islink(path) or real != os.path.abspath(path) else "is"
        return Refusal(f"it {how} outside the project folder; only files under the project (or the "
                       "folders in [project] roots of agrippa.toml) are read", "outside-project")

    def refusal(self, path: str, max_bytes: int | None = -1) -> Refusal | None:
        """Why `path` may not be read (outside, not regular, too large), without opening it.
        An open editor buffer stands for the file: only the place is judged then."""
        why = self.outside(path)
        if why is not None or self(path) is not None:
            return why
        return stat_file(path, self.max_bytes if max_bytes == -1 else max_bytes)

    def read(self, path: str) -> tuple[str | None, Refusal | None]:
        """The text of `path` (the editor's buffer, else the disk), or why it was not read."""
        why = self.outside(path)
        if why is not None:
            return None, why
        text = self(path)
        if text is not None:
            if len(text) > self.max_bytes:
                return None, _too_large(len(text), self.max_bytes)
            return text, None
        data, why = read_regular_bytes(path, self.max_bytes)
        return (None, why) if data is None else _decode(data)

    def read_bytes(self, path: str, max_bytes: int | None = -1) -> tuple[bytes | None, Refusal | None]:
        """The bytes of `path` on disk (weights, data), or why it was not read."""
        why = self.outside(path)
        if why is not None:
            return None, why
        return read_regular_bytes(path, self.max_bytes if max_bytes == -1 else max_bytes)

    def open_binary(self, path: str, max_bytes: int | None = -1) -> tuple[BinaryIO | None, Refusal | None]:
        """`path` on disk opened for reading (a large data file, read as it is used), or why not."""
        why = self.outside(path)
        if why is not None:
            return None, why
        return open_regular(path, self.max_bytes if max_bytes == -1 else max_bytes)


def refuse(path: str, provider: TextProvider | None) -> Refusal | None:
    """Why the policy behind `provider` refuses `path` (None without a policy)."""
    return provider.outside(path) if isinstance(provider, FileAccess) else None


def read_source(path: str, provider: TextProvider | None = None) -> tuple[str | None, str | None]:
    """The text of a file (buffer, else disk), or None and the reason (a `Refusal`).
    With a `FileAccess` as provider, its policy applies; without one, only regular files
    of at most MAX_FILE_BYTES are read."""
    if isinstance(provider, FileAccess):
        return provider.read(path)
    if provider is not None:
        t = provider(path)
        if t is not None:
            if len(t) > MAX_FILE_BYTES:
                return None, _too_large(len(t), MAX_FILE_BYTES)
            return t, None
    data, why = read_regular_bytes(path, MAX_FILE_BYTES)
    return (None, why) if data is None else _decode(data)


def read_text(path: str, provider: TextProvider | None = None) -> str | None:
    """The text of a file (buffer, else disk), or None when it cannot be read."""
    return read_source(path, provider)[0]
