"""Editing agrippa.toml from a quick fix: the result is valid TOML with the value set."""
from __future__ import annotations

import sys

import pytest

from agrippa.project.config import toml_key_range
from agrippa.project.toml_text import find_key, set_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _apply(text: str | None, edit) -> str:
    rng, new = edit
    lines = (text or "").split("\n")

    def offset(p) -> int:
        return sum(len(line) + 1 for line in lines[:p.line]) + p.character

    t = text or ""
    return t[:offset(rng.start)] + new + t[offset(rng.end):]


TEXTS = [None, "", "[model]\nopset = 13\n", "[model]  # the model\nindex = 'a.agr'\n\n[bindings]\nn = 3\n",
         "[bindings]\nn = 3", "[train]\nlr = 0.1\n", "x = 1\n", "[model]\nopset = 13 # pinned\n[bindings]\n"]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("key, value", [("model.opset", "17"), ("bindings.m", "1")])
def test_setting_a_key_gives_valid_toml_with_that_value(text, key, value):
    out = _apply(text, set_key(text, key, value))
    table, name = key.split(".")
    assert str(tomllib.loads(out)[table][name]) == value, out
    if text:
        assert out.startswith(text.split("[")[0])  # what stood before is kept


def test_a_key_under_a_commented_header_is_found():
    text = "[train]  # how to train\nlr = 0.1\n"
    assert find_key(text, "train.lr")[0] == toml_key_range(text, "train.lr")
    assert toml_key_range(text, "train.lr").start.line == 1


# -- line endings: \r only (old Mac editors), \r\n and \n put keys on the same lines ------------

NEWLINES = pytest.mark.parametrize("nl", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
CONFIG = ["[model]", "opset = 99", "", "[bindings]", "n = true", "m = 3", ""]


@NEWLINES
def test_keys_are_found_on_their_lines_whatever_the_line_endings(nl):
    text = nl.join(CONFIG)
    assert toml_key_range(text, "model.opset") == toml_key_range("\n".join(CONFIG), "model.opset")
    key, value = find_key(text, "bindings.m")
    assert (key.start.line, key.start.character, value.start.character, value.end.character) == (5, 0, 4, 5)
    assert toml_key_range(text, "bindings.nope").start.line == 3  # the table's header line


@NEWLINES
def test_a_key_added_to_a_file_keeps_its_line_endings(nl):
    from agrippa.project.toml_text import for_toml

    text = nl.join(["[bindings]", "n = 3", ""])
    rng, new = set_key(text, "bindings.m", "1")
    assert ("\r" in new) == ("\r" in nl) and ("\n" in new) == ("\n" in nl)
    lines = text.split(nl)
    out = nl.join(lines[:rng.start.line]) + nl + new + nl.join(lines[rng.start.line:])
    assert tomllib.loads(for_toml(out))["bindings"] == {"n": 3, "m": 1}


@NEWLINES
def test_check_reports_toml_mistakes_on_their_lines(tmp_path, nl):
    from hostile_helpers import cli_check, json_span

    (tmp_path / "agrippa.toml").write_bytes(nl.join(CONFIG).encode())
    (tmp_path / "main.agr").write_text('<model><import from="x" dim="[2]"/><export from="x" dim="[2]"/></model>')
    diags, _, _ = cli_check(tmp_path)
    found = {d["message"].split(" ")[0]: json_span(d) for d in diags if d["code"] == "config"}
    assert found["model.opset"] == (1, 0, 1, 5)
    assert found["binding"] == (4, 0, 4, 1)  # "binding 'n' must be a number"
    assert "config-syntax" not in {d["code"] for d in diags}  # a lone \r ends a line, as in the editor


def test_the_ide_layer_places_toml_diagnostics_of_a_cr_only_buffer(tmp_path):
    """The editor's buffer of agrippa.toml uses \r only: the analysis' diagnostics and where a
    binding comes from are on the lines the editor shows."""
    import os

    from agrippa.ide.host import AnalysisHost

    (tmp_path / "main.agr").write_text('<model><import from="x" dim="[var(m)]"/><export from="x" dim="[3]"/></model>')
    (tmp_path / "agrippa.toml").write_text("")
    buffers = {str(tmp_path / "agrippa.toml"): "\r".join(CONFIG)}
    host = AnalysisHost(lambda path: buffers.get(os.path.abspath(path)))
    an = host.analysis_for(str(tmp_path / "main.agr"))
    lines = sorted(d.range.start.line for d in an.for_file(str(tmp_path / "agrippa.toml")) if d.code == "config")
    assert lines == [1, 4]
    origin = host.binding_origin(str(tmp_path), "m")
    assert origin is not None and (origin.value, origin.line) == (3, 5)


def test_a_deeply_nested_array_is_one_diagnostic_not_a_recursion_error(tmp_path):
    from hostile_helpers import cli_check, json_span

    (tmp_path / "agrippa.toml").write_text("[bindings]\nn = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "main.agr").write_text('<model><import from="x" dim="[2]"/><export from="x" dim="[2]"/></model>')
    diags, _, stderr = cli_check(tmp_path)
    assert "Traceback" not in stderr
    [d] = [d for d in diags if d["code"] == "config-syntax"]
    assert json_span(d) == (1, 4 + 64, 1, 4 + 65) and "nest more than 64" in d["message"]


@pytest.mark.parametrize("text", ['a = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n',
                                  "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
                                  "a = '''\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n'''\n",
                                  "a = [[1, 2], {b = [3]}]\n"])
def test_brackets_in_strings_and_comments_are_not_nesting(text):
    from agrippa.project.toml_text import too_deep

    assert too_deep(text) is None
    assert tomllib.loads(text) is not None
