"""Completion in `agrippa.toml`: table names after `[`, the keys of a table not yet written
(as `key = default` snippets), a key's allowed values after `key = `, true/false for booleans
and, in [bindings] and [profiles.NAME], the names the project's markup binds with var()."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from agrippa.base.diagnostics import Position
from agrippa.project.config import find_index
from agrippa.project.toml_docs import TABLES
from agrippa.project.toml_text import table_lines
from agrippa.project.train_keys import KeySpec, toml_value

from .completion import Completion, Completions, Options
from .host import AnalysisHost
from .index import var_names
from .toml_context import (
    KEY,
    TABLE,
    VALUE,
    Spot,
    choices_of,
    key_spec,
    lines_of,
    spot_at,
    table_doc,
)
from .toml_hover import key_markdown, table_markdown, type_text

TRIGGERS = {"[": (TABLE,), " ": (VALUE,), '"': (VALUE,)}
"""The contexts a trigger character completes in, in agrippa.toml (none elsewhere)."""
MARKUP_SKIPS = ("[",)
"""Trigger characters only agrippa.toml completes on (markup ignores them)."""


def binding_names(host: AnalysisHost, toml_path: str) -> list[str]:
    """The names the project's markup uses in var()/expr(), from the analysis at hand (none
    when the project was not analysed yet); dynamic dims are not bindings."""
    project_dir = os.path.dirname(os.path.abspath(toml_path))
    index = find_index(project_dir, host.config(project_dir))[0]
    a = host.recent_for(index, make=False) if index else None
    if a is None:
        return []
    return [n for n in var_names(host, a) if n not in a.config.dynamic]


def _esc(text: str) -> str:
    """`text` as snippet text (no tab stops in it)."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _table_items(spot: Spot, text: str, line: int, options: Options) -> list[Completion]:
    rng = spot.name_range or spot.range
    others = "\n".join(x for i, x in enumerate(lines_of(text)) if i != line)
    close = "" if spot.closed else "]"
    items = []
    for k, (name, doc, _) in enumerate(TABLES):
        if name != "profiles" and table_lines(others, name) is not None:
            continue  # a table is written once
        t = table_doc(name)
        md = table_markdown(t) if t is not None else None
        if name == "profiles":
            new = "profiles.${1:name}" + close if options.snippets else "profiles." + close
            items.append(Completion("profiles.NAME", "table", rng, new, doc, md, options.snippets, f"{k:02d}",
                                    "profiles."))
        else:
            items.append(Completion(name, "table", rng, name + close, doc, md, sort=f"{k:02d}"))
    return items


def _placeholder(spec: KeySpec) -> str:
    """The snippet of a key's value: a choice of its allowed values, else its default or example."""
    choices = choices_of(spec) if spec.type != "array" else ()
    if choices:
        opts = ",".join(toml_value(c).replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|") for c in choices)
        return "${1|" + opts + "|}"
    return "${1:" + _esc(_value_text(spec)) + "}"


def _value_text(spec: KeySpec) -> str:
    return toml_value(spec.default) if spec.default is not None else spec.example


def _key_items(spot: Spot, options: Options, names: Callable[[], Sequence[str]]) -> list[Completion]:
    t = table_doc(spot.table)
    if t is None:
        return []
    present = set(spot.present)
    specs: list[KeySpec] = list(t.keys)
    if t.bindings:
        specs = [s for s in (key_spec(spot.table, n) for n in names() if n not in present) if s is not None]
    items = []
    for k, spec in enumerate(specs):
        if spec.name in present:
            continue
        if spot.has_value:
            new, snippet = spec.name, False
        elif t.bindings:
            new, snippet = (f"{spec.name} = $1", True) if options.snippets else (f"{spec.name} = ", False)
        elif options.snippets:
            new, snippet = f"{spec.name} = {_placeholder(spec)}", True
        else:
            new, snippet = f"{spec.name} = {_value_text(spec)}", False
        detail = "binding: var(" + spec.name + ")" if t.bindings else f"{type_text(spec)} = {spec.default_repr}"
        kind = "var" if t.bindings else "key"
        items.append(Completion(spec.name, kind, spot.range, new, detail, key_markdown(spot.table, spec), snippet,
                                f"{k:03d}"))
    return items


def _value(v: Any, kind: str, detail: str) -> tuple[str, str | None, str, str]:
    """(TOML text, the bare string for inside quotes or None, kind, detail) of a value."""
    return toml_value(v), v if isinstance(v, str) else None, kind, detail


def _value_items(spot: Spot, names: Callable[[], Sequence[str]]) -> list[Completion]:
    spec = key_spec(spot.table, spot.key)
    if spec is None:
        return []
    default = toml_value(spec.default) if spec.default is not None else None
    values = []
    if spec.type == "array" and not spot.in_array:
        values = [_value(spec.default, "value", "default")] if spec.default else []
    elif spec.type == "boolean":
        values = [_value(True, "value", "boolean"), _value(False, "value", "boolean")]
    elif choices_of(spec):
        values = [_value(c, "enum", spec.name) for c in choices_of(spec)]
    elif spot.key.endswith("dynamic") and spot.in_array:
        values = [_value(n, "var", "a name used in var()") for n in names()]
    elif default is not None and not spot.in_array:
        values = [_value(spec.default, "value", "default")]
    elif spec.example and not spot.in_array:  # no default: the example, as written
        values = [(spec.example, None, "value", "example")]
    items = []
    for k, (shown, bare, kind, detail) in enumerate(values):
        if spot.quoted and bare is None:
            continue
        new = bare + ("" if spot.closed else '"') if spot.quoted and bare is not None else shown
        detail += " (default)" if shown == default and detail != "default" else ""
        items.append(Completion(shown, kind, spot.range, new, detail, sort=f"{k:03d}", filter_text=bare))
    return items


def toml_complete(text: str, pos: Position, options: Options | None = None,
                  names: Callable[[], Sequence[str]] = lambda: ()) -> Completions | None:
    """Completions at `pos` (code points) of agrippa.toml's current `text`; `names()` gives
    the binding names to offer in [bindings] and [profiles.NAME] (asked only there)."""
    options = options or Options()
    spot = spot_at(text, pos)
    if spot is None or (options.trigger and spot.kind not in TRIGGERS.get(options.trigger, ())):
        return None
    if spot.kind == TABLE:
        return Completions(_table_items(spot, text, pos.line, options))
    if spot.kind == KEY:
        return Completions(_key_items(spot, options, names))
    return Completions(_value_items(spot, names))
