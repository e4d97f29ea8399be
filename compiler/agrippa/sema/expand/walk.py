"""The index file's top-level elements walked as units: each replayed from the previous
analysis when nothing it read changed, else expanded again while its log is kept
(`units.py` says how)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from agrippa.sema.expand.definitions import MAX_NODES, MAX_SOURCED
from agrippa.sema.expand.options import Options
from agrippa.sema.expand.scope import Scope
from agrippa.sema.expand.units import (
    MISSING,
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

_STATES = ("current", "name_count", "title_count", "param_count")  # of Definitions, sids 0-3
_GRAPH_STATES = ("tensors", "params", "constants", "copies", "sourced", "files")  # sids 4-9
_GRAPH_MAPS = ("element_tensors", "element_nodes", "element_params", "instances")  # sids 10-13
_MADE = (4, 5, 6)  # the states whose new values are objects a unit made
_FILES = 9
_TENSORS_MAP = 10  # element_tensors
_HINTED = frozenset({"output", "input", "import", "export"})  # tags a dim hint may be on (shapes/hints.py)
_ORDERED = (0, 4, 5, 6)  # states whose order shows (scope suggestions, the graph's tensors, parameters)


class UnitWalk:
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
        self.spliced: list[dict] = []  # the previous analysis' element maps, edited in place (`_splice_maps`)
        defs, graph = ex.defs, ex.graph
        tracked: list[Any] = []
        for k, name in enumerate(_STATES):
            d = Tracked(k) if name == "current" else TrackedCounter(k)
            setattr(defs, name, d)
            tracked.append(d)
        for k, name in enumerate(_GRAPH_STATES, len(_STATES)):
            d = Tracked(k)
            setattr(graph, name, d)
            tracked.append(d)
        for k, name in enumerate(_GRAPH_MAPS, len(_STATES) + len(_GRAPH_STATES)):
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

    # -- the walk ------------------------------------------------------------------------------
    def walk(self, ex: Any, scope: Scope, children: list[Element]) -> None:
        """Every top-level element. With a previous analysis, the units before the edit are
        taken as they are (their effects applied, nothing they read looked at), the edited
        units are expanded, and when these did to the state what their previous versions did
        (but for keys no later unit touches) the units after them are taken as they are too."""
        bu = self.base_units if self.base_graph is not None else None
        plan = self._plan(ex, children, bu) if bu else None
        if plan is None:
            for c in children:
                self.unit(ex, scope, c)
            return
        p, q, diags = plan
        m, n = len(bu), len(children)
        prefix, old, suffix = bu[:p], bu[p:m - q], bu[m - q:]
        self._before_edit(ex, prefix, diags)
        for c in children[p:n - q]:
            self.unit(ex, scope, c)
        new = self.units[p:]
        a = self.adopter
        diff = _differ(_net(old), _net(new))
        j = 0 if a is not None and a.changed or _ints(old) != _ints(new) else _first_touching(suffix, diff)
        if j < len(suffix):  # from there on the state differs: each unit is looked at
            self._fill_maps(prefix)
            self._take(ex, suffix[:j], diags)
            for c in children[n - q + j:]:
                self.unit(ex, scope, c)
            return
        self._after_edit(ex, prefix, old, suffix, diags)
        self.patch = diff
        st = self.base_graph.expansion_state
        ex.concat_count, ex.instances = st["concat"], st["instances"]
        self.synced = True

    def _before_edit(self, ex: Any, prefix: list[Unit], diags: dict) -> None:
        """The state, the graph's lists and the diagnostics the units before the edit left."""
        states = self.states
        own_files = dict(states[_FILES])  # the index file, read before the walk: as parsed now
        for u in prefix:
            self._apply(ex, u)
        dict.update(states[_FILES], own_files)
        graph, base, rep = ex.graph, self.base_graph, ex.reporter
        counts = _lengths(prefix)
        graph.nodes.extend(base.nodes[:counts[0]])
        graph.inputs.extend(base.inputs[:counts[1]])
        graph.outputs.extend(base.outputs[:counts[2]])
        for u in prefix:
            d = diags.get(id(u), u.diagnostics)
            if d:
                rep.replay(d)
            self.units.append(u if d is u.diagnostics else replace(u, diagnostics=d))
        graph.complete = all(u.complete for u in prefix)
        self.replayed.update(map(id, prefix))
        if base.unit_shared:  # elements several units touch: the maps are filled unit by unit
            self._take_maps(prefix)
            self.maps_filled = True

    def _fill_maps(self, prefix: list[Unit]) -> None:
        """The element maps in unit order: the units before the edit's entries, then those the
        edited units made (now in the maps), for the units after them to be added one by one."""
        if self.maps_filled:
            return
        first = len(_STATES) + len(_GRAPH_STATES)
        made = [dict(m) for m in self.states[first:]]
        for m in self.states[first:]:
            dict.clear(m)
        self._take_maps(prefix)
        for m, entries in zip(self.states[first:], made):
            dict.update(m, entries)
        self.maps_filled = True

    def _splice_maps(self, old: list[Unit]) -> None:
        """The previous analysis' element maps, taken over: the entries of the edited units'
        previous versions out, those they made now in (at the end: the maps' order is not
        the units' then, and no reader depends on it)."""
        first = len(_STATES) + len(_GRAPH_STATES)
        for k, name in enumerate(_GRAPH_MAPS):
            whole = getattr(self.base_graph, name)
            for u in old:
                for mid, items in u.own:
                    if mid == first + k:
                        for key in items:
                            dict.pop(whole, key, None)
            dict.update(whole, self.states[first + k])
            self.spliced.append(whole)

    def _after_edit(self, ex: Any, prefix: list[Unit], old: list[Unit], suffix: list[Unit], diags: dict) -> None:
        """The units after the edit, taken as they are: the graph's lists and maps, their
        diagnostics, and the objects they read that were made anew."""
        graph, base, rep = ex.graph, self.base_graph, ex.reporter
        for lst, whole, k in zip((graph.nodes, graph.inputs, graph.outputs), (base.nodes, base.inputs, base.outputs),
                                 _lengths(suffix)):
            if k:
                lst.extend(whole[-k:])
        if self.maps_filled:
            self._take_maps(suffix)
        else:
            self._splice_maps(old)
        a = self.adopter
        taken = a.taken if a is not None else {}
        for u in suffix:
            d = diags.get(id(u), u.diagnostics)
            if d:
                rep.replay(d)
            if taken and not u.owners.isdisjoint(taken):
                for obj, which, item in u.appends:
                    if id(obj) in taken:
                        owned_list(obj, which).append(item)
            self.units.append(u if d is u.diagnostics else replace(u, diagnostics=d))
        graph.complete = graph.complete and all(u.complete for u in suffix)
        self.replayed.update(map(id, suffix))

    def _take_maps(self, units: list[Unit]) -> None:
        first = len(_STATES) + len(_GRAPH_STATES)
        maps = self.states[first:]
        for u in units:
            for mid, items in u.own:
                dict.update(maps[mid - first], items)
            for mid, key, items in u.shared:
                mp = maps[mid - first]
                cur = dict.get(mp, key)
                dict.__setitem__(mp, key, cur + items if cur else list(items))

    def _apply(self, ex: Any, u: Unit) -> None:
        """What unit `u` did to the state, done again."""
        states = self.states
        for sid, w in u.writes:
            dict.update(states[sid], w)
        for sid, key in u.deleted:
            dict.pop(states[sid], key, None)
        if u.concat[0] != u.concat[1]:
            ex.concat_count = u.concat[1]
        ex.instances += u.instances

    def _take(self, ex: Any, units: list[Unit], diags: dict) -> None:
        """Previous units after the edit taken as they are, their effects on the state too
        (the units after them are looked at)."""
        graph, rep = ex.graph, ex.reporter
        a = self.adopter
        taken = a.taken if a is not None else {}
        for u in units:
            self._apply(ex, u)
            graph.nodes.extend(u.nodes)
            graph.inputs.extend(u.inputs)
            graph.outputs.extend(u.outputs)
            d = diags.get(id(u), u.diagnostics)
            if d:
                rep.replay(d)
            graph.complete = graph.complete and u.complete
            if taken and not u.owners.isdisjoint(taken):
                for obj, which, item in u.appends:
                    if id(obj) in taken:
                        owned_list(obj, which).append(item)
            self.replayed.add(id(u))
            self.units.append(u if d is u.diagnostics else replace(u, diagnostics=d))
        self._take_maps(units)

    def _plan(self, ex: Any, children: list[Element], bu: list[Unit]) -> tuple[int, int, dict] | None:
        """(p, q, moved diagnostics): the first p and last q units are the previous ones, and
        can be taken as they are (None: walk unit by unit)."""
        if self.base_graph.expansion_state is None:
            return None
        n, m = len(children), len(bu)
        p = 0
        while p < n and p < m and children[p] is bu[p].element:
            p += 1
        q = 0
        while q < n - p and q < m - p and children[n - 1 - q] is bu[m - 1 - q].element:
            q += 1
        cache = ex._file_cache
        for i in self.base_graph.unit_special or ():
            if i < p or i >= m - q:
                u = bu[i]
                if u.volatile or any(cache.get(path) is not sf for path, sf in u.files.items()):
                    return None
        diags: dict[int, list] = {}
        if self.shift is not None:
            for u in (*bu[:p], *bu[m - q:]):
                if u.diagnostics:
                    d = self.shift(u.diagnostics)
                    if d is None:
                        return None
                    diags[id(u)] = d
        return p, q, diags

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
        graph, rep = ex.graph, ex.reporter
        n0, i0, o0, d0 = len(graph.nodes), len(graph.inputs), len(graph.outputs), len(rep.diagnostics)
        c0, k0, complete = ex.concat_count, ex.instances, graph.complete
        graph.complete = True
        rep.unit_start = d0
        rec = self.rec = ex.defs.rec = Recorder()
        for d in self.states:
            d.rec = rec
        try:
            ex.child(scope, el, True)
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
                if sid in _MADE:
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
                 tuple(key for (mid, key) in rec.touched if mid == _TENSORS_MAP and key.tag in _HINTED
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
                    if sid in _MADE and not a.changed.isdisjoint(map(id, reads.values())):
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

    def _patch(self, finals: list[dict]) -> None:
        """The final state: the previous one, with the keys the edited units left otherwise
        (no later unit touches them). Where keys came or went, a dict whose order matters is
        made again in unit order."""
        diff = self.patch or {}
        for sid, keys in diff.items():
            d, values = finals[sid], self.states[sid]  # the state where the edited units left it
            if sid in _ORDERED and any((dict.get(values, k, MISSING) is MISSING) != (k not in d) for k in keys):
                fresh: dict = {}
                for u in self.units:
                    for s2, w in u.writes:
                        if s2 == sid:
                            fresh.update(w)
                    for s2, key in u.deleted:
                        if s2 == sid:
                            fresh.pop(key, None)
                finals[sid] = fresh
                continue
            for k in keys:
                v = dict.get(values, k, MISSING)
                if v is MISSING:
                    d.pop(k, None)
                else:
                    d[k] = v

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
            finals = [base.expansion_state[name] for name in _STATES] + [getattr(base, n) for n in _GRAPH_STATES]
            self._patch(finals)
            for name, d in zip(_STATES, finals):
                setattr(defs, name, d)
            for name, d in zip(_GRAPH_STATES, finals[len(_STATES):]):
                if name != "files":  # the index file's entry is this parse's
                    setattr(graph, name, d)
            files = dict(base.files)
            files[graph.index] = dict.get(graph.files, graph.index)
            graph.files = files
        else:
            for name in (*_STATES, *_GRAPH_STATES):
                setattr(graph if name in _GRAPH_STATES else defs, name, dict(getattr(graph if name in _GRAPH_STATES
                                                                                     else defs, name)))
        for k, name in enumerate(_GRAPH_MAPS):
            setattr(graph, name, self.spliced[k] if self.spliced else dict(getattr(graph, name)))
        graph.expansion_state = {**{name: getattr(defs, name) for name in _STATES},
                                 "concat": ex.concat_count, "instances": ex.instances}
        graph.unit_special = [i for i, u in enumerate(self.units) if u.volatile or u.files]
        graph.unit_shared = any(u.shared for u in self.units)
        separable = (self.separable and defs.separable and not ex.reporter.crossed and not ex.reporter._summaries
                     and len(graph.nodes) <= MAX_NODES // 2 and ex.instances <= MAX_SOURCED // 2)
        graph.units = self.units if separable else None
        graph.expanded = [u.element for u in self.expanded] if self.adopter is not None else None
        graph.adopted = self.adopter.before if self.adopter is not None else None


def _top(el: Element) -> Element | None:
    """The root-level element `el` is under: its ancestor whose parent is the file's root."""
    while el.parent is not None and el.parent.parent is not None:
        el = el.parent
    return el.parent


def _net(units: list[Unit]) -> dict[int, dict]:
    """What `units` did to the state, key by key: its final value, or MISSING."""
    out: dict[int, dict] = {}
    for u in units:
        for sid, w in u.writes:
            out.setdefault(sid, {}).update(w)
        for sid, key in u.deleted:
            out.setdefault(sid, {})[key] = MISSING
    return out


def _ints(units: list[Unit]) -> tuple[int | None, int]:
    """The stretch concat counter `units` leave (None: untouched) and the instances they make."""
    concat = None
    for u in units:
        if u.concat[0] != u.concat[1]:
            concat = u.concat[1]
    return concat, sum(u.instances for u in units)


def _differ(old: dict[int, dict], new: dict[int, dict]) -> dict[int, set]:
    """The keys, state by state, whose final values `old` and `new` do not share."""
    out: dict[int, set] = {}
    for sid in old.keys() | new.keys():
        a, b = old.get(sid, {}), new.get(sid, {})
        if a == b:
            continue
        keys = {k for k in a.keys() | b.keys() if a.get(k, MISSING) is not b.get(k, MISSING)
                and a.get(k, MISSING) != b.get(k, MISSING)}
        if keys:
            out[sid] = keys
    return out


def _first_touching(units: list[Unit], diff: dict[int, set]) -> int:
    """The index of the first unit that reads or writes a key of `diff` (len(units): none)."""
    if not diff:
        return len(units)
    pairs = {(sid, k) for sid, keys in diff.items() for k in keys}
    for j, u in enumerate(units):
        if not pairs.isdisjoint(u.keys):
            return j
    return len(units)


def _lengths(units: list[Unit]) -> tuple[int, int, int]:
    """How many nodes, graph inputs and graph outputs `units` made."""
    n = i = o = 0
    for u in units:
        n += len(u.nodes)
        if u.inputs:
            i += len(u.inputs)
        if u.outputs:
            o += len(u.outputs)
    return n, i, o

