"""Parameters that would lose data or exhaust memory, found before anything is allocated.

- initial values that are not finite (`init_args="[1e999]"` reads as infinity): an error
  at the `init_args` value, since every value drawn from them would be `inf` or `nan`;
- a parameter larger than the project's limit (`[project] max_param_mb`, default 1 GiB):
  a warning in the editor and `agrippa check`, an error when compiling (which would
  allocate it), at the `dim` value.
"""
from __future__ import annotations

import math

from agrippa.base.diagnostics import Diagnostic, Range, Severity
from agrippa.sema.ir import Graph, Param

ITEMSIZE = {"float64": 8, "int64": 8, "float32": 4, "int32": 4, "float16": 2, "int16": 2,
            "int8": 1, "uint8": 1, "bool": 1}


def _range(p: Param, attr: str) -> Range:
    el = p.origin.element
    a = el.attrs.get(attr)
    return a.value_range if a is not None else el.tag_range


def param_bytes(p: Param) -> int | None:
    """The bytes of `p`'s value, when its dims are known numbers."""
    if not all(isinstance(d, int) for d in p.dims):
        return None
    return math.prod(p.dims) * ITEMSIZE.get(p.dtype, 4)


def _finite(v: object) -> bool:
    try:
        return math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return True  # not a number: the init-args rule speaks of it


def param_diagnostics(graph: Graph, max_bytes: int, strict: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    floor = max_bytes // 8  # no element type is wider: a parameter with fewer values is small enough
    for p in graph.params.values():
        n = 1
        for d in p.dims:  # the common case, first and quickly: known dims, few values
            if type(d) is not int:
                n = floor + 1
                break
            n *= d
        if n <= floor and not p.init_args:
            continue
        bad = [a for a in p.init_args if not _finite(a)]
        if bad:
            out.append(Diagnostic(p.origin.file, _range(p, "init_args"), Severity.ERROR, "non-finite-init",
                                  f"init_args of '{p.logical}' holds {bad[0]!r}: initial values must be finite "
                                  "numbers (a value like 1e999 overflows to infinity)"))
        size = param_bytes(p)
        if size is not None and size > max_bytes:
            out.append(Diagnostic(p.origin.file, _range(p, "dim"), Severity.ERROR if strict else Severity.WARNING,
                                  "param-too-large",
                                  f"'{p.logical}' holds {size / 2**30:.1f} GiB ({math.prod(p.dims):,} values); "
                                  f"parameters over {max_bytes / 2**20:g} MiB are refused by compile "
                                  "(raise [project] max_param_mb in agrippa.toml to allow it)"))
    return out
