"""The model as a graph of nested groups, for the graph view (`agrippa graph|view`, the editor).

`model_graph(analysis)` turns an analysis into plain JSON-ready data. The flat IR keeps, for
every node and parameter, its markup element and the chain of frames (sourced-block tags,
rep/stretch copies) it was made through; the hierarchy is recovered from those:

- a plain `<block>` is a group of kind `block`;
- a `rep`/`stretch` block is a group of kind `rep`/`stretch` whose children are its copies
  (groups of kind `copy`, with `index`); a stretch group also holds its concat nodes;
- a sourced-block tag is a group of kind `sourced` holding the sourced file's content (a plain
  root `<block>` of that file is folded into it).

Every group counts the parameters first declared inside it (shared ones once, frozen ones
apart), so the root's counts are the model's. Ranges are `{file, line, col, end_line}` with
1-based lines. Tensors carry their concrete shape (with bindings) and symbolic shape (in the
user's names, from an analysis without bindings when one is given).
"""
from __future__ import annotations

import os
from typing import Any

from agrippa.base.diagnostics import Diagnostic, Severity
from agrippa.ide.counts import element_count
from agrippa.sema.analysis import Analysis
from agrippa.sema.ir import Graph, Node, Origin, Param
from agrippa.sema.shapes.dims import format_dim
from agrippa.syntax.tree import Element

MISMATCH_CODES = frozenset({"shape-mismatch", "possible-shape-mismatch", "rank-mismatch", "stale-dim",
                            "type-mismatch", "shape-error"})
GRAPH_VERSION = 1

Step = tuple  # ("B", block) | ("R", block) | ("C", block, index) | ("S", tag, depth)


def _repeat_kind(el: Element) -> str | None:
    if "rep" in el.attrs:
        return "rep"
    if "stretch" in el.attrs:
        return "stretch"
    return None


def _steps(origin: Origin) -> tuple[Step, ...]:
    """The path of groups from the root down to the group holding `origin`'s element."""
    segments: list[tuple[Element, list, Any]] = []
    frames: list = []
    for f in origin.chain:
        if f.kind == "source":
            segments.append((f.element, frames, f))
            frames = []
        else:
            frames.append(f)
    segments.append((origin.element, frames, None))
    out: list[Step] = []
    for depth, (end, seg_frames, src) in enumerate(segments):
        ancestors: list[Element] = []
        e = end.parent
        while e is not None:
            if e.tag == "block":
                ancestors.append(e)
            e = e.parent
        ancestors.reverse()
        if src is None and end.tag == "block":  # a stretch concat belongs to its stretch group
            ancestors.append(end)
        for a in ancestors:
            kind = _repeat_kind(a)
            if kind is None:
                if a.parent is None:  # a file's root block: the root or the sourced group stands for it
                    continue
                out.append(("B", a))
                continue
            out.append(("R", a))
            fr = next((f for f in seg_frames if f.element is a), None)
            if fr is not None:
                out.append(("C", a, fr.index))
        if src is not None:
            out.append(("S", src.element, depth))
    return tuple(out)


def _key(steps: tuple[Step, ...]) -> tuple:
    return tuple((s[0], id(s[1]), *s[2:]) for s in steps)


def _range(file: str, el: Element) -> dict:
    r = el.range
    return {"file": file, "line": r.start.line + 1, "col": r.start.character + 1, "end_line": r.end.line + 1}


def _desc(el: Element) -> str:
    d = next((c for c in el.children if c.tag == "desc"), None)
    return d.text.strip() if d is not None else ""


def _num(n: Any) -> Any:
    """An int as it is; a symbolic count as its text; None when unknown."""
    if n is None or isinstance(n, int):
        return n
    try:
        return int(n) if getattr(n, "is_Integer", False) else format_dim(n)
    except Exception:
        return str(n)


def _add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return a + b


def _attr_text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_attr_text(x) for x in v) + "]"
    if hasattr(v, "tolist"):
        return _attr_text(v.tolist())
    return str(v)


class _Builder:
    def __init__(self, analysis: Analysis, symbolic: Analysis | None):
        self.an = analysis
        self.g: Graph = analysis.graph  # type: ignore[assignment]
        self.groups: dict[tuple, dict] = {}
        self.ids: set[str] = set()
        index_root = None
        sf = self.g.files.get(self.g.index)
        if sf is not None:
            index_root = sf.root
        title = (index_root.get("title") or index_root.get("name")) if index_root is not None else None
        self.root = self._group("model", title or os.path.basename(self.g.index), "root",
                                {"file": self.g.index, "line": 1, "col": 1, "end_line": 1})
        if index_root is not None:
            self.root["range"] = _range(self.g.index, index_root)
            self.root["desc"] = _desc(index_root)
        self.groups[()] = self.root
        self.sym_shapes = self._symbolic_shapes(symbolic)
        self.node_diags: dict[str, list[dict]] = {}
        self.mismatch: dict[str, set[str]] = {}  # node name -> input tensors with a shape problem
        self.group_diags: dict[tuple, int] = {}

    def _group(self, kind: str, title: str, gid: str, rng: dict) -> dict:
        return {"id": gid, "kind": kind, "title": title, "range": rng, "desc": "", "children": [], "nodes": [],
                "params": 0, "frozen": 0, "errors": 0}

    def _unique(self, gid: str) -> str:
        base, k = gid, 1
        while gid in self.ids:
            k += 1
            gid = f"{base}~{k}"
        self.ids.add(gid)
        return gid

    def group_for(self, steps: tuple[Step, ...]) -> dict:
        key = _key(steps)
        g = self.groups.get(key)
        if g is not None:
            return g
        parent = self.group_for(steps[:-1])
        step = steps[-1]
        el: Element = step[1]
        file = self._file_of(steps)
        name = el.get("title") or el.get("name") or "block"
        if step[0] == "C":
            copies = self.g.copies.get(el)
            total = copies if isinstance(copies, int) else None
            title = f"{name} {step[2] + 1}" + (f"/{total}" if total else "")
            g = self._group("copy", title, self._unique(f"{parent['id']}/{step[2] + 1}"), _range(file, el))
            g["index"] = step[2]
        elif step[0] == "S":
            src_path = self.g.sourced.get(el, "")
            g = self._group("sourced", el.get("name") or "sourced", self._unique(f"{parent['id']}/s:{name}"),
                            _range(file, el))
            g["source"] = os.path.basename(src_path)
            sf = self.g.files.get(src_path)
            if sf is not None and sf.root is not None and sf.root.tag == "block" and _repeat_kind(sf.root) is None:
                g["desc"] = _desc(sf.root)
                if sf.root.get("title"):
                    g["subtitle"] = sf.root.get("title")
        else:
            kind = "block" if step[0] == "B" else (_repeat_kind(el) or "block")
            g = self._group(kind, name, self._unique(f"{parent['id']}/{kind[0]}:{name}"), _range(file, el))
            g["desc"] = _desc(el)
            if step[0] == "R":
                g["copies"] = _num(self.g.copies.get(el))
        self.groups[key] = g
        parent["children"].append(g)
        return g

    def _file_of(self, steps: tuple[Step, ...]) -> str:
        """The file the last step's element is in: the index, or the last sourced file before it."""
        for s in reversed(steps[:-1]):
            if s[0] == "S":
                return self.g.sourced.get(s[1], self.g.index)
        return self.g.index

    # -- shapes ---------------------------------------------------------------------------------
    def _symbolic_shapes(self, symbolic: Analysis | None) -> dict[tuple, tuple | None]:
        out: dict[tuple, tuple | None] = {}
        if symbolic is None or symbolic.graph is None:
            return out
        for t in symbolic.graph.tensors.values():
            out.setdefault((t.origin.file, t.origin.element.start, t.logical), t.shape)
        return out

    def tensor(self, t) -> dict:
        shape = t.shape
        concrete = list(shape) if shape is not None and all(type(d) is int for d in shape) else None
        sym = self.sym_shapes.get((t.origin.file, t.origin.element.start, t.logical), shape) \
            if self.sym_shapes else shape
        symbolic = [format_dim(d) for d in sym] if sym is not None else None
        producer = t.producer
        return {"shape": concrete if concrete is not None else symbolic, "concrete": concrete, "symbolic": symbolic,
                "dtype": t.dtype, "kind": t.kind, "logical": t.logical,
                "producer": producer.name if producer is not None else None}

    # -- diagnostics ----------------------------------------------------------------------------
    def place_diagnostics(self) -> None:
        for d in self.an.diagnostics:
            if d.severity > Severity.WARNING:
                continue
            sf = self.g.files.get(d.file)
            if sf is None or sf.root is None:
                continue
            el = sf.element_at(sf.offset(d.range.start))
            inp = None
            while el is not None and el.tag != "node" and el.tag != "block":
                if el.tag in ("input", "output"):
                    inp = el
                el = el.parent
            if el is None:
                continue
            item = _diag(d)
            if el.tag == "block":
                for key, g in self.groups.items():
                    if key and key[-1][1] == id(el):
                        g["errors"] += d.is_error
                        g.setdefault("diagnostics", []).append(item)
                continue
            for node in self.g.element_nodes.get(el, []):
                self.node_diags.setdefault(node.name, []).append(item)
                if inp is not None and d.code in MISMATCH_CODES:
                    names = {u.tensor.name for u in node.inputs if u.element is inp}
                    names |= {t.name for t in node.outputs if t.origin.element is inp}
                    self.mismatch.setdefault(node.name, set()).update(names)

    # -- nodes and params -----------------------------------------------------------------------
    def node(self, n: Node) -> dict:
        el = n.origin.element
        params = []
        for u in n.inputs:
            p = self.g.params.get(u.tensor.name)
            if p is not None:
                params.append(_param(p))
        diags = self.node_diags.get(n.name, [])
        out = {"id": n.name, "op": n.op, "title": el.get("title") or (f"{n.op} (concat)" if el.tag == "block" else n.op),
               "attributes": {k: _attr_text(a.value) for k, a in n.attributes.items()},
               "desc": _desc(el) if el.tag == "node" else "",
               "inputs": [u.tensor.name for u in n.inputs], "outputs": [t.name for t in n.outputs],
               "params": params, "diagnostics": diags, "errors": sum(1 for d in diags if d["severity"] == "error"),
               "range": _range(n.origin.file, el)}
        bad = self.mismatch.get(n.name)
        if bad:
            out["mismatch"] = sorted(bad)
        return out

    def build(self) -> dict:
        placed = [(n, self.group_for(_steps(n.origin))) for n in self.g.nodes]
        self.place_diagnostics()
        for n, grp in placed:
            data = self.node(n)
            grp["nodes"].append(data)
            if data["errors"]:
                grp["errors"] += data["errors"]
        for p in self.g.params.values():
            grp = self.group_for(_steps(p.origin))
            field = "frozen" if p.frozen else "params"
            grp[field] = _add(grp[field], element_count(p.dims))
        _roll_up(self.root)
        _finish(self.root)
        tensors = {name: self.tensor(t) for name, t in self.g.tensors.items() if t.kind != "param"}
        errors = [d for d in self.an.diagnostics if d.is_error]
        return {"version": GRAPH_VERSION, "index": self.g.index, "project": self.an.project_dir,
                "bindings": {k: _attr_text(v) for k, v in self.an.bindings.items()},
                "complete": self.g.complete, "params": self.root["params"], "frozen": self.root["frozen"],
                "root": self.root, "tensors": tensors,
                "inputs": [t.name for t in self.g.inputs], "outputs": [t.name for t, _ in self.g.outputs],
                "errors": len(errors), "diagnostics": [_diag(d) for d in errors[:200]]}


def _diag(d: Diagnostic) -> dict:
    return {"severity": d.severity.label, "code": d.code, "message": d.message, "file": d.file,
            "line": d.range.start.line + 1, "col": d.range.start.character + 1}


def _param(p: Param) -> dict:
    return {"name": p.name, "logical": p.logical, "shape": [_num(d) for d in p.dims],
            "count": _num(element_count(p.dims)), "dtype": p.dtype, "shared": p.shared, "frozen": p.frozen,
            "init": p.init}


def _roll_up(g: dict) -> None:
    """Add the children's counts (and errors) to each group's own, bottom-up."""
    for c in g["children"]:
        _roll_up(c)
        g["params"] = _add(g["params"], c["params"])
        g["frozen"] = _add(g["frozen"], c["frozen"])
        g["errors"] += c["errors"]


def _finish(g: dict) -> None:
    g["params"], g["frozen"] = _num(g["params"]), _num(g["frozen"])
    for c in g["children"]:
        _finish(c)


def model_graph(analysis: Analysis, symbolic: Analysis | None = None) -> dict | None:
    """The graph of an analysed model as plain data (None when nothing could be expanded).

    `symbolic`: the same project analysed without bindings, for shapes in the user's names.
    """
    if analysis.graph is None:
        return None
    return _Builder(analysis, symbolic).build()


def graph_of(path: str, bindings: dict[str, object] | None = None, profile: str | None = None,
             index: str | None = None, dynamic: tuple[str, ...] | list[str] = ()) -> tuple[dict | None, Analysis]:
    """Analyse the project at `path` (with and, for the symbolic shapes, without bindings)
    and return its graph with the analysis."""
    import dataclasses

    from agrippa.sema.analysis import analyze

    an = analyze(path, bindings=bindings, profile=profile, index=index, dynamic=dynamic)
    sym = None
    if an.bindings and an.graph is not None:
        cfg = dataclasses.replace(an.config, bindings={}, profiles={}, diagnostics=[])
        sym = analyze(path, bindings={}, config=cfg, index=index, schema=False, dynamic=dynamic)
    return model_graph(an, sym), an


__all__ = ["model_graph", "graph_of", "GRAPH_VERSION"]
