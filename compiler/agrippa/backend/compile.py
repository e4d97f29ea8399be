"""Compiling a project: analysis, parameter values, the ONNX file, weights written back."""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agrippa.backend.initializers import InitError
from agrippa.backend.output import OutputError, check_output, writing
from agrippa.backend.weights import WeightsError
from agrippa.base.diagnostics import CompileError, Diagnostic, Range, Severity
from agrippa.project.weights_header import weights_path
from agrippa.sema.analysis import Analysis, analyze


class WeightsRefused(CompileError, WeightsError):
    """A weights file refused: a CompileError with its diagnostic, and a WeightsError (what
    `agrippa.export` has always raised for it)."""


@dataclass
class CompileResult:
    onnx_path: str
    weights_path: str | None
    analysis: Analysis
    fresh: list[str] = field(default_factory=list)  # parameters initialized in this compile
    unused: dict[str, np.ndarray] = field(default_factory=dict)  # stored weights the markup no longer uses: kept

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.analysis.diagnostics if not d.is_error]


def weights_path_for(project_dir: str, configured: str | None = None) -> str:
    """The project's weights file: configured, else an existing weights.pkl, else safetensors."""
    return weights_path(project_dir, configured)


def read_meta(project_dir: str) -> dict:
    from agrippa.project.config import META_FNAME

    path = os.path.join(project_dir, META_FNAME)
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}


def compile_project(path: str, out: str | None = None, *, bindings: dict | None = None,
                    index: str | None = None, profile: str | None = None, reinit: bool = False,
                    write_weights: bool = True, producer: str | None = None, graph_name: str | None = None,
                    seed: int | None = None, external_data: bool | None = None,
                    progress: Callable[[str, float], None] | None = None,
                    dynamic: tuple[str, ...] | list[str] = ()) -> CompileResult:
    """Compile the project at `path` to ONNX; raises CompileError with diagnostics on errors,
    OutputError (one line) when `out` must not or cannot be written. `dynamic` dims (with
    `[model] dynamic`) are written as ONNX dim_param: the model runs at any size of them.

    Stored weights are never lost: entries the markup no longer uses are kept in the
    weights file (and reported), and a file over the loading budget is refused."""
    from agrippa.backend.onnx_export import build_model, param_values, save_model
    from agrippa.backend.weights import clean_stale_temps, save_weights

    def report(stage: str, frac: float) -> None:
        if progress is not None:
            progress(stage, frac)

    report("analysing", 0.0)
    an = analyze(path, bindings=bindings, index=index, profile=profile, strict=True, weights=False,  # data checked below
                 stored=not reinit, dynamic=dynamic)
    if an.errors or an.graph is None:
        raise CompileError(an.diagnostics)
    graph = an.graph
    wpath = weights_path_for(an.project_dir, an.config.weights)
    if out is None:
        out = os.path.join(an.project_dir, os.path.splitext(os.path.basename(an.index or "model"))[0] + ".onnx")
    check_output(out, [wpath, *graph.files, *(p for p in [an.config.path] if p)])
    for folder in {os.path.dirname(os.path.abspath(out)), os.path.dirname(wpath)}:
        clean_stale_temps(folder)  # what killed writes left (backend/weights/atomic.py)
    stored = _stored_weights(an, wpath, reinit)
    unused = {k: v for k, v in stored.items() if k not in graph.params}
    if unused:
        an.diagnostics.append(Diagnostic(
            wpath, Range.of(0, 0, 0, 0), Severity.WARNING, "unused-weights",
            f"{len(unused)} stored weight{'s' * (len(unused) != 1)} no longer used by the markup "
            f"({', '.join(sorted(unused)[:5])}{', ...' if len(unused) > 5 else ''}); kept in the weights file"))
    _refuse_complex(graph, stored)
    if not reinit:
        _check_shapes(an, stored, wpath)
    rng = np.random.default_rng(seed)
    try:
        values, fresh = param_values(graph, {} if reinit else stored, rng,
                                     lambda k, n: report("initializing", k / max(n, 1)))
    except InitError as e:
        raise CompileError([Diagnostic(wpath, Range.of(0, 0, 0, 0), Severity.ERROR, "weights-mismatch", str(e))]) from None
    meta = read_meta(an.project_dir)
    producer = producer or meta.get("producer") or "Unknown"
    graph_name = graph_name or meta.get("graph_name") or "Unknown"
    output_dims = _output_dims(an)
    report("building", 0.9)
    model = build_model(graph, values, producer=producer, graph_name=graph_name, output_dims=output_dims)
    report("validating", 0.93)
    _validate(an, model, out)
    with writing(out):
        save_model(model, out, external_data)
    written = None
    if write_weights and (fresh or not os.path.exists(wpath) or reinit):
        try:
            with writing(wpath):
                save_weights(wpath, {**unused, **values})
        except WeightsError as e:  # the model's fresh values would be lost: it is not kept either
            for path in (out, out + ".data"):
                with contextlib.suppress(OSError):
                    os.remove(path)
            raise CompileError([*an.diagnostics, _unwritable(an, wpath, str(e))]) from None
        written = wpath
    report("done", 1.0)
    return CompileResult(out, written, an, fresh, unused)


def _stored_weights(an: Analysis, wpath: str, reinit: bool) -> dict[str, np.ndarray]:
    """The weights file's entries, read under the project's file-access policy and the
    loading budget. With `reinit`, an unreadable file is replaced (as asked)."""
    from agrippa.backend.weights import load_weights
    from agrippa.project.config import file_access

    why = file_access(an.project_dir, an.config).outside(wpath)  # neither read nor written outside
    if why is None and not os.path.lexists(wpath):
        return {}
    try:
        if why is not None:
            raise WeightsError(f"{os.path.basename(wpath)}: {why}")
        return load_weights(wpath)
    except WeightsError as e:
        if reinit and why is None:
            return {}
        raise WeightsRefused([Diagnostic(wpath, Range.of(0, 0, 0, 0), Severity.ERROR, "weights-unreadable",
                                         str(e))]) from None


def _check_shapes(an: Analysis, stored: dict[str, np.ndarray], wpath: str) -> None:
    """Stored values of another shape: reshaped with a warning, or all reported as errors."""
    from agrippa.sema.weights_check import shape_diagnostics

    found = shape_diagnostics(an.graph, {k: np.shape(v) for k, v in stored.items()}, os.path.basename(wpath))
    an.diagnostics.extend(found)
    if any(d.is_error for d in found):
        raise CompileError(an.diagnostics)


def _validate(an: Analysis, model, out: str) -> None:
    """onnx.checker's full check before anything is written: a failure is our bug."""
    from agrippa.backend.validate import check_written_model

    why = check_written_model(model)
    if why is not None:
        raise CompileError([*an.diagnostics, Diagnostic(
            an.index or an.project_dir, Range.of(0, 0, 0, 0), Severity.ERROR, "internal-invalid-model",
            f"internal error: the model compiled for {out} fails onnx.checker's full check, so it was not "
            f"written (please report this bug): {why}")])


def _unwritable(an: Analysis, wpath: str, why: str) -> Diagnostic:
    """Where to say the weights file cannot be written: at [model] weights, if it names it."""
    if an.config.weights and an.config.path:
        from agrippa.project.config import toml_key_range

        return Diagnostic(an.config.path, toml_key_range(an.config.text or "", "model.weights"), Severity.ERROR,
                          "weights-unwritable", f"cannot write the weights file (the model was not kept): {why}")
    return Diagnostic(wpath, Range.of(0, 0, 0, 0), Severity.ERROR, "weights-unwritable",
                      f"cannot write the weights file (the model was not kept): {why}")


def _refuse_complex(graph, stored: dict[str, np.ndarray]) -> None:
    """Complex stored values would lose their imaginary part: an error at each params element."""
    bad = [p for name, p in graph.params.items() if name in stored and np.iscomplexobj(stored[name])]
    if bad:
        raise CompileError([Diagnostic(p.origin.file, p.origin.element.tag_range, Severity.ERROR, "complex-weight",
                                       f"the weights file holds complex values for '{p.name}' "
                                       f"({stored[p.name].dtype}); parameters are real, and the imaginary part "
                                       "would be lost") for p in bad])


def _output_dims(an: Analysis) -> dict[str, tuple]:
    """Each graph output's dims: the inferred shape when it is concrete (a stale `dim` on the
    export is a warning, and must not make the model invalid), else the dims written there."""
    from agrippa.sema.values import evaluate, parse_value

    dims = {}
    for t, el in an.graph.outputs:
        if t.shape is not None and all(isinstance(d, int) for d in t.shape):
            dims[t.name] = tuple(t.shape)
            continue
        text = el.get("dim")
        if not text:
            continue
        try:
            v = evaluate(parse_value(text), an.bindings, symbolic=False)
        except Exception:  # an unusable hint: the inferred shape is used instead
            continue
        if isinstance(v, list) and all(isinstance(d, int) for d in v):
            dims[t.name] = tuple(v)
    return dims


__all__ = ["CompileResult", "OutputError", "WeightsRefused", "compile_project", "read_meta", "weights_path_for"]
