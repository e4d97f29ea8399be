"""Incremental re-analysis: after an edit, only what depends on the edited block is expanded,
checked and inferred again, and the result is exactly what a full analysis gives."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from incremental_helpers import differences, facts
from shared_paths import CASES, missing_reason

from agrippa.ide.host import AnalysisHost
from agrippa.project.config import find_index, load_config
from agrippa.sema.analysis import analyze

SOURCED = """<block>
    <import from="a" />
    <node op="MatMul" title="Proj">
        <input src="a" />
        <params name="P" dim="[var(d), var(d)]" />
        <output name="p" />
    </node>
    <node op="Relu" title="Act">
        <input src="p" />
        <output name="q" />
    </node>
    <export from="q" />
</block>
"""

LAYER = """    <block title="Layer {i}">
        <import from="x{i}" />
        <node op="MatMul" title="L{i:03d}">
            <input src="x{i}" />
            <params name="W" dim="[var(d), var(d)]" />
            <output name="h{i}" dim="[var(batch), var(d)]" />
        </node>
        <node op="Add" title="Bias {i}">
            <input src="h{i}" />
            <params name="b" dim="[var(d)]" init="zeros" shared="{shared}" />
            <output name="a{i}" />
        </node>
        <node op="Relu" title="Act {i}">
            <input src="a{i}" />
            <output name="x{j}" />
        </node>
        <export from="x{j}" />
    </block>
"""

REP = """    <block title="Stack {i}" rep="2">
        <import from="x{i}" />
        <node op="Relu" title="R{i}">
            <input src="x{i}" />
            <output name="x{i}" />
        </node>
        <export from="x{i}" />
    </block>
    <block title="Pass {i}">
        <node op="Identity" title="Id{i}">
            <input src="x{i}" />
            <output name="x{j}" />
        </node>
    </block>
"""

STRETCH = """    <block title="Wide {i}" stretch="2">
        <import from="x{i}" />
        <node op="Relu" title="W{i}">
            <input src="x{i}" />
            <output name="w{i}" />
        </node>
        <export from="w{i}" />
    </block>
    <block title="Narrow {i}">
        <node op="Slice" title="Cut{i}" starts="[0]" ends="[var(d)]" axes="[1]">
            <input src="w{i}" />
            <output name="x{j}" />
        </node>
    </block>
"""

SOURCE = """    <block title="Feed {i}">
        <node op="Identity" title="F{i}">
            <input src="x{i}" />
            <output name="s{i}$a" />
        </node>
    </block>
    <block src="part.agr" name="s{i}" />
    <block title="After {i}">
        <node op="Identity" title="Take{i}">
            <input src="s{i}$q" />
            <output name="x{j}" />
        </node>
    </block>
"""


def model(rng: random.Random, layers: int = 24, sources: bool = True) -> str:
    parts = ['<model>\n    <import from="x0" dim="[var(batch), var(d)]" />\n']
    for i in range(layers):
        kind = rng.random()
        if kind < 0.1 and sources:
            parts.append(SOURCE.format(i=i, j=i + 1))
        elif kind < 0.2:
            parts.append(REP.format(i=i, j=i + 1))
        elif kind < 0.3:
            parts.append(STRETCH.format(i=i, j=i + 1))
        else:
            parts.append(LAYER.format(i=i, j=i + 1, shared="yes" if kind < 0.45 else "no"))
    parts.append(f'    <export from="x{layers}" dim="[var(batch), var(d)]" />\n</model>\n')
    return "".join(parts)


def edit(rng: random.Random, text: str) -> str:
    """An edit a user makes while typing: most keep the file well-formed, some break a name,
    a shape or an op, some move every line below."""
    kind = rng.random()
    if kind < 0.25:  # retype a title
        m = rng.choice(list(re.finditer(r'title="([^"]*)"', text)))
        return text[:m.start(1)] + rng.choice(["L001", "Act 3", "new", "L007", ""]) + text[m.end(1):]
    if kind < 0.4:  # a dim: the shapes downstream change, or disagree
        m = rng.choice(list(re.finditer(r'dim="(\[[^"]*\])"', text)))
        return text[:m.start(1)] + rng.choice(["[var(d), 3]", "[var(d), var(d)]", "[3]", "[var(d)]", "[2, 2]"]) \
            + text[m.end(1):]
    if kind < 0.55:  # a name read or defined
        m = rng.choice(list(re.finditer(r'(?:src|name|from)="([a-z]\w*)"', text)))
        return text[:m.start(1)] + rng.choice(["x1", "h2", "a3", "x5", "typo", "q"]) + text[m.end(1):]
    if kind < 0.65:  # an op
        m = rng.choice(list(re.finditer(r'op="(\w+)"', text)))
        return text[:m.start(1)] + rng.choice(["Relu", "Sigmoid", "Identity", "Relux", "MatMul"]) + text[m.end(1):]
    if kind < 0.8:  # lines added or removed between blocks: every position below moves
        ends = [m.end() for m in re.finditer(r"</block>\n", text)]
        i = rng.choice(ends)
        if rng.random() < 0.5 or text[i:i + 1] != "\n":
            return text[:i] + rng.choice(["\n", "\n\n    <!-- note -->\n", "   "]) + text[i:]
        return text[:i] + text[i + 1:]
    if kind < 0.9:  # a block removed
        spans = [m.span() for m in re.finditer(r'    <block title="Layer \d+">.*?</block>\n', text, re.S)]
        if spans:
            a, b = rng.choice(spans)
            return text[:a] + text[b:]
        return text
    m = rng.choice(list(re.finditer(r'(?:rep|stretch|init)="(\w+)"', text)) or [None])
    if m is None:
        return text
    return text[:m.start(1)] + rng.choice(["3", "1", "ones", "zeros"]) + text[m.end(1):]


def project(tmp_path: Path, text: str) -> tuple[Path, dict]:
    (tmp_path / "agrippa.toml").write_text("[bindings]\nbatch = 4\nd = 8\n")
    (tmp_path / "part.agr").write_text(SOURCED)
    index = tmp_path / "model.agr"
    index.write_text(text)
    return index, {str(index): text}


def full(index: Path, buf: dict):
    return analyze(str(index), provider=lambda p: buf.get(p), config=load_config(str(index.parent)))


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_give_what_a_full_analysis_gives(tmp_path, seed):
    rng = random.Random(seed)
    text = model(rng, sources=seed % 2 == 0)  # without sourced files the element maps are spliced whole
    index, buf = project(tmp_path, text)
    host = AnalysisHost(lambda p: buf.get(p))
    host.analysis_for(str(index))
    reused = 0
    part = tmp_path / "part.agr"
    for step in range(25):
        if rng.random() < 0.1:  # the sourced file edited: the blocks sourcing it are expanded again
            buf[str(part)] = edit(rng, buf.get(str(part), SOURCED))
            host.changed(str(part))
        else:
            text = edit(rng, text)
            buf[str(index)] = text
            host.changed(str(index))
        a = host.analysis_for(str(index))
        if a.graph is not None and a.graph.expanded is not None:
            reused += len(a.graph.units or ()) - len(a.graph.expanded)
        diff = differences(facts(a), facts(full(index, buf)))
        assert not diff, f"seed {seed}, edit {step}:\n" + "\n".join(diff[:5])
    assert reused > 0  # the edits did reuse units


def test_an_edit_redoes_only_the_block_it_touches(tmp_path):
    text = "".join(['<model>\n    <import from="x0" dim="[var(batch), var(d)]" />\n',
                    *(LAYER.format(i=i, j=i + 1, shared="no") for i in range(30)),
                    '    <export from="x30" dim="[var(batch), var(d)]" />\n</model>\n'])
    index, buf = project(tmp_path, text)
    host = AnalysisHost(lambda p: buf.get(p))
    assert not host.analysis_for(str(index)).errors
    # the user gives layer 12's weight a wrong dim: the MatMul of layer 12 is now [4, 8] x [3, 8]
    at = text.index('title="L012"')
    w = text.index('dim="[var(d), var(d)]"', at)
    text = text[:w] + 'dim="[3, var(d)]"' + text[w + len('dim="[var(d), var(d)]"'):]
    buf[str(index)] = text
    host.changed(str(index))
    a = host.analysis_for(str(index))
    assert [u.get("title") for u in a.graph.expanded] == ["Layer 12"]
    errors = [d for d in a.errors if d.code == "shape-mismatch"]
    assert errors and "MatMul" in errors[0].message
    line = text[:at].count("\n")
    assert errors[0].range.start.line == line + 2  # at the <params> dim, two lines below the title
    # lines added above: the diagnostics kept move with the text
    text = text.replace("<model>\n", "<model>\n\n\n", 1)
    buf[str(index)] = text
    host.changed(str(index))
    a = host.analysis_for(str(index))
    assert [d.range.start.line for d in a.errors if d.code == "shape-mismatch"] == [line + 4]
    assert not differences(facts(a), facts(full(index, buf)))
    # fixed again: the error is gone, and so is every consequence of it
    text = text.replace('dim="[3, var(d)]"', 'dim="[var(d), var(d)]"')
    buf[str(index)] = text
    host.changed(str(index))
    a = host.analysis_for(str(index))
    assert not a.errors
    assert len(a.graph.expanded) == 1


REAL = [Path(__file__).parents[1] / "examples" / "gpt", CASES / "mha-stretch" / "project",
        CASES / "import-nest" / "project"]


@pytest.mark.parametrize("root", REAL, ids=lambda p: p.parent.name if p.name == "project" else p.name)
def test_random_edits_of_real_projects_give_what_a_full_analysis_gives(tmp_path, root):
    """The example GPT and projects from the original package's tests (sourced files, rep,
    stretch), padded past the re-parse threshold, edited at random, sourced files too."""
    if not root.is_dir():
        pytest.skip(missing_reason(root))
    d = tmp_path / "p"
    shutil.copytree(root, d)
    index = Path(find_index(str(d), load_config(str(d)))[0])
    buf = {str(f): f.read_text() for f in d.rglob("*") if f.suffix in (".agr", ".xml")}
    text = buf[str(index)]
    close = text.rfind("</")
    text = buf[str(index)] = text[:close] + "<!-- " + "pad " * 2500 + "-->\n" + text[close:]
    host = AnalysisHost(lambda p: buf.get(p))
    host.analysis_for(str(index))
    rng = random.Random(7)
    others = [p for p in buf if p != str(index)]
    for step in range(15):
        path = rng.choice(others) if others and rng.random() < 0.2 else str(index)
        try:
            buf[path] = edit(rng, buf[path])
        except IndexError:  # nothing of that kind to edit in this file
            continue
        host.changed(path)
        a = host.analysis_for(str(index))
        diff = differences(facts(a), facts(full(index, buf)))
        assert not diff, f"{root.name}, edit {step}:\n" + "\n".join(diff[:5])


@pytest.mark.parametrize("seed", range(3))
def test_a_run_stopped_midway_leaves_the_previous_analysis_reusable(tmp_path, seed):
    """A newer edit stops an incremental run while it expands: the analysis it was reusing
    is left as it was, and the next run reuses it and still equals a full analysis."""
    from agrippa.sema.analysis import Cancelled

    rng = random.Random(seed)
    text = model(rng, sources=seed != 1)
    index, buf = project(tmp_path, text)
    cfg = load_config(str(tmp_path))
    files: dict = {}

    def run(base, cancel=None):
        previous = {str(index): files.pop(str(index))} if str(index) in files else None
        return analyze(str(index), provider=lambda p: buf.get(p), config=cfg, files=files, previous=previous,
                       record=True, base=base, cancel=cancel)

    a = run(None)
    stopped: list[int] = []
    for step in range(12):
        # an edit whose run is stopped after a few cancel checks, then another edit
        buf[str(index)] = edit(rng, text)
        def stop(calls: list = [], limit: int = rng.randrange(1, 4)) -> None:  # noqa: B006 (one list per edit)
            calls.append(1)
            if len(calls) > limit:
                raise Cancelled
        try:
            b = run(a, stop)
        except Cancelled:
            stopped.append(step)
            assert not a.graph.consumed
        else:
            a = b
        text = edit(rng, buf[str(index)])
        buf[str(index)] = text
        a = run(a)
        diff = differences(facts(a), facts(full(index, buf)))
        assert not diff, f"seed {seed}, edit {step}:\n" + "\n".join(diff[:5])
    assert stopped  # some runs were stopped midway
