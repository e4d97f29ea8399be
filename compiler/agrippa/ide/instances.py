"""Shapes per sourced-block instance, for hover and inlay hints.

A file sourced several times (`down_attn`, `up_attn`, `cross_attn`) has one tensor per
instance for each of its names, and the shapes may differ by instance: they are then
listed labelled by instance ("up_attn: [32, 64] · down_attn: [8, 64]"), never under one
label. A tensor belongs to the instance whose prefix its markup name carries.
"""
from __future__ import annotations

from collections.abc import Callable

from agrippa.sema.ir import Graph, Instance, Tensor

SEP = " · "
MAX_LISTED = 6  # instances listed before "…"


def file_instances(graph: Graph, path: str) -> list[Instance]:
    """The instances of markup file `path` (none for the index or a file sourced nowhere)."""
    return graph.instances_of(path) if graph.instances else []


def instance_of(t: Tensor, names: dict[str, Instance]) -> str | None:
    """The name of the instance (of `names`, by name) tensor `t` belongs to: the longest
    prefix of its markup name that names one."""
    logical = t.logical
    k = logical.rfind("$")
    while k > 0:
        if logical[:k] in names:
            return logical[:k]
        k = logical.rfind("$", 0, k)
    return None


def by_instance(graph: Graph, path: str, tensors: list[Tensor],
                instances: list[Instance] | None = None) -> list[tuple[str, list[Tensor]]] | None:
    """`tensors` grouped by instance in expansion order, when `path` (whose instances are
    `instances`, when known) is sourced more than once; None otherwise (one context:
    nothing to label)."""
    if instances is None:
        instances = file_instances(graph, path)
    if len(instances) < 2:
        return None
    names = {i.name: i for i in instances}
    groups: dict[str, list[Tensor]] = {n: [] for n in names}
    for t in tensors:
        name = instance_of(t, names)
        if name is not None:
            groups[name].append(t)
    return [(k, v) for k, v in groups.items() if v]


def labelled(groups: list[tuple[str, str]], quote: Callable[[str], str] = str) -> str:
    """`[8, 64]` when every instance says the same, else `a: [8, 64] · b: [32, 64]`."""
    texts = list(dict.fromkeys(text for _, text in groups))
    if len(texts) == 1:
        return quote(texts[0])
    shown = [f"{name}: {quote(text)}" for name, text in groups[:MAX_LISTED]]
    return SEP.join(shown) + (f"{SEP}…" if len(groups) > MAX_LISTED else "")
