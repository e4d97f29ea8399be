"""Rename a tensor across files and prefixes, or a shared parameter; refuse clashes and
names the checker would reject (one naming rule for both)."""
from __future__ import annotations

import pytest

from agrippa.base.diagnostics import TextEdit
from agrippa.ide.rename import RenameRefused, prepare_rename, rename
from agrippa.sema.analysis import analyze

from .markers import marked, open_project
from .projects import SOURCED_PROJECT

MAIN, ENC = SOURCED_PROJECT["main.agr"], SOURCED_PROJECT["sub/enc.agr"]


def project(tmp_path, main: str = MAIN, enc: str = ENC):
    p = open_project(tmp_path, {"main.agr": main, "sub/enc.agr": enc})
    p.open("main.agr")
    return p


def applied(text: str, edits: list[TextEdit]) -> str:
    """`text` with the edits (all in one file, not overlapping) made."""
    lines = text.split("\n")

    def offset(line: int, character: int) -> int:
        return sum(len(x) + 1 for x in lines[:line]) + character

    for e in sorted(edits, key=lambda e: e.range.start, reverse=True):
        text = text[:offset(*e.range.start)] + e.new_text + text[offset(*e.range.end):]
    return text


def by_file(p, edits: list[TextEdit]) -> dict[str, str]:
    """The files' new texts, by name, for the files the edits touch."""
    names = {p.path(n): n for n in p.files}
    return {names[f]: applied(p.text(names[f]), [e for e in edits if e.file == f]) for f in {e.file for e in edits}}


def test_prepare_gives_the_name_without_its_prefix(tmp_path):
    p = project(tmp_path, main=marked(MAIN, 'src="enc$⟦r‸esult⟧"'))
    assert prepare_rename(p.host, p.file, p.cursor) == (p.ranges("main.agr")[0], "result")
    p = project(tmp_path, main=marked(MAIN, 'op="Re‸lu"'))
    assert prepare_rename(p.host, p.file, p.cursor) is None


def test_renaming_in_the_sourced_file_edits_the_parent_keeping_the_prefix(tmp_path):
    p = project(tmp_path, enc=marked(ENC, 'name="re‸sult"'))
    new = by_file(p, rename(p.host, p.file, p.cursor, "out"))
    assert set(new) == {"main.agr", "sub/enc.agr"}
    assert 'name="out"' in new["sub/enc.agr"] and 'from="out"' in new["sub/enc.agr"]
    assert "result" not in new["sub/enc.agr"]
    assert new["main.agr"] == MAIN.replace("enc$result", "enc$out")


def test_renaming_from_a_use_renames_every_use(tmp_path):
    p = project(tmp_path, main=marked(MAIN, '<input src="‸x"'))
    new = by_file(p, rename(p.host, p.file, p.cursor, "features"))
    assert list(new) == ["main.agr"]
    assert new["main.agr"].count('"features"') == 3 and '"x"' not in new["main.agr"]
    # the parent's name for enc's import: its prefix stays, and enc.agr follows
    p = project(tmp_path, main=marked(MAIN, 'name="enc$‸inp"'))
    new = by_file(p, rename(p.host, p.file, p.cursor, "source"))
    assert 'name="enc$source"' in new["main.agr"] and new["sub/enc.agr"].count('"source"') == 2


def test_renaming_to_the_same_name_changes_nothing(tmp_path):
    p = project(tmp_path, main=marked(MAIN, '<input src="‸y"'))
    assert rename(p.host, p.file, p.cursor, " y ") == []


@pytest.mark.parametrize("new, why", [("z", "already defined"), ("a$b", "not allowed"), ("a.b", "not allowed"),
                                      ("1st", "not a valid name")])
def test_clashing_or_malformed_names_are_refused(tmp_path, new: str, why: str):
    p = project(tmp_path, main=marked(MAIN, '<input src="‸y"'))
    with pytest.raises(RenameRefused, match=why):
        rename(p.host, p.file, p.cursor, new)


def test_only_names_can_be_renamed(tmp_path):
    p = project(tmp_path, main=marked(MAIN, 'op="Re‸lu"'))
    with pytest.raises(RenameRefused, match="only tensor and parameter names"):
        rename(p.host, p.file, p.cursor, "Sigmoid")


@pytest.mark.parametrize("new", ["a$b", "a.b", "1st", "ok-name"])
def test_rename_refuses_exactly_the_names_the_checker_reports(tmp_path, new: str):
    p = project(tmp_path, main=marked(MAIN, '<input src="‸y"'))
    try:
        rename(p.host, p.file, p.cursor, new)
        refused = False
    except RenameRefused:
        refused = True
    written = MAIN.replace('<output name="z" />', f'<output name="{new}" />')
    (tmp_path / "main.agr").write_text(written)
    reported = any(d.code == "bad-name" for d in analyze(str(tmp_path / "main.agr")).diagnostics)
    assert refused == reported


def test_renaming_a_shared_parameter_renames_every_declaration(tmp_path):
    p = project(tmp_path, enc=marked(ENC, 'name="‸W"'))
    new = by_file(p, rename(p.host, p.file, p.cursor, "Shared"))
    assert new["sub/enc.agr"].count('name="Shared"') == 2
