"""agrippa.toml over stdio: the editor opens the project's configuration, gets its
diagnostics as before, hovers a key and completes one.
(Every case of hover and completion is tested in tests/ide/test_toml_assist.py.)"""
from __future__ import annotations

from ide.projects import MODEL
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import change_file, diagnostics_for, hover_text, make_project, open_file, position_of

CONFIG = """[bindings]
batch = 4
dhidden = 16
nlayers = 2

[model]
flavour = 1

[train]
data = "data.py:batches"
precision = "bf16"
"""


async def complete(client: LanguageClient, uri: str, text: str, needle: str, offset: int = 0,
                   trigger: str | None = None) -> list[lsp.CompletionItem]:
    ctx = lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter, trigger_character=trigger) \
        if trigger else lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.Invoked)
    got = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, needle, offset), context=ctx))
    return got.items if isinstance(got, lsp.CompletionList) else (got or [])


async def test_hover_and_complete_keys_in_agrippa_toml(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": CONFIG})
    uri = path_to_uri(str(tmp_path / "agrippa.toml"))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="toml", version=1, text=CONFIG)))
    diags = await diagnostics_for(client, uri, until=lambda ds: bool(ds))  # published as before
    assert any("unknown key 'flavour' in [model]" in d.message for d in diags)

    text = await hover_text(client, uri, CONFIG, "precision", 3)
    assert "**`precision`** — string in `[train]`" in text and '`"bf16"`' in text and 'default: `"32"`' in text

    typed = CONFIG + "acc"
    change_file(client, uri, typed, 2)
    items = await complete(client, uri, typed, "acc", 3)
    accumulate = next(i for i in items if i.label == "accumulate")
    assert accumulate.kind == lsp.CompletionItemKind.Property and accumulate.detail == "integer = 1"
    assert accumulate.text_edit.new_text in ("accumulate = ${1:1}", "accumulate = 1")
    assert accumulate.text_edit.range.start == position_of(typed, "acc")
    assert not {"data", "precision"} & {i.label for i in items}  # written already

    values = await complete(client, uri, typed, 'precision = "', 13)
    assert [i.label for i in values] == ['"32"', '"bf16"', '"16"']
    typed += "\n["
    change_file(client, uri, typed, 3)
    tables = await complete(client, uri, typed, "acc\n[", 5, trigger="[")
    assert [i.label for i in tables] == ["profiles.NAME", "project"]  # the tables not yet written


async def test_a_bracket_in_markup_opens_no_list(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL, "agrippa.toml": CONFIG})
    uri = open_file(client, tmp_path / "model.agr")
    await diagnostics_for(client, uri)
    assert await complete(client, uri, MODEL, 'dim="[', 6, trigger="[") == []  # `[` completes only in agrippa.toml
