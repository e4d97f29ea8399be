"""Diagnostics as data: what every front door (CLI, language server, export) reports."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import NamedTuple


class Severity(IntEnum):
    """Ordered as in LSP: lower is more severe."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Position(NamedTuple):
    """0-based line and character, as LSP counts them."""

    line: int
    character: int


class Range(NamedTuple):
    start: Position
    end: Position

    @staticmethod
    def of(line: int, col: int, end_line: int, end_col: int) -> Range:
        return Range(Position(line, col), Position(end_line, end_col))

    def contains(self, pos: Position) -> bool:
        return self.start <= pos <= self.end

    def to_json(self) -> dict:
        return {
            "start": {"line": self.start.line, "character": self.start.character},
            "end": {"line": self.end.line, "character": self.end.character},
        }


ZERO_RANGE = Range.of(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Location:
    """A range in a file (an absolute path)."""

    file: str
    range: Range


@dataclass(frozen=True, slots=True)
class RelatedInfo:
    location: Location
    message: str
    instance: str | None = None  # set on a sourcing tag of the diagnostic's instance chain: that instance's name


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `range` in `file` with `new_text`."""

    file: str
    range: Range
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix an editor can apply: a title and the edits it makes. Edits may be in other
    files than the diagnostic's (each names its file); `creates` is a file to create
    first when an edit fills a file that does not exist yet (agrippa.toml)."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False
    creates: str | None = None


CODE_CHECK: Callable[[str], None] | None = None
"""Set by `agrippa.base.codes.strict()`: checks each new diagnostic's code against the registry."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    range: Range
    severity: Severity
    code: str
    message: str
    related: tuple[RelatedInfo, ...] = ()
    fixes: tuple[Fix, ...] = ()
    data: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if CODE_CHECK is not None:
            CODE_CHECK(self.code)

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def to_text(self, display_path: str | None = None) -> str:
        """`file:line:col: severity: message [code]`, 1-based line and column."""
        path = display_path or self.file
        s = self.range.start
        return f"{path}:{s.line + 1}:{s.character + 1}: {self.severity.label}: {self.message} [{self.code}]"

    def to_json(self, display_path: str | None = None) -> dict:
        return {
            "file": display_path or self.file,
            "range": self.range.to_json(),
            "severity": self.severity.label,
            "code": self.code,
            "message": self.message,
        }


MAX_PER_FILE = 1_000
"""Diagnostics listed per file; past it identical ones merge and one summary counts the rest."""
SUMMARY_CODE = "too-many-diagnostics"


def cap_per_file(diags: list[Diagnostic], limit: int = MAX_PER_FILE) -> list[Diagnostic]:
    """`diags` with at most `limit` (and one summary) per file. In a file over the limit,
    identical diagnostics (code, severity, message) merge into the first, with a count;
    if that is still too many, the most severe `limit` stay. A summary from an earlier
    phase (the parser's, with `data["dropped"]`) is folded into the one summary."""
    by_file: dict[str, list[Diagnostic]] = {}
    for d in diags:
        by_file.setdefault(d.file, []).append(d)
    if all(len(ds) <= limit for ds in by_file.values()):
        return diags
    out: list[Diagnostic] = []
    for file, ds in by_file.items():
        out.extend(ds if len(ds) <= limit else _capped(file, ds, limit))
    return out


def _capped(file: str, ds: list[Diagnostic], limit: int) -> list[Diagnostic]:
    summaries = [d for d in ds if d.code == SUMMARY_CODE]
    dropped = sum(d.data.get("dropped", 0) for d in summaries)
    counted: dict[tuple[str, str], int] = {}  # (code, message) -> repeats an earlier phase only counted
    for d in summaries:
        for key, n in d.data.get("same", {}).items():
            counted[key] = counted.get(key, 0) + n
    same: dict[tuple, list[Diagnostic]] = {}
    for d in ds:
        if d.code != SUMMARY_CODE:
            same.setdefault((d.code, d.severity, d.message), []).append(d)
    kept = []
    for (code, _, message), g in same.items():
        n = len(g) + counted.get((code, message), 0)
        kept.append(g[0] if n == 1 else replace(g[0], message=f"{message} (×{n:,} in this file)",
                                                data={**g[0].data, "count": n}))
    if len(kept) > limit:
        kept.sort(key=lambda d: (d.severity, d.range.start))
        kept = kept[:limit]
    kept.sort(key=lambda d: (d.range.start, d.severity))
    total = sum(map(len, same.values())) + dropped
    summary = Diagnostic(file, ZERO_RANGE, Severity.WARNING, SUMMARY_CODE,
                         f"{total:,} diagnostics in this file, {len(kept):,} listed (identical ones merged, "
                         "with a count)", data={"total": total})
    return [summary, *kept]


def dumps_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2)


class DiagnosticSink:
    """Collects diagnostics while a phase runs; phases never raise for user mistakes."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, diag: Diagnostic) -> None:
        self.items.append(diag)

    def error(self, file: str, rng: Range, code: str, message: str, **kw) -> Diagnostic:
        d = Diagnostic(file, rng, Severity.ERROR, code, message, **kw)
        self.items.append(d)
        return d

    def warning(self, file: str, rng: Range, code: str, message: str, **kw) -> Diagnostic:
        d = Diagnostic(file, rng, Severity.WARNING, code, message, **kw)
        self.items.append(d)
        return d

    def hint(self, file: str, rng: Range, code: str, message: str, **kw) -> Diagnostic:
        d = Diagnostic(file, rng, Severity.HINT, code, message, **kw)
        self.items.append(d)
        return d

    def info(self, file: str, rng: Range, code: str, message: str, **kw) -> Diagnostic:
        d = Diagnostic(file, rng, Severity.INFORMATION, code, message, **kw)
        self.items.append(d)
        return d

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


class CompileError(Exception):
    """Raised by the compile API when the model has errors; carries the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error] or diagnostics
        lines = [d.to_text() for d in errors[:20]]
        more = len(errors) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))
