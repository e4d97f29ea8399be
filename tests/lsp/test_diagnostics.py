"""Open a file, see its diagnostics; fix it, see them go."""
from __future__ import annotations

from pytest_lsp import LanguageClient

from .helpers import change_file, diagnostics_for, open_file

MODEL = """<model>
    <import from="x" dim="[3, 4]" />
    <block title="B">
        <node op="Relu">
            <input src="xx" />
            <output name="y" />
        </node>
    </block>
    <export from="y" dim="[3, 4]" />
</model>
"""


async def test_undefined_tensor_is_reported_and_fixing_it_clears_it(client: LanguageClient, tmp_path):
    path = tmp_path / "model.agr"
    path.write_text(MODEL)
    uri = open_file(client, path)
    diags = await diagnostics_for(client, uri, until=lambda d: len(d) > 0)
    undefined = [d for d in diags if d.code == "undefined-tensor"]
    assert len(undefined) == 1
    d = undefined[0]
    assert "'xx' is not defined; did you mean 'x'?" in d.message
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (4, 24, 26)
    change_file(client, uri, MODEL.replace('src="xx"', 'src="x"'), 2)
    diags = await diagnostics_for(client, uri, until=lambda d: not any(x.code == "undefined-tensor" for x in d))
    assert not [x for x in diags if x.severity == 1]


async def test_edits_in_a_large_file_keep_every_range_exact(client: LanguageClient, tmp_path):
    """Edits of a file over the incremental re-parse threshold: lines inserted in the middle
    move what follows, and diagnostics and hover land on the moved text."""
    import sys
    from pathlib import Path

    from lsprotocol import types as lsp

    from .helpers import position_of

    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from gen_large import large_model

    text = large_model(1_200)  # ~45 KB
    path = tmp_path / "model.agr"
    path.write_text(text)
    uri = open_file(client, path)
    await diagnostics_for(client, uri)
    middle = text.index('<node op="Relu" title="act150">')
    edited = text[:middle] + '<node op="Relu" title="new">\n      <input src="x9999"/>\n' \
        '      <output name="fresh"/>\n    </node>\n    ' + text[middle:]
    change_file(client, uri, edited, 2)
    diags = await diagnostics_for(client, uri, until=lambda d: any(x.code == "undefined-tensor" for x in d))
    bad = [d for d in diags if d.code == "undefined-tensor"]
    assert [(d.range.start, d.range.end) for d in bad] == [
        (position_of(edited, "x9999"), position_of(edited, "x9999", 5))]
    later = position_of(edited, 'name="x250"', 7)  # below the insertion: moved 4 lines down
    assert later.line == position_of(text, 'name="x250"').line + 4
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=later))
    assert hover is not None and "x250" in hover.contents.value and "[n, d]" in hover.contents.value
    change_file(client, uri, edited.replace('src="x9999"', 'src="x150"'), 3)
    diags = await diagnostics_for(client, uri, until=lambda d: not any(x.code == "undefined-tensor" for x in d))
    assert not [d for d in diags if d.severity == lsp.DiagnosticSeverity.Error]


async def test_a_change_after_a_pause_is_analysed_at_once_and_a_burst_is_debounced(tmp_path):
    """The debounce only holds back changes that follow one another closely."""
    import asyncio
    from types import SimpleNamespace

    from agrippa_lsp.diagnostics import DEBOUNCE_S, Publisher

    runs: list[str] = []

    def fresh_analysis_for(path, wanted):
        runs.append(path)
        return None  # nothing to publish in this test

    pub = Publisher(None, SimpleNamespace(fresh_analysis_for=fresh_analysis_for))
    path = str(tmp_path / "model.agr")
    assert pub.schedule(path) == 0  # the first change: analysed at once
    assert pub.schedule(path) == DEBOUNCE_S  # typing on: wait for a pause
    assert pub.schedule(path) == DEBOUNCE_S
    await asyncio.sleep(DEBOUNCE_S * 4)
    assert runs == [path]  # the superseded runs never started an analysis
    await asyncio.sleep(DEBOUNCE_S)
    assert pub.schedule(path) == 0  # after a pause: at once again
    await asyncio.sleep(DEBOUNCE_S * 2)
    assert runs == [path, path]


async def test_successive_edits_of_a_large_model_give_what_a_fresh_look_gives(client: LanguageClient, tmp_path):
    """Edits re-analysed incrementally (the blocks an edit leaves alone are reused): a
    mistake typed into one layer is reported at its place, moves with lines added above
    it, and goes when it is fixed."""
    from test_incremental import LAYER

    text = "".join(['<model>\n    <import from="x0" dim="[var(batch), var(d)]" />\n',
                    *(LAYER.format(i=i, j=i + 1, shared="no") for i in range(30)),
                    '    <export from="x30" dim="[var(batch), var(d)]" />\n</model>\n'])
    (tmp_path / "agrippa.toml").write_text("[bindings]\nbatch = 4\nd = 8\n")
    path = tmp_path / "model.agr"
    path.write_text(text)
    uri = open_file(client, path)
    assert not [d for d in await diagnostics_for(client, uri) if d.severity == 1]
    at = text.index('title="L012"')
    w = text.index('dim="[var(d), var(d)]"', at)
    broken = text[:w] + 'dim="[3, var(d)]"' + text[w + len('dim="[var(d), var(d)]"'):]
    line = broken[:at].count("\n") + 2  # the <params> line, two below the node's title
    change_file(client, uri, broken, 2)
    diags = await diagnostics_for(client, uri, until=lambda d: any(x.code == "shape-mismatch" for x in d))
    assert [(d.range.start.line, d.message) for d in diags if d.code == "shape-mismatch"] == [
        (line, "MatMul: inner dimensions differ: [4, 8] × [3, 8]")]
    change_file(client, uri, broken.replace("<model>\n", "<model>\n\n\n", 1), 3)
    diags = await diagnostics_for(client, uri, until=lambda d: any(
        x.code == "shape-mismatch" and x.range.start.line == line + 2 for x in d))
    assert [d.range.start.line for d in diags if d.severity == 1] == [line + 2]
    change_file(client, uri, text.replace("<model>\n", "<model>\n\n\n", 1), 4)
    diags = await diagnostics_for(client, uri, until=lambda d: not any(x.severity == 1 for x in d))
    assert not [d for d in diags if d.severity == 1]
