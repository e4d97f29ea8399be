"""Figures for the editor features on the 15,000-line model (bench/gen_large.py): semantic
tokens (computed, encoded in the client's units), formatting, code lenses, the expanded
model. Run from the repository root: `.venv/bin/python bench/bench_editor.py`."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = ["bench", "tests"]

from gen_large import large_model  # noqa: E402
from ide.markers import open_project  # noqa: E402

from agrippa.ide import expanded, lenses  # noqa: E402
from agrippa.ide.format import Options, apply, format_edits, format_source  # noqa: E402
from agrippa.ide.tokens import _file_tokens, semantic_tokens  # noqa: E402
from agrippa.syntax import parse  # noqa: E402
from agrippa_lsp.features.tokens import encode  # noqa: E402
from agrippa_lsp.positions import Units  # noqa: E402


def best(f, n: int = 5):
    times, result = [], None
    for _ in range(n):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times) * 1000, result


def main() -> None:
    text = large_model()  # 2-space indents: formatting re-indents every line
    p = open_project(Path(tempfile.mkdtemp()), {"m.agr": text, "agrippa.toml": "[bindings]\nn = 4\nd = 8\n"})
    path = p.path("m.agr")
    t = time.perf_counter()
    p.host.analysis_for(path)
    print(f"analysis (for context) {1000 * (time.perf_counter() - t):.0f} ms, {text.count(chr(10))} lines")
    an, sf = p.host.file_analysis(path)
    ms, toks = best(lambda: _file_tokens(an, sf.path))
    print(f"semantic tokens, computed: {ms:.0f} ms, {len(toks)} tokens")
    ms, _ = best(lambda: semantic_tokens(p.host, path))
    print(f"semantic tokens, memoized: {ms:.2f} ms")
    for label, units in (("UTF-16, ASCII text", Units(text, "utf-16")),
                         ("UTF-16, astral characters on 1 line in 4",
                          Units(text.replace("<node op=", '<node t="αβ𝛼" op='), "utf-16"))):
        ms, _ = best(lambda u=units: encode(toks, u))
        print(f"semantic tokens, encoded ({label}): {ms:.0f} ms")
    ms, e = best(lambda: format_edits(sf, Options()))
    print(f"format document (re-indents every line): {ms:.0f} ms, {len(e)} edit(s)")
    sf2 = parse("x.agr", apply(text, format_source(sf, Options())))
    ms, e = best(lambda: format_edits(sf2, Options()))
    print(f"format document (already formatted): {ms:.0f} ms, {len(e)} edits")
    ms, e = best(lambda: format_edits(sf2, Options(attributes="onePerLine")))
    print(f"format document (onePerLine): {ms:.0f} ms, {len(e)} edit(s)")
    ms, got = best(lambda: lenses._lenses(an, sf.path, True))
    print(f"code lenses: {ms:.0f} ms, {len(got)} lenses")
    ms, ex = best(lambda: expanded._expanded(an), 3)
    print(f"expanded model: {ms:.0f} ms, {ex.text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
