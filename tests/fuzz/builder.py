"""What the generator writes with: tensors whose shape and element type are known (`T`), and
the `Builder` that holds the pool of tensors in scope and writes `<node>` markup."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

FLOATS = ("float32", "float64")


@dataclass(eq=False)
class T:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    small: bool = False  # integer values known to lie in {0, 1} (usable as indices)


@dataclass
class Builder:
    rng: random.Random
    opset: int
    bindings: dict[str, int]
    pool: list[T] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    counter: int = 0
    indent: str = "    "
    shared: dict[str, tuple] = field(default_factory=dict)  # shared param name -> dims
    float_only: bool = False  # inside rep/stretch bodies: keep to float tensors

    # -- names and text -----------------------------------------------------------------------
    def fresh(self, stem: str = "t") -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def dim_text(self, shape: tuple[int, ...]) -> str:
        return "[" + ", ".join(self.num(d) for d in shape) + "]"

    def num(self, v: int) -> str:
        """`v` as a literal, var() or expr() over the bindings."""
        r = self.rng.random()
        names = [k for k, x in self.bindings.items() if x == v]
        if names and r < 0.35:
            return f"var({self.rng.choice(names)})"
        if r < 0.5 and self.bindings:
            for a, x in self.bindings.items():
                for b, y in self.bindings.items():
                    if x * y == v:
                        return f"expr({a} * {b})"
                    if x + y == v:
                        return f"expr({a} + var({b}))"
                if x - 1 == v and v >= 0:
                    return f"expr({a} - 1)"
        return str(v)

    def emit(self, text: str) -> None:
        self.lines.append(self.indent + text)

    def node(self, op: str, ins: list, outs: list[T], title: str | None = None, **attrs) -> list[T]:
        """ins: T (an <input>) or ("param", name, dims, extra) (a <params>)."""
        a = "".join(f' {k}="{v}"' for k, v in attrs.items() if v is not None)
        t = title if title is not None else self.rng.choice(["", "", "n", "GenericNode", op.lower()])
        head = f'<node op="{op}"' + (f' title="{t}"' if t else "") + a + ">"
        body = []
        for i in ins:
            if isinstance(i, T):
                hint = f' dim="{self.dim_text(i.shape)}"' if self.rng.random() < 0.15 else ""
                body.append(f'<input src="{i.name}"{hint}/>')
            else:
                _, name, dims, extra = i
                ex = "".join(f' {k}="{v}"' for k, v in extra.items())
                body.append(f'<params name="{name}" dim="{self.dim_text(dims)}"{ex}/>')
        for o in outs:
            hint = f' dim="{self.dim_text(o.shape)}"' if self.rng.random() < 0.15 else ""
            body.append(f'<output name="{o.name}"{hint}/>')
        self.emit(head + "".join(body) + "</node>")
        self.pool.extend(outs)
        return outs

    def param(self, dims: tuple[int, ...], dtype: str = "float32", init: str | None = None) -> tuple:
        extra: dict[str, str] = {}
        if dtype != "float32":
            extra["type"] = dtype
        r = self.rng.random()
        name = self.fresh("p")
        if r < 0.12:
            same = [k for k, d in self.shared.items() if d == (dims, dtype)]
            name = same[0] if same else "s" + name
            self.shared[name] = (dims, dtype)
            extra["shared"] = "yes"
        elif r < 0.22:
            extra["frozen"] = "yes"
        init = init or self.rng.choice(["", "", "normal", "uni_random", "ones", "zeros", "constant"])
        if init:
            extra["init"] = init
            if init == "constant":
                extra["init_args"] = "[0.5]"
            elif init == "normal" and self.rng.random() < 0.5:
                extra["init_args"] = "[0, 0.5]"
        return ("param", name, dims, extra)

    # -- picking --------------------------------------------------------------------------------
    def pick(self, pred=lambda t: True) -> T | None:
        c = [t for t in self.pool if pred(t) and (not self.float_only or t.dtype in FLOATS)]
        if not c:
            return None
        # favour recent tensors: longer chains
        return c[-1] if self.rng.random() < 0.5 else self.rng.choice(c)

    def out(self, shape, dtype: str, small: bool = False) -> T:
        return T(self.fresh(), tuple(shape), dtype, small)


def floaty(t: T) -> bool:
    return t.dtype in FLOATS


def bcast(a: tuple, b: tuple) -> tuple | None:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(out)


def broadcastable_to(rng: random.Random, shape: tuple) -> tuple:
    """A shape that broadcasts to `shape` without growing it: a suffix, some dims made 1."""
    if not shape:
        return ()
    k = rng.randint(0, len(shape))
    return tuple(1 if rng.random() < 0.3 else d for d in shape[k:]) or (1,)
