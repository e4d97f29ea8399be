"""Hover in `agrippa.toml`: a table's purpose and keys; a key's type, default, allowed values,
example and documentation; on a value, whether it is one the key allows. Markdown, from
the same key list as the shipped JSON Schema (`project.toml_docs`)."""
from __future__ import annotations

from dataclasses import dataclass

from agrippa.base.diagnostics import Position, Range
from agrippa.project.train_keys import KeySpec, toml_value

from .toml_context import TABLE, VALUE, TableDoc, choices_of, doc_link, key_spec, spot_at, table_doc


@dataclass(frozen=True)
class TomlHover:
    """What a hover shows (as `hover.HoverInfo`): markdown, and the span it is about (None: the cursor)."""

    text: str
    range: Range | None = None


def type_text(spec: KeySpec) -> str:
    """`integer|string` as prose: "integer or string"."""
    return " or ".join(spec.type.split("|"))


def _link(table: str) -> str:
    link = doc_link(table)
    return f"\n\n[{link[0]}]({link[1]})" if link is not None else ""


def key_markdown(table: str, spec: KeySpec) -> str:
    """What a hover (or a completion's documentation) says of key `spec` in `[table]`."""
    t = table_doc(table)
    if t is not None and t.bindings:
        return f"**`{spec.name}`** — binding in `[{table}]`\n\n{spec.doc[:1].upper()}{spec.doc[1:]}." + _link(table)
    where = f" in `[{table}]`" if table else ""
    head = f"**`{spec.name}`** — {type_text(spec)}{where}"
    facts = [f"default: `{spec.default_repr}`" if spec.default is not None else f"default: {spec.default_repr}"]
    choices = choices_of(spec)
    if choices:
        kind = "items from" if spec.type == "array" else "one of"
        facts.append(f"{kind}: " + ", ".join(f"`{toml_value(c)}`" for c in choices))
    if spec.keys:
        facts.append("keys: " + ", ".join(f"`{k.name}`" for k in spec.keys))
    if spec.example:
        facts.append(f"example: `{spec.name} = {spec.example}`")
    body = "\n".join(f"- {f}" for f in facts)
    return f"{head}\n\n{spec.doc[:1].upper()}{spec.doc[1:]}.\n\n{body}" + _link(table)


def table_markdown(t: TableDoc) -> str:
    """What a hover says of `[t.name]`."""
    text = f"**`[{t.name}]`** — {t.doc}"
    if t.keys:
        text += "\n\nKeys: " + ", ".join(f"`{k.name}`" for k in t.keys)
    elif t.bindings:
        text += "\n\nEach key is a binding: `name = value` gives `var(name)` its default value."
    return text + _link(t.name)


def _value_line(spec: KeySpec, value: str, in_array: bool) -> str:
    choices = [str(c) for c in choices_of(spec)]
    if not choices or (spec.type == "array" and not in_array):
        return ""
    if value not in choices:
        return ""  # maybe another form the key allows ("cuda:1"): diagnostics judge it
    return f"`{toml_value(value)}`: one of the values `{spec.name}` allows\n\n---\n\n"


def toml_hover(text: str, pos: Position) -> TomlHover | None:
    """The hover at `pos` of agrippa.toml's `text`, or None where there is nothing to say."""
    spot = spot_at(text, pos)
    if spot is None:
        return None
    rng = spot.range if spot.range.start != spot.range.end else None
    if spot.kind == TABLE:
        t = table_doc(spot.table)
        return TomlHover(table_markdown(t), rng) if t is not None else None
    spec = key_spec(spot.table, spot.key)
    if spec is None:
        return None
    *heads, _ = spot.key.split(".")
    table = ".".join(p for p in (spot.table, *heads) if p)
    prefix = _value_line(spec, spot.value, spot.in_array) if spot.kind == VALUE and spot.value else ""
    return TomlHover(prefix + key_markdown(table, spec), rng)
