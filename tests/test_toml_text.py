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
