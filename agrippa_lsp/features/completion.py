"""Completion on the editor's current text (`agrippa.ide.completion`), answered from the
analysis at hand even when it is of an older text; op documentation on resolve. In
agrippa.toml: tables, keys and values (`agrippa.ide.toml_completion`)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from agrippa.ide.completion import Completion, Options, complete, op_documentation
from agrippa.ide.toml_completion import MARKUP_SKIPS, binding_names, toml_complete
from agrippa.ide.toml_context import is_config
from agrippa.project.config import SOURCE_SUFFIXES

from ..convert import Converter, uri_to_path

if TYPE_CHECKING:
    from ..language_server import AgrippaServer

K = lsp.CompletionItemKind
KINDS = {"element": K.Class, "close": K.Class, "snippet": K.Snippet, "attribute": K.Property, "op": K.Function,
         "tensor": K.Variable, "var": K.Variable, "folder": K.Folder, "file": K.File, "enum": K.EnumMember,
         "value": K.Value, "table": K.Module, "key": K.Property}


def to_lsp(c: Completion, ranges: dict, convert: Converter, path: str) -> lsp.CompletionItem:
    rng = ranges.get(c.range) or ranges.setdefault(c.range, convert.range(path, c.range))
    return lsp.CompletionItem(
        label=c.label, kind=KINDS[c.kind], detail=c.detail, sort_text=c.sort, filter_text=c.filter_text, data=c.data,
        documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=c.doc) if c.doc else None,
        text_edit=lsp.TextEdit(range=rng, new_text=c.new_text),
        insert_text_format=lsp.InsertTextFormat.Snippet if c.snippet else None)


def options(ls: AgrippaServer, params: lsp.CompletionParams) -> Options:
    caps = ls.client_capabilities.text_document
    item = caps.completion.completion_item if caps and caps.completion else None
    ctx = params.context
    trigger = ctx.trigger_character if ctx and ctx.trigger_kind == lsp.CompletionTriggerKind.TriggerCharacter else None
    return Options(snippets=bool(item and item.snippet_support), trigger=trigger,
                   lazy_docs=bool(item and item.resolve_support and "documentation" in item.resolve_support.properties))


def register(server: AgrippaServer) -> None:
    # (the schema's documentation is loaded by the publisher's warm-up after the first
    # publish: loading it here would compete with the first analysis)
    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(
        trigger_characters=["<", '"', " ", "(", "/", "$", "["], resolve_provider=True))
    async def on_complete(ls: AgrippaServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        uri = params.text_document.uri
        path = uri_to_path(uri)
        opts = options(ls, params)
        text = ls.workspace.get_text_document(uri).source  # the text the position is in
        pos = ls.convert.from_position(path, params.position)
        if is_config(path):
            got = toml_complete(text, pos, opts, lambda: binding_names(ls.host, path))
        elif path.endswith(SOURCE_SUFFIXES) and opts.trigger not in MARKUP_SKIPS:
            a = ls.host.recent_for(path, make=False) or await asyncio.to_thread(ls.host.recent_for, path)
            got = complete(ls.host, a, path, text, pos, opts)
        else:
            return None
        if got is None:
            return None
        ranges: dict = {}
        return lsp.CompletionList(is_incomplete=got.incomplete, items=[to_lsp(c, ranges, ls.convert, path) for c in got.items])

    @server.feature(lsp.COMPLETION_ITEM_RESOLVE)
    def resolve(ls: AgrippaServer, item: lsp.CompletionItem) -> lsp.CompletionItem:
        doc = op_documentation(item.data)
        if doc is not None:
            item.documentation = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=doc)
        return item
