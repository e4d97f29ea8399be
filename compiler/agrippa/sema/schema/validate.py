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

A new file of several units, or of much text, is first judged whole by libxml2 (`libxml2.py`,
in a thread while the rest of the analysis runs). Valid, no unit is validated. With a few
mistakes, libxml2 also says where they are, and only the units holding them are validated
(a 5 MB block with one mistake costs one unit, not 80,000); the others are valid as
libxml2 found them, exactly as in a valid file.

The schema model is `model.py`, the translation of xmlschema's errors `issues.py`, their
ranges and fixes `ranges.py`, the documentation for hover and completion `docs.py`.
"""
from __future__ import annotations

import functools
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from agrippa.base.diagnostics import MAX_PER_FILE, SUMMARY_CODE, ZERO_RANGE, Diagnostic, Severity
from agrippa.sema.schema import libxml2 as schema_libxml2
from agrippa.sema.schema.docs import schema_docs
from agrippa.sema.schema.issues import Issue, issue_of
from agrippa.sema.schema.model import LOCK, Schema, get_schema, loaded_schema
from agrippa.sema.schema.ranges import to_diagnostic
from agrippa.syntax.tree import Element, SourceFile

# A unit's structure: (tag, ((attribute name, normalized value), ...), text, children).
Key = tuple[str, tuple[tuple[str, str], ...], str | None, tuple[Any, ...]]

MAX_CACHED_UNITS = 20_000
MAX_CACHED_CHARS = 16_000_000  # text of remembered top-level units (one huge block edited often)
WHOLE_FILE_MIN_UNITS = 4  # new top-level units from which one libxml2 pass is tried first
WHOLE_FILE_MIN_CHARS = 500_000  # or new text (one huge block) from which it is tried first
WARM_UP_MAX_ELEMENTS = 50_000  # larger files are not validated unit by unit ahead of an edit
MAX_SCHEMA_ISSUES = MAX_PER_FILE  # distinct mistakes found before validation stops (a flood)
VALIDATION_CHUNK = 256  # units per xmlschema call, between looks at the cap

_cache: dict[Key, tuple[Issue, ...]] = {}
# (tag, text) of a top-level unit -> its subtree's issues, with paths relative to it
# roots (their start tag, the text of non-unit children, the tags of unit children) found
# valid by a libxml2 whole-file pass
_valid_roots: set[tuple[str, ...]] = set()
_SHELL_STUBS = frozenset({"block"})  # trusted only where the schema agrees (see use)
_text_cache: dict[tuple[str, str | None], tuple[tuple[tuple[int, ...], Any], ...]] = {}
_text_chars = 0  # characters of text held as _text_cache keys
# a top-level element the incremental parse kept (so its text is unchanged): its issues, found
# without slicing and hashing its text again; id -> (element, its length, issues)
_by_element: dict[int, tuple[Element, int, tuple]] = {}
# an unchanged SourceFile (the pipeline reuses parsed files) is not even walked again
_by_file: weakref.WeakKeyDictionary[SourceFile, tuple[str, tuple[Diagnostic, ...]]] = \
    weakref.WeakKeyDictionary()
_STATS = {"units": 0, "validated": 0, "whole_files": 0, "located": 0}


# -- keys and trees -----------------------------------------------------------------------

_NO_STUBS: frozenset[str] = frozenset()



def _key(s: Schema, el: Element, stubs: frozenset[str], units: list[Element]) -> Key:
    """The structural key of the unit rooted at `el`; child units go to `units`."""
    tag = el.tag
    memo = s.memo
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
    runs = stubs and tag in s.free_order  # a run of like stubs stands as one (see Schema.free_order)
    for c in el.children:
        if c.tag in stubs:
            units.append(c)
            if not (runs and children and children[-1] == c.tag):
                children.append(c.tag)  # a stub: the bare tag
        else:
            children.append(_key(s, c, _NO_STUBS, units))
    return (tag, attrs, text, tuple(children))


def _key_children(s: Schema, unit: Element) -> list[int] | None:
    """For a free-order unit, the index among `unit`'s children of each child of its key
    (runs of like stubs were collapsed there, see `_key`); None when they are the same."""
    if unit.tag not in s.free_order:
        return None
    stubs = s.stubs.get(unit.tag, _NO_STUBS)
    out: list[int] = []
    prev = None
    for j, c in enumerate(unit.children):
        stub = c.tag in stubs
        if not (stub and prev == c.tag):
            out.append(j)
        prev = c.tag if stub else None
    return out if len(out) < len(unit.children) else None


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


def _validate_units(s: Schema, keys: list[Key]) -> list[tuple[Issue, ...]]:
    """The issues of each unit. Units the wrapper can hold are validated in one call."""
    found: list[list[Issue]] = [[] for _ in keys]
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
            found[owner[err.elem]].append(issue_of(s, err, paths))
    # one message per mistake (text in an empty element is reported twice by xmlschema)
    return [tuple({(i.path, i.code, i.message): i for i in issues}.values()) for issues in found]


def _whole_candidate(sf: SourceFile) -> list[tuple[str, str]] | None:
    """`_candidate`, asked once per parse (`prejudge` asks first, `validate_files` again)."""
    found = _candidates.get(sf, _UNASKED)
    if found is _UNASKED:
        found = _candidates[sf] = _candidate(sf)
    return found


_UNASKED = object()
_candidates: weakref.WeakKeyDictionary[SourceFile, list | None] = weakref.WeakKeyDictionary()


def _candidate(sf: SourceFile) -> list[tuple[str, str]] | None:
    """The (tag, text) of the root's children when the file should be judged as a whole:
    it parsed cleanly, none of its top-level units is known to be wrong, and several of
    them, or much of its text (a huge block, a 5 MB line), were never seen. None otherwise."""
    root = sf.root
    if root is None or sf.diagnostics or not root.children:
        return None
    unseen = unseen_chars = 0
    for c in root.children:
        if c.end <= c.start:
            continue
        known = _known(c, sf)
        if known:  # a unit known to be wrong: judged unit by unit, for exact ranges
            return None
        if known is None:
            unseen += 1
            unseen_chars += c.end - c.start
    if unseen >= WHOLE_FILE_MIN_UNITS or unseen_chars >= WHOLE_FILE_MIN_CHARS:
        return [(c.tag, sf.text[c.start:c.end]) for c in root.children if c.end > c.start]
    return None


def _known(top: Element, sf: SourceFile) -> tuple | None:
    """The remembered issues of a top-level unit (() when valid), or None when never seen."""
    ent = _by_element.get(id(top))
    if ent is not None and ent[0] is top and ent[1] == top.end - top.start:
        return ent[2]
    hit = _text_cache.get((top.tag, sf.text[top.start:top.end]))
    if hit is not None:
        _remember_element(top, hit)
    return hit


def _remember_element(top: Element, issues: tuple) -> None:
    _by_element[id(top)] = (top, top.end - top.start, issues)
    while len(_by_element) > MAX_CACHED_UNITS:
        del _by_element[next(iter(_by_element))]  # the oldest first


# what `prejudge` started for a file: its top-level units' (tag, text), and libxml2's answer
# (schema_libxml2.judge: valid, or where its few mistakes are)
Pending = tuple[list[tuple[str, str]], "Future[tuple[bool, list[tuple[schema_libxml2.Steps, bool]] | None]]"]
Doubt = list[tuple[Element, bool]]  # elements libxml2 found a mistake at; True: their subtree is in doubt too


def _judge_whole(sf: SourceFile, pending: Pending | None = None) -> tuple[bool, Doubt | None]:
    """libxml2's verdict on a candidate file (above): (True, None) when it is valid as a
    whole: its units are remembered valid, and an edit then revalidates the edited one
    only; no xmlschema model is needed for this. (False, doubt) when it found a few
    mistakes, at these elements; (False, None) otherwise. `pending`: what `prejudge`
    started for it."""
    if pending is not None:
        keys, verdict = pending
        valid, places = verdict.result()
    else:
        keys = _whole_candidate(sf)
        _candidates.pop(sf, None)  # asked by this parse's two passes only; later ones ask again
        valid, places = schema_libxml2.judge(sf) if keys is not None else (False, None)
    if not valid:
        found = schema_libxml2.elements_at(sf, [steps for steps, _ in places]) if places else None
        return False, None if found is None else [(el, whole) for el, (_, whole) in zip(found, places)]
    _STATS["whole_files"] += 1
    for tag, text in keys:
        _remember_top(tag, text, ())
    _valid_roots.add(_shell(sf))
    return True, None


def prejudge(files: Iterable[SourceFile]) -> dict[SourceFile, Pending]:
    """Start libxml2 on the files `validate_files` will judge as a whole. It runs in a
    thread without the GIL, beside the rest of the analysis; pass the result on."""
    out: dict[SourceFile, Pending] = {}
    for sf in files:
        keys = _whole_candidate(sf)
        if keys is not None:
            out[sf] = (keys, _background().submit(schema_libxml2.judge, sf))
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


def _validate_file(s: Schema, sf: SourceFile) -> list[Diagnostic]:
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
        hit = _known(top, sf) if top.end > top.start else None
        if hit is not None:
            for rel, issue in hit:
                out.append(to_diagnostic(sf, _walk(top, rel), issue))
            continue
        if top.end > top.start:
            tops[top] = sf.text[top.start:top.end]
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
    fresh = _validate_capped(s, missed)
    for key, issues in fresh.items():
        if len(_cache) >= MAX_CACHED_UNITS:
            del _cache[next(iter(_cache))]
        _cache[key] = issues
    per_top: dict[Element, list[tuple[tuple[int, ...], Issue]]] = {t: [] for t in tops}
    unchecked = 0
    places: dict[Element, int] = {}  # see _top_of
    for unit, key, issues in looked:
        issues = issues if issues is not None else fresh.get(key)
        if issues is None:  # past the cap of mistakes: not validated, nor remembered
            unchecked += 1
            top, _ = _top_of(unit, tops, places)
            tops.pop(top, None)
            per_top.pop(top, None)
            continue
        if not issues:
            continue
        _place(s, sf, unit, issues, tops, per_top, places, out)
    for top, text in tops.items():
        if top in per_top:
            _remember_top(top.tag, text, tuple(per_top[top]))
            _remember_element(top, tuple(per_top[top]))
    if unchecked:
        out.append(Diagnostic(sf.path, ZERO_RANGE, Severity.WARNING, SUMMARY_CODE,
                              f"schema validation stopped after {MAX_SCHEMA_ISSUES:,} mistakes; {unchecked:,} more "
                              "blocks and nodes were not checked against the schema", data={"dropped": 0}))
    return out


def _unit_of(s: Schema, el: Element) -> Element:
    """The unit whose validation judges `el` (itself when it is one): units are the root and,
    below a unit, the children the schema lets stand as stubs there (see `_key`)."""
    chain = []
    x: Element | None = el
    while x is not None:
        chain.append(x)
        x = x.parent
    chain.reverse()
    unit = chain[0]
    for x in chain[1:]:
        if x.parent is not unit or x.tag not in s.stubs.get(unit.tag, _NO_STUBS):
            break  # inside `unit`, off its spine of units: no deeper one
        unit = x
    return unit


def _units_under(s: Schema, unit: Element) -> list[Element]:
    """The units inside `unit`'s subtree (its stub children, theirs, ...)."""
    out: list[Element] = []
    todo = [unit]
    while todo:
        u = todo.pop()
        stubs = s.stubs.get(u.tag, _NO_STUBS)
        kids = [c for c in u.children if c.tag in stubs]
        out.extend(kids)
        todo.extend(kids)
    return out


def _validate_located(s: Schema, sf: SourceFile, doubt: Doubt) -> list[Diagnostic] | None:
    """The diagnostics of a file in which libxml2 found mistakes at the elements of `doubt`
    only: xmlschema judges the units holding them (an element's own, and its parent's:
    an unexpected child is its parent's mistake there; every unit below an element whose
    subtree libxml2 left unvalidated), the rest is valid as libxml2 said, and the
    top-level units are remembered as `_judge_whole` does for a valid file. None when
    this cannot stand in for validating every unit (xmlschema finds nothing there, the cap
    is met, the root is not the schema's): `_validate_file` judges the file then."""
    root = sf.root
    if root is None or root.tag not in s.globals:
        return None
    suspects: dict[Element, None] = {}
    for el, whole in doubt:
        unit = _unit_of(s, el)
        suspects[unit] = None
        if el.parent is not None:
            suspects[_unit_of(s, el.parent)] = None
        if whole and unit is el:  # (the subtree of an element that is no unit is in its unit's key)
            suspects.update(dict.fromkeys(_units_under(s, unit)))
    keyed = [(unit, _key(s, unit, s.stubs.get(unit.tag, _NO_STUBS), []))
             for unit in sorted(suspects, key=lambda u: u.start)]  # in document order, as _validate_file
    looked = [(unit, key, _cache.get(key)) for unit, key in keyed]
    missed = list(dict.fromkeys(key for _, key, issues in looked if issues is None))
    fresh = _validate_capped(s, missed)
    if len(fresh) < len(missed):
        return None  # past the cap of mistakes: the full path reports that
    _STATS["units"] += len(keyed)
    _STATS["validated"] += len(missed)
    _STATS["located"] += 1
    for key, issues in fresh.items():
        if len(_cache) >= MAX_CACHED_UNITS:
            del _cache[next(iter(_cache))]
        _cache[key] = issues
    root_stubs = s.stubs.get(root.tag, _NO_STUBS)
    tops = {top: sf.text[top.start:top.end] for top in root.children
            if top.tag in root_stubs and top.end > top.start}
    per_top: dict[Element, list[tuple[tuple[int, ...], Issue]]] = {t: [] for t in tops}
    places: dict[Element, int] = {}  # see _top_of
    out: list[Diagnostic] = []
    for unit, key, issues in looked:
        issues = issues if issues is not None else fresh[key]
        if not issues:
            continue
        _place(s, sf, unit, issues, tops, per_top, places, out)
    if not out:
        return None  # libxml2 and xmlschema disagree here: every unit is judged
    for top, text in tops.items():
        _remember_top(top.tag, text, tuple(per_top[top]))
        _remember_element(top, tuple(per_top[top]))
    if root not in suspects:
        _valid_roots.add(_shell(sf))
    return out


def _validate_capped(s: Schema, keys: list[Key]) -> dict[Key, tuple[Issue, ...]]:
    """The issues of `keys`, validated in chunks until MAX_SCHEMA_ISSUES are found (a flood
    of distinct mistakes costs the cap, not the file); keys past it are left out."""
    fresh: dict[Key, tuple[Issue, ...]] = {}
    found = 0
    for start in range(0, len(keys), VALIDATION_CHUNK):
        chunk = keys[start:start + VALIDATION_CHUNK]
        for key, issues in zip(chunk, _validate_units(s, chunk)):
            fresh[key] = issues
            found += len(issues)
        if found >= MAX_SCHEMA_ISSUES:
            break
    return fresh


def _remember_top(tag: str, text: str, issues: tuple[tuple[tuple[int, ...], Issue], ...]) -> None:
    global _text_chars
    key = (tag, text)
    if key not in _text_cache:
        _text_chars += len(text)
    _text_cache[key] = issues
    while len(_text_cache) > MAX_CACHED_UNITS or (_text_chars > MAX_CACHED_CHARS and len(_text_cache) > 1):
        old = next(iter(_text_cache))  # the oldest first
        del _text_cache[old]
        _text_chars -= len(old[1] or "")


def _place(s: Schema, sf: SourceFile, unit: Element, issues: tuple[Issue, ...], tops: dict[Element, str],
           per_top: dict[Element, list], places: dict[Element, int], out: list[Diagnostic]) -> None:
    """A unit's issues as diagnostics at their elements, and remembered under its top-level unit."""
    index = _key_children(s, unit) if any(i.path for i in issues) else None
    top, rel = _top_of(unit, tops, places)
    for issue in issues:
        path = issue.path if index is None or not issue.path else (index[issue.path[0]], *issue.path[1:])
        out.append(to_diagnostic(sf, _walk(unit, path), issue))
        if top is not None and top in per_top:
            per_top[top].append((rel + path, issue))


def _walk(el: Element, path: tuple[int, ...]) -> Element:
    for i in path:
        el = el.children[i]
    return el


def _top_of(unit: Element, tops: dict[Element, str], index: dict[Element, int]) -> tuple[Element | None, tuple[int, ...]]:
    """The top-level unit containing `unit`, and the child-index path from it to `unit`.
    `index`: each child's place among its siblings, filled a parent at a time (a block of
    30,000 nodes is counted once, not once per node)."""
    rel: list[int] = []
    el = unit
    while el is not None and el not in tops:
        parent = el.parent
        if parent is None:
            return None, ()
        if el not in index:
            index.update((c, i) for i, c in enumerate(parent.children))
        rel.append(index[el])
        el = parent
    return el, tuple(reversed(rel))


def validate_files(files: Iterable[SourceFile], verdicts: dict[SourceFile, Pending] | None = None,
                   ) -> list[Diagnostic]:
    """Schema diagnostics for each file's recovered tree (files without a root are skipped).
    `verdicts`: what `prejudge` started for these files."""
    out: list[Diagnostic] = []
    verdicts = verdicts or {}
    with LOCK:
        for sf in files:
            done = _by_file.get(sf)
            if done is None or done[0] is not sf.text:
                valid, doubt = _judge_whole(sf, verdicts.get(sf))
                found = None if valid or not doubt else _validate_located(get_schema(), sf, doubt)
                if found is None and not valid:
                    found = _validate_file(get_schema(), sf)
                done = (sf.text, tuple(found or ()))
                _by_file[sf] = done
            out.extend(done[1])
    out.sort(key=lambda d: (d.file, d.range.start))
    return out


def cache_info() -> dict[str, int]:
    """Units seen and units actually validated since start, and units cached now."""
    return {**_STATS, "cached": len(_cache)}


def warm_up(files: Iterable[SourceFile] = ()) -> None:
    """Build the xmlschema model (and the root units of `files`) ahead of the first edit;
    the language server calls this in the background once it has published. A huge file
    (more than WARM_UP_MAX_ELEMENTS) is left to its first edit: warming it would hold the
    interpreter for seconds while the user hovers."""
    s = get_schema()
    schema_docs()
    with LOCK:
        for sf in files:
            if sf.root is not None and sf.root.tag in s.globals and len(sf.all) <= WARM_UP_MAX_ELEMENTS:
                _validate_file(s, sf)


def clear_cache() -> None:
    """Forget validated units (for measurements and tests)."""
    global _text_chars
    with LOCK:
        _valid_roots.clear()
        _cache.clear()
        _text_cache.clear()
        _by_element.clear()
        _candidates.clear()
        _text_chars = 0
        _by_file.clear()
        s = loaded_schema()
        if s is not None:
            s.memo.clear()


__all__ = ["prejudge", "validate_files", "cache_info", "warm_up", "clear_cache", "schema_docs", "get_schema",
           "Pending", "Key", "MAX_CACHED_UNITS", "MAX_CACHED_CHARS", "WHOLE_FILE_MIN_UNITS"]
