"""xmlschema's errors → `Issue`s: what is wrong, said in the markup's terms, with a fix.

An issue is relative to its unit (a child-index path from the unit's root), so it can be
cached with the unit and mapped to a range wherever the unit stands (`ranges.py`).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from agrippa.base.suggest import closest
from agrippa.base.text import clip
from agrippa.sema.schema.model import Schema, doc_of, enumeration

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


@dataclass(frozen=True, slots=True)
class Issue:
    """A schema error relative to its unit: where (child-index path) and what."""

    path: tuple[int, ...]
    code: str
    message: str
    target: str = "tag"  # tag | value | name | text
    attr: str | None = None
    fix: tuple[str, str, str | None, str] | None = None  # (title, target, attr, new text)


def issue_of(s: Schema, err: Any, paths: dict[ET.Element, tuple[int, ...]]) -> Issue:
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
        return Issue(path, "schema-missing-element", f"<{tag}> needs {wanted}")
    if "character data" in reason:
        hint = "; put notes in a <desc>" if "desc" in _allowed_children(s, tag) else ""
        return Issue(path, "schema-unexpected-text", f"text is not allowed in <{tag}>{hint}", "text")
    m = _MISSING_ATTR_RE.search(reason)
    if m:
        return _missing_attribute(s, tag, m.group(1), elem, path)
    m = _NOT_ALLOWED_RE.search(reason)
    if m:
        name = m.group(1) or m.group(2)
        return Issue(path, "schema-unknown-attribute", f"<{tag}> has no attribute '{name}'", "name", name)
    m = _BAD_VALUE_RE.match(reason)
    if m and elem is not None and m.group(1) in elem.attrib:
        return _bad_value(s, tag, m.group(1), elem.attrib[m.group(1)], path)
    return Issue(path, "schema-invalid", reason.rstrip(".") or f"<{tag}> is not valid here")


def _allowed_children(s: Schema, tag: str) -> list[str]:
    return s.children.get(tag, [])


def _unexpected_child(s: Schema, parent: str, tag: str, path: tuple[int, ...]) -> Issue:
    if tag in s.contexts:
        homes = s.parents.get(tag, [])
        if not homes:
            where = "it can only be the root element"
        else:
            names = [f"<{h}>" for h in dict.fromkeys(homes)]
            where = "put it in a " + (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0])
        return Issue(path, "schema-unexpected-element", f"<{tag}> is not allowed inside <{parent}>; {where}")
    allowed = _allowed_children(s, parent)
    guess = closest(tag, allowed) or closest(tag, list(s.contexts))
    if guess:
        return Issue(path, "schema-unknown-element", f"<{tag}> is not an Agrippa element; did you mean <{guess}>?",
                      fix=(f"Change to <{guess}>", "tag", None, guess))
    listed = ", ".join(f"<{a}>" for a in allowed)
    if listed:
        tail = f"; <{parent}> may contain {listed}"
    else:
        tail = f"; <{parent}> holds text only" if parent in s.mixed else f"; <{parent}> has no children"
    return Issue(path, "schema-unknown-element", f"<{tag}> is not an Agrippa element{tail}")


def _missing_attribute(s: Schema, tag: str, name: str, elem: ET.Element | None,
                       path: tuple[int, ...]) -> Issue:
    unknown = [a for a in (elem.attrib if elem is not None else ())
               if all(d is None for d in s.attribute_decls(tag, a))]
    typo = closest(name, unknown)
    if typo:
        return Issue(path, "schema-missing-attribute",
                      f"<{tag}> needs the attribute '{name}' (is '{typo}' a typo?)", attr=name,
                      fix=(f"Rename '{typo}' to '{name}'", "name", typo, name))
    return Issue(path, "schema-missing-attribute", f"<{tag}> needs the attribute '{name}'", attr=name,
                  fix=(f"Add {name}=\"\"", "insert", None, f' {name}=""'))


def _bad_value(s: Schema, tag: str, name: str, value: str, path: tuple[int, ...]) -> Issue:
    decl = next((a for a in s.attribute_decls(tag, name) if a is not None), None)
    xsd_type = decl.type if decl is not None else None
    choices = [v for v, _ in enumeration(xsd_type)] if xsd_type is not None else []
    fix = None
    if choices:
        expected = (f"'{choices[0]}' or '{choices[1]}'" if len(choices) == 2
                    else "one of " + ", ".join(choices))
        low = value.strip().lower()
        best = _YES_NO_SYNONYMS.get(low) if set(choices) == {"yes", "no"} else None
        if best is None:
            best = closest(low, choices)
        if best is not None:
            fix = (f"Change to '{best}'", "value", name, best)
    elif not value.strip():
        return Issue(path, "schema-bad-value", f"{name} must not be empty", "value", name)
    else:
        type_name = getattr(xsd_type, "local_name", None) or ""
        expected = _EXPECTED.get(type_name) or (doc_of(xsd_type).rstrip(".") or "valid").lower()
        bare = _BARE_NAME_RE.search(value) if type_name in ("dimList", "numberList") else None
        if bare:
            return Issue(path, "schema-bad-value", f"{name} must be {expected}, got '{clip(value, 40)}'; "
                          f"write var({bare.group(1)}) to use a binding", "value", name)
    return Issue(path, "schema-bad-value", f"{name} must be {expected}, got '{clip(value, 40)}'", "value", name, fix)
