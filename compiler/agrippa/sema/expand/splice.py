"""The fast path of the unit walk (`walk.py`): around an edit, the previous analysis' units
are taken whole, without looking at what they read, when the edited units did to the state
what their previous versions did (but for keys no later unit touches)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from agrippa.sema.expand.scope import Scope
from agrippa.sema.expand.units import (
    FILES,
    GRAPH_MAPS,
    GRAPH_STATES,
    MISSING,
    ORDERED,
    STATES,
    Unit,
    owned_list,
)
from agrippa.syntax.tree import Element


class Splice:
    """The walk's methods that take previous units whole (mixed into `walk.UnitWalk`)."""

    def walk(self, ex: Any, scope: Scope, children: list[Element]) -> None:
        """Every top-level element. With a previous analysis, the units before the edit are
        taken as they are (their effects applied, nothing they read looked at), the edited
        units are expanded, and when these did to the state what their previous versions did
        (but for keys no later unit touches) the units after them are taken as they are too."""
        try:
            self._walk(ex, scope, children)
        except BaseException:  # stopped midway (a newer edit): the previous analysis stays as it was
            self._undo()
            raise

    def _undo(self) -> None:
        """What this walk changed in the previous analysis, undone (it is not consumed)."""
        if self.base_graph is None:
            return
        a = self.adopter
        taken = a.taken if a is not None else {}
        logs = [u.appends for u in self.expanded] + ([self.partial.appends] if self.partial is not None else [])
        for appends in reversed(logs):
            for obj, which, item in reversed(appends):
                if id(obj) not in taken:  # an earlier unit's object: the item this walk added goes
                    lst = owned_list(obj, which)
                    for k in range(len(lst) - 1, -1, -1):
                        if lst[k] is item or lst[k] == item:
                            del lst[k]
                            break
        if a is not None:
            a.restore()
        self.base_graph.consumed = False

    def _walk(self, ex: Any, scope: Scope, children: list[Element]) -> None:
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
        own_files = dict(states[FILES])  # the index file, read before the walk: as parsed now
        for u in prefix:
            self._apply(ex, u)
        dict.update(states[FILES], own_files)
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
        first = len(STATES) + len(GRAPH_STATES)
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
        first = len(STATES) + len(GRAPH_STATES)
        for k, name in enumerate(GRAPH_MAPS):
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
        first = len(STATES) + len(GRAPH_STATES)
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

    def _patch(self, finals: list[dict]) -> None:
        """The final state: the previous one, with the keys the edited units left otherwise
        (no later unit touches them). Where keys came or went, a dict whose order matters is
        made again in unit order."""
        diff = self.patch or {}
        for sid, keys in diff.items():
            d, values = finals[sid], self.states[sid]  # the state where the edited units left it
            if sid in ORDERED and any((dict.get(values, k, MISSING) is MISSING) != (k not in d) for k in keys):
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

