"""Completion: elements, attributes, values, tensor names, var() names, file paths, snippets.

Fast on big files: the cursor context comes from the editor's current text (a local scan
around the cursor, seeded by the last analysis's tree for everything before the edit),
and names come from the cached analysis, even when it is of a slightly older text.
"""
from __future__ import annotations

import asyncio
import bisect
import functools
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from agrippa import ops as opcat
from agrippa.analysis import Analysis
from agrippa.diagnostics import Position
from agrippa.ir import Tensor
from agrippa.project import SOURCE_SUFFIXES
from agrippa.syntax import SourceFile

from .convert import uri_to_path
from .symbols import cached_visible, format_shape, var_names

if TYPE_CHECKING:
    from .server import AgrippaServer

MAX_NAMES = 150
NODE_META = {"op": "The ONNX operator this node applies.", "title": "Node title (names the ONNX node).",
             "expose": "yes: read inputs literally, not following rep/stretch renaming."}
COMMON_OPS = {"Add", "Sub", "Mul", "Div", "MatMul", "Relu", "Sqrt", "Identity", "Softmax", "Transpose",
              "Concat", "LeakyRelu", "LpNormalization", "ReduceMean", "ReduceSum", "Conv"}
EXTRA = {  # parent -> [(label, snippet)]
    "block": [("node with input, params, output",
               'node op="${1:MatMul}" title="$2">\n\t<input src="$3" />\n\t<params name="${4:W}" dim="[$5]" />'
               '\n\t<output name="$6" />\n</node>'),
              ("block rep with import, export",
               'block title="$1" rep="${2:2}">\n\t<import from="$3" />\n\t$0\n\t<export from="$4" />\n</block>'),
              ("block sourced from a file", 'block src="$1" name="$2" />')],
}
EXTRA["model"] = EXTRA["block"][1:]
_NAME = re.compile(r"[A-Za-z_:][-\w:.]*")
_ATTR = re.compile(r"\s+([A-Za-z_:][-\w:.]*)(\s*=\s*(?:\"([^\"<]*)\"?|'([^'<]*)'?)?)?")
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)|</([^\s>]*)\s*>?"
                    r"|<([A-Za-z_:][-\w:.]*)(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?(/?)>", re.S)
_NEW_OUTPUT = re.compile(r"<output\b[^<>]*?\bname\s*=\s*[\"']([^\"'<>]+)[\"']")
_VAR_CALL = re.compile(r"(?:var|expr)\s*\(([^()]*)$")


# -- schema -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """`agrippa.schema.schema_docs()`, or {} when it cannot be had."""
    try:
        from agrippa.schema import schema_docs

        return schema_docs()
    except Exception:
        return {}


def element_info(tag: str, parent: str) -> dict[str, Any]:
    info = schema().get(tag) or {}
    return info.get("contexts", {}).get(parent) or info


def child_tags(parent: str) -> list[str]:
    if not parent:
        return [t for t, i in schema().items() if i.get("root")] or ["model"]
    return list(element_info(parent, "").get("children") or schema().get(parent, {}).get("children", []))


# -- the cursor context, from the current text -----------------------------------------------------
@dataclass
class Ctx:
    kind: str  # element, close, attr, value, content
    start: int  # the range completion replaces (offsets in the current text)
    end: int
    stack: list[str] = field(default_factory=list)  # open elements, outermost first
    tag: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    attr: str = ""
    typed: str = ""  # text before the cursor in what is replaced (values: the whole value so far)
    has_rest: bool = False  # element: attributes already follow the name; attr: '=' follows


def common_ends(old: str, new: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix."""
    if old == new:
        return len(new), 0
    lo, hi = 0, min(len(old), len(new))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if new.startswith(old[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    cp = lo
    lo, hi = 0, min(len(old), len(new)) - cp
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if new.endswith(old[len(old) - mid:len(old) - lo], 0, len(new) - lo):
            lo = mid
        else:
            hi = mid - 1
    return cp, lo


def _base(sf: SourceFile, p: int) -> tuple[list[str], int]:
    """Open elements at offset `p` of `sf` and an offset <= p from where scanning is safe."""
    el = sf.element_at(p)
    if el is None:
        return [], 0 if sf.root is None or p >= sf.root.start else p
    anc: list[str] = []
    a = el.parent
    while a is not None:
        anc.insert(0, a.tag)
        a = a.parent
    ste = el.start_tag_end if el.start_tag_end >= 0 else el.end
    if p < ste or p == el.start:
        return anc, el.start
    if el.self_closing or p >= el.end:
        return anc, p
    et = sf.text.rfind("</", ste, el.end)
    if et >= 0 and p > et:
        return anc + [el.tag], et
    for c0, c1 in sf.comments[max(0, bisect.bisect_right(sf.comments, (p, p)) - 1):][:2]:
        if c0 < p < c1:
            return anc + [el.tag], c0
    return anc + [el.tag], p


def _scan(text: str, stack: list[str], s: int, q: int) -> list[str]:
    stack = list(stack)
    for m in _TOKEN.finditer(text, s, q):
        close, opened, selfclose = m.group(1), m.group(2), m.group(3)
        if close and close in stack:
            del stack[len(stack) - 1 - stack[::-1].index(close):]
        elif opened and not selfclose:
            stack.append(opened)
    return stack


def open_tags(old: SourceFile | None, text: str, q: int, cp: int, cs: int) -> list[str]:
    """The elements open at offset `q` of the current `text`."""
    if old is None:
        return _scan(text, [], 0, q)
    delta = len(text) - len(old.text)
    if q >= len(text) - cs and q - delta >= cp:  # in the unchanged tail
        stack, s_old = _base(old, q - delta)
        if s_old >= len(old.text) - cs:
            return _scan(text, stack, s_old + delta, q)
        if s_old <= cp:
            return _scan(text, stack, s_old, q)
    stack, s = _base(old, min(q, cp))
    return _scan(text, stack, s, q)


def tag_context(text: str, lt: int, off: int) -> Ctx | None:
    """The context when `off` is inside the tag starting at `lt`; None if the tag ended before."""
    if text.startswith("</", lt):
        m = _NAME.match(text, lt + 2)
        end = m.end() if m else lt + 2
        return Ctx("close", lt + 2, end, typed=text[lt + 2:off]) if off <= end else None
    m = _NAME.match(text, lt + 1)
    name_end = m.end() if m else lt + 1
    if off <= name_end:
        rest = text[name_end:name_end + 200].lstrip(" \t")
        return Ctx("element", lt + 1, name_end, typed=text[lt + 1:off], has_rest=bool(rest) and rest[0] not in "<\n")
    ctx, found, i = Ctx("attr", off, off, tag=m.group(0) if m else ""), False, name_end
    while (am := _ATTR.match(text, i)) is not None:
        g = 3 if am.group(3) is not None else 4
        (ns, ne), (vs, ve) = am.span(1), am.span(g)
        ctx.attrs[am.group(1)] = am.group(g) or ""
        if not found and ns <= off <= ne:
            ctx.start, ctx.end, ctx.typed, ctx.has_rest, found = ns, ne, text[ns:off], am.group(2) is not None, True
        elif not found and 0 <= vs <= off <= ve:
            ctx.kind, ctx.attr, ctx.start, ctx.end, ctx.typed, found = "value", am.group(1), vs, ve, text[vs:off], True
        i = am.end()
    if not found and (len(text[i:off].strip()) or not text[off - 1].isspace()):
        return None if text[i:off].strip() else Ctx("none", off, off)  # past the tag, or just after a quote
    return ctx


def cursor_context(old: SourceFile | None, text: str, off: int, cp: int, cs: int) -> Ctx | None:
    c0 = text.rfind("<!--", 0, off)
    c1 = text.find("-->", c0 + 4) if c0 >= 0 else -1
    if c0 >= 0 and (c1 < 0 or c1 + 3 > off):
        return None  # inside a comment
    lt = text.rfind("<", 0, off)
    ctx = tag_context(text, lt, off) if lt >= 0 and (c0 < 0 or lt >= c1 + 3) else None
    if ctx is not None and ctx.kind == "none":
        return None
    if ctx is None:
        word = re.search(r"[\w-]*$", text[max(0, off - 64):off])
        ctx = Ctx("content", off - len(word.group(0)) if word else off, off, typed=word.group(0) if word else "")
        ctx.stack = open_tags(old, text, off, cp, cs)
    else:
        ctx.stack = open_tags(old, text, lt, cp, cs)
    return ctx


# -- items ---------------------------------------------------------------------------------------
@dataclass
class Req:
    """One request: the current text, the cursor and the edit since the analysed text."""

    path: str
    text: str
    off: int
    line: int
    line_start: int
    snippets: bool
    old: SourceFile | None
    cp: int
    cs: int
    lazy_docs: bool = False  # the client resolves documentation: leave op docs to resolve
    ranges: dict[tuple[int, int], lsp.Range] = field(default_factory=dict)

    def range(self, s: int, e: int) -> lsp.Range:
        if (s, e) in self.ranges:
            return self.ranges[s, e]
        line_end = self.text.find("\n", self.off)
        line_end = len(self.text) if line_end < 0 else line_end
        s0, e0, s, e = s, e, max(s, self.line_start), max(min(e, line_end), self.line_start)
        r = self.ranges[s0, e0] = lsp.Range(start=lsp.Position(line=self.line, character=s - self.line_start),
                         end=lsp.Position(line=self.line, character=e - self.line_start))
        return r

    @property
    def old_offset(self) -> int:
        """The cursor mapped into the analysed text."""
        if self.old is None or self.off <= self.cp:
            return self.off
        if self.off >= len(self.text) - self.cs:
            return self.off - (len(self.text) - len(self.old.text))
        lt, gt = self.old.text.rfind("<", 0, self.cp), self.old.text.rfind(">", 0, self.cp)
        return lt if lt > gt else self.cp  # an edit inside a tag: before that tag


def item(req: Req, label: str, s: int, e: int, new_text: str, kind: lsp.CompletionItemKind,
         detail: str | None = None, doc: str | None = None, snippet: bool = False, sort: str | None = None,
         filter_text: str | None = None, data: Any = None) -> lsp.CompletionItem:
    return lsp.CompletionItem(
        label=label, kind=kind, detail=detail, sort_text=sort, filter_text=filter_text, data=data,
        documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=doc) if doc else None,
        text_edit=lsp.TextEdit(range=req.range(s, e), new_text=new_text),
        insert_text_format=lsp.InsertTextFormat.Snippet if snippet else None)


def element_snippet(tag: str, parent: str) -> str:
    info = element_info(tag, parent)
    attrs = [n for n, a in info.get("attributes", {}).items() if a.get("required")] or (["title"] if tag == "block" else [])
    body = " ".join(f'{n}="[${k}]"' if n == "dim" else f'{n}="${k}"' for k, n in enumerate(attrs, 1))
    head = tag + (" " + body if body else "")
    if info.get("children") or (schema().get(tag) or {}).get("mixed"):
        return f"{head}>\n\t$0\n</{tag}>" if info.get("children") else f"{head}>$0</{tag}>"
    return head + " />"


def element_items(req: Req, ctx: Ctx) -> list[lsp.CompletionItem]:
    parent = ctx.stack[-1] if ctx.stack else ""
    lead = "<" if ctx.kind == "content" else ""
    snip = req.snippets and not ctx.has_rest
    out = [item(req, tag, ctx.start, ctx.end, lead + (element_snippet(tag, parent) if snip else tag),
                lsp.CompletionItemKind.Class, f"<{tag}>", element_info(tag, parent).get("doc"), snip,
                f"0{tag}", lead + tag) for tag in child_tags(parent)]
    if snip:
        out += [item(req, label, ctx.start, ctx.end, lead + body, lsp.CompletionItemKind.Snippet, "snippet",
                     None, True, f"1{label}", lead + label) for label, body in EXTRA.get(parent, [])]
    return out


def attr_items(req: Req, ctx: Ctx, opset: int) -> list[lsp.CompletionItem]:
    parent = ctx.stack[-1] if ctx.stack else ""
    rows: dict[str, tuple[str, str | None, bool]] = {}  # name -> (detail, doc, required)
    for name, a in element_info(ctx.tag, parent).get("attributes", {}).items():
        rows[name] = ("required" if a.get("required") else a.get("type") or "", a.get("doc"), bool(a.get("required")))
    if ctx.tag == "node":
        for name, doc in NODE_META.items():
            rows.setdefault(name, ("required" if name == "op" else "", doc, name == "op"))
        schema_ = opcat.get_op(ctx.attrs.get("op", ""), opset)
        if schema_ is not None:
            for name, a in schema_.attributes.items():
                extra = "required" if a.required else f"default {a.default}" if a.default is not None else "optional"
                rows[name] = (f"{a.kind}, {extra}", a.description, a.required)
            for name, index in opcat.attribute_inputs(schema_).items():
                rows[name] = (f"input {index}, written as an attribute", None, False)
    current = req.text[ctx.start:ctx.end]
    out = []
    for name, (detail, doc, required) in rows.items():
        if name in ctx.attrs and name != current:
            continue
        new = name if ctx.has_rest else (f'{name}="$1"' if req.snippets else f'{name}=""')
        out.append(item(req, name, ctx.start, ctx.end, new, lsp.CompletionItemKind.Property, detail, doc,
                        req.snippets and not ctx.has_rest, ("0" if required else "1") + name))
    return out


def _short_doc(s: opcat.OpSchema) -> str:
    para = " ".join(s.doc.strip().split("\n\n")[0].split())
    return para if len(para) <= 300 else para[:299].rstrip() + "…"


_op_rows: dict[int, list[tuple[str, str, str]]] = {}


def op_items(req: Req, ctx: Ctx, opset: int) -> list[lsp.CompletionItem]:
    rows = _op_rows.get(opset)
    if rows is None:
        rows = _op_rows[opset] = [(s.name, f"ONNX op (version {s.since_version})", _short_doc(s))
                                  for s in opcat.all_ops(opset)]
    return [item(req, name, ctx.start, ctx.end, name, lsp.CompletionItemKind.Function, detail,
                 None if req.lazy_docs else doc,
                 sort=("0" if name in COMMON_OPS else "1") + name, data={"op": name, "opset": opset})
            for name, detail, doc in rows]


def _matches(typed: str, name: str) -> bool:
    it = iter(name.lower())
    return all(c in it for c in typed.lower())


def tensor_items(req: Req, ctx: Ctx, a: Analysis) -> tuple[list[lsp.CompletionItem], bool]:
    names: list[tuple[str, Tensor | None]] = []
    if req.old is not None and req.cp < req.off:  # outputs typed since the analysis
        stop = min(req.off, len(req.text) - req.cs)
        names += [(m.group(1), None) for m in _NEW_OUTPUT.finditer(req.text, req.cp, stop)][::-1]
    if a.graph is not None and req.path in a.graph.files:
        names += reversed(cached_visible(a, req.path).before(req.old_offset))
    seen: set[str] = set()
    out, full = [], False
    for rank, (name, t) in enumerate(names):
        if name in seen or not _matches(ctx.typed, name):
            continue
        seen.add(name)
        if len(out) >= MAX_NAMES:
            full = True
            break
        shape = format_shape(t.shape if t.shape is not None else t.declared) if t is not None else None
        out.append(item(req, name, ctx.start, ctx.end, name, lsp.CompletionItemKind.Variable, shape,
                        sort=f"{rank:06d}"))
    return out, full


def var_items(req: Req, ctx: Ctx, a: Analysis, wrap: bool) -> list[lsp.CompletionItem]:
    if wrap:
        s, e = ctx.start, ctx.end  # a whole value: offer var(NAME)
    else:
        word = re.search(r"[A-Za-z_]\w*$", ctx.typed)
        s = req.off - (len(word.group(0)) if word else 0)
        e = req.off + len(re.match(r"\w*", req.text[req.off:req.off + 64]).group(0))
    out = []
    for name in var_names(a):
        detail = f"= {a.bindings[name]}" if name in a.bindings else "unbound"
        new = f"var({name})" if wrap else name
        out.append(item(req, new, s, e, new, lsp.CompletionItemKind.Variable, detail, sort=f"{name not in a.bindings:d}{name}"))
    return out


def path_items(req: Req, ctx: Ctx) -> list[lsp.CompletionItem]:
    head, slash, _ = ctx.typed.rpartition("/")
    folder = os.path.normpath(os.path.join(os.path.dirname(req.path), head + slash))
    s = ctx.start + len(head) + len(slash)
    out = []
    try:
        entries = sorted(os.scandir(folder), key=lambda d: d.name)
    except OSError:
        return []
    for d in entries:
        if d.name.startswith(".") or d.name == "__pycache__":
            continue
        if d.is_dir():
            out.append(item(req, d.name + "/", s, ctx.end, d.name + "/", lsp.CompletionItemKind.Folder, sort="1" + d.name))
        elif d.name.endswith(SOURCE_SUFFIXES) and os.path.abspath(d.path) != req.path:
            out.append(item(req, d.name, s, ctx.end, d.name, lsp.CompletionItemKind.File, sort="0" + d.name))
    return out


def value_items(req: Req, ctx: Ctx, a: Analysis) -> tuple[list[lsp.CompletionItem], bool]:
    tag, attr, parent = ctx.tag, ctx.attr, (ctx.stack[-1] if ctx.stack else "")
    opset = a.config.opset
    if _VAR_CALL.search(ctx.typed):
        return var_items(req, ctx, a, False), False
    if tag == "node" and attr == "op":
        return op_items(req, ctx, opset), False
    root_import = tag == "import" and parent == "model" and len(ctx.stack) == 1 and (
        a.graph is None or a.graph.index == req.path)
    if (tag == "input" and attr == "src") or (tag in ("import", "export") and attr == "from" and not root_import):
        return tensor_items(req, ctx, a)
    if tag == "block" and attr == "src":
        return path_items(req, ctx), False
    info = element_info(tag, parent).get("attributes", {}).get(attr) or {}
    docs = info.get("value_docs", {})
    out = [item(req, v, ctx.start, ctx.end, v, lsp.CompletionItemKind.EnumMember, None, docs.get(v), sort=f"0{k:03d}")
           for k, v in enumerate(info.get("values", []))]
    op = opcat.get_op(ctx.attrs.get("op", ""), opset) if tag == "node" else None
    if op is not None and attr in op.attributes:
        oa = op.attributes[attr]
        hints = {"axis": ["-1", "0", "1"], "keepdims": ["0", "1"]}.get(attr, [])
        if oa.default is not None and not hasattr(oa.default, "shape"):
            hints = [str(oa.default)] + [h for h in hints if h != str(oa.default)]
        out += [item(req, h, ctx.start, ctx.end, h, lsp.CompletionItemKind.Value, f"{oa.kind}" + (
            " (default)" if k == 0 and oa.default is not None else ""), sort=f"0{k:03d}") for k, h in enumerate(hints)]
    if not out and (a.bindings or var_names(a)) and attr not in ("title", "name"):
        out = var_items(req, ctx, a, True)
    return out, False


# -- the request --------------------------------------------------------------------------------------
def _line_start(old: SourceFile | None, text: str, line: int, cp: int) -> int:
    i, known = 0, 0
    if old is not None:
        known = min(line, old.position(cp).line)
        i = old.offset(Position(known, 0))
    for _ in range(line - known):
        j = text.find("\n", i)
        if j < 0:
            return len(text)
        i = j + 1
    return i


_WANTS = {"<": ("element",), " ": ("attr",), '"': ("value",), "(": ("value",), "$": ("value",),
          "/": ("value", "close")}


def complete_at(a: Analysis | None, path: str, text: str, pos: lsp.Position, snippets: bool,
                trigger: str | None = None, lazy_docs: bool = False) -> lsp.CompletionList | None:
    """Completions at `pos` of the current `text` of `path`; `a` may be of an older text."""
    old = a.graph.files.get(path) if a is not None and a.graph is not None else None
    cp, cs = common_ends(old.text, text) if old is not None else (0, 0)
    ls_ = _line_start(old, text, pos.line, cp)
    line_end = text.find("\n", ls_)
    off = min(ls_ + pos.character, len(text) if line_end < 0 else line_end)
    req = Req(path, text, off, pos.line, ls_, snippets, old, cp, cs, lazy_docs)
    ctx = cursor_context(old, text, off, cp, cs)
    if ctx is None or (trigger and ctx.kind not in _WANTS.get(trigger, (ctx.kind,))):
        return None
    full = False
    if ctx.kind in ("element", "content"):
        items = element_items(req, ctx)
    elif ctx.kind == "close":
        tag = ctx.stack[-1] if ctx.stack else ""
        close = "" if text.startswith(">", ctx.end) else ">"
        items = [item(req, tag, ctx.start, ctx.end, tag + close, lsp.CompletionItemKind.Class)] if tag else []
    elif ctx.kind == "attr":
        items = attr_items(req, ctx, a.config.opset if a is not None else opcat.DEFAULT_OPSET)
    elif a is not None:
        items, full = value_items(req, ctx, a)
    else:
        items = []
    return lsp.CompletionList(is_incomplete=full, items=items)


_last: dict[str, Analysis] = {}


async def analysis_for_completion(ls: AgrippaServer, path: str) -> Analysis:
    """The cached analysis, else the last one seen (possibly of an older text), else a fresh one."""
    a = ls.model.cached(path) or _last.get(path)
    if a is None:
        a = await asyncio.to_thread(ls.model.analysis_for, path)
    _last[path] = a
    return a


def register(server: AgrippaServer) -> None:
    # (the schema's documentation is loaded by diagnostics.py's warm-up after the first
    # publish: loading it here would compete with the first analysis)
    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(
        trigger_characters=["<", '"', " ", "(", "/", "$"], resolve_provider=True))
    async def complete(ls: AgrippaServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        uri = params.text_document.uri
        path = uri_to_path(uri)
        if not path.endswith(SOURCE_SUFFIXES):
            return None
        text = ls.workspace.get_text_document(uri).source
        a = await analysis_for_completion(ls, path)
        caps = ls.client_capabilities.text_document
        cc = caps.completion if caps else None
        ci = cc.completion_item if cc else None
        snippets = bool(ci and ci.snippet_support)
        lazy = bool(ci and ci.resolve_support and "documentation" in ci.resolve_support.properties)
        ctx = params.context
        trigger = ctx.trigger_character if ctx and ctx.trigger_kind == lsp.CompletionTriggerKind.TriggerCharacter else None
        return complete_at(a, path, text, params.position, snippets, trigger, lazy)

    @server.feature(lsp.COMPLETION_ITEM_RESOLVE)
    def resolve(ls: AgrippaServer, it: lsp.CompletionItem) -> lsp.CompletionItem:
        data = it.data if isinstance(it.data, dict) else {}
        op = opcat.get_op(str(data.get("op", "")), int(data.get("opset", opcat.DEFAULT_OPSET)))
        if op is not None:
            it.documentation = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=opcat.op_markdown(op))
        return it
