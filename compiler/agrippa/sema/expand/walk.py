"""The index file's top-level elements walked as units: each replayed from the previous
analysis when nothing it read changed, else expanded again while its log is kept
(`units.py` says how)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from agrippa.sema.expand.definitions import MAX_NODES, MAX_SOURCED
from agrippa.sema.expand.options import Options
from agrippa.sema.expand.scope import Scope
from agrippa.sema.expand.splice import Splice
from agrippa.sema.expand.units import (
    GRAPH_MAPS,
    GRAPH_STATES,
    HINTED,
    MADE,
    MISSING,
    STATES,
    TENSORS_MAP,
    USERS,
    Adopter,
    Frozen,
    Recorder,
    Tracked,
    TrackedCounter,
    TrackedMap,
    Unit,
    owned_list,
    rebuild_lists,
)
from agrippa.syntax.tree import Element


class UnitWalk(Splice):
    """The units of one expansion, and the previous expansion's to replay."""

    def __init__(self, ex: Any, options: Options):  # ex: the Expander walking (expander.py), never kept:
        self.rec: Recorder | None = None
        self.separable = True
        self.units: list[Unit] = []
        self.expanded: list[Unit] = []  # units expanded (not replayed) by this walk
        self.replayed: set[int] = set()  # ids of the previous analysis' units replayed
        self.base_graph: Any = None
        self.synced = False  # the units after the edit were taken as they were (`walk`): so is the state
        self.patch: dict[int, set] | None = None  # keys the edited units left otherwise, by state
        self.maps_filled = False  # the element maps hold the units before the edit (`_fill_maps`)
        self.partial: Recorder | None = None  # the log of a unit whose expansion was stopped midway
        self.spliced: list[dict] = []  # the previous analysis' element maps, edited in place (`_splice_maps`)
        defs, graph = ex.defs, ex.graph
        tracked: list[Any] = []
        for k, name in enumerate(STATES):
            d = Tracked(k) if name == "current" else TrackedCounter(k)
            setattr(defs, name, d)
            tracked.append(d)
        for k, name in enumerate(GRAPH_STATES, len(STATES)):
            d = Tracked(k)
            setattr(graph, name, d)
            tracked.append(d)
        for k, name in enumerate(GRAPH_MAPS, len(STATES) + len(GRAPH_STATES)):
            d = TrackedMap(k)
            setattr(graph, name, d)
            tracked.append(d)
        self.states = tracked
        base = options.base
        self._base: dict[Element, Unit] | None = None  # the previous units by element, made when needed
        self.adopter: Adopter | None = None
        self.shift = options.shift
        if base is not None and base.units is not None and not base.consumed:
            base.consumed = True  # its objects are taken over from here on
            self.base_units = base.units
            self.base_graph = base
            self.adopter = defs.adopter = Adopter(dict(base.tensors), dict(base.params))

    # -- one unit ------------------------------------------------------------------------------
    def unit(self, ex: Any, scope: Scope, el: Element) -> None:
        if self._base is None:
            self._base = {u.element: u for u in self.base_units} if self.base_graph is not None else {}
        u = self._base.get(el)
        if u is not None:
            diags = self._replayable(ex, u)
            if diags is not None:
                self._replay(ex, u, diags)
                return
        self._expand(ex, scope, el)

    def _expand(self, ex: Any, scope: Scope, el: Element) -> None:
        if ex.opt.cancel is not None:
            ex.opt.cancel()  # a newer edit made this walk outdated: it raises (`walk` undoes it)
        graph, rep = ex.graph, ex.reporter
        n0, i0, o0, d0 = len(graph.nodes), len(graph.inputs), len(graph.outputs), len(rep.diagnostics)
        c0, k0, complete = ex.concat_count, ex.instances, graph.complete
        graph.complete = True
        rep.unit_start = d0
        rec = self.rec = self.partial = ex.defs.rec = Recorder()
        for d in self.states:
            d.rec = rec
        try:
            ex.child(scope, el, True)
            self.partial = None
        finally:
            for d in self.states:
                d.rec = None
            self.rec = ex.defs.rec = None
            unit_complete = graph.complete
            graph.complete = complete and unit_complete
        states = self.states
        present: dict[int, dict] = {}
        absent: dict[int, set] = {}
        for (sid, key), v in rec.reads.items():
            if v is MISSING:
                absent.setdefault(sid, set()).add(key)
            else:
                present.setdefault(sid, {})[key] = v
        writes: dict[int, dict] = {}
        deleted = []
        made: set[int] = set()
        for sid, key in rec.written:
            v = dict.get(states[sid], key, MISSING)
            if v is MISSING:
                deleted.append((sid, key))
            else:
                writes.setdefault(sid, {})[key] = v
                if sid in MADE:
                    made.add(id(v))
        own: dict[int, dict] = {}
        shared = []
        root = el.parent
        for (mid, key), n in rec.touched.items():
            items = dict.get(states[mid], key)
            if items is None or len(items) <= n:
                continue
            if n == 0 and _top(key) is root:  # an element of this unit: no other unit touches it
                own.setdefault(mid, {})[key] = Frozen(items)
            else:
                shared.append((mid, key, items[n:]))
        u = Unit(el, list(present.items()), [(k, frozenset(v)) for k, v in absent.items()], list(writes.items()),
                 deleted, list(own.items()), shared, rec.appends, frozenset(id(o) for o, _, _ in rec.appends),
                 graph.nodes[n0:], graph.inputs[i0:], graph.outputs[o0:], rep.diagnostics[d0:], rec.files, made,
                 (c0, ex.concat_count), ex.instances - k0, unit_complete, rec.volatile,
                 frozenset(rec.reads.keys() | rec.written.keys()),
                 tuple(key for (mid, key) in rec.touched if mid == TENSORS_MAP and key.tag in HINTED
                       and ("dim" in key.attrs or "dims" in key.attrs) and dict.get(states[mid], key)))
        self.units.append(u)
        self.expanded.append(u)

    def _replayable(self, ex: Any, u: Unit) -> list | None:
        """The unit's diagnostics (moved by the edit) when it can be replayed here, else None."""
        if u.volatile:
            return None
        states = self.states
        for sid, reads in u.present:
            if not reads.items() <= states[sid].items():
                return None
        for sid, keys in u.absent:
            if not states[sid].keys().isdisjoint(keys):
                return None
        cache = ex._file_cache
        for path, sf in u.files.items():
            if cache.get(path) is not sf:
                return None
        if u.concat[0] != u.concat[1] and u.concat[0] != ex.concat_count:
            return None
        a = self.adopter
        if a is not None and a.taken:
            if not u.made.isdisjoint(a.taken):
                return None
            if a.changed:  # it read a tensor or parameter made anew differently
                for sid, reads in u.present:
                    if sid in MADE and not a.changed.isdisjoint(map(id, reads.values())):
                        return None
        if not u.diagnostics or self.shift is None:
            return u.diagnostics
        return self.shift(u.diagnostics)

    def _replay(self, ex: Any, u: Unit, diags: list) -> None:
        graph = ex.graph
        states = self.states
        for sid, w in u.writes:
            dict.update(states[sid], w)
        for sid, key in u.deleted:
            dict.pop(states[sid], key, None)
        for mid, items in u.own:
            dict.update(states[mid], items)
        for mid, key, items in u.shared:
            m = states[mid]
            cur = dict.get(m, key)
            dict.__setitem__(m, key, cur + items if cur else list(items))
        graph.nodes.extend(u.nodes)
        graph.inputs.extend(u.inputs)
        graph.outputs.extend(u.outputs)
        if diags:
            ex.reporter.replay(diags)
        if u.concat[0] != u.concat[1]:
            ex.concat_count = u.concat[1]
        ex.instances += u.instances
        graph.complete = graph.complete and u.complete
        a = self.adopter
        if a is not None and a.taken and not u.owners.isdisjoint(a.taken):
            taken = a.taken  # lists of objects made anew start empty: this unit's items again
            for obj, which, item in u.appends:
                if id(obj) in taken:
                    owned_list(obj, which).append(item)
        self.replayed.add(id(u))
        self.units.append(u if diags is u.diagnostics else replace(u, diagnostics=diags))

    # -- the end ---------------------------------------------------------------------------------
    def finish(self, ex: Any) -> None:
        """Lists of earlier objects that units expanded again (or dropped) appended to are
        rebuilt; the state goes back to plain dicts; the units are kept when separable."""
        graph, defs = ex.graph, ex.defs
        if self.adopter is not None:
            taken = self.adopter.taken
            kept = self.replayed
            owners: dict[int, Any] = {}  # parameters whose declarations a unit made again (or dropped)
            for u in self.base_units:
                if id(u) not in kept:
                    for obj, which, item in u.appends:
                        if id(obj) in taken:
                            continue
                        if which == USERS:  # its reader is gone (a unit made again appended anew)
                            if item in obj.users:
                                obj.users.remove(item)
                        else:
                            owners[id(obj)] = obj
            for u in self.expanded:
                for obj, which, _ in u.appends:
                    if which != USERS and id(obj) not in taken and id(obj) not in u.made:
                        owners[id(obj)] = obj
            if owners:  # in unit order, as a full expansion lists them
                rebuild_lists(self.units, owners)
        if self.synced:  # the state is the previous analysis' own (taken over), with the edit's differences
            base = self.base_graph
            finals = [base.expansion_state[name] for name in STATES] + [getattr(base, n) for n in GRAPH_STATES]
            self._patch(finals)
            for name, d in zip(STATES, finals):
                setattr(defs, name, d)
            for name, d in zip(GRAPH_STATES, finals[len(STATES):]):
                if name != "files":  # the index file's entry is this parse's
                    setattr(graph, name, d)
            files = dict(base.files)
            files[graph.index] = dict.get(graph.files, graph.index)
            graph.files = files
        else:
            for name in (*STATES, *GRAPH_STATES):
                setattr(graph if name in GRAPH_STATES else defs, name, dict(getattr(graph if name in GRAPH_STATES
                                                                                     else defs, name)))
        for k, name in enumerate(GRAPH_MAPS):
            setattr(graph, name, self.spliced[k] if self.spliced else dict(getattr(graph, name)))
        graph.expansion_state = {**{name: getattr(defs, name) for name in STATES},
                                 "concat": ex.concat_count, "instances": ex.instances}
        graph.unit_special = [i for i, u in enumerate(self.units) if u.volatile or u.files]
        graph.unit_shared = any(u.shared for u in self.units)
        separable = (self.separable and defs.separable and not ex.reporter.crossed and not ex.reporter._summaries
                     and len(graph.nodes) <= MAX_NODES // 2 and ex.instances <= MAX_SOURCED // 2)
        graph.units = self.units if separable else None
        graph.expanded = [u.element for u in self.expanded] if self.adopter is not None else None
        graph.adopted = self.adopter.before() if self.adopter is not None else None


def _top(el: Element) -> Element | None:
    """The root-level element `el` is under: its ancestor whose parent is the file's root."""
    while el.parent is not None and el.parent.parent is not None:
        el = el.parent
    return el.parent

