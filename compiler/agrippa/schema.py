"""XSD validation of markup files against `resources/agrippa.xsd`, with the exact range of
each mistake, and the schema's documentation for hover and completion.

The recovered syntax tree (never the raw text) becomes an ElementTree that `xmlschema`
validates; each error is mapped back to the range it concerns, the way lemminx does:
a missing attribute marks the tag name, a bad value marks the value, an unexpected
child marks the child's tag name.

Validation is incremental. A file is cut into *units*: the root, and every `<block>` and
`<node>` standing where the schema puts one. Inside its parent's unit, a child unit is an
empty stub (`<node/>`) whose own errors are dropped there, so each unit's verdict depends
on its own subtree only: XSD content models look at children's names, never at their
content. A unit's cache key is its structure (tags, attribute names and values, text) with
every value the schema accepts replaced by one canonical accepted value (each distinct
value is judged once, by xmlschema, and memoized), so an edit revalidates only the units
it touches, and units alike up to valid values (repeated layers, nodes of one shape) are
validated once. This is sound because an XSD 1.0 schema without identity constraints
judges each attribute value on its own. Missed units are validated together, side by side
in one `<block>` wrapper (whose content is a repeatable choice), in one xmlschema call.
"""
from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import threading
import weakref
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import schema_libxml2
from .diagnostics import Diagnostic, Fix, Range, Severity, TextEdit
from .syntax import Element, SourceFile

if TYPE_CHECKING:
    import xmlschema

# xmlschema (~0.15 s to import, ~0.3 s to load the XSD) is needed only when a file is not
# judged valid as a whole by libxml2: it is imported on first use.

# A unit's structure: (tag, ((attribute name, normalized value), ...), text, children).
Key = tuple[str, tuple[tuple[str, str], ...], str | None, tuple[Any, ...]]

MAX_CACHED_UNITS = 20_000
_XSD = "{http://www.w3.org/2001/XMLSchema}"
_XSD_STRING, _XSD_BOOLEAN = _XSD + "string", _XSD + "boolean"
MAX_CACHED_CHARS = 16_000_000  # text of remembered top-level units (one huge block edited often)
WHOLE_FILE_MIN_UNITS = 4  # new top-level units from which one libxml2 pass is tried first
MAX_MEMO_VALUES = 500_000

# How a bad value should have looked, for the patterned types of the schema.
_EXPECTED = {
    "dimList": "a list such as [3, var(n)]",
    "numberList": "a list of numbers such as [0, 1]",
    "count": "a whole number of at least 1 (or var()/expr())",
    "number": "a number (or var()/expr())",
    "opName": "an operator name such as MatMul",
    "version": "a version such as 0.0.1",
}
_YES_NO_SYNONYMS = {"true": "yes", "false": "no", "1": "yes", "0": "no", "on": "yes", "off": "no",
                    "y": "yes", "n": "no"}

_MISSING_ATTR_RE = re.compile(r"missing required attribute '([^']+)'")
_BAD_VALUE_RE = re.compile(r"attribute ([^=\s]+)=")
_NOT_ALLOWED_RE = re.compile(r"'([^']+)' attribute not allowed|use of attribute '([^']+)'")
_BARE_NAME_RE = re.compile(r"[\[,]\s*([A-Za-z_]\w*)\s*(?=[,\]])")
_BLANK_RE = re.compile(r"(?:\s|<!--.*?-->)*", re.S)
_END_TAG_RE = re.compile(r"</([^\s>]+)\s*>?")


@dataclass(frozen=True, slots=True)
class _Issue:
    """A schema error relative to its unit: where (child-index path) and what."""

    path: tuple[int, ...]
    code: str
    message: str
    target: str = "tag"  # tag | value | name | text
    attr: str | None = None
    fix: tuple[str, str, str | None, str] | None = None  # (title, target, attr, new text)


def _target(particle: Any) -> Any:
    """The declaration an element particle stands for (a reference's global)."""
    return particle.ref if particle.ref is not None else particle


def _doc(component: Any) -> str:
    ann = getattr(component, "annotation", None)
    if ann is not None and ann.documentation:
        return " ".join((ann.documentation[0].text or "").split())
    return ""


def _enumeration(xsd_type: Any) -> list[tuple[str, str]]:
    """The (value, documentation) pairs a simple type enumerates, unions included."""
    from xmlschema import names as xsd_names

    members = xsd_type.member_types if xsd_type.is_union() else [xsd_type]
    out: list[tuple[str, str]] = []
    for member in members:
        facets = getattr(member, "facets", {}).get(xsd_names.XSD_ENUMERATION)
        if facets is None:
            continue
        for i, value in enumerate(facets.enumeration):
            node = facets[i].find(f"{xsd_names.XSD_ANNOTATION}/{xsd_names.XSD_DOCUMENTATION}")
            text = " ".join((node.text or "").split()) if node is not None else ""
            out.append((str(value), text))
    return out


class _Schema:
    """The loaded schema and what validation and completion derive from it."""

    def __init__(self) -> None:
        res = importlib.resources.files("agrippa").joinpath("resources/agrippa.xsd")
        with importlib.resources.as_file(res) as xsd_path:
            import xmlschema

            self.xsd = xmlschema.XMLSchema10(str(xsd_path))
        self.globals: dict[str, Any] = {d.local_name: d for d in self.xsd.elements.values()}
        # every declaration of each tag, with the tag of its parent (None: a root)
        self.contexts: dict[str, list[tuple[str | None, Any]]] = {}
        seen: set[tuple[str | None, str, int]] = set()
        queue: deque[tuple[str | None, Any]] = deque((None, d) for d in self.globals.values())
        while queue:
            parent, decl = queue.popleft()
            mark = (parent, decl.local_name, id(decl.type))
            if mark in seen:
                continue
            seen.add(mark)
            self.contexts.setdefault(decl.local_name, []).append((parent, decl))
            for child in self._children(decl):
                queue.append((decl.local_name, child))
        self.parents = {tag: [p for p, _ in ctx if p is not None] for tag, ctx in self.contexts.items()}
        self.children = {tag: list(dict.fromkeys(c.local_name for _, d in ctx for c in self._children(d)))
                         for tag, ctx in self.contexts.items()}
        # Units. The wrapper is a global element whose content is a repeatable choice, so
        # any mix of its particles may stand in it: missed units are validated in one call,
        # side by side inside one wrapper. A unit is a particle of the wrapper with element
        # content (blocks and nodes); inside its parent's unit it is an empty stub, whose
        # own errors are dropped there (they are the unit's, found in its own validation).
        wrappers = [d for d in self.globals.values() if getattr(d.type, "content", None) is not None
                    and getattr(d.type.content, "model", None) == "choice"
                    and d.type.content.max_occurs is None and d.type.content.min_occurs == 0]
        held = [{c.local_name: _target(c) for c in self._children(w) if self._children(_target(c))}
                for w in wrappers]
        best = max(range(len(wrappers)), key=lambda i: len(held[i]), default=None)
        self.wrapper: Any = wrappers[best] if best is not None else None
        units = held[best] if best is not None else {}
        self.units: dict[str, Any] = {t: d for t, d in units.items() if self.globals.get(t, d) is d}
        self.stubs: dict[str, frozenset[str]] = {
            tag: frozenset(c.local_name for c in self._children(d) if self.units.get(c.local_name) is _target(c))
            for tag, d in [*self.globals.items(), *self.units.items()]}
        self.mixed = frozenset(t for t, ctx in self.contexts.items() if all(d.type.mixed for _, d in ctx))
        self._policies: dict[tuple[str, str], Any] = {}
        self._canonical: dict[tuple[str, str], str] = {}
        self._memo: dict[tuple[str, str, str], str] = {}
        self._checker = _ValueChecker(self.xsd)

    @staticmethod
    def _children(decl: Any) -> list[Any]:
        content = getattr(decl.type, "content", None)
        if decl.type.is_simple() or content is None or not hasattr(content, "iter_elements"):
            return []
        return [c for c in content.iter_elements() if hasattr(c, "local_name")]

    def attribute_decls(self, tag: str, name: str) -> list[Any]:
        """The declarations of attribute `name` on `tag`, one per context (None: undeclared)."""
        return [d.type.attributes.get(name) for _, d in self.contexts.get(tag, [])]

    def _policy(self, tag: str, name: str) -> Any:
        """'keep' the value, 'skip' it (never checked) or a simple type judging it."""
        key = (tag, name)
        policy = self._policies.get(key)
        if policy is None:
            ctx = self.contexts.get(tag, [])
            decls = self.attribute_decls(tag, name)
            types = {id(a.type): a.type for a in decls if a is not None}
            if not ctx:
                policy = "keep"
            elif all(a is None for a in decls) and all(
                    (w := d.type.attributes.get(None)) is not None and w.process_contents == "skip"
                    and w.is_matching(name) for _, d in ctx):
                policy = "skip"
            elif len(types) == 1 and all(a is not None for a in decls):
                policy = next(iter(types.values()))
                if policy.name == _XSD_STRING:  # every string is a valid xs:string
                    policy = "skip"
            else:
                policy = "keep"
            self._policies[key] = policy
        return policy

    def normalize(self, tag: str, name: str, value: str) -> str:
        """`value`, or the canonical value standing for every value the schema accepts here."""
        memo_key = (tag, name, value)
        out = self._memo.get(memo_key)
        if out is None:
            policy = self._policy(tag, name)
            if policy == "skip":
                out = ""
            elif policy == "keep" or not self._checker.is_valid(policy, value):
                out = value
            else:
                out = self._canonical.setdefault((tag, name), value)
            if len(self._memo) >= MAX_MEMO_VALUES:
                self._memo.clear()
            self._memo[memo_key] = out
        return out


class _ValueChecker:
    """Judges one attribute value with xmlschema, reusing one validation context (the
    public `is_valid` builds a new context per call, ~20x slower)."""

    def __init__(self, xsd: xmlschema.XMLSchema10) -> None:
        self.context: Any = None
        try:
            from xmlschema.validators.validation import ValidationContext

            source = xsd.maps.settings.get_resource_from_data(ET.Element("x"), None)
            self.context = ValidationContext(source=source)
            probe = xsd.maps.types[_XSD_BOOLEAN]
            if not (self._fast(probe, "true") and not self._fast(probe, "maybe")):
                self.context = None
        except Exception:  # a different xmlschema: fall back to the public API
            self.context = None

    def _fast(self, xsd_type: Any, value: str) -> bool:
        ctx = self.context
        ctx.clear()
        xsd_type.raw_decode(value, "lax", ctx)
        return not ctx.errors

    def is_valid(self, xsd_type: Any, value: str) -> bool:
        if self.context is not None:
            return self._fast(xsd_type, value)
        return bool(xsd_type.is_valid(value))


_lock = threading.RLock()
_schema: _Schema | None = None
_cache: dict[Key, tuple[_Issue, ...]] = {}
# (tag, text) of a top-level unit -> its subtree's issues, with paths relative to it
# roots (their start tag, the text of non-unit children, the tags of unit children) found
# valid by a libxml2 whole-file pass
_valid_roots: set[tuple[str, ...]] = set()
_SHELL_STUBS = frozenset({"block"})  # trusted only where the schema agrees (see use)
_text_cache: dict[tuple[str, str | None], tuple[tuple[tuple[int, ...], Any], ...]] = {}
_text_chars = 0  # characters of text held as _text_cache keys
_docs: dict[str, Any] | None = None
# an unchanged SourceFile (the pipeline reuses parsed files) is not even walked again
_by_file: weakref.WeakKeyDictionary[SourceFile, tuple[str, tuple[Diagnostic, ...]]] = \
    weakref.WeakKeyDictionary()
_STATS = {"units": 0, "validated": 0, "whole_files": 0}


def _get_schema() -> _Schema:
    global _schema
    with _lock:
        if _schema is None:
            _schema = _Schema()
        return _schema


# -- keys and trees -----------------------------------------------------------------------

_NO_STUBS: frozenset[str] = frozenset()



def _key(s: _Schema, el: Element, stubs: frozenset[str], units: list[Element]) -> Key:
    """The structural key of the unit rooted at `el`; child units go to `units`."""
    tag = el.tag
    memo = s._memo
    attrs: tuple[tuple[str, str], ...] = ()
    if el.attrs:
        items = []
        for n, a in el.attrs.items():
            v = memo.get((tag, n, a.value))
            items.append((n, v if v is not None else s.normalize(tag, n, a.value)))
        attrs = tuple(items)
    text = el.text if el.text and tag not in s.mixed and el.text.strip() else None
    if not el.children:
        return (tag, attrs, text, ())
    children: list[Any] = []
    for c in el.children:
        if c.tag in stubs:
            units.append(c)
            children.append(c.tag)  # a stub: the bare tag
        else:
            children.append(_key(s, c, _NO_STUBS, units))
    return (tag, attrs, text, tuple(children))


def _tree(key: Key | str, path: tuple[int, ...], paths: dict[ET.Element, tuple[int, ...]],
          stubs: set[ET.Element]) -> ET.Element:
    if isinstance(key, str):  # a stub
        node = ET.Element(key)
        stubs.add(node)
        paths[node] = path
        return node
    tag, attrs, text, children = key
    node = ET.Element(tag, dict(attrs))
    if text is not None:
        node.text = text
    paths[node] = path
    node.extend(_tree(c, path + (i,), paths, stubs) for i, c in enumerate(children))
    return node


def _validate_units(s: _Schema, keys: list[Key]) -> list[tuple[_Issue, ...]]:
    """The issues of each unit. Units the wrapper can hold are validated in one call."""
    found: list[list[_Issue]] = [[] for _ in keys]
    paths: dict[ET.Element, tuple[int, ...]] = {}
    stubs: set[ET.Element] = set()
    roots = [_tree(k, (), paths, stubs) for k in keys]
    runs = [(s.globals[k[0]], roots[i]) for i, k in enumerate(keys) if k[0] not in s.units]
    batch = [roots[i] for i, k in enumerate(keys) if k[0] in s.units]
    if batch:
        wrapper = ET.Element(s.wrapper.local_name)
        wrapper.extend(batch)
        runs.append((s.wrapper, wrapper))
    owner = {node: i for i, root in enumerate(roots) for node in root.iter()}
    for decl, tree in runs:
        for err in decl.iter_errors(tree):
            if err.elem not in owner or err.elem in stubs:
                continue  # the wrapper's or a stub's own error
            found[owner[err.elem]].append(_issue(s, err, paths))
    # one message per mistake (text in an empty element is reported twice by xmlschema)
    return [tuple({(i.path, i.code, i.message): i for i in issues}.values()) for issues in found]


def _issue(s: _Schema, err: Any, paths: dict[ET.Element, tuple[int, ...]]) -> _Issue:
    elem = err.elem
    path = paths.get(elem, ())
    tag = elem.tag if elem is not None else "?"
    reason = err.reason or ""
    from xmlschema.validators.exceptions import XMLSchemaChildrenValidationError

    if isinstance(err, XMLSchemaChildrenValidationError):
        child = err.invalid_child
        if child is not None:
            return _unexpected_child(s, tag, child.tag, paths.get(child, path))
        expected = [getattr(e, "local_name", None) for e in (err.expected or ())]
        wanted = " or ".join(f"<{e}>" for e in expected if e) or "more content"
        return _Issue(path, "schema-missing-element", f"<{tag}> needs {wanted}")
    if "character data" in reason:
        hint = "; put notes in a <desc>" if "desc" in _allowed_children(s, tag) else ""
        return _Issue(path, "schema-unexpected-text", f"text is not allowed in <{tag}>{hint}", "text")
    m = _MISSING_ATTR_RE.search(reason)
    if m:
        return _missing_attribute(s, tag, m.group(1), elem, path)
    m = _NOT_ALLOWED_RE.search(reason)
    if m:
        name = m.group(1) or m.group(2)
        return _Issue(path, "schema-unknown-attribute", f"<{tag}> has no attribute '{name}'", "name", name)
    m = _BAD_VALUE_RE.match(reason)
    if m and elem is not None and m.group(1) in elem.attrib:
        return _bad_value(s, tag, m.group(1), elem.attrib[m.group(1)], path)
    return _Issue(path, "schema-invalid", reason.rstrip(".") or f"<{tag}> is not valid here")


def _show(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit - 3] + "..."


def _closest(word: str, options: list[str], cutoff: float = 0.6) -> str | None:
    """The option most like `word` (the earliest on ties), if any is alike enough."""
    if len(word) > 40:
        return None
    scored = [(difflib.SequenceMatcher(None, word, o).ratio(), -i, o) for i, o in enumerate(options)]
    best = max(scored, default=None)
    return best[2] if best is not None and best[0] >= cutoff else None


def _allowed_children(s: _Schema, tag: str) -> list[str]:
    return s.children.get(tag, [])


def _unexpected_child(s: _Schema, parent: str, tag: str, path: tuple[int, ...]) -> _Issue:
    if tag in s.contexts:
        homes = s.parents.get(tag, [])
        if not homes:
            where = "it can only be the root element"
        else:
            names = [f"<{h}>" for h in dict.fromkeys(homes)]
            where = "put it in a " + (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0])
        return _Issue(path, "schema-unexpected-element", f"<{tag}> is not allowed inside <{parent}>; {where}")
    allowed = _allowed_children(s, parent)
    guess = _closest(tag, allowed) or _closest(tag, list(s.contexts))
    if guess:
        return _Issue(path, "schema-unknown-element", f"<{tag}> is not an Agrippa element; did you mean <{guess}>?",
                      fix=(f"Change to <{guess}>", "tag", None, guess))
    listed = ", ".join(f"<{a}>" for a in allowed)
    if listed:
        tail = f"; <{parent}> may contain {listed}"
    else:
        tail = f"; <{parent}> holds text only" if parent in s.mixed else f"; <{parent}> has no children"
    return _Issue(path, "schema-unknown-element", f"<{tag}> is not an Agrippa element{tail}")


def _missing_attribute(s: _Schema, tag: str, name: str, elem: ET.Element | None,
                       path: tuple[int, ...]) -> _Issue:
    unknown = [a for a in (elem.attrib if elem is not None else ())
               if all(d is None for d in s.attribute_decls(tag, a))]
    typo = _closest(name, unknown)
    if typo:
        return _Issue(path, "schema-missing-attribute",
                      f"<{tag}> needs the attribute '{name}' (is '{typo}' a typo?)", attr=name,
                      fix=(f"Rename '{typo}' to '{name}'", "name", typo, name))
    return _Issue(path, "schema-missing-attribute", f"<{tag}> needs the attribute '{name}'", attr=name,
                  fix=(f"Add {name}=\"\"", "insert", None, f' {name}=""'))


def _bad_value(s: _Schema, tag: str, name: str, value: str, path: tuple[int, ...]) -> _Issue:
    decl = next((a for a in s.attribute_decls(tag, name) if a is not None), None)
    xsd_type = decl.type if decl is not None else None
    choices = [v for v, _ in _enumeration(xsd_type)] if xsd_type is not None else []
    fix = None
    if choices:
        expected = (f"'{choices[0]}' or '{choices[1]}'" if len(choices) == 2
                    else "one of " + ", ".join(choices))
        low = value.strip().lower()
        best = _YES_NO_SYNONYMS.get(low) if set(choices) == {"yes", "no"} else None
        if best is None:
            best = _closest(low, choices)
        if best is not None:
            fix = (f"Change to '{best}'", "value", name, best)
    elif not value.strip():
        return _Issue(path, "schema-bad-value", f"{name} must not be empty", "value", name)
    else:
        type_name = getattr(xsd_type, "local_name", None) or ""
        expected = _EXPECTED.get(type_name) or (_doc(xsd_type).rstrip(".") or "valid").lower()
        bare = _BARE_NAME_RE.search(value) if type_name in ("dimList", "numberList") else None
        if bare:
            return _Issue(path, "schema-bad-value", f"{name} must be {expected}, got '{_show(value)}'; "
                          f"write var({bare.group(1)}) to use a binding", "value", name)
    return _Issue(path, "schema-bad-value", f"{name} must be {expected}, got '{_show(value)}'", "value", name, fix)


# -- mapping back to ranges ------------------------------------------------------------------

def _text_range(sf: SourceFile, el: Element) -> Range:
    """The first run of text directly inside `el` (not in a child or a comment)."""
    end = el.end if el.end >= 0 else len(sf.text)
    close = _end_tag_start(sf, el)
    end = close if close is not None else end
    bounds = [el.start_tag_end] + [x for c in el.children for x in (c.start, c.end)] + [end]
    for a, b in zip(bounds[::2], bounds[1::2]):
        i = _BLANK_RE.match(sf.text, a, b).end()
        if i < b:
            stop = sf.text.find("<", i, b)
            stop = b if stop < 0 else stop
            return sf.range(i, i + len(sf.text[i:stop].rstrip()))
    return el.tag_range


def _end_tag_start(sf: SourceFile, el: Element) -> int | None:
    """Offset of the element's own end tag `</tag>`, if it has one."""
    if el.self_closing or el.end < 0:
        return None
    close = sf.text.rfind("</", el.start_tag_end, el.end)
    m = _END_TAG_RE.fullmatch(sf.text, close, el.end) if close >= 0 else None
    return close if m is not None and m.group(1) == el.tag else None


def _end_tag_range(sf: SourceFile, el: Element) -> Range | None:
    close = _end_tag_start(sf, el)
    return sf.range(close + 2, close + 2 + len(el.tag)) if close is not None else None


def _diagnostic(sf: SourceFile, el: Element, issue: _Issue) -> Diagnostic:
    attr = el.attrs.get(issue.attr) if issue.attr else None
    if issue.target == "value" and attr is not None:
        rng = attr.value_range
        quoted = 0 < attr.value_start <= len(sf.text) and sf.text[attr.value_start - 1] in "\"'"
        if not attr.raw and quoted:  # an empty value: mark its quotes
            rng = sf.range(attr.value_start - 1, attr.value_start + 1)
    elif issue.target == "name" and attr is not None:
        rng = attr.name_range
    elif issue.target == "text":
        rng = _text_range(sf, el)
    else:
        rng = el.tag_range
    fixes: tuple[Fix, ...] = ()
    if issue.fix is not None:
        title, target, fix_attr, new = issue.fix
        edits: list[TextEdit] = []
        fattr = el.attrs.get(fix_attr) if fix_attr else None
        if target == "value" and fattr is not None:
            edits.append(TextEdit(sf.path, fattr.value_range, new))
        elif target == "name" and fattr is not None:
            edits.append(TextEdit(sf.path, fattr.name_range, new))
        elif target == "insert":
            end = el.tag_range.end
            edits.append(TextEdit(sf.path, Range(end, end), new))
        elif target == "tag":
            edits.append(TextEdit(sf.path, el.tag_range, new))
            end_tag = _end_tag_range(sf, el)
            if end_tag is not None:
                edits.append(TextEdit(sf.path, end_tag, new))
        if edits:
            fixes = (Fix(title, tuple(edits), preferred=target != "insert"),)
    data = {"element": el.tag, "attribute": issue.attr} if issue.attr else {"element": el.tag}
    return Diagnostic(sf.path, rng, Severity.ERROR, issue.code, issue.message, fixes=fixes, data=data)


def _whole_candidate(sf: SourceFile) -> list[tuple[str, str]] | None:
    """The (tag, text) of the root's children when the file should be judged as a whole:
    it parsed cleanly, several of its top-level units were never seen, none is known to
    be wrong. None otherwise."""
    root = sf.root
    if root is None or sf.diagnostics or len(root.children) < WHOLE_FILE_MIN_UNITS:
        return None
    keys = [(c.tag, sf.text[c.start:c.end]) for c in root.children if c.end > c.start]
    known = [_text_cache.get(k) for k in keys]
    if any(known) or sum(k is None for k in known) < WHOLE_FILE_MIN_UNITS:
        return None
    return keys


# what `prejudge` started for a file: its top-level units' (tag, text), and libxml2's answer
Pending = tuple[list[tuple[str, str]], "Future[bool]"]


def _valid_whole(sf: SourceFile, pending: Pending | None = None) -> bool:
    """A candidate file (above) that libxml2 finds valid as a whole: its units are
    remembered valid, and an edit then revalidates the edited one only. No xmlschema
    model is needed for this. `pending`: what `prejudge` started for it."""
    if pending is not None:
        keys, verdict = pending
        valid = verdict.result()
    else:
        keys = _whole_candidate(sf)
        valid = keys is not None and schema_libxml2.is_valid(sf)
    if not valid:
        return False
    _STATS["whole_files"] += 1
    for tag, text in keys:
        _remember_top(tag, text, ())
    _valid_roots.add(_shell(sf))
    return True


def prejudge(files: Iterable[SourceFile]) -> dict[SourceFile, Pending]:
    """Start libxml2 on the files `validate_files` will judge as a whole. It runs in a
    thread without the GIL, beside the rest of the analysis; pass the result on."""
    out: dict[SourceFile, Pending] = {}
    for sf in files:
        keys = _whole_candidate(sf)
        if keys is not None:
            out[sf] = (keys, _background().submit(schema_libxml2.is_valid, sf))
    return out


@functools.lru_cache(maxsize=1)
def _background() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="agrippa-libxml2")


def _shell(sf: SourceFile) -> tuple[str, ...]:
    """The root with its children's content left out: whether the root's own unit is
    valid depends on nothing else (the tags of unit children stand as stubs there)."""
    root = sf.root
    parts = [sf.text[root.start:root.start_tag_end]]
    for c in root.children:
        parts.append(c.tag if c.tag in _SHELL_STUBS else sf.text[c.start:c.end])
    return tuple(parts)


def _validate_file(s: _Schema, sf: SourceFile) -> list[Diagnostic]:
    root = sf.root
    if root is None:
        return []
    if root.tag not in s.globals:
        roots = " or ".join(f"<{g}>" for g in s.globals)
        return [Diagnostic(sf.path, root.tag_range, Severity.ERROR, "schema-bad-root",
                           f"the root element must be {roots}, not <{root.tag}>")]
    # A top-level unit whose text is unchanged since an earlier analysis has the same issues
    # (relative to it): reuse them without walking it. After an edit, only the edited block
    # (and the root's own shallow key) are looked at again.
    found: list[tuple[Element, Key]] = []
    out: list[Diagnostic] = []
    tops: dict[Element, str] = {}
    root_children: list[Element] = []
    root_stubs = s.stubs.get(root.tag, _NO_STUBS)
    found.append((root, _key(s, root, root_stubs, root_children)))
    if found[0][1] not in _cache and root_stubs >= _SHELL_STUBS and _shell(sf) in _valid_roots:
        _cache[found[0][1]] = ()  # judged valid by libxml2 in a whole-file pass
    units: list[Element] = []
    for top in root_children:
        text = sf.text[top.start:top.end] if top.end > top.start else None
        hit = _text_cache.get((top.tag, text)) if text is not None else None
        if hit is not None:
            for rel, issue in hit:
                out.append(_diagnostic(sf, _walk(top, rel), issue))
            continue
        if text is not None:
            tops[top] = text
        units.append(top)
    units.reverse()
    while units:
        unit = units.pop()
        children: list[Element] = []
        found.append((unit, _key(s, unit, s.stubs.get(unit.tag, _NO_STUBS), children)))
        units.extend(reversed(children))
    looked = [(unit, key, _cache.get(key)) for unit, key in found]
    missed = list(dict.fromkeys(key for _, key, issues in looked if issues is None))
    _STATS["units"] += len(found)
    _STATS["validated"] += len(missed)
    fresh = dict(zip(missed, _validate_units(s, missed)))
    for key, issues in fresh.items():
        if len(_cache) >= MAX_CACHED_UNITS:
            del _cache[next(iter(_cache))]
        _cache[key] = issues
    per_top: dict[Element, list[tuple[tuple[int, ...], _Issue]]] = {t: [] for t in tops}
    for unit, key, issues in looked:
        for issue in issues if issues is not None else fresh[key]:
            el = _walk(unit, issue.path)
            out.append(_diagnostic(sf, el, issue))
            top, rel = _top_of(unit, tops)
            if top is not None:
                per_top[top].append((rel + issue.path, issue))
    for top, text in tops.items():
        _remember_top(top.tag, text, tuple(per_top[top]))
    return out


def _remember_top(tag: str, text: str, issues: tuple[tuple[tuple[int, ...], _Issue], ...]) -> None:
    global _text_chars
    key = (tag, text)
    if key not in _text_cache:
        _text_chars += len(text)
    _text_cache[key] = issues
    while len(_text_cache) > MAX_CACHED_UNITS or (_text_chars > MAX_CACHED_CHARS and len(_text_cache) > 1):
        old = next(iter(_text_cache))  # the oldest first
        del _text_cache[old]
        _text_chars -= len(old[1] or "")


def _walk(el: Element, path: tuple[int, ...]) -> Element:
    for i in path:
        el = el.children[i]
    return el


def _top_of(unit: Element, tops: dict[Element, str]) -> tuple[Element | None, tuple[int, ...]]:
    """The top-level unit containing `unit`, and the child-index path from it to `unit`."""
    rel: list[int] = []
    el = unit
    while el is not None and el not in tops:
        parent = el.parent
        if parent is None:
            return None, ()
        rel.append(parent.children.index(el))
        el = parent
    return el, tuple(reversed(rel))


def validate_files(files: Iterable[SourceFile], verdicts: dict[SourceFile, Pending] | None = None,
                   ) -> list[Diagnostic]:
    """Schema diagnostics for each file's recovered tree (files without a root are skipped).
    `verdicts`: what `prejudge` started for these files."""
    out: list[Diagnostic] = []
    verdicts = verdicts or {}
    with _lock:
        for sf in files:
            done = _by_file.get(sf)
            if done is None or done[0] is not sf.text:
                valid = _valid_whole(sf, verdicts.get(sf))
                done = (sf.text, () if valid else tuple(_validate_file(_get_schema(), sf)))
                _by_file[sf] = done
            out.extend(done[1])
    out.sort(key=lambda d: (d.file, d.range.start))
    return out


def cache_info() -> dict[str, int]:
    """Units seen and units actually validated since start, and units cached now."""
    return {**_STATS, "cached": len(_cache)}


def warm_up(files: Iterable[SourceFile] = ()) -> None:
    """Build the xmlschema model (and the root units of `files`) ahead of the first edit;
    the language server calls this in the background once it has published."""
    s = _get_schema()
    schema_docs()
    with _lock:
        for sf in files:
            if sf.root is not None and sf.root.tag in s.globals:
                _validate_file(s, sf)


def clear_cache() -> None:
    """Forget validated units (for measurements and tests)."""
    global _text_chars
    with _lock:
        _valid_roots.clear()
        _cache.clear()
        _text_cache.clear()
        _text_chars = 0
        _by_file.clear()
        if _schema is not None:
            _schema._memo.clear()


# -- documentation for completion and hover -------------------------------------------------

def _attribute_docs(attrs: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ordered = getattr(attrs, "_attribute_group", attrs)  # declaration order (the public one is sorted)
    for name, a in ordered.items():
        if name is None:
            continue
        values = _enumeration(a.type)
        out[name] = {
            "name": name,
            "required": a.use == "required",
            "doc": _doc(a) or _doc(a.type),
            "type": getattr(a.type, "local_name", None) or "",
            "type_doc": _doc(a.type),
            "values": [v for v, _ in values],
            "value_docs": dict(values),
        }
    return dict(sorted(out.items(), key=lambda kv: not kv[1]["required"]))


def schema_docs() -> dict[str, Any]:
    """For each element: its documentation, where it may stand, its children and attributes.

    `{tag: {"doc", "parents", "root", "children", "mixed", "any_attribute", "attributes":
    {name: {"name", "required", "doc", "type", "type_doc", "values", "value_docs"}},
    "contexts": {parent or "": {"doc", "children", "attributes"}}}}`. The top-level
    `attributes` merge the contexts (required only where required in every context, e.g.
    `import dim` is required under <model> only). Derived from the XSD; do not mutate.
    """
    global _docs
    s = _get_schema()
    with _lock:
        if _docs is not None:
            return _docs
        docs: dict[str, Any] = {}
        for tag, ctx in s.contexts.items():
            contexts: dict[str, Any] = {}
            merged: dict[str, dict[str, Any]] = {}
            for parent, decl in ctx:
                attrs = _attribute_docs(decl.type.attributes)
                contexts[parent or ""] = {
                    "doc": _doc(decl) or (_doc(decl.ref) if decl.ref is not None else ""),
                    "children": [c.local_name for c in s._children(decl)],
                    "attributes": attrs,
                }
                for name, info in attrs.items():
                    if name in merged:
                        merged[name]["required"] = merged[name]["required"] and info["required"]
                    else:
                        merged[name] = dict(info)
                for name in merged:
                    if name not in attrs:
                        merged[name]["required"] = False
            variants = {c["doc"]: p for p, c in contexts.items()}
            doc = next(iter(variants)) if len(variants) == 1 else " ".join(
                f"In <{p}>: {d[:1].lower()}{d[1:]}" if p else f"As the root: {d[:1].lower()}{d[1:]}"
                for d, p in variants.items())
            docs[tag] = {
                "doc": doc,
                "parents": list(dict.fromkeys(s.parents[tag])),
                "root": tag in s.globals,
                "children": list(dict.fromkeys(c for v in contexts.values() for c in v["children"])),
                "mixed": tag in s.mixed,
                "any_attribute": all(d.type.attributes.get(None) is not None for _, d in ctx),
                "attributes": dict(sorted(merged.items(), key=lambda kv: not kv[1]["required"])),
                "contexts": contexts,
            }
        _docs = docs
        return docs
