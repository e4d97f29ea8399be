"""Where compile may write: never over the project's own sources.

`-o` (and the default output beside the index) may name a new path or an existing regular
`.onnx` file. Markup files, `agrippa.toml`, weights files, any file the analysis read,
folders, symlinks and device nodes are refused before anything is computed, and a
failure while writing (no permission, disk full) is one `OutputError` line, never a
traceback.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from agrippa.project.config import CONFIG_FNAME, META_FNAME, SOURCE_SUFFIXES

PROTECTED_SUFFIXES = (*SOURCE_SUFFIXES, ".toml", ".pkl", ".pickle", ".safetensors", ".py", ".json")


class OutputError(Exception):
    """The output path cannot or must not be written; the message is one line."""


def check_output(out: str, protected: Iterable[str] = ()) -> None:
    """Raise OutputError unless `out` is a new path or an existing regular .onnx file, and
    is none of the `protected` files (the sources, the config, the weights)."""
    shown = out
    name = os.path.basename(out)
    real = os.path.realpath(out)
    if name in (CONFIG_FNAME, META_FNAME) or name.lower().endswith(PROTECTED_SUFFIXES) or any(
            real == os.path.realpath(p) for p in protected):
        raise OutputError(f"refusing to write the model over {shown}: it is one of the project's own files "
                          "(markup, agrippa.toml or weights); choose an .onnx path with -o")
    if os.path.islink(out):
        raise OutputError(f"refusing to write to {shown}: it is a symbolic link, which would be replaced; "
                          "name the file itself")
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"cannot write {shown}: {e.strerror}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"cannot write {shown}: it is a folder; name an .onnx file inside it")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"refusing to write to {shown}: it is not a regular file (a device or FIFO)")
        if not name.lower().endswith(".onnx"):
            raise OutputError(f"refusing to overwrite {shown}: only an existing .onnx file or a new path is "
                              "written")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {shown}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {shown}: no permission to write in {folder}")


@contextmanager
def writing(path: str) -> Iterator[None]:
    """Turn an OSError while writing `path` into one OutputError line."""
    try:
        yield
    except OutputError:
        raise
    except OSError as e:
        why = e.strerror or str(e)
        raise OutputError(f"cannot write {path}: {why}") from None
