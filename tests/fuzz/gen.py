"""The grammar-driven generator: whole random projects.

model   := import+ item+ export+
item    := block(step*) | rep-block | stretch-block | sourced | compat
rep     := block rep=N: chained imports (k-th export → k-th import), surplus imports, exports
stretch := block stretch=N: its exports joined on the last axis afterwards
sourced := Identity to `p$x`, `<block src=... name="p"/>` (the file's root block may have rep)

Shapes and element types are tracked as the model grows (`spine`), so most models are
valid; `break_model` then breaks a share of them on purpose (the intent is recorded).
"""
from __future__ import annotations

import random

import numpy as np

from .builder import FLOATS, Builder, T
from .project import INDEX, Project
from .spine import PRESERVING, step

OPSETS = [13, 13, 13, 17, 17, 18]


def _bindings(rng: random.Random) -> dict[str, int]:
    names = rng.sample(["d", "n", "k", "heads", "seq", "dm"], rng.randint(0, 4))
    return {n: rng.choice([1, 2, 3, 4]) for n in names}


def _shape(rng: random.Random) -> tuple[int, ...]:
    r = rng.choices([1, 2, 3, 4], [2, 5, 3, 2])[0]
    return tuple(rng.choice([2, 3, 4]) for _ in range(r))


def generate(seed: int, broken: float = 0.15) -> Project:
    rng = random.Random(seed)
    opset = rng.choice(OPSETS)
    b = Builder(rng, opset, _bindings(rng))
    files: dict[str, str] = {}
    imports = []
    feeds = {}
    for _ in range(rng.randint(1, 3)):
        shape = _shape(rng)
        dtype = rng.choice(["float32"] * 5 + ["float64"])
        t = T(b.fresh("x"), shape, dtype)
        imports.append(t)
    if rng.random() < 0.5:
        t = T(b.fresh("idx"), rng.choice([(), (2,), (2, 3), (3,)]), rng.choice(["int64", "int64", "int32"]), True)
        imports.append(t)
        feeds[t.name] = np.asarray(np.random.default_rng(seed).integers(0, 2, t.shape), dtype=t.dtype)
    b.pool.extend(imports)
    head = []
    for t in imports:
        ty = f' type="{t.dtype}"' if t.dtype != "float32" or rng.random() < 0.1 else ""
        head.append(f'    <import from="{t.name}" dim="{b.dim_text(t.shape)}"{ty}/>')
    body: list[str] = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.choices(["block", "rep", "stretch", "sourced", "compat"], [5, 2, 2, 2, 1])[0]
        b.lines = []
        if kind == "rep" and not _rep(b) or kind == "stretch" and not _stretch(b) or kind == "sourced" and not _sourced(b, files):
            kind = "block"
        elif kind == "compat":
            _compat(b)
        if kind == "block":
            b.indent = "        "
            for _ in range(rng.randint(1, 5)):
                step(b)
            b.indent = "    "
            b.lines = ['    <block title="blk">', *b.lines, "    </block>"]
        body.extend(b.lines)
    outs = _pick_outputs(b, imports)
    tail = []
    for t in outs:
        ty = f' type="{t.dtype}"' if t.dtype != "float32" or rng.random() < 0.1 else ""
        tail.append(f'    <export from="{t.name}" dim="{b.dim_text(t.shape)}"{ty}/>')
    text = "<model>\n" + "\n".join(head + body + tail) + "\n</model>\n"
    files[INDEX] = text
    p = Project(files, dict(b.bindings), opset, feeds, "gen")
    if rng.random() < broken:
        from .breaker import break_model

        break_model(p, rng)
    return p


def _pick_outputs(b: Builder, imports: list[T]) -> list[T]:
    made = [t for t in b.pool if t not in imports] or b.pool[-1:]
    k = min(len(made), b.rng.randint(1, 3))
    outs = [made[-1]] + b.rng.sample(made[:-1], k - 1) if k > 1 else [made[-1]]
    seen, uniq = set(), []
    for t in outs:
        if t.name not in seen:
            seen.add(t.name)
            uniq.append(t)
    return uniq


def _body(b: Builder, inside: list[T], steps: int, table) -> list[T]:
    """Emit `steps` nodes reading only `inside` (and params); returns the tensors made."""
    saved, b.pool = b.pool, list(inside)
    b.float_only = True
    for _ in range(steps):
        step(b, table)
    made = b.pool[len(inside):]
    b.pool, b.float_only = saved, False
    return made


def _finish(b: Builder, made: list[T], want: T, taken: tuple = ()) -> T:
    """A tensor made inside the body with `want`'s shape and type (a Relu when none is)."""
    same = [t for t in made if t.shape == want.shape and t.dtype == want.dtype and t not in taken]
    if same:
        return same[-1]
    return b.node("Relu", [want], [b.out(want.shape, want.dtype)])[0]


def _rep(b: Builder) -> bool:
    rng = b.rng
    chained = [t for t in b.pool if t.dtype in FLOATS]
    if not chained:
        return False
    h = chained[-1] if rng.random() < 0.6 else rng.choice(chained)
    second = [t for t in chained if t is not h]
    chain = [h] + ([rng.choice(second)] if second and rng.random() < 0.25 else [])
    surplus = [t for t in b.pool if t not in chain and t.dtype == h.dtype and len(t.shape) <= len(h.shape)
               and all(x in (1, y) for x, y in zip(t.shape[::-1], h.shape[::-1]))]
    surplus = rng.sample(surplus, min(len(surplus), rng.randint(0, 2)))
    n = rng.randint(1, 3)
    count = b.num(n) if rng.random() < 0.5 else str(n)
    b.indent = "        "
    made = _body(b, chain + surplus, rng.randint(1, 4), PRESERVING)
    saved = b.pool
    b.pool = chain + surplus + made
    exports: list[T] = []
    for t in chain:
        exports.append(_finish(b, b.pool[len(chain) + len(surplus):], t, tuple(exports)))
    b.pool = saved
    b.indent = "    "
    lines = [f'    <block title="layers" rep="{count}">']
    lines += [f'        <import from="{t.name}"/>' for t in chain + surplus]
    lines += b.lines + [f'        <export from="{t.name}"/>' for t in exports] + ["    </block>"]
    b.lines = lines
    b.pool.extend(T(t.name, t.shape, t.dtype) for t in exports)
    return True


def _stretch(b: Builder) -> bool:
    rng = b.rng
    x = b.pick(lambda t: t.dtype in FLOATS and len(t.shape) >= 1)
    if x is None:
        return False
    n = rng.randint(1, 3)
    b.indent = "        "
    saved, b.pool = b.pool, [x]
    k = rng.choice([1, 2, 3])
    b.float_only = True
    head = b.node("MatMul", [x, b.param((x.shape[-1], k), x.dtype)], [b.out(x.shape[:-1] + (k,), x.dtype)])[0]
    for _ in range(rng.randint(0, 2)):
        step(b, PRESERVING)
    exports = [head] + [t for t in b.pool[2:] if len(t.shape) == len(head.shape) and t.shape[:-1] == head.shape[:-1]
                        and t.dtype == head.dtype and rng.random() < 0.3]
    b.pool, b.float_only = saved, False
    b.indent = "    "
    count = b.num(n) if rng.random() < 0.5 else str(n)
    lines = [f'    <block title="heads" stretch="{count}">', f'        <import from="{x.name}"/>']
    lines += b.lines + [f'        <export from="{t.name}"/>' for t in dict.fromkeys(exports)] + ["    </block>"]
    b.lines = lines
    b.pool.extend(T(t.name, t.shape[:-1] + (t.shape[-1] * n,), t.dtype) for t in dict.fromkeys(exports))
    return True


def _sourced(b: Builder, files: dict[str, str]) -> bool:
    rng = b.rng
    x = b.pick(lambda t: t.dtype in FLOATS)
    if x is None:
        return False
    rel = f"parts/f{len(files)}.agr"
    root_rep = rng.random() < 0.3
    outer_lines = b.lines
    b.lines = []
    b.indent = "    "
    inner_x = T("x", x.shape, x.dtype)
    made = _body(b, [inner_x], rng.randint(1, 3), PRESERVING)
    b.pool, saved = [inner_x, *made], b.pool
    y = _finish(b, made, inner_x)
    b.pool = saved
    rep = f' rep="{rng.randint(1, 3)}"' if root_rep else ""
    root = rng.choice(["block", "model"]) if not root_rep else "block"
    body = "\n".join(b.lines)
    if root == "model":  # nodes live in blocks: a model root holds the body in one
        body = '    <block title="body">\n' + body + "\n    </block>"
    dim = f' dim="{b.dim_text(x.shape)}"' if root == "model" else ""  # a model's imports and exports need it
    files[rel] = (f'<{root} title="part"{rep}>\n    <import from="x"{dim}/>\n' + body
                  + f'\n    <export from="{y.name}"{dim}/>\n</{root}>\n')
    b.lines = outer_lines
    prefixes = [b.fresh("p") for _ in range(1 if rng.random() < 0.7 else 2)]
    src = x
    for p in prefixes:
        b.emit(f'<block title="wire"><node op="Identity"><input src="{src.name}"/><output name="{p}$x"/></node></block>')
        b.emit(f'<block src="{rel}" name="{p}"/>')
        src = T(f"{p}${y.name}", x.shape, x.dtype)
        b.pool.append(src)
    return True


def _compat(b: Builder) -> None:
    """Markup the original accepts and we warn about: `name=` on a node, `dims=`, reading a
    rep copy by its mangled name, an unknown attribute, a stale dim hint."""
    rng = b.rng
    x = b.pick(lambda t: t.dtype in FLOATS)
    if x is None:
        return
    b.indent = "        "
    body = [f'        <node op="Relu" name="{b.fresh("nm")}"><input src="{x.name}"/>']
    y = b.out(x.shape, x.dtype)
    r = rng.random()
    if r < 0.3:
        body.append(f'<output name="{y.name}" dims="{b.dim_text(x.shape)}"/></node>')
    elif r < 0.6:
        body.append(f'<output name="{y.name}" dim="[{", ".join(str(d + 1) for d in x.shape)}]"/></node>')
    else:
        body[0] = body[0].replace("<node ", '<node colour="red" ')
        body.append(f'<output name="{y.name}"/></node>')
    b.lines = ['    <block title="compat">', "".join(body)]
    b.pool.append(y)
    if rng.random() < 0.5:  # a two-copy rep, then a tap on its first copy's output by name
        z = T(b.fresh(), x.shape, x.dtype)
        b.lines += ['        <block rep="2">', f'            <import from="{y.name}"/>',
                    f'            <node op="Neg"><input src="{y.name}"/><output name="{z.name}"/></node>',
                    f'            <export from="{z.name}"/>', "        </block>"]
        tap = T(b.fresh(), x.shape, x.dtype)
        expose = ' expose="yes"' if rng.random() < 0.5 else ""
        src = z.name if expose else f"{z.name}$1"
        b.lines.append(f'        <node op="Identity"{expose}><input src="{src}"/><output name="{tap.name}"/></node>')
        b.pool += [z, tap]
    b.lines.append("    </block>")
    b.indent = "    "
