"""Go to definition and find references across a sourced file; links to sourced files."""
from __future__ import annotations

from agrippa.base.diagnostics import ZERO_RANGE, Location
from agrippa.ide.navigation import definitions, document_links, references

from .markers import by_place, marked, open_project
from .projects import SOURCED_PROJECT

MAIN, ENC = SOURCED_PROJECT["main.agr"], SOURCED_PROJECT["sub/enc.agr"]


def project(tmp_path, main: str = MAIN, enc: str = ENC, **more: str):
    """The sourced project, with main.agr open (so enc.agr is seen as main.agr sources it)."""
    p = open_project(tmp_path, {"main.agr": main, "sub/enc.agr": enc, **more})
    p.open("main.agr")
    return p


def test_a_prefixed_use_goes_to_the_definition_in_the_sourced_file(tmp_path):
    p = project(tmp_path, main=marked(MAIN, 'src="enc$‸result"'), enc=marked(ENC, 'name="⟦result⟧"'))
    assert definitions(p.host, p.file, p.cursor) == p.locations()


def test_a_local_use_and_a_sourced_import_go_to_their_outputs(tmp_path):
    p = project(tmp_path, main=marked(MAIN, '<input src="‸y"', 'name="⟦y⟧"'))
    assert definitions(p.host, p.file, p.cursor) == p.locations()
    # inside enc.agr, `inp` is what the parent writes as enc$inp
    p = project(tmp_path, main=marked(MAIN, 'name="⟦enc$inp⟧"'), enc=marked(ENC, 'src="‸inp"'))
    assert definitions(p.host, p.file, p.cursor) == p.locations()


def test_a_block_source_goes_to_the_file_and_is_a_link(tmp_path):
    p = project(tmp_path, main=marked(MAIN, 'src="⟦sub/‸enc.agr⟧"'))
    enc = p.path("sub/enc.agr")
    assert definitions(p.host, p.file, p.cursor) == [Location(enc, ZERO_RANGE)]
    [link] = document_links(p.host, p.file)
    assert (link.target, [link.range], link.tooltip) == (enc, p.ranges("main.agr"), "Open enc.agr")


def test_a_name_goes_to_its_binding_and_a_shared_parameter_to_its_first_declaration(tmp_path):
    main = MAIN.replace('dim="[3, 4]" />\n    <block', 'dim="[var(‸n), 4]" />\n    <block')
    p = project(tmp_path, main=main, **{"agrippa.toml": "[model]\nopset = 13\n\n[bindings]\n⟦n⟧ = 3\n\n"
                                                         "[profiles.big]\n⟦n⟧ = 30\n"})
    assert definitions(p.host, p.file, p.cursor) == p.locations()
    second_w = 'name="‸W" dim="[4, 4]" shared="yes" />\n        <output name="result"'
    p = project(tmp_path, enc=marked(ENC, 'name="⟦W⟧"', second_w))
    assert definitions(p.host, p.file, p.cursor) == p.locations()


def test_references_across_files_with_and_without_the_declaration(tmp_path):
    enc = marked(ENC, 'name="⟦res‸ult⟧"', 'from="⟦result⟧"')
    p = project(tmp_path, main=marked(MAIN, 'src="⟦enc$result⟧"'), enc=enc)
    everywhere = p.locations()
    assert sorted(references(p.host, p.file, p.cursor, True), key=by_place) == everywhere
    declaration = Location(p.file, p.ranges("sub/enc.agr")[0])
    uses = sorted(references(p.host, p.file, p.cursor, False), key=by_place)
    assert uses == [loc for loc in everywhere if loc != declaration]


def test_references_of_a_graph_input_and_of_a_bound_name(tmp_path):
    p = project(tmp_path, main=marked(MAIN, 'from="⟦‸x⟧"', 'src="⟦x⟧"', '<input src="⟦x⟧" />\n            <output name="z"'))
    assert sorted(references(p.host, p.file, p.cursor, True), key=by_place) == p.locations()
    main = MAIN.replace('dim="[3, 4]" />\n    <block', 'dim="[var(⟦‸n⟧), expr(⟦n⟧ + 1)]" />\n    <block')
    p = project(tmp_path, main=main, **{"agrippa.toml": "[bindings]\n⟦n⟧ = 3\n"})
    assert sorted(references(p.host, p.file, p.cursor, True), key=by_place) == p.locations()
