"""The fuzz regression tests' helpers: a one-block project, the oracle's green verdict, the
errors check reports (tests/test_fuzz_regressions*.py)."""
from __future__ import annotations

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz.oracle import judge  # noqa: E402

from agrippa.sema.analysis import analyze  # noqa: E402


def project(tmp_path, imports: str, nodes: str, exports: str, opset: int = 13) -> str:
    (tmp_path / "main.agr").write_text(f"<model>\n{imports}\n<block>\n{nodes}\n</block>\n{exports}\n</model>\n")
    (tmp_path / "agrippa.toml").write_text(f'[model]\nindex = "main.agr"\nopset = {opset}\n')
    return str(tmp_path)


def green(tmp_path, *a, **kw) -> None:
    warnings.filterwarnings("ignore")
    v = judge(project(tmp_path, *a, **kw))
    assert v.category == "green-ok", (v.category, v.detail)


def error_codes(tmp_path, *a, **kw) -> set[str]:
    return {d.code for d in analyze(project(tmp_path, *a, **kw), strict=True).errors}


def the_error(tmp_path, *a, **kw) -> tuple[str, str, str]:
    """The one error check reports: its code, the text its range marks, its message."""
    errors = analyze(project(tmp_path, *a, **kw), strict=True).errors
    assert len(errors) == 1, [e.message for e in errors]
    d = errors[0]
    r = d.range
    assert r.start.line == r.end.line
    line = (tmp_path / "main.agr").read_text().splitlines()[r.start.line]
    return d.code, line[r.start.character:r.end.character], d.message
