"""Cancelling an analysis: `analyze(cancel=…)` stops at phase boundaries and inside
expansion and shape inference; the host stops a run that a newer edit made outdated and
answers requests from the last analysis meanwhile (issue 13, item 4)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agrippa.base.diagnostics import Position
from agrippa.ide.hover import hover
from agrippa.sema.analysis import Cancelled, analyze

from .markers import open_project

GPT = Path(__file__).resolve().parents[2] / "examples" / "gpt"
LAYERS = 'rep="var(nlayers)"'
pytestmark = pytest.mark.skipif(not (GPT / "gpt.agr").exists(), reason="no examples/gpt")


def _gpt(tmp_path):
    files = {"gpt.agr": (GPT / "gpt.agr").read_text(), "agrippa.toml": (GPT / "agrippa.toml").read_text()}
    p = open_project(tmp_path, files)
    p.open("gpt.agr")
    return p, p.path("gpt.agr"), files["gpt.agr"]


def test_analyze_stops_inside_expansion_when_cancelled(tmp_path):
    (tmp_path / "gpt.agr").write_text((GPT / "gpt.agr").read_text().replace(LAYERS, 'rep="5000"'))
    (tmp_path / "agrippa.toml").write_text((GPT / "agrippa.toml").read_text())
    calls = []

    def cancel() -> None:
        calls.append(time.perf_counter())
        if len(calls) == 3:
            raise Cancelled

    t = time.perf_counter()
    with pytest.raises(Cancelled):
        analyze(str(tmp_path / "gpt.agr"), cancel=cancel)
    took = time.perf_counter() - t
    print(f"cancelled after {took * 1000:.0f} ms")
    assert len(calls) == 3 and took < 5  # the whole analysis takes 6–24 s


def test_analyze_checks_between_phases(tmp_path):
    (tmp_path / "gpt.agr").write_text((GPT / "gpt.agr").read_text())
    (tmp_path / "agrippa.toml").write_text((GPT / "agrippa.toml").read_text())
    calls = []
    a = analyze(str(tmp_path / "gpt.agr"), cancel=lambda: calls.append(1))
    assert a.graph is not None and len(calls) >= 4  # after expand, check, before and after shapes


def test_a_newer_edit_stops_the_outdated_run(tmp_path):
    p, path, text = _gpt(tmp_path)
    p.type("gpt.agr", text.replace(LAYERS, 'rep="5000"'))
    done = []
    th = threading.Thread(target=lambda: done.append(p.host.analysis_for(path)))
    th.start()
    time.sleep(0.5)  # the huge run is under way
    t = time.perf_counter()
    p.type("gpt.agr", text.replace(LAYERS, 'rep="3"'))
    th.join(60)
    took = time.perf_counter() - t
    print(f"outdated run stopped and redone in {took * 1000:.0f} ms")
    assert p.host.cancelled == 1 and done and len(done[0].graph.nodes) < 1000  # redone on the newer text
    assert took < 10


def test_requests_answer_from_the_last_analysis_meanwhile(tmp_path):
    p, path, text = _gpt(tmp_path)
    p.host.request_wait = 0.05
    last = p.host.analysis_for(path)
    huge = text.replace(LAYERS, 'rep="5000"')
    p.type("gpt.agr", huge)
    th = threading.Thread(target=lambda: p.host.fresh_analysis_for(path, lambda: p.files["gpt.agr"].text == huge))
    th.start()
    time.sleep(0.3)
    try:
        t = time.perf_counter()
        a, sf = p.host.file_analysis(path)
        took = time.perf_counter() - t
        assert took < 1 and a is not last and not a.graph.nodes  # the edited file: parsed alone
        assert sf.text == huge  # its ranges are those of the current text
        i = huge.index('op="MatMul"') + 5
        got = hover(p.host, path, Position(huge.count("\n", 0, i), i - huge.rfind("\n", 0, i) - 1))
        assert got is not None and "MatMul" in got.text
        assert p.host.recent_for(path, make=False) is last  # completion's older analysis, at once
    finally:
        p.type("gpt.agr", text)  # stops the huge run
        th.join(60)
    assert p.host.cancelled >= 1
    a, sf = p.host.file_analysis(path)
    assert a.graph.nodes and sf.text == text
