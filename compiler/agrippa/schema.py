"""XSD validation of markup files (filled in by the schema work)."""
from __future__ import annotations

from collections.abc import Iterable

from .diagnostics import Diagnostic
from .syntax import SourceFile


def validate_files(files: Iterable[SourceFile]) -> list[Diagnostic]:
    return []
