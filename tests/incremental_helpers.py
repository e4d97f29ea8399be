"""Facts of an analysis that do not depend on object identity, to compare an incremental
analysis with a full one (tests/test_incremental.py)."""
from __future__ import annotations

from typing import Any

from agrippa.sema.analysis import Analysis


def _el(e) -> Any:
    return None if e is None else (e.tag, e.start, e.end)


def _origin(o) -> Any:
    if o is None:
        return None
    return (o.file, _el(o.element), tuple((f.kind, _el(f.element), f.file, f.index) for f in o.chain))


def _attr(a) -> Any:
    v = getattr(a, "value", a)
    return repr(v.tolist() if hasattr(v, "tolist") else v)


def _tensor(t) -> Any:
    p = t.producer
    return (t.name, t.logical, _origin(t.origin), t.kind, t.dtype, repr(t.shape), repr(t.declared),
            p.name if p is not None else None, sorted(t.users))


def facts(a: Analysis) -> dict[str, Any]:
    g = a.graph
    out: dict[str, Any] = {"diagnostics": [(d.file, d.range, d.severity, d.code, d.message, d.related, d.fixes)
                                           for d in a.diagnostics]}
    if g is None:
        return out
    out["nodes"] = [(n.name, n.op, _origin(n.origin), [u.tensor.name for u in n.inputs], [_el(u.element) for u in n.inputs],
                     [_tensor(t) for t in n.outputs], sorted((k, _attr(v)) for k, v in n.attributes.items()),
                     n.domain, n.known, repr(n.repeat)) for n in g.nodes]
    out["tensors"] = [_tensor(t) for t in g.tensors.values()]
    out["params"] = [(p.name, p.logical, _origin(p.origin), repr(p.dims), p.dtype, p.init, repr(p.init_args), p.frozen,
                      p.shared, p.tensor.name if p.tensor else None, [_origin(o) for o in p.declarations])
                     for p in g.params.values()]
    out["constants"] = [(c.name, repr(c.value.tolist()), _origin(c.origin)) for c in g.constants.values()]
    out["io"] = ([t.name for t in g.inputs], [(t.name, _el(e)) for t, e in g.outputs])
    for name in ("element_tensors", "element_nodes", "element_params"):
        out[name] = sorted((_el(k), [x.name for x in v]) for k, v in getattr(g, name).items())
    out["definitions"] = sorted((_el(k), _el(v)) for k, v in g.definitions.items())
    out["copies"] = sorted((_el(k), repr(v)) for k, v in g.copies.items())
    out["sourced"] = sorted((_el(k), v) for k, v in g.sourced.items())
    out["instances"] = sorted((_el(k), [(i.path, [(_el(e), t.name if t else None) for e, t in i.imports],
                                          [(_el(e), t.name if t else None) for e, t in i.exports]) for i in v])
                              for k, v in g.instances.items())
    out["misc"] = (g.complete, sorted(g.untyped), sorted(g.files))
    return out


def differences(a: dict, b: dict) -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            x, y = a.get(k), b.get(k)
            if isinstance(x, list) and isinstance(y, list):
                for i, (p, q) in enumerate(zip(x, y)):
                    if p != q:
                        out.append(f"{k}[{i}]: {p!r}\n   != {q!r}")
                        break
                else:
                    out.append(f"{k}: lengths {len(x)} != {len(y)}")
            else:
                out.append(f"{k}: {x!r} != {y!r}")
    return out
