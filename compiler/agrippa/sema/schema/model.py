"""The loaded XSD (`resources/agrippa.xsd`) and what validation and completion derive
from it: where each element may stand, its children, the units validation is cut into,
and a memo judging attribute values.

xmlschema (~0.15 s to import, ~0.3 s to load the XSD) is needed only when a file is not
judged valid as a whole by libxml2: it is imported on first use.
"""
from __future__ import annotations

import importlib.resources
import threading
import xml.etree.ElementTree as ET
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xmlschema

_XSD = "{http://www.w3.org/2001/XMLSchema}"
_XSD_STRING, _XSD_BOOLEAN = _XSD + "string", _XSD + "boolean"
MAX_MEMO_VALUES = 500_000

LOCK = threading.RLock()
"""Guards the schema, the validation caches and the documentation (re-entrant)."""
_schema: Schema | None = None


def target_of(particle: Any) -> Any:
    """The declaration an element particle stands for (a reference's global)."""
    return particle.ref if particle.ref is not None else particle


def doc_of(component: Any) -> str:
    ann = getattr(component, "annotation", None)
    if ann is not None and ann.documentation:
        return " ".join((ann.documentation[0].text or "").split())
    return ""


def enumeration(xsd_type: Any) -> list[tuple[str, str]]:
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


class Schema:
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
            for child in self.child_decls(decl):
                queue.append((decl.local_name, child))
        self.parents = {tag: [p for p, _ in ctx if p is not None] for tag, ctx in self.contexts.items()}
        self.children = {tag: list(dict.fromkeys(c.local_name for _, d in ctx for c in self.child_decls(d)))
                         for tag, ctx in self.contexts.items()}
        # Units. The wrapper is a global element whose content is a repeatable choice, so
        # any mix of its particles may stand in it: missed units are validated in one call,
        # side by side inside one wrapper. A unit is a particle of the wrapper with element
        # content (blocks and nodes); inside its parent's unit it is an empty stub, whose
        # own errors are dropped there (they are the unit's, found in its own validation).
        wrappers = [d for d in self.globals.values() if getattr(d.type, "content", None) is not None
                    and getattr(d.type.content, "model", None) == "choice"
                    and d.type.content.max_occurs is None and d.type.content.min_occurs == 0]
        held = [{c.local_name: target_of(c) for c in self.child_decls(w) if self.child_decls(target_of(c))}
                for w in wrappers]
        best = max(range(len(wrappers)), key=lambda i: len(held[i]), default=None)
        self.wrapper: Any = wrappers[best] if best is not None else None
        units = held[best] if best is not None else {}
        self.units: dict[str, Any] = {t: d for t, d in units.items() if self.globals.get(t, d) is d}
        self.stubs: dict[str, frozenset[str]] = {
            tag: frozenset(c.local_name for c in self.child_decls(d) if self.units.get(c.local_name) is target_of(c))
            for tag, d in [*self.globals.items(), *self.units.items()]}
        self.mixed = frozenset(t for t, ctx in self.contexts.items() if all(d.type.mixed for _, d in ctx))
        # units whose children may come in any order and number (a repeatable choice of
        # single elements): there, a run of like stubs is judged as one (a block of 75,000
        # nodes validates two stubs, not 75,000)
        self.free_order = frozenset(tag for tag, d in [*self.globals.items(), *self.units.items()]
                                    if _any_order(d))
        self._policies: dict[tuple[str, str], Any] = {}
        self._canonical: dict[tuple[str, str], str] = {}
        self.memo: dict[tuple[str, str, str], str] = {}
        self._checker = ValueChecker(self.xsd)

    @staticmethod
    def child_decls(decl: Any) -> list[Any]:
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
        out = self.memo.get(memo_key)
        if out is None:
            policy = self._policy(tag, name)
            if policy == "skip":
                out = ""
            elif policy == "keep" or not self._checker.is_valid(policy, value):
                out = value
            else:
                out = self._canonical.setdefault((tag, name), value)
            if len(self.memo) >= MAX_MEMO_VALUES:
                self.memo.clear()
            self.memo[memo_key] = out
        return out


class ValueChecker:
    """Judges one attribute value with xmlschema, reusing one validation context (the
    public `is_valid` builds a new context per call, ~20x slower)."""

    def __init__(self, xsd: xmlschema.XMLSchema10) -> None:
        self.context: Any = None
        self._patterns: dict[int, list[Any] | None] = {}  # id(type) -> its patterns (see _string_patterns)
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
        patterns = self._patterns.get(id(xsd_type), False)
        if patterns is False:
            patterns = self._patterns[id(xsd_type)] = _string_patterns(xsd_type)
        if patterns is not None:  # a string restricted by patterns alone: the regexes decide
            return any(p.match(value) for p in patterns)
        if self.context is not None:
            return self._fast(xsd_type, value)
        return bool(xsd_type.is_valid(value))


def _string_patterns(xsd_type: Any) -> list[Any] | None:
    """The compiled patterns of a restriction of xs:string whose only facets are patterns
    (any one matching makes a value valid, as xmlschema judges it); None for other types."""
    try:
        base = xsd_type.base_type
        if not xsd_type.is_atomic() or not xsd_type.is_restriction() or base is None or base.name != _XSD_STRING:
            return None
        if set(xsd_type.facets) != {_XSD + "pattern"} or getattr(base, "facets", {}).get(_XSD + "pattern"):
            return None
        patterns = list(xsd_type.patterns.patterns)
        return patterns or None
    except AttributeError:  # another xmlschema: judge through it
        return None


def _any_order(decl: Any) -> bool:
    """Whether `decl`'s content is `<choice minOccurs="0" maxOccurs="unbounded">` of
    elements each standing once: any sequence of its children's tags is valid."""
    content = getattr(decl.type, "content", None)
    if content is None or getattr(content, "model", None) != "choice":
        return False
    if content.max_occurs is not None or content.min_occurs != 0:
        return False
    parts = list(content)
    return bool(parts) and all(hasattr(p, "local_name") and p.min_occurs == 1 and p.max_occurs == 1 for p in parts)


def get_schema() -> Schema:
    """The schema, loaded on first use."""
    global _schema
    with LOCK:
        if _schema is None:
            _schema = Schema()
        return _schema


def loaded_schema() -> Schema | None:
    """The schema if it was loaded already (None: nothing to forget)."""
    return _schema
