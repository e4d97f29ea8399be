"""Expansion unit by unit, so that the next analysis reuses what an edit left alone.

Each top-level element of the index file is a *unit*. While a unit is expanded, the state
it shares with the others (the names in scope, the naming counters, the graph's tensors,
parameters and constants, the element maps) is read and written through `Tracked` dicts,
which log to the unit's `Recorder`: the values it read from earlier units (its inputs),
the keys it wrote (its effects), the items it appended to the element maps and to other
units' lists (`users`, `declarations`). The finished `Unit` keeps that log with the nodes
and diagnostics it made.

The next analysis walks the index file again. A unit whose element is the same object
(the incremental parse keeps unchanged elements) and whose logged inputs all read the
same now is *replayed*: its effects are applied and its nodes appended, without
expanding it. Any other unit is expanded again; the tensors and parameters it defines
take over the objects of the previous analysis that had their ONNX names (`Adopter`), so
replayed units that read them stay connected. The previous analysis is consumed: its
objects now belong to the new one.

What one unit cannot see of another (a diagnostic merged across units, a renamed value,
the node budget) makes the expansion not separable: `Graph.units` is None and the next
analysis is a full one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agrippa.base.diagnostics import Diagnostic
from agrippa.sema.ir import Node, Param, Tensor
from agrippa.syntax.tree import Element, SourceFile


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
USERS, DECLARATIONS = 0, 1  # the lists of other units' objects a unit appends to
_LISTS = ("users", "declarations")


class Recorder:
    """The log of one unit's expansion."""

    __slots__ = ("reads", "written", "touched", "appends", "files", "volatile")

    def __init__(self) -> None:
        self.reads: dict[tuple[int, Any], Any] = {}  # (state, key) -> the value read first, from earlier units
        self.written: dict[tuple[int, Any], None] = {}  # (state, key), in the order first written
        self.touched: dict[tuple[int, Any], int] = {}  # (map, key) -> the list's length when first touched
        self.appends: list[tuple[Any, int, Any]] = []  # (object, USERS|DECLARATIONS, item), in order
        self.files: dict[str, SourceFile] = {}  # sourced files read, as parsed
        self.volatile = False  # it read the whole scope (a did-you-mean): never replayed

    def read(self, sid: int, key: Any, value: Any) -> None:
        k = (sid, key)
        if k not in self.written and k not in self.reads:
            self.reads[k] = value


class Tracked(dict):
    """Expansion state shared by units; reads and writes go to the recorder, when there is one."""

    __slots__ = ("rec", "sid")

    def __init__(self, sid: int) -> None:
        super().__init__()
        self.rec: Recorder | None = None
        self.sid = sid

    def get(self, key: Any, default: Any = None) -> Any:
        v = dict.get(self, key, MISSING)
        rec = self.rec
        if rec is not None:
            rec.read(self.sid, key, v)
        return default if v is MISSING else v

    def __contains__(self, key: object) -> bool:
        v = dict.get(self, key, MISSING)
        if self.rec is not None:
            self.rec.read(self.sid, key, v)
        return v is not MISSING

    def __getitem__(self, key: Any) -> Any:
        v = dict.get(self, key, MISSING)
        if self.rec is not None:
            self.rec.read(self.sid, key, v)
        return self.__missing__(key) if v is MISSING else v

    def __missing__(self, key: Any) -> Any:
        raise KeyError(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.rec is not None:
            self.rec.written.setdefault((self.sid, key))
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        if self.rec is not None:
            self.rec.written.setdefault((self.sid, key))
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        if self.rec is not None:
            self.rec.written.setdefault((self.sid, key))
        return dict.pop(self, key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        v = self.get(key, MISSING)
        if v is MISSING:
            self[key] = v = default
        return v


class TrackedCounter(Tracked):
    """A tracked naming counter: a missing key counts 0."""

    __slots__ = ()

    def __missing__(self, key: Any) -> int:
        return 0


class TrackedMap(dict):
    """An element map (element -> list appended to by the walk); the recorder learns each
    key's length when the unit first touches it, so the items the unit added are a tail."""

    __slots__ = ("rec", "sid")

    def __init__(self, sid: int) -> None:
        super().__init__()
        self.rec: Recorder | None = None
        self.sid = sid

    def _touch(self, key: Any, v: Any) -> Any:
        if type(v) is Frozen:  # a replayed unit's items: appended to as a copy
            v = list(v)
            dict.__setitem__(self, key, v)
        if self.rec is not None:
            t = self.rec.touched
            k = (self.sid, key)
            if k not in t:
                t[k] = len(v) if v is not MISSING else 0
        return v

    def get(self, key: Any, default: Any = None) -> Any:
        v = self._touch(key, dict.get(self, key, MISSING))
        return default if v is MISSING else v

    def setdefault(self, key: Any, default: Any = None) -> Any:
        v = self._touch(key, dict.get(self, key, MISSING))
        if v is MISSING:
            dict.__setitem__(self, key, default)
            return default
        return v

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch(key, dict.get(self, key, MISSING))
        dict.__setitem__(self, key, value)


class Frozen(list):
    """Items a replayed unit put in an element map: copied before anything appends to them."""

    __slots__ = ()


@dataclass(eq=False)
class Unit:
    """What expanding one top-level element of the index file did, grouped so that a replay
    is a few dict operations per state."""

    element: Element
    present: list[tuple[int, dict]]  # (state, {key: value read}) of what it read from earlier units
    absent: list[tuple[int, frozenset]]  # (state, keys read that were not there)
    writes: list[tuple[int, dict]]  # (state, {key: final value})
    deleted: list[tuple[int, Any]]  # (state, key) it removed
    own: list[tuple[int, dict]]  # (map, {element of its own: Frozen items})
    shared: list[tuple[int, Any, list]]  # (map, key, items appended) for elements other units touch too
    appends: list[tuple[Any, int, Any]]
    owners: frozenset[int]  # ids of the objects `appends` appends to
    nodes: list[Node]
    inputs: list[Tensor]
    outputs: list[tuple[Tensor, Element]]
    diagnostics: list[Diagnostic]
    files: dict[str, SourceFile]
    made: set[int] = field(default_factory=set)  # ids of the tensors and parameters it created
    concat: tuple[int, int] = (0, 0)  # stretch concat counter at entry and exit
    instances: int = 0  # sourced-block instances it made
    complete: bool = True
    volatile: bool = False
    keys: frozenset = frozenset()  # every (state, key) it read or wrote
    hinted: tuple = ()  # the elements with a dim hint it gave tensors to, in that order


@dataclass
class Adopter:
    """The previous analysis' tensors and parameters, by ONNX name, for a unit expanded
    again to take over (so units replayed after it keep reading the same objects)."""

    tensors: dict[str, Tensor]
    params: dict[str, Param]
    taken: dict[int, Any] = field(default_factory=dict)  # id -> object taken over (kept alive)
    changed: set[int] = field(default_factory=set)  # ids of objects made anew differently (a unit that
    # read one is expanded again: a shared parameter's dims, a value's kind)

    saved: dict[int, tuple] = field(default_factory=dict)  # id -> every field it had (`restore`)

    def tensor(self, name: str, live: dict) -> Tensor | None:
        old = self.tensors.get(name)
        if old is None or id(old) in self.taken or dict.get(live, name) is old:
            return None
        self.taken[id(old)] = old
        self.saved[id(old)] = tuple(getattr(old, f) for f in _TENSOR_FIELDS)
        return old

    def param(self, name: str, live: dict) -> Param | None:
        old = self.params.get(name)
        if old is None or id(old) in self.taken or dict.get(live, name) is old:
            return None
        self.taken[id(old)] = old
        self.saved[id(old)] = tuple(getattr(old, f) for f in _PARAM_FIELDS)
        return old

    def before(self) -> dict[int, tuple]:
        """id -> (name, shape, dtype) each tensor taken over had (shape inference compares)."""
        return {k: (v[0], v[5], v[4]) for k, v in self.saved.items() if isinstance(self.taken[k], Tensor)}

    def restore(self) -> None:
        """Give every object taken over its fields back (an expansion stopped midway)."""
        for k, obj in self.taken.items():
            for f, v in zip(_TENSOR_FIELDS if isinstance(obj, Tensor) else _PARAM_FIELDS, self.saved[k]):
                setattr(obj, f, v)


_TENSOR_FIELDS = ("name", "logical", "origin", "kind", "dtype", "shape", "declared", "producer_ref", "users")
_PARAM_FIELDS = ("name", "logical", "origin", "dims", "dtype", "init", "init_args", "frozen", "shared", "tensor",
                 "declarations")


def owned_list(obj: Any, which: int) -> list:
    return getattr(obj, _LISTS[which])


def rebuild_lists(units: list[Unit], owners: dict[int, Any]) -> None:
    """Rebuild the `users`/`declarations` lists of `owners` from every unit's appends, in
    unit order: exactly what a full expansion makes them."""
    fresh: dict[tuple[int, int], list] = {}
    for u in units:
        for obj, which, item in u.appends:
            if id(obj) in owners:
                fresh.setdefault((id(obj), which), []).append(item)
    for oid, obj in owners.items():
        for which, name in enumerate(_LISTS):
            if hasattr(obj, name):
                setattr(obj, name, fresh.get((oid, which), []))


# the tracked states of a walk, by number (sid): Definitions' and the graph's
STATES = ("current", "name_count", "title_count", "param_count")  # of Definitions, sids 0-3
GRAPH_STATES = ("tensors", "params", "constants", "copies", "sourced", "files")  # sids 4-9
GRAPH_MAPS = ("element_tensors", "element_nodes", "element_params", "instances")  # sids 10-13
MADE = (4, 5, 6)  # the states whose new values are objects a unit made
FILES = 9
TENSORS_MAP = 10  # element_tensors
HINTED = frozenset({"output", "input", "import", "export"})  # tags a dim hint may be on (shapes/hints.py)
ORDERED = (0, 4, 5, 6)  # states whose order shows (scope suggestions, the graph's tensors, parameters)
