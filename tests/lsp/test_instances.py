"""A file sourced three times, over the real protocol: its error names the instance it is
in as related information at the sourcing tag, and the tag reports it too."""
from __future__ import annotations

from ide.projects import perceiver_swapped
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import diagnostics_for, make_project, open_file


async def test_an_error_in_a_sourced_file_names_its_instance(client: LanguageClient, tmp_path):
    make_project(tmp_path, perceiver_swapped())
    main = open_file(client, tmp_path / "perceiver.agr")
    attention = path_to_uri(str(tmp_path / "attention.agr"))
    [inside] = await diagnostics_for(client, attention, until=lambda d: len(d) > 0)
    assert inside.message == "Add: cannot broadcast [8, 32] with [32, 8]"
    chain = [r for r in inside.related_information if r.location.uri == main]
    assert [r.message for r in chain] == ["in up_attn, sourced at perceiver.agr:33"]
    assert (chain[0].location.range.start.line, chain[0].location.range.start.character) == (32, 9)
    [at_tag] = await diagnostics_for(client, main, until=lambda d: len(d) > 0)
    assert at_tag.range.start.line == 32 and at_tag.message.startswith("in up_attn, at attention.agr:21: Add")
    assert [r.location.uri for r in at_tag.related_information] == [attention]
