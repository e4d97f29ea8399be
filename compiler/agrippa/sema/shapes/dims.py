"""Dimensions: plain ints, sympy expressions in the user's names, or None when unknown.

Sympy is slow, so every symbolic operation goes through a small memo and plain ints never
touch sympy. Identical expressions are the same object most of the time (sympy caches
them), so `is` settles most comparisons before `==`, and `expand` runs only when two
different-looking expressions must be compared.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from agrippa.sema.values import symbol


class _LazySympy:
    """Stands for the sympy module until first used (importing it takes ~0.3 s, and an
    analysis whose dims are all bound never needs it): then the real module replaces it."""

    def __getattr__(self, name: str) -> Any:
        import sympy as module

        globals()["sympy"] = module
        return getattr(module, name)


sympy: Any = _LazySympy()


def _is_sympy(d: object) -> bool:
    module = sys.modules.get("sympy")  # no sympy object exists before sympy is imported
    return module is not None and isinstance(d, module.Basic)

Dim = Any  # int | sympy.Expr | None
Shape = tuple | None

EQUAL, DIFFERENT, MAYBE, UNKNOWN = "equal", "different", "maybe", "unknown"
_MEMO = 8192


def norm(d: object) -> Dim:
    """A dim as inference keeps it: an int when it is a whole number, else a sympy expression."""
    if d is None or type(d) is int:
        return d
    if isinstance(d, bool):
        return int(d)
    if isinstance(d, float):
        return int(d) if d.is_integer() else sympy.Float(d)
    if _is_sympy(d):
        return int(d) if d.is_Integer else d
    if isinstance(d, str):
        return int(d) if d.strip().lstrip("-").isdigit() else symbol(d.strip())
    return int(d)  # numpy integers


def norm_shape(shape: Iterable[object] | None) -> Shape:
    return None if shape is None else tuple(norm(d) for d in shape)


def is_int(d: Dim) -> bool:
    return type(d) is int


def is_concrete(shape: Shape) -> bool:
    return shape is not None and all(type(d) is int for d in shape)


# -- comparison ----------------------------------------------------------------------------------
def compare(a: Dim, b: Dim) -> str:
    """EQUAL, DIFFERENT (provably), MAYBE (different names that could be equal) or UNKNOWN."""
    if a is b:
        return EQUAL
    if a is None or b is None:
        return UNKNOWN
    if type(a) is int and type(b) is int:
        return EQUAL if a == b else DIFFERENT
    return _compare_sym(a, b)


MAX_SYMBOLIC_SIZE = 200
"""A symbolic dim with more sympy nodes than this is not computed with: it becomes unknown
(`None`) and comparisons with it answer MAYBE. Sympy's work grows fast with size and its
recursion with depth; a model's real dims are a few names and numbers."""


def size(d: Any) -> int:
    """How many sympy nodes make up `d` (counting stops past MAX_SYMBOLIC_SIZE)."""
    if not _is_sympy(d):
        return 1
    return _size(d)


@functools.lru_cache(maxsize=_MEMO)
def _size(d: Any) -> int:
    n = 1
    for arg in d.args:
        n += _size(arg)
        if n > MAX_SYMBOLIC_SIZE:
            break
    return n


def _too_big(a: Any, b: Any) -> bool:
    return size(a) + size(b) > MAX_SYMBOLIC_SIZE


@functools.lru_cache(maxsize=_MEMO)
def _compare_sym(a: Any, b: Any) -> str:
    if a == b:
        return EQUAL
    if _too_big(a, b):
        return MAYBE
    try:
        zero = sympy.expand(a - b).is_zero
    except (RecursionError, MemoryError, TypeError):
        return MAYBE
    return EQUAL if zero else DIFFERENT if zero is False else MAYBE


def is_one(d: Dim) -> bool:
    """d is the int 1 (never asks sympy, whose `==` against an int is slow)."""
    return type(d) is int and d == 1


# -- arithmetic ------------------------------------------------------------------------------------
def add(a: Dim, b: Dim) -> Dim:
    if type(a) is int and type(b) is int:
        return a + b
    return None if a is None or b is None else _sym("+", a, b)


def sub(a: Dim, b: Dim) -> Dim:
    if type(a) is int and type(b) is int:
        return a - b
    return None if a is None or b is None else _sym("-", a, b)


def mul(a: Dim, b: Dim) -> Dim:
    if type(a) is int and type(b) is int:
        return a * b
    return None if a is None or b is None else _sym("*", a, b)


def div(a: Dim, b: Dim) -> Dim:
    """Exact division (Reshape's -1, equal Split parts): an int when it divides evenly."""
    if type(a) is int and type(b) is int:
        return a // b if b and a % b == 0 else None
    return None if a is None or b is None or (type(b) is int and b == 0) else _sym("/", a, b)


def floordiv(a: Dim, b: Dim) -> Dim:
    if type(a) is int and type(b) is int:
        return a // b if b else None
    return None if a is None or b is None else _sym("//", a, b)


def ceildiv(a: Dim, b: Dim) -> Dim:
    if type(a) is int and type(b) is int:
        return -(-a // b) if b else None
    return None if a is None or b is None else _sym("ceil", a, b)


@functools.lru_cache(maxsize=_MEMO)
def _sym(op: str, a: Any, b: Any) -> Dim:
    """`a op b` in sympy, or None (unknown) when the operands are past the symbolic budget."""
    if _too_big(a, b):
        return None
    try:
        return _sym_op(op, a, b)
    except (RecursionError, MemoryError, TypeError):
        return None


def _sym_op(op: str, a: Any, b: Any) -> Dim:
    if op == "+":
        r = sympy.Add(a, b)
    elif op == "-":
        r = sympy.Add(a, -b)
    elif op == "*":
        r = sympy.Mul(a, b)
    elif op == "/":
        r = sympy.cancel(sympy.Mul(a, sympy.Pow(b, -1)))
    elif op == "//":
        r = sympy.floor(sympy.Mul(a, sympy.Pow(b, -1)))
    else:
        r = sympy.ceiling(sympy.Mul(a, sympy.Pow(b, -1)))
    return norm(r)


def prod(dims: Iterable[Dim]) -> Dim:
    out: Dim = 1
    for d in dims:
        out = mul(out, d)
    return out


def total(dims: Iterable[Dim]) -> Dim:
    out: Dim = 0
    for d in dims:
        out = add(out, d)
    return out


# -- bindings ----------------------------------------------------------------------------------------
def concrete(shape: Shape, bindings: Mapping[str, object]) -> Shape:
    """`shape` with the bound names replaced by their values (ints where fully bound)."""
    if shape is None:
        return None
    subs = {}
    for k, v in bindings.items():
        try:
            subs[symbol(k)] = int(str(v).strip()) if not isinstance(v, (int, float)) else v
        except ValueError:
            continue
    return tuple(d if d is None or type(d) is int else norm(sympy.sympify(d).xreplace(subs))
                 for d in shape)


# -- formatting ----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _printer() -> Any:
    from sympy.printing.precedence import PRECEDENCE
    from sympy.printing.str import StrPrinter

    class MarkupPrinter(StrPrinter):
        """Writes expressions with the markup's operators: `^`, `//`, `%`."""

        def parenthesize(self, item: Any, level: int, strict: bool = False) -> str:
            if isinstance(item, (sympy.floor, sympy.Mod)) and level >= PRECEDENCE["Mul"]:
                return f"({self._print(item)})"
            return super().parenthesize(item, level, strict)

        def _print_Pow(self, expr: Any, rational: bool = False) -> str:
            return super()._print_Pow(expr, rational).replace("**", "^")

        def _print_floor(self, expr: Any) -> str:
            num, den = sympy.fraction(sympy.together(expr.args[0]))
            if den == 1:
                return f"floor({self._print(num)})"
            return f"{self._operand(num)} // {self._operand(den)}"

        def _print_ceiling(self, expr: Any) -> str:
            return f"ceil({self._print(expr.args[0])})"

        def _print_Mod(self, expr: Any) -> str:
            return f"{self._operand(expr.args[0])} % {self._operand(expr.args[1])}"

        def _operand(self, e: Any) -> str:
            s = self._print(e)
            return s if e.is_Atom or e.is_Pow else f"({s})"

    return MarkupPrinter()


@functools.lru_cache(maxsize=_MEMO)
def _format_sym(d: Any) -> str:
    return _printer().doprint(d)


def format_dim(d: Dim) -> str:
    if d is None:
        return "?"
    if type(d) is int:
        return str(d)
    return _format_sym(d)


def format_shape(shape: Shape, unknown: str = "unknown") -> str:
    """`[4, 16]`, `[ntokens, dvalues*nheads]`, `?` for an unknown dim, `unknown` (or the
    given text: the editor writes `?`) for an unknown rank."""
    if shape is None:
        return unknown
    return "[" + ", ".join(format_dim(d) for d in shape) + "]"


def markup_dim(d: Dim) -> str | None:
    """The dim as markup would write it (`var(n)`, `expr(dvalues * nheads)`), when it can be."""
    if d is None:
        return None
    if type(d) is int:
        return str(d)
    if isinstance(d, sympy.Symbol):
        return f"var({d.name})"
    text = format_dim(d)
    if any(c in text for c in "()") or text.startswith("-") or not d.free_symbols:
        return None
    for op in ("*", "+", "-", "/"):
        text = text.replace(op, f" {op} ")
    return "expr(" + " ".join(text.replace("/  /", "//").split()) + ")"
