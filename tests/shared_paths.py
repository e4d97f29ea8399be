"""Where the reference material beside the repository lives: `../shared`, found from the
repository root, never through an absolute path.

Tests import this module directly (`from shared_paths import CASES, NEEDS_SHARED`: pytest puts
`tests/` on sys.path); scripts outside `tests/` (the benchmarks) add `tests/` to sys.path
first. Nothing here imports pytest at module level, so scripts can use it without pytest.
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""The repository root."""
SHARED = REPO.parent / "shared"
"""The reference folder beside the repository (it may be absent)."""
CONFORMANCE = SHARED / "conformance"
"""The original package's conformance fixtures and their checker (`check.py`)."""
CASES = CONFORMANCE / "cases"
"""One folder per conformance case: `project/`, `ref.json`, `ref.onnx`, `io.npz`."""


def missing_reason(path: Path = CASES) -> str:
    """Why a test that needs `path` (somewhere under ../shared) is skipped."""
    try:
        shown = path.relative_to(REPO.parent)
    except ValueError:
        shown = path
    return f"../{shown.as_posix()} is not beside the repository"


def needs(path: Path = CASES):
    """A pytest mark that skips, with the reason, unless `path` under ../shared exists."""
    import pytest

    return pytest.mark.skipif(not path.exists(), reason=missing_reason(path))


def __getattr__(name: str):
    """`NEEDS_SHARED`: skip unless the conformance cases are beside the repository (made on
    first use, so that importing this module never needs pytest)."""
    if name == "NEEDS_SHARED":
        return needs(CASES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
