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
