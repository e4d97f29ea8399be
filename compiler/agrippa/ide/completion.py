"""Completion: elements, attributes, values, tensor names, var() names, file paths, snippets.

Fast on big files: the cursor context comes from the editor's current text
(`agrippa.syntax.cursor`, a local scan seeded by the last parse), and names come from
the analysis at hand, even when it is of a slightly older text.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any

from agrippa.base.diagnostics import Position, Range
from agrippa.base.suggest import is_subsequence
from agrippa.project.config import SOURCE_SUFFIXES
from agrippa.sema import ops as opcat
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Tensor
from agrippa.sema.shapes.dims import format_shape
from agrippa.syntax.cursor import (
    ATTR,
    CLOSE,
    CONTENT,
    ELEMENT,
    CursorContext,
    EditedText,
    cursor_context,
)

from .host import AnalysisHost
from .index import names_in_scope, tensor_shape, var_names

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
_NEW_OUTPUT = re.compile(r"<output\b[^<>]*?\bname\s*=\s*[\"']([^\"'<>]+)[\"']")
_VAR_CALL = re.compile(r"(?:var|expr)\s*\(([^()]*)$")
_WANTS = {"<": (ELEMENT,), " ": (ATTR,), '"': ("value",), "(": ("value",), "$": ("value",),
          "/": ("value", CLOSE)}
"""The contexts a trigger character completes in (none elsewhere: typing goes on)."""

# Completion.kind values, mapped to the editor's icons by the protocol layer
KINDS = ("element", "close", "snippet", "attribute", "op", "tensor", "var", "folder", "file", "enum", "value")


@dataclass(slots=True)
class Completion:
    label: str
    kind: str  # one of KINDS
    range: Range  # what the item replaces
    new_text: str
    detail: str | None = None
    doc: str | None = None  # markdown
    snippet: bool = False  # new_text has $1 tab stops
    sort: str | None = None
    filter_text: str | None = None
    data: Any = None  # given back on resolve (ops: their documentation)


@dataclass
class Completions:
    items: list[Completion]
    incomplete: bool = False  # more names match than were listed


@dataclass(frozen=True)
class Options:
    snippets: bool = True  # the editor expands snippets
    trigger: str | None = None  # the character that triggered the request
    lazy_docs: bool = False  # the editor resolves documentation: leave op docs to resolve


# -- schema -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema's documentation (`schema_docs()`), or {} when it cannot be had."""
    try:
        from agrippa.sema.schema.validate import schema_docs

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


def element_snippet(tag: str, parent: str) -> str:
    info = element_info(tag, parent)
    attrs = [n for n, a in info.get("attributes", {}).items() if a.get("required")] or (["title"] if tag == "block" else [])
    body = " ".join(f'{n}="[${k}]"' if n == "dim" else f'{n}="${k}"' for k, n in enumerate(attrs, 1))
    head = tag + (" " + body if body else "")
    if info.get("children") or (schema().get(tag) or {}).get("mixed"):
        return f"{head}>\n\t$0\n</{tag}>" if info.get("children") else f"{head}>$0</{tag}>"
    return head + " />"


# -- one request ------------------------------------------------------------------------------
@dataclass
class Request:
    """One request: the current text beside the analysed one, the cursor and the options."""

    host: AnalysisHost
    path: str
    doc: EditedText
    off: int
    line: int
    line_start: int
    options: Options
    ranges: dict[tuple[int, int], Range] = field(default_factory=dict)

    def range(self, s: int, e: int) -> Range:
        """Offsets of the cursor's line as a range (clamped to that line)."""
        r = self.ranges.get((s, e))
        if r is None:
            line_end = self.doc.line_end(self.off)
            a, b = max(s, self.line_start), max(min(e, line_end), self.line_start)
            r = self.ranges[s, e] = Range.of(self.line, a - self.line_start, self.line, b - self.line_start)
        return r

    def item(self, label: str, s: int, e: int, new_text: str, kind: str, detail: str | None = None,
             doc: str | None = None, snippet: bool = False, sort: str | None = None,
             filter_text: str | None = None, data: Any = None) -> Completion:
        return Completion(label, kind, self.range(s, e), new_text, detail, doc, snippet, sort, filter_text, data)


def element_items(req: Request, ctx: CursorContext) -> list[Completion]:
    parent = ctx.parent
    lead = "<" if ctx.kind == CONTENT else ""
    snip = req.options.snippets and not ctx.has_rest
    out = [req.item(tag, ctx.start, ctx.end, lead + (element_snippet(tag, parent) if snip else tag), "element",
                    f"<{tag}>", element_info(tag, parent).get("doc"), snip, f"0{tag}", lead + tag)
           for tag in child_tags(parent)]
    if snip:
        out += [req.item(label, ctx.start, ctx.end, lead + body, "snippet", "snippet", None, True, f"1{label}",
                         lead + label) for label, body in EXTRA.get(parent, [])]
    return out


def attr_items(req: Request, ctx: CursorContext, opset: int) -> list[Completion]:
    rows: dict[str, tuple[str, str | None, bool]] = {}  # name -> (detail, doc, required)
    for name, a in element_info(ctx.tag, ctx.parent).get("attributes", {}).items():
        rows[name] = ("required" if a.get("required") else a.get("type") or "", a.get("doc"), bool(a.get("required")))
    if ctx.tag == "node":
        for name, doc in NODE_META.items():
            rows.setdefault(name, ("required" if name == "op" else "", doc, name == "op"))
        op = opcat.get_op(ctx.attrs.get("op", ""), opset)
        if op is not None:
            for name, a in op.attributes.items():
                extra = "required" if a.required else f"default {a.default}" if a.default is not None else "optional"
                rows[name] = (f"{a.kind}, {extra}", a.description, a.required)
            for name, index in opcat.attribute_inputs(op).items():
                rows[name] = (f"input {index}, written as an attribute", None, False)
    current = req.doc.text[ctx.start:ctx.end]
    snippets = req.options.snippets
    out = []
    for name, (detail, doc, required) in rows.items():
        if name in ctx.attrs and name != current:
            continue
        new = name if ctx.has_rest else (f'{name}="$1"' if snippets else f'{name}=""')
        out.append(req.item(name, ctx.start, ctx.end, new, "attribute", detail, doc, snippets and not ctx.has_rest,
                            ("0" if required else "1") + name))
    return out


def _short_doc(s: opcat.OpSchema) -> str:
    para = " ".join(s.doc.strip().split("\n\n")[0].split())
    return para if len(para) <= 300 else para[:299].rstrip() + "…"


@functools.lru_cache(maxsize=8)
def _op_rows(opset: int) -> list[tuple[str, str, str]]:
    return [(s.name, f"ONNX op (version {s.since_version})", _short_doc(s)) for s in opcat.all_ops(opset)]


def op_items(req: Request, ctx: CursorContext, opset: int) -> list[Completion]:
    lazy = req.options.lazy_docs
    return [req.item(name, ctx.start, ctx.end, name, "op", detail, None if lazy else doc,
                     sort=("0" if name in COMMON_OPS else "1") + name, data={"op": name, "opset": opset})
            for name, detail, doc in _op_rows(opset)]


def op_documentation(data: object) -> str | None:
    """The full documentation of the op an item's `data` names (for resolve)."""
    data = data if isinstance(data, dict) else {}
    op = opcat.get_op(str(data.get("op", "")), int(data.get("opset", opcat.DEFAULT_OPSET)))
    return opcat.op_markdown(op) if op is not None else None


def tensor_items(req: Request, ctx: CursorContext, a: Analysis) -> tuple[list[Completion], bool]:
    doc = req.doc
    names: list[tuple[str, Tensor | None]] = []
    if doc.old is not None and doc.prefix < req.off:  # outputs typed since the analysis
        stop = min(req.off, len(doc.text) - doc.suffix)
        names += [(m.group(1), None) for m in _NEW_OUTPUT.finditer(doc.text, doc.prefix, stop)][::-1]
    if a.graph is not None and req.path in a.graph.files:
        names += reversed(names_in_scope(req.host, a, req.path).before(doc.old_offset(req.off)))
    seen: set[str] = set()
    out, full = [], False
    for rank, (name, t) in enumerate(names):
        if name in seen or not is_subsequence(ctx.typed, name):
            continue
        seen.add(name)
        if len(out) >= MAX_NAMES:
            full = True
            break
        shape = format_shape(tensor_shape(t), unknown="?") if t is not None else None
        out.append(req.item(name, ctx.start, ctx.end, name, "tensor", shape, sort=f"{rank:06d}"))
    return out, full


def var_items(req: Request, ctx: CursorContext, a: Analysis, wrap: bool) -> list[Completion]:
    if wrap:
        s, e = ctx.start, ctx.end  # a whole value: offer var(NAME)
    else:
        word = re.search(r"[A-Za-z_]\w*$", ctx.typed)
        s = req.off - (len(word.group(0)) if word else 0)
        e = req.off + len(re.match(r"\w*", req.doc.text[req.off:req.off + 64]).group(0))
    out = []
    for name in var_names(req.host, a):
        detail = f"= {a.bindings[name]}" if name in a.bindings else "unbound"
        new = f"var({name})" if wrap else name
        out.append(req.item(new, s, e, new, "var", detail, sort=f"{name not in a.bindings:d}{name}"))
    return out


def path_items(req: Request, ctx: CursorContext) -> list[Completion]:
    head, slash, _ = ctx.typed.rpartition("/")
    folder = os.path.normpath(os.path.join(os.path.dirname(req.path), head + slash))
    s = ctx.start + len(head) + len(slash)
    try:
        entries = sorted(os.scandir(folder), key=lambda d: d.name)
    except OSError:
        return []
    out = []
    for d in entries:
        if d.name.startswith(".") or d.name == "__pycache__":
            continue
        if d.is_dir():
            out.append(req.item(d.name + "/", s, ctx.end, d.name + "/", "folder", sort="1" + d.name))
        elif d.name.endswith(SOURCE_SUFFIXES) and os.path.abspath(d.path) != req.path:
            out.append(req.item(d.name, s, ctx.end, d.name, "file", sort="0" + d.name))
    return out


def value_items(req: Request, ctx: CursorContext, a: Analysis) -> tuple[list[Completion], bool]:
    tag, attr, parent = ctx.tag, ctx.attr, ctx.parent
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
    out = [req.item(v, ctx.start, ctx.end, v, "enum", None, docs.get(v), sort=f"0{k:03d}")
           for k, v in enumerate(info.get("values", []))]
    op = opcat.get_op(ctx.attrs.get("op", ""), opset) if tag == "node" else None
    if op is not None and attr in op.attributes:
        oa = op.attributes[attr]
        hints = {"axis": ["-1", "0", "1"], "keepdims": ["0", "1"]}.get(attr, [])
        if oa.default is not None and not hasattr(oa.default, "shape"):
            hints = [str(oa.default)] + [h for h in hints if h != str(oa.default)]
        out += [req.item(h, ctx.start, ctx.end, h, "value", f"{oa.kind}" + (
            " (default)" if k == 0 and oa.default is not None else ""), sort=f"0{k:03d}") for k, h in enumerate(hints)]
    if not out and (a.bindings or var_names(req.host, a)) and attr not in ("title", "name"):
        out = var_items(req, ctx, a, True)
    return out, False


def complete(host: AnalysisHost, a: Analysis | None, path: str, text: str, pos: Position,
             options: Options | None = None) -> Completions | None:
    """Completions at `pos` of the current `text` of `path`; `a` may be of an older text."""
    options = options or Options()
    old = a.graph.files.get(path) if a is not None and a.graph is not None else None
    doc = EditedText.of(text, old)
    line_start = doc.line_start(pos.line)
    off = min(line_start + pos.character, doc.line_end(line_start))
    req = Request(host, path, doc, off, pos.line, line_start, options)
    ctx = cursor_context(doc, off)
    if ctx is None or (options.trigger and ctx.kind not in _WANTS.get(options.trigger, (ctx.kind,))):
        return None
    full = False
    if ctx.kind in (ELEMENT, CONTENT):
        items = element_items(req, ctx)
    elif ctx.kind == CLOSE:
        tag = ctx.parent
        close = "" if text.startswith(">", ctx.end) else ">"
        items = [req.item(tag, ctx.start, ctx.end, tag + close, "close")] if tag else []
    elif ctx.kind == ATTR:
        items = attr_items(req, ctx, a.config.opset if a is not None else opcat.DEFAULT_OPSET)
    elif a is not None:
        items, full = value_items(req, ctx, a)
    else:
        items = []
    return Completions(items, full)
