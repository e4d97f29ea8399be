"""The front end, top to bottom: project → parse → expand → check → shapes → diagnostics.

One function, `analyze`, serves the CLI, the language server and `agrippa.export`, so a
rule is written once.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from agrippa.base.diagnostics import Diagnostic, Range, Severity, cap_per_file
from agrippa.project.config import (
    CONFIG_FNAME,
    Config,
    file_access,
    find_index,
    load_config,
    project_dir_of,
)
from agrippa.project.files import Refusal, TextProvider
from agrippa.sema.expand.expander import Options, expand
from agrippa.sema.ir import Graph
from agrippa.syntax.tree import SourceFile


class Cancelled(BaseException):
    """Raised by an analysis' `cancel` hook to stop it (a newer edit made it outdated).

    A BaseException, so that no phase's `except Exception` swallows it."""


@dataclass
class Analysis:
    project_dir: str
    index: str | None
    config: Config
    bindings: dict[str, object]
    graph: Graph | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # each file's text as analysed (recorded analyses)
    strict: bool = False

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def for_file(self, path: str) -> list[Diagnostic]:
        path = os.path.abspath(path)
        return [d for d in self.diagnostics if d.file == path]


def analyze(path: str, *, bindings: dict[str, object] | None = None, index: str | None = None,
            profile: str | None = None, strict: bool = False, provider: TextProvider | None = None,
            config: Config | None = None, files: dict[str, SourceFile] | None = None,
            shapes: bool = True, schema: bool = True,
            previous: dict[str, SourceFile] | None = None, weights: bool = True, stored: bool = True,
            dynamic: tuple[str, ...] | list[str] = (),
            cancel: Callable[[], None] | None = None, record: bool = False,
            base: Analysis | None = None) -> Analysis:
    """Analyse the project containing `path` (a folder or a markup file).

    Bindings are layered: `[bindings]` of agrippa.toml, then the chosen profile, then
    `bindings`. With `strict` (compiling), unbound names are errors; otherwise they stay
    symbolic. `files` is a cache of parsed files reused across calls (the server's);
    `previous` holds earlier parses of files edited since, re-parsed incrementally.
    With `weights`, the weights file's header is read and its shapes checked; with `stored`
    False (compile with reinit), the weights file is ignored altogether. `dynamic`
    names dims chosen at run time (with `[model] dynamic`): they stay symbolic, strict or not.
    `cancel` is called between phases and every so often inside expansion and shape
    inference; it raises (`Cancelled`) to stop an analysis a newer edit made outdated.
    With `record` (the editor's host), the analysis keeps what the next one may reuse;
    `base`, an earlier recorded analysis of the same project and settings, is then reused
    where an edit left it alone (`incremental.py`) and consumed.
    """
    stop_if_cancelled = cancel or _go_on
    path = os.path.abspath(path)
    project_dir = path if os.path.isdir(path) else project_dir_of(path)
    if config is None:
        config = load_config(project_dir)
    merged = config.bindings_for(profile)
    merged.update(bindings or {})
    dyn = frozenset(config.dynamic) | frozenset(dynamic)
    for name in dyn:  # a dynamic dim is never bound
        merged.pop(name, None)
    diags: list[Diagnostic] = list(config.diagnostics)
    if "train" in config.raw:  # [train] mistakes show in `agrippa check` and the editor too
        from agrippa.project.train_config import validate_train_config

        diags.extend(validate_train_config(config)[1])
    if os.path.isfile(path) and index is None:
        index_path, note = path, None
    else:
        index_path, note = find_index(project_dir, config, index)
    result = Analysis(project_dir, index_path, config, merged, diagnostics=diags, strict=strict)
    if index_path is None:
        diags.append(Diagnostic(project_dir, Range.of(0, 0, 0, 0), Severity.ERROR, "no-index",
                                f"no .agr or .xml file in {project_dir}"))
        return result
    access = file_access(project_dir, config, provider)  # what may be read (project/files.py)
    configured = os.path.join(project_dir, config.index) if index is None and config.index and config.path else None
    if configured is not None and configured != index_path:  # a file analysed alone (the editor)
        why = access.refusal(configured)
        if why is not None and why.code:  # the toml still names an index that is never read
            diags.append(_index_refused(config, why))
    refused = access.refusal(index_path)
    if refused is not None and refused.code:
        if configured is not None and configured == index_path:  # at [model] index of agrippa.toml
            diags.append(_index_refused(config, refused))
        else:
            diags.append(Diagnostic(index_path, Range.of(0, 0, 0, 0), Severity.ERROR, "file-unreadable",
                                    f"cannot analyse this file: {refused}"))
        result.index = None
        return result
    if note:
        diags.append(Diagnostic(index_path, Range.of(0, 0, 0, 0), Severity.INFORMATION, "index-choice", note))
    verdicts: dict = {}  # libxml2's whole-file verdicts, started as files are parsed (schema/validate.py)
    on_parse = None
    if schema:
        from agrippa.sema.schema.validate import prejudge, validate_files

        def on_parse(sf: SourceFile) -> None:
            verdicts.update(prejudge([sf]))  # runs in a thread, without the GIL, beside the rest

    opts = Options(bindings=merged, symbolic=not strict, dynamic=dyn, opset=config.opset, provider=access,
                   previous=previous, on_parse=on_parse, cancel=cancel, record=record)
    if record and base is not None:
        from agrippa.sema.incremental import prepare

        prepare(opts, base, index_path, config, strict, files)
    graph, expand_diags = expand(index_path, opts, files)  # stopped midway, it leaves `base` as it was
    if opts.base is not None:  # `base` is consumed: what is left is short, and runs to the end
        opts.cancel = cancel = None
        stop_if_cancelled = _go_on
    if opts.base is not None and graph.units is None:  # the edit made units depend on each other: afresh
        opts.base = opts.shift = None
        graph, expand_diags = expand(index_path, opts, files)
    if record:
        result.texts = {p: sf.text for p, sf in graph.files.items()}
    stop_if_cancelled()
    result.graph = graph
    diags.extend(expand_diags)
    from agrippa.sema.checker import check

    diags.extend(check(graph, opts, opts.base, opts.shift))
    stop_if_cancelled()
    from agrippa.sema.budgets import param_diagnostics

    diags.extend(param_diagnostics(graph, config.max_param_bytes, strict))
    from agrippa.sema.weights_check import weights_diagnostics

    # the weights file's header: which params it stores (a small frozen one folds from its stored
    # value, not its init), and, with `weights`, their shapes against the dims (compile checks the data)
    found = weights_diagnostics(graph, project_dir, config, access) if stored else []
    if weights:
        diags.extend(found)
    if shapes:
        from agrippa.sema.shapes import infer_shapes

        stop_if_cancelled()
        diags.extend(infer_shapes(graph, cancel=cancel, base=opts.base, shift=opts.shift))
    stop_if_cancelled()
    if schema:
        diags.extend(validate_files(graph.files.values(), verdicts))
    from agrippa.sema.expand.instances import blame_tags, name_instances

    diags.extend(blame_tags(graph, diags))  # shape errors caused by what a tag passes in, at the tag too
    result.diagnostics = cap_per_file(_dedupe(name_instances(graph, diags)))  # floods: merged and counted per file
    return result


def _index_refused(config: Config, why: Refusal) -> Diagnostic:
    """`[model] index` names a file the project's policy refuses: said at that key."""
    from agrippa.project.config import toml_key_range

    return Diagnostic(config.path or CONFIG_FNAME, toml_key_range(config.text or "", "model.index"), Severity.ERROR,
                      why.code, f"{CONFIG_FNAME}: the index '{config.index}' is not read: {why}")


def _go_on() -> None:
    """The `cancel` hook of an analysis nobody cancels."""


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Merge repeats (the copies of a rep/stretch block or of a sourced block report once,
    saying how many copies: "(in 4,851 copies of block 'layers')"), and drop schema errors
    that a semantic rule, with a more specific message and its fixes, already reports at
    the same place."""
    copies: dict[tuple, list] = {}  # key -> [count, labels]
    semantic = {}
    for d in diags:
        if not d.code.startswith("schema-"):
            semantic.setdefault((d.file, d.range.start.line), []).append(d.range)
        c = copies.setdefault((d.file, d.range, d.code, d.message), [0, {}])
        c[0] += d.data.get("copies", 1)
        if "copies_of" in d.data:
            c[1][d.data["copies_of"]] = None
    out = []
    for d in diags:
        key = (d.file, d.range, d.code, d.message)
        c = copies.pop(key, None)
        if c is None:
            continue
        if c[0] > 1 and c[1]:  # repeats from copies (a chain of frames), not from two phases
            d = _in_copies(d, c[0], list(c[1]))
        if d.code.startswith("schema-") and any(
                r.start <= d.range.end and d.range.start <= r.end
                for r in semantic.get((d.file, d.range.start.line), ())):
            continue
        out.append(d)
    out.sort(key=lambda d: (d.file, d.range.start, d.severity))
    return out


def _in_copies(d: Diagnostic, n: int, labels: list[str]) -> Diagnostic:
    """`d`, met in `n` copies, said once with the count."""
    of = ", ".join(labels[:3]) + (", …" if len(labels) > 3 else "")
    return replace(d, message=f"{d.message} (in {n:,} copies of {of})", data={**d.data, "copies": n})
