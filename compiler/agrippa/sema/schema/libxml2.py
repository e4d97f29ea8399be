"""The whole-file verdict of libxml2 on `resources/agrippa.xsd`: one C call that says
whether a file is valid, without building xmlschema's model of the XSD.

A file just opened is usually valid, and validating it unit by unit in Python costs
tens of milliseconds for a large model; libxml2 answers in a few. It only ever answers
"valid" or "look closer": where a file is invalid, `validate.py`'s unit-by-unit
validation finds each mistake and its exact range. libxml2 releases the GIL while it
parses and validates.

The file is validated while it is parsed (a parser bound to the schema), not as a tree
afterwards: lxml gives each error of a tree validation its element's path, found by
counting siblings, so 30,000 mistakes in one block cost seconds (quadratic); while
parsing, the verdict costs one linear pass whatever the file holds.

That pass says how many mistakes there are, but not where. When they are few, a tree
validation finds their elements' paths (`/model/block[2]/node[7]`) at a bounded cost, and
`validate.py` runs xmlschema only on the units holding them, not on a whole large file.
"""
from __future__ import annotations

import importlib.resources
import re
import threading
from typing import Any

from lxml import etree

from agrippa.syntax.tree import Element, SourceFile

# entities are never resolved, nothing is fetched, no DTD is loaded (and the files that
# reach here parsed without a diagnostic, so they have no DOCTYPE at all)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True)
_lock = threading.Lock()
_validator: Any = False  # False: not loaded yet; None: libxml2 refused the XSD
_schema: Any = None  # the XSD as libxml2 loaded it, for tree validation (locating mistakes)
LOCATE_MAX = 200  # mistakes libxml2 may report for their places to be looked up
LOCATE_WORK = 10_000_000  # bound on mistakes x elements (each path counts its element's siblings)
_STEP_RE = re.compile(r"([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\[([0-9]+)\])?")


def _load() -> Any:
    """A parser that validates against the XSD as it reads (None if libxml2 refused it)."""
    global _validator
    if _validator is False:
        try:
            res = importlib.resources.files("agrippa").joinpath("resources/agrippa.xsd")
            schema = etree.XMLSchema(etree.fromstring(res.read_bytes(), _PARSER))
            global _schema
            _schema = schema
            _validator = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                         remove_comments=True, schema=schema)
        except Exception:  # noqa: BLE001 - the unit path does all the work then
            _validator = None
    return _validator


def is_valid(sf: SourceFile) -> bool:
    """True when libxml2 finds the whole file valid; False on an error or any doubt.

    Only a file that parsed without any syntax diagnostic is judged.
    """
    return judge(sf, locate=False)[0]


Steps = tuple[tuple[str, int], ...]
"""An element's place in the tree: (tag, n) from the root down, n counting from 1 among the
siblings of that tag (libxml2's paths: `/model/block[2]/node` is (("model", 1), ("block",
2), ("node", 1)))."""


def judge(sf: SourceFile, locate: bool = True) -> tuple[bool, list[tuple[Steps, bool]] | None]:
    """libxml2's verdict on the whole file: (True, None) when valid; (False, places) when it
    found a few mistakes, `places` holding each mistake's element and whether its whole
    subtree is in doubt (libxml2 did not validate it); (False, None) on any doubt, or when
    the mistakes are too many to look up (each costs a count of its element's siblings).

    After an element a content model does not expect, libxml2 validates neither it nor
    its following siblings; such an element is taken out of the tree and the rest
    validated again, until no mistake leaves anything unvalidated.

    Only a file that parsed without any syntax diagnostic is judged.
    """
    if sf.diagnostics or sf.root is None:
        return False, None
    text = sf.text
    if text.startswith("<?xml"):  # a declared encoding means nothing to a decoded str
        end = text.find("?>")
        if end < 0:
            return False, None
        text = " " * (end + 2) + text[end + 2:]
    with _lock:  # one parser (and validation context) for every thread
        validator = _load()
        if validator is None:
            return False, None
        try:
            etree.fromstring(text, validator)
            return True, None
        except Exception:  # noqa: BLE001 - invalid, or any parser complaint: look closer
            pass
        if not locate:
            return False, None
        errors = validator.error_log
        limit = min(LOCATE_MAX, LOCATE_WORK // max(1, len(sf.all)))
        if not 0 < len(errors) <= limit or any(e.domain != etree.ErrorDomains.SCHEMASV for e in errors):
            return False, None  # many mistakes, or not only the schema's: judged unit by unit
        rounds = max(2, min(_ROUNDS, LOCATE_ELEMENTS // max(1, len(sf.all))))
        try:
            return False, _locate(etree.fromstring(text, _PARSER), limit, rounds)
        except Exception:  # noqa: BLE001 - any doubt: judged unit by unit
            return False, None


# mistakes that concern their element only: libxml2 goes on validating its content and siblings
_LOCAL = frozenset(getattr(etree.ErrorTypes, name, -1) for name in (
    "SCHEMAV_CVC_PATTERN_VALID", "SCHEMAV_CVC_ENUMERATION_VALID", "SCHEMAV_CVC_FACET_VALID",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1", "SCHEMAV_CVC_DATATYPE_VALID_1_2_2", "SCHEMAV_CVC_DATATYPE_VALID_1_2_3",
    "SCHEMAV_CVC_LENGTH_VALID", "SCHEMAV_CVC_MINLENGTH_VALID", "SCHEMAV_CVC_MAXLENGTH_VALID",
    "SCHEMAV_CVC_MININCLUSIVE_VALID", "SCHEMAV_CVC_MAXINCLUSIVE_VALID", "SCHEMAV_CVC_MINEXCLUSIVE_VALID",
    "SCHEMAV_CVC_MAXEXCLUSIVE_VALID", "SCHEMAV_CVC_TOTALDIGITS_VALID", "SCHEMAV_CVC_FRACTIONDIGITS_VALID",
    "SCHEMAV_CVC_COMPLEX_TYPE_4", "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1", "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_3", "SCHEMAV_CVC_ATTRIBUTE_1", "SCHEMAV_CVC_ATTRIBUTE_2",
    "SCHEMAV_CVC_ATTRIBUTE_3", "SCHEMAV_CVC_ATTRIBUTE_4", "SCHEMAV_CVC_AU"))
_ROUNDS = 8  # validations of a tree, its unexpected elements taken out after each
LOCATE_ELEMENTS = 1_000_000  # elements validated in all (a large file gets fewer rounds, at least 2)


def _locate(tree: Any, limit: int, rounds: int) -> list[tuple[Steps, bool]] | None:
    """The places of the mistakes in `tree` (parsed without validation), or None."""
    removed: dict[tuple[Steps, str], list[int]] = {}  # (parent, tag) -> the n of each child taken out
    out: list[tuple[Steps, bool]] = []
    for _ in range(rounds):
        if _schema.validate(tree):
            return out or None
        errors = list(_schema.error_log)
        if len(out) + len(errors) > limit:
            return None
        taken = []
        for e in errors:
            steps = _steps(e.path)
            if steps is None:
                return None
            local = e.type in _LOCAL
            if not local:  # it and its following siblings went unvalidated: take it out, validate again
                if len(steps) < 2:
                    return None
                found = tree.getroottree().xpath(e.path)
                if len(found) != 1:
                    return None
                taken.append((steps, found[0]))
            out.append((_original(steps, removed), not local))
        if not taken:
            return out
        originals = [_original(steps, removed) for steps, _ in taken]
        for el in [el for _, el in taken]:
            el.getparent().remove(el)
        for orig in originals:
            removed.setdefault((orig[:-1], orig[-1][0]), []).append(orig[-1][1])
    return None


def _steps(path: str | None) -> Steps | None:
    """libxml2's path of an element as Steps (in the tree it validated), or None."""
    if not path or not path.startswith("/"):
        return None
    out = []
    for step in path[1:].split("/"):
        m = _STEP_RE.fullmatch(step)
        if m is None:
            return None  # `*` (a namespace), `@name`, `text()`: not located
        out.append((m.group(1), int(m.group(2) or 1)))
    return tuple(out)


def _original(steps: Steps, removed: dict[tuple[Steps, str], list[int]]) -> Steps:
    """`steps`, counted in a tree some elements were taken out of, counted in the original."""
    out: list[tuple[str, int]] = []
    for tag, n in steps:
        for gone in sorted(removed.get((tuple(out), tag), ())):
            if gone <= n:
                n += 1
        out.append((tag, n))
    return tuple(out)


def elements_at(sf: SourceFile, places: list[Steps]) -> list[Element] | None:
    """The elements of `sf`'s tree at `places`, or None when one is not found."""
    root = sf.root
    if root is None:
        return None
    by_tag: dict[int, dict[str, list[Element]]] = {}  # id(parent) -> its children by tag, built once
    out = []
    for steps in places:
        if not steps or steps[0] != (root.tag, 1):
            return None
        el = root
        for tag, n in steps[1:]:
            kids = by_tag.get(id(el))
            if kids is None:
                kids = by_tag[id(el)] = {}
                for c in el.children:
                    kids.setdefault(c.tag, []).append(c)
            same = kids.get(tag, ())
            if n > len(same):
                return None
            el = same[n - 1]
        out.append(el)
    return out
