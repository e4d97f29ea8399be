"""The schema's documentation for completion and hover: for each element, where it may
stand, its children and its attributes with their types and allowed values."""
from __future__ import annotations

from typing import Any

from agrippa.sema.schema.model import LOCK, doc_of, enumeration, get_schema

_docs: dict[str, Any] | None = None


def _attribute_docs(attrs: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ordered = getattr(attrs, "_attribute_group", attrs)  # declaration order (the public one is sorted)
    for name, a in ordered.items():
        if name is None:
            continue
        values = enumeration(a.type)
        out[name] = {
            "name": name,
            "required": a.use == "required",
            "doc": doc_of(a) or doc_of(a.type),
            "type": getattr(a.type, "local_name", None) or "",
            "type_doc": doc_of(a.type),
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
    s = get_schema()
    with LOCK:
        if _docs is not None:
            return _docs
        docs: dict[str, Any] = {}
        for tag, ctx in s.contexts.items():
            contexts: dict[str, Any] = {}
            merged: dict[str, dict[str, Any]] = {}
            for parent, decl in ctx:
                attrs = _attribute_docs(decl.type.attributes)
                contexts[parent or ""] = {
                    "doc": doc_of(decl) or (doc_of(decl.ref) if decl.ref is not None else ""),
                    "children": [c.local_name for c in s.child_decls(decl)],
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
