"""Incremental re-parsing gives exactly the tree a full parse gives, edit after edit."""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from agrippa.syntax import reparse as rp
from agrippa.syntax.parser import SourceFile, parse

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from gen_large import large_model, mlp_model  # noqa: E402

SNIPPETS = [" ", "\n", "x", "7", '"', "'", "<", ">", "/>", "</block>", "<block>", "<block title='t'>",
            "<!-- note -->", "<!--", "-->", "&amp;", "&bogus;", "=", 'dim="[3, var(n)]"',
            '<node op="Relu"><input src="a"/><output name="b"/></node>\n',
            '  <block title="new">\n    <import from="x0"/>\n  </block>\n', "<desc> a  b </desc>",
            "<![CDATA[ x ]]>", "<?pi x?>", "</model>", "<model>"]


def dump(sf: SourceFile) -> tuple:
    """Everything a parse produces, positions included, in comparable form."""
    def el(e) -> tuple:
        attrs = tuple((a.name, a.value, a.raw, a.name_start, a.name_end, a.value_start,
                       a.name_range, a.value_range) for a in e.attrs.values())
        for c in e.children:
            assert c.parent is e
        return (e.tag, e.start, e.end, e.start_tag_end, e.text, e.self_closing, e.closed, e.tag_range,
                e.range, attrs, tuple(el(c) for c in e.children))

    assert [id(e) for e in sf.all] == [id(e) for e in sf.elements()]
    if sf.root is not None:
        assert sf.all == list(sf.root.iter()) and sf.root.parent is None
    return (sf.path, sf.text, el(sf.root) if sf.root else None, tuple(sf.comments),
            tuple((d.code, d.range, d.message) for d in sf.diagnostics), sf.line_count)


def benign_edit(rng: random.Random, text: str) -> str:
    """An edit a user makes while the file stays well-formed."""
    kind = rng.random()
    if kind < 0.4:  # retype part of an attribute value
        values = [m for m in re.finditer(r'="([A-Za-z0-9_]+)"', text)]
        m = rng.choice(values)
        i = rng.randrange(m.start(1), m.end(1) + 1)
        return text[:i] + rng.choice(["z", "9", "", "ab"]) + text[i + rng.randint(0, 1):]
    if kind < 0.6:  # white space or a new line between tags
        ends = [m.end() for m in re.finditer(">", text)]
        i = rng.choice(ends[:-1])
        return text[:i] + rng.choice([" ", "\n", "\n    ", "<!-- c -->"]) + text[i:]
    if kind < 0.8:  # a whole node added after another
        ends = [m.end() for m in re.finditer("</node>", text)] or [text.index(">") + 1]
        i = rng.choice(ends)
        return text[:i] + SNIPPETS[19] + text[i:]
    spans = [m.span() for m in re.finditer(r"<node\b[^>]*>.*?</node>", text, re.S)]
    if not spans:
        return text
    a, b = rng.choice(spans)  # a whole node removed
    return text[:a] + text[b:]


def edit(rng: random.Random, text: str) -> str:
    if rng.random() < 0.6:
        return benign_edit(rng, text)
    i = rng.randrange(len(text) + 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + rng.choice(SNIPPETS) + text[i:]
    j = min(len(text), i + rng.randint(1, 60))
    if kind < 0.7:
        return text[:i] + text[j:]
    return text[:i] + rng.choice(SNIPPETS) + text[j:]


@pytest.fixture(autouse=True)
def small_files_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rp, "MIN_CHARS", 0)


@pytest.mark.parametrize("name,text", [
    ("generated", large_model(400)),
    ("mlp", mlp_model(300)[0]),
    ("gpt", (ROOT / "examples" / "gpt" / "gpt.agr").read_text()),
    ("transformer", (ROOT / "examples" / "transformer" / "transformer.agr").read_text()),
])
def test_edit_after_edit_the_tree_is_the_full_parse(name: str, text: str) -> None:
    rng = random.Random(name)
    current = parse("m.agr", text)
    reused = 0
    for _ in range(400):
        new_text = edit(rng, current.text)
        if rng.random() < 0.3:  # and often back to something well-formed again
            new_text = text
        full = parse("m.agr", new_text)
        expected = dump(full)
        incremental = rp.reparse(current, new_text)
        if incremental is not None:
            reused += 1
            assert dump(incremental) == expected, new_text
            assert current.root is None and current.all == []  # consumed
            current = incremental
        else:
            current = full
    assert reused > 100  # the incremental path really ran


def test_a_parse_is_consumed_once() -> None:
    text = large_model(200)
    old = parse("m.agr", text)
    edited = text.replace('title="act5"', 'title="act5b"')
    assert rp.reparse(old, edited) is not None
    assert rp.reparse(old, edited.replace("act6", "act6b")) is None  # taken already
    assert parse("m.agr", edited, previous=old).root is not None  # the caller parses it all


def test_an_edit_that_leaves_a_block_open_falls_back_and_keeps_the_previous_tree() -> None:
    text = large_model(200)
    old = parse("m.agr", text)
    before = dump(old)
    broken = text.replace("  </block>\n", "\n", 1)
    assert rp.reparse(old, broken) is None
    assert dump(old) == before  # untouched, so whoever still reads it is not misled
    assert [d.code for d in parse("m.agr", broken, previous=old).diagnostics] == \
        [d.code for d in parse("m.agr", broken).diagnostics]


def test_a_large_file_reparses_only_what_the_edit_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[tuple[int, int]] = []
    real_scan = rp.Scanner.scan

    def spy(self, start: int, stop: int) -> int:
        scanned.append((start, stop))
        return real_scan(self, start, stop)

    monkeypatch.setattr(rp.Scanner, "scan", spy)
    text = large_model(15_000)
    old = parse("m.agr", text)
    scanned.clear()
    at = text.index('title="act3000"')
    new = rp.reparse(old, text[:at] + 'title="changed"' + text[at + len('title="act3000"'):])
    assert new is not None and len(scanned) == 1
    start, stop = scanned[0]
    assert stop - start < 2_000  # one block of ~40 lines, not 560,000 characters
