"""Small helpers so tests read like what a user does in the editor."""
from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from ide.projects import SOURCED_PROJECT  # noqa: F401  (the tests open it)
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from pytest_lsp.client import default_feature

from agrippa_lsp.convert import path_to_uri


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path_to_uri(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="agrippa", version=1,
                                           text=text if text is not None else path.read_text())))
    return uri


def change_file(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics_for(client: LanguageClient, uri: str, timeout: float = 10.0,
                          until=lambda diags: True) -> list[lsp.Diagnostic]:
    """Wait until the server has published diagnostics for `uri` satisfying `until`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        if uri in client.diagnostics and until(client.diagnostics[uri]):
            return client.diagnostics[uri]
        remaining = end - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no matching diagnostics for {uri}: {client.diagnostics.get(uri)}")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(client.wait_for_notification("textDocument/publishDiagnostics"), remaining)


def position_of(text: str, needle: str, offset: int = 0) -> lsp.Position:
    """The position of `needle` (+ offset characters) in `text`."""
    i = text.index(needle) + offset
    line = text.count("\n", 0, i)
    col = i - (text.rfind("\n", 0, i) + 1)
    return lsp.Position(line=line, character=col)


# -- client-side handlers the pytest-lsp test client lacks ------------------------------------
# The capability sets it sends (VS Code's, Neovim's) promise dynamic registration and
# inlay-hint refresh, which the server then uses; registered here, at import, so every
# client the fixtures build answers them as the real editors do.
def _count(client: LanguageClient, attr: str) -> None:
    setattr(client, attr, getattr(client, attr, 0) + 1)


@default_feature(lsp.CLIENT_REGISTER_CAPABILITY)
def _register_capability(client: LanguageClient, params: lsp.RegistrationParams) -> None:
    client.registrations = [*getattr(client, "registrations", []), *params.registrations]


@default_feature(lsp.CLIENT_UNREGISTER_CAPABILITY)
def _unregister_capability(client: LanguageClient, params: lsp.UnregistrationParams) -> None:
    return None


@default_feature(lsp.WORKSPACE_INLAY_HINT_REFRESH)
def _inlay_hint_refresh(client: LanguageClient, params: None) -> None:
    _count(client, "inlay_hint_refresh_count")


def make_project(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative name → text) under `root`; returns `root`."""
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


async def hover_text(client: LanguageClient, uri: str, text: str, needle: str, offset: int = 0,
                     until=None, timeout: float = 10.0) -> str:
    """The hover's markdown at `needle` (+ offset) in `text`, or '' when there is none; with
    `until`, asked again (for `timeout` seconds at most) until the markdown satisfies it."""
    if until is not None:
        end = asyncio.get_running_loop().time() + timeout
        while True:
            got = await hover_text(client, uri, text, needle, offset)
            if until(got) or asyncio.get_running_loop().time() > end:
                return got
            await asyncio.sleep(0.1)
    h = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=position_of(text, needle, offset)))
    if h is None:
        return ""
    c = h.contents
    return c.value if isinstance(c, lsp.MarkupContent) else str(c)


def edits_by_uri(edit: lsp.WorkspaceEdit) -> dict[str, list[lsp.TextEdit]]:
    """The text edits of a workspace edit per uri, whether sent as `changes` or `documentChanges`."""
    out: dict[str, list[lsp.TextEdit]] = {}
    for uri, edits in (edit.changes or {}).items():
        out.setdefault(uri, []).extend(edits)
    for change in edit.document_changes or []:
        if isinstance(change, lsp.TextDocumentEdit):
            out.setdefault(change.text_document.uri, []).extend(change.edits)
    return out


def apply_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    """`text` with `edits` (non-overlapping, any order) applied."""
    lines = text.split("\n")

    def offset(p: lsp.Position) -> int:
        return sum(len(x) + 1 for x in lines[:p.line]) + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


async def open_project(client: LanguageClient, root: Path, files: dict[str, str], name: str = "main.agr",
                       ) -> tuple[str, str]:
    """Write `files`, open `name` and wait for its first diagnostics; (uri, text)."""
    make_project(root, files)
    uri = open_file(client, root / name)
    await diagnostics_for(client, uri)
    return uri, files[name]


# -- positions as an editor counts them ------------------------------------------------------
def units_of(s: str, encoding: str) -> int:
    """The length of `s` in the encoding's code units (LSP's `utf-8`, `utf-16`, `utf-32`)."""
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(s.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf16:
        return len(s.encode("utf-16-le", "surrogatepass")) // 2
    return len(s)


def client_position(text: str, offset: int, encoding: str) -> lsp.Position:
    """What an editor calls `offset`: lines end at \\n, \\r\\n or \\r only, columns in the
    encoding's units."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    line = max(i for i, s in enumerate(starts) if s <= offset)
    return lsp.Position(line=line, character=units_of(text[starts[line]:offset], encoding))
