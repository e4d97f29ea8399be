"""Evaluating parsed values: with bindings to numbers, or symbolically to sympy expressions
in the user's own names; `evaluate` reads the substituted text as JSON."""
from __future__ import annotations

import json
import math
import re

from agrippa.sema.values.tree import (
    MAX_MAGNITUDE,
    BinOp,
    Expr,
    Name,
    Num,
    Number,
    Unbound,
    Value,
    ValueError_,
)


# -- evaluation -----------------------------------------------------------------------------
def eval_expr(e: Expr, bindings: dict[str, object]) -> Number:
    """Evaluate with bindings; raises Unbound or ValueError_ (division by zero, overflow)."""
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Name):
        if e.name not in bindings:
            raise Unbound(e.name, e.start, e.end)
        return _as_number(bindings[e.name], e)
    a = eval_expr(e.left, bindings)
    b = eval_expr(e.right, bindings)
    try:
        r = _apply(e.op, a, b, e)
    except ZeroDivisionError:
        raise ValueError_("division by zero", e.start, e.end, "expr-value") from None
    except OverflowError:
        raise ValueError_("the result is too large", e.start, e.end, "value-too-large") from None
    if isinstance(r, complex) or (isinstance(r, float) and not math.isfinite(r)) or abs(r) > MAX_MAGNITUDE:
        raise ValueError_("the result is too large", e.start, e.end, "value-too-large")
    return r


def _as_number(v: object, e: Name) -> Number:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    try:
        s = str(v).strip()
        return int(s) if re.fullmatch(r"-?\d+", s) else float(s)
    except ValueError:
        raise ValueError_(f"'{e.name}' is bound to {v!r}, not a number", e.start, e.end, "expr-value") from None


def _apply(op: str, a: Number, b: Number, e: BinOp) -> Number:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "//":
        return a // b
    if op == "%":
        return a % b
    # power: refuse before computing anything huge
    if a not in (0, 1, -1) and b > 0 and b * math.log2(max(abs(a), 1e-300)) > 63:
        raise ValueError_(f"{a} ^ {b} is too large", e.start, e.end, "value-too-large")
    return a**b


def substitute(value: Value, bindings: dict[str, object]) -> str:
    """The final text of the attribute: each var()/expr() replaced by its value's text."""
    out = []
    for seg in value.segments:
        if seg.expr is None:
            out.append(seg.text or "")
        elif isinstance(seg.expr, Name):
            if seg.expr.name not in bindings:
                raise Unbound(seg.expr.name, seg.expr.start, seg.expr.end)
            out.append(str(bindings[seg.expr.name]))
        else:
            out.append(_number_text(eval_expr(seg.expr, bindings)))
    return "".join(out)


def _number_text(v: Number) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return repr(v)
    return repr(v) if isinstance(v, float) else str(v)


# -- symbolic evaluation --------------------------------------------------------------------
def to_sympy(e: Expr, bindings: dict[str, object] | None = None):
    """A sympy expression; bound names become numbers, others symbols (positive integers)."""
    import sympy

    if isinstance(e, Num):
        return sympy.Integer(e.value) if isinstance(e.value, int) else sympy.Float(e.value)
    if isinstance(e, Name):
        if bindings and e.name in bindings:
            return sympy.sympify(_as_number(bindings[e.name], e))
        return symbol(e.name)
    a, b = to_sympy(e.left, bindings), to_sympy(e.right, bindings)
    if e.op == "+":
        return a + b
    if e.op == "-":
        return a - b
    if e.op == "*":
        return a * b
    if e.op == "/":
        if b == 0:
            raise ValueError_("division by zero", e.start, e.end, "expr-value")
        return a / b
    if e.op == "//":
        if b == 0:
            raise ValueError_("division by zero", e.start, e.end, "expr-value")
        return sympy.floor(a / b)
    if e.op == "%":
        if b == 0:
            raise ValueError_("division by zero", e.start, e.end, "expr-value")
        return sympy.Mod(a, b)
    if b.is_number and a.is_number and a not in (0, 1, -1) and b > 0 and float(b) * math.log2(max(abs(float(a)), 1e-300)) > 63:
        raise ValueError_(f"{a} ^ {b} is too large", e.start, e.end, "value-too-large")
    if b.is_number and b > 64 and not a.is_number:
        raise ValueError_("exponent is too large", e.start, e.end, "value-too-large")
    return a**b


MAX_SYMBOLIC_DEPTH = 40
"""An expr() nested deeper than this (a chain of 40 operations) is not followed
symbolically: sympy recurses through such chains past Python's stack."""


def _depth(e: Expr) -> int:
    depth, todo = 0, [(e, 1)]
    while todo:
        node, d = todo.pop()
        depth = max(depth, d)
        if not isinstance(node, (Num, Name)):
            todo += [(node.left, d + 1), (node.right, d + 1)]
    return depth


def _symbolic(e: Expr, bindings: dict[str, object]):
    """`to_sympy`, within the symbolic budget: a deeper expression is refused with a note."""
    too_complex = ValueError_("this expression is too complex to follow symbolically; its shape is "
                              "unknown until its names are bound", e.start, e.end, "symbolic-too-complex")
    if _depth(e) > MAX_SYMBOLIC_DEPTH:
        raise too_complex
    try:
        return to_sympy(e, bindings)
    except (RecursionError, MemoryError):
        raise too_complex from None


_SYMBOLS: dict[str, object] = {}


def symbol(name: str):
    """The sympy symbol for a dimension name (positive integer, cached)."""
    s = _SYMBOLS.get(name)
    if s is None:
        import sympy

        s = _SYMBOLS[name] = sympy.Symbol(name, integer=True, positive=True)
    return s


# -- typed reading ------------------------------------------------------------------------------
def read_json(text: str) -> object:
    """Read substituted text as JSON (numbers, lists); raises ValueError_ at the bad column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError_(f"'{text}' is not a valid value: {e.msg}", e.pos, e.pos + 1, "value-syntax") from None


_MARK = "\ue000"


def evaluate(value: Value, bindings: dict[str, object], symbolic: bool = False) -> object:
    """The JSON value of an attribute after var()/expr() substitution.

    With `symbolic`, a var()/expr() that needs an unbound name becomes a sympy expression
    (so `[ntokens, expr(2 * d)]` reads as `[ntokens, 2*d]`); otherwise Unbound is raised.
    """
    if value.is_literal:
        return read_json(value.source)
    parts: list[str] = []
    leaves: list[object] = []
    for seg in value.segments:
        if seg.expr is None:
            parts.append(seg.text or "")
            continue
        try:
            if isinstance(seg.expr, Name) and seg.expr.name in bindings and not isinstance(
                    bindings[seg.expr.name], (int, float)):
                parts.append(str(bindings[seg.expr.name]))  # textual substitution, as the original
                continue
            v: object = eval_expr(seg.expr, bindings)
        except Unbound:
            if not symbolic:
                raise
            v = _symbolic(seg.expr, bindings)
            if v.is_Integer:
                v = int(v)
        parts.append(f'"{_MARK}{len(leaves)}"')
        leaves.append(v)
    text = "".join(parts)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        shown = text
        for k, v in enumerate(leaves):
            shown = shown.replace(f'"{_MARK}{k}"', str(v))
        raise ValueError_(f"'{shown}' is not a valid value: {e.msg}", 0, len(value.source), "value-syntax") from None
    return _fill(data, leaves)


def _fill(data: object, leaves: list[object]) -> object:
    if isinstance(data, str) and data.startswith(_MARK):
        return leaves[int(data[1:])]
    if isinstance(data, list):
        return [_fill(x, leaves) for x in data]
    return data
