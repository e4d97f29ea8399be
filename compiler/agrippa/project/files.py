"""Reading the user's files: one reader for "the editor's buffer, else the disk".

Every front door reads project files through here (the CLI, the language server, the
compiler): `TextProvider` gives an open editor buffer's text, else the file is read
from disk with the size cap.
"""
from __future__ import annotations

import os
from collections.abc import Callable

MAX_FILE_BYTES = 20 * 1024 * 1024  # a larger markup file is refused with a diagnostic

TextProvider = Callable[[str], "str | None"]
"""Gives the current text of a file (an editor's unsaved buffer), or None to read the disk."""


def read_source(path: str, provider: TextProvider | None = None) -> tuple[str | None, str | None]:
    """The text of a file (buffer, else disk), or None and the reason it could not be read."""
    if provider is not None:
        t = provider(path)
        if t is not None:
            if len(t) > MAX_FILE_BYTES:
                return None, f"the file is {len(t) / 1e6:.0f} MB; files over {MAX_FILE_BYTES // 2**20} MiB are not analysed"
            return t, None
    try:
        size = os.path.getsize(path)
    except OSError:
        return None, "the file does not exist"
    if size > MAX_FILE_BYTES:
        return None, f"the file is {size / 1e6:.0f} MB; files over {MAX_FILE_BYTES // 2**20} MiB are not analysed"
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(), None
    except UnicodeDecodeError:
        return None, "the file is not UTF-8 text"
    except OSError as e:
        return None, f"cannot read the file: {e.strerror}"


def read_text(path: str, provider: TextProvider | None = None) -> str | None:
    """The text of a file (buffer, else disk), or None when it cannot be read."""
    return read_source(path, provider)[0]
