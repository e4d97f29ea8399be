"""Quick fixes end to end: the checker's fixes, and adding a missing binding to agrippa.toml.
(More in tests/ide/test_actions.py.)"""
from __future__ import annotations

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from agrippa_lsp.convert import path_to_uri

from .helpers import apply_edits, diagnostics_for, edits_by_uri, make_project, open_file

MODEL = """<model>
    <import from="x" dim="[3, 4]" />
    <block title="B">
        <node op="Reluu">
            <input src="x" />
            <output name="y" dims="[3, 4]" />
        </node>
    </block>
    <export from="y" dim="[3, 4]" />
</model>
"""


async def actions_for(client: LanguageClient, uri: str, diags: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
    got = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=diags[0].range,
        context=lsp.CodeActionContext(diagnostics=diags)))
    return [a for a in got or [] if isinstance(a, lsp.CodeAction)]


async def test_unknown_op_typo_is_fixed(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL})
    uri = open_file(client, tmp_path / "model.agr")
    diags = await diagnostics_for(client, uri, until=lambda d: any(x.code == "unknown-op" for x in d))
    op = [d for d in diags if d.code == "unknown-op"]
    actions = await actions_for(client, uri, op)
    assert actions and actions[0].title == "Change to 'Relu'"
    assert actions[0].kind == lsp.CodeActionKind.QuickFix and actions[0].is_preferred
    assert list(actions[0].diagnostics) == op
    fixed = apply_edits(MODEL, edits_by_uri(actions[0].edit)[uri])
    assert '<node op="Relu">' in fixed


async def test_a_missing_binding_is_added_to_the_toml(client: LanguageClient, tmp_path):
    toml = "[model]\nopset = 13\n\n[bindings]\nn = 3\n\n[train]\nepochs = 1\n"
    model = MODEL.replace("Reluu", "Relu").replace('dim="[3, 4]" />\n    <block', 'dim="[var(n), var(m)]" />\n    <block')
    make_project(tmp_path, {"model.agr": model, "agrippa.toml": toml})
    uri = open_file(client, tmp_path / "model.agr")
    diags = await diagnostics_for(client, uri, until=lambda d: any(x.code == "unbound-var" for x in d))
    unbound = [d for d in diags if d.code == "unbound-var"]
    actions = await actions_for(client, uri, unbound)
    [add] = [a for a in actions if "agrippa.toml" in a.title]
    toml_uri = path_to_uri(str(tmp_path / "agrippa.toml"))
    new = apply_edits(toml, edits_by_uri(add.edit)[toml_uri])
    assert new == "[model]\nopset = 13\n\n[bindings]\nn = 3\nm = 1\n\n[train]\nepochs = 1\n"


async def test_no_actions_for_other_kinds_or_foreign_diagnostics(client: LanguageClient, tmp_path):
    make_project(tmp_path, {"model.agr": MODEL})
    uri = open_file(client, tmp_path / "model.agr")
    diags = await diagnostics_for(client, uri, until=lambda d: any(x.code == "unknown-op" for x in d))
    op = [d for d in diags if d.code == "unknown-op"]
    got = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=op[0].range,
        context=lsp.CodeActionContext(diagnostics=op, only=[lsp.CodeActionKind.Refactor])))
    assert not got
    foreign = lsp.Diagnostic(range=op[0].range, message="x", code="unknown-op", source="other")
    assert not await actions_for(client, uri, [foreign])
