"""Where the expansion walk stands, and how it reports what it finds there.

`Scope` is the file being walked, the name prefix of the sourced blocks it is inside and
the chain of frames (sourced-block tags, rep/stretch copies) that led there. `Reporter`
collects diagnostics, each reported once however many copies meet it (the repeats are
counted), with the sourcing chain as related information.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from agrippa.base.diagnostics import (
    MAX_PER_FILE,
    SUMMARY_CODE,
    ZERO_RANGE,
    Diagnostic,
    Range,
    RelatedInfo,
    Severity,
)
from agrippa.sema.ir import Frame, Origin, copies_label, source_related
from agrippa.syntax.tree import Element, SourceFile


class Budget(Exception):
    """The expansion grew past its node budget; the walk stops."""


@dataclass
class Scope:
    """Where the walk is: the file, the sourced-block prefix and the chain of frames."""

    file: SourceFile
    prefix: str = ""
    chain: tuple[Frame, ...] = ()
    files: tuple[str, ...] = ()  # sourcing stack, for cycle detection

    def origin(self, el: Element) -> Origin:
        return Origin(self.file.path, el, self.chain)


MAX_RELATED = 16  # related locations of one diagnostic met in several instances
MAX_REPORTED = 5 * MAX_PER_FILE  # per file; past it a flood is only counted (the analysis lists fewer)


class Reporter:
    """The diagnostics of one expansion, without repeats, at most MAX_REPORTED a file."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self._seen: dict[tuple, Diagnostic] = {}  # each kept diagnostic; repeats counted in data["copies"]
        self._pos: dict[tuple, int] = {}  # where each kept diagnostic is in `diagnostics`
        self._labels: dict[tuple, list] = {}  # what the copies of a repeated one are copies of
        self._per_file: dict[str, int] = {}
        self._summaries: dict[str, Diagnostic] = {}
        self.unit_start = 0  # where the diagnostics of the unit being expanded start (units.py)
        self.crossed = False  # a unit repeated a diagnostic of an earlier one (merged across units)

    def saturated(self, file: str) -> bool:
        """The file has its fill of diagnostics: further ones are only counted (`drop`)."""
        return self._per_file.get(file, 0) >= MAX_REPORTED

    def drop(self, file: str) -> None:
        summary = self._summaries.get(file)
        if summary is None:
            summary = self._summaries[file] = Diagnostic(
                file, ZERO_RANGE, Severity.WARNING, SUMMARY_CODE,
                f"more diagnostics in this file are not listed (past the first {MAX_REPORTED:,})", data={"dropped": 0})
            self.diagnostics.append(summary)
        summary.data["dropped"] += 1

    def replay(self, diagnostics: list[Diagnostic]) -> None:
        """The diagnostics of a unit replayed (units.py), kept as if reported again."""
        for d in diagnostics:
            key = (d.file, d.range, d.code, d.message)
            self._seen.setdefault(key, d)
            self._pos.setdefault(key, len(self.diagnostics))
            self._per_file[d.file] = self._per_file.get(d.file, 0) + 1
            self.diagnostics.append(d)

    def add(self, diagnostic: Diagnostic) -> None:
        """Keep `diagnostic` as it is (no sourcing chain, no check for repeats)."""
        self.diagnostics.append(diagnostic)

    def report(self, scope: Scope | None, file: str, rng: Range, severity: Severity, code: str,
               message: str, related: tuple[RelatedInfo, ...] = (), **kw) -> None:
        """Report once per (file, range, code, message); inside sourced blocks, the tags
        that sourced them are related information."""
        key = (file, rng, code, message)
        seen = self._seen.get(key)
        if seen is not None:  # the same mistake in another copy: counted (analysis.py says how many)
            if self._pos[key] < self.unit_start:
                self.crossed = True
            seen.data["copies"] = seen.data.get("copies", 1) + 1
            if scope is not None and scope.prefix:  # another instance of a sourced file: named too
                self._another_instance(key, seen, scope)
            return
        if self.saturated(file):
            return self.drop(file)
        self._per_file[file] = self._per_file.get(file, 0) + 1
        if scope is not None:
            related = related + source_related(scope.chain)
        d = Diagnostic(file, rng, severity, code, message, related, **kw)
        label = copies_label(scope.chain) if scope is not None else None
        if label is not None:
            d.data["copies_of"] = label
        self._seen[key] = d
        self._pos[key] = len(self.diagnostics)
        self.diagnostics.append(d)

    def _another_instance(self, key: tuple, seen: Diagnostic, scope: Scope) -> None:
        """`seen` met again in another sourced-block instance: its chain joins the related
        information, and its name the labels the count is said with (analysis._dedupe)."""
        more = [r for r in source_related(scope.chain) if r not in seen.related]
        if more and len(seen.related) < MAX_RELATED:
            d = self._seen[key] = replace(seen, related=seen.related + tuple(more))
            self.diagnostics[self._pos[key]] = d
        label = copies_label(scope.chain)
        labels = self._labels.setdefault(key, [seen.data.get("copies_of")])
        if label is not None and label not in labels and len(labels) <= 3:
            labels.append(label)
            seen.data["copies_of"] = ", ".join(x for x in labels[:3] if x) + (", …" if len(labels) > 3 else "")

    def error(self, scope: Scope, rng: Range, code: str, message: str, **kw) -> None:
        self.report(scope, scope.file.path, rng, Severity.ERROR, code, message, **kw)

    def warning(self, scope: Scope, rng: Range, code: str, message: str, **kw) -> None:
        self.report(scope, scope.file.path, rng, Severity.WARNING, code, message, **kw)
