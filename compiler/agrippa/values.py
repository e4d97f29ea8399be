"""Attribute values: `var()` and `expr()` (LANGUAGE.md §3) without `eval`.

An attribute value such as `[var(ntokens), expr(dvalues * nheads)]` is parsed once into
a small tree. It evaluates either with bindings (to numbers) or symbolically (to sympy
expressions in the user's own names), so the same parse serves the compiler and the
editor. Every error carries the offset, inside the value text, where it happened.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass

MAX_VALUE_LENGTH = 10_000  # characters in one attribute value
MAX_TOKENS = 500  # tokens in one expr()
MAX_MAGNITUDE = 2**63  # largest absolute value an expression may produce

Number = int | float


class ValueError_(Exception):
    """A mistake in an attribute value, at `start`..`end` inside the value text."""

    def __init__(self, message: str, start: int = 0, end: int | None = None, code: str = "value"):
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end if end is not None else start + 1
        self.code = code


class Unbound(ValueError_):
    def __init__(self, name: str, start: int, end: int):
        super().__init__(f"var({name}) has no binding", start, end, "unbound-var")
        self.name = name


# -- the tree -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Num:
    value: Number
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Name:
    """A bound name: `var(n)` or a bare `n` inside `expr()`."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    start: int
    end: int


Expr = Num | Name | BinOp


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the attribute text: literal text, or a var()/expr() to substitute."""

    text: str | None  # literal text
    expr: Expr | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Value:
    """A parsed attribute value: segments whose substitution gives the final text."""

    source: str
    segments: tuple[Segment, ...]

    @property
    def is_literal(self) -> bool:
        return all(s.expr is None for s in self.segments)

    def names(self) -> list[Name]:
        out: list[Name] = []
        for s in self.segments:
            if s.expr is not None:
                _collect_names(s.expr, out)
        return out


def _collect_names(e: Expr, out: list[Name]) -> None:
    if isinstance(e, Name):
        out.append(e)
    elif isinstance(e, BinOp):
        _collect_names(e.left, out)
        _collect_names(e.right, out)


# -- parsing -------------------------------------------------------------------------------
_CALL_RE = re.compile(r"\b(var|expr)\s*\(")
_TOKEN_RE = re.compile(r"\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
                       r"|([A-Za-z_][A-Za-z0-9_]*)|(//|\^|\*\*|[-+*/%])|(\S))")
_PRECEDENCE = {"^": 3, "*": 2, "/": 2, "//": 2, "%": 2, "+": 1, "-": 1}


def parse_value(text: str) -> Value:
    """Split `text` into literal text and var()/expr() calls; raises ValueError_.

    Values are immutable, and models repeat the same few texts (`[var(d), var(d)]`)
    thousands of times: short ones are parsed once per process."""
    if len(text) <= _CACHED_LENGTH:
        return _parse_cached(text)
    return _parse_value(text)


_CACHED_LENGTH = 200


@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str) -> Value:
    return _parse_value(text)  # errors propagate and are not cached


def _parse_value(text: str) -> Value:
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError_(f"value is too long ({len(text)} characters; at most {MAX_VALUE_LENGTH})",
                          0, 1, "value-too-large")
    segs: list[Segment] = []
    pos = 0
    for m in _CALL_RE.finditer(text):
        if m.start() < pos:
            continue
        if m.start() > pos:
            segs.append(Segment(text[pos:m.start()], None, pos, m.start()))
        kind = m.group(1)
        close = _matching_paren(text, m.end() - 1)
        if close < 0:
            raise ValueError_(f"{kind}( is never closed", m.start(), m.end(), "expr-syntax")
        inner_start = m.end()
        inner = text[inner_start:close]
        if kind == "var":
            name = inner.strip()
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError_(f"var() takes one name, got '{inner}'", inner_start,
                                  max(close, inner_start + 1), "expr-syntax")
            off = inner_start + inner.index(name)
            expr: Expr = Name(name, off, off + len(name))
        else:
            expr = _parse_expr(_substitute_inner_vars(inner), inner_start)
        segs.append(Segment(None, expr, m.start(), close + 1))
        pos = close + 1
    if pos < len(text) or not segs:
        segs.append(Segment(text[pos:], None, pos, len(text)))
    return Value(text, tuple(segs))


def _matching_paren(text: str, open_idx: int) -> int:
    depth = 0
    for i in range(open_idx, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _substitute_inner_vars(inner: str) -> str:
    """`expr(var(n) * 2)`: a var() inside expr() reads as the bare name, keeping columns."""
    return re.sub(r"var\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)",
                  lambda m: m.group(1).rjust(len(m.group(0))), inner)


def _parse_expr(src: str, base: int) -> Expr:
    """Flat infix: operands and binary operators, all left-associative, `^` binds tightest."""
    tokens: list[tuple[str, str, int, int]] = []  # kind, text, start, end
    pos = 0
    while pos < len(src):
        m = _TOKEN_RE.match(src, pos)
        if m is None or m.end() == pos:
            break
        num, name, op, bad = m.groups()
        s = base + m.start(m.lastindex)
        e = base + m.end(m.lastindex)
        if bad is not None:
            if bad in "()":
                raise ValueError_("parentheses are not allowed inside expr()", s, e, "expr-syntax")
            raise ValueError_(f"unexpected '{bad}' in expr()", s, e, "expr-syntax")
        if op == "**":
            raise ValueError_("write '^' for a power in expr(), not '**'", s, e, "expr-syntax")
        tokens.append(("num" if num else "name" if name else "op", num or name or op, s, e))
        pos = m.end()
        if len(tokens) > MAX_TOKENS:
            raise ValueError_(f"expr() is too long (more than {MAX_TOKENS} tokens)", s, e, "value-too-large")
    if not tokens:
        raise ValueError_("expr() is empty", base, base + 1, "expr-syntax")
    # operand (op operand)*
    operands: list[Expr] = []
    ops: list[tuple[str, int, int]] = []
    expect_operand = True
    for kind, tok, s, e in tokens:
        if expect_operand:
            if kind == "op":
                msg = ("unary minus is not allowed in expr()" if tok == "-" and not operands
                       else f"expected a number or a name before '{tok}'")
                raise ValueError_(msg, s, e, "expr-syntax")
            operands.append(Num(_number(tok, s, e), s, e) if kind == "num" else Name(tok, s, e))
        else:
            if kind != "op":
                raise ValueError_(f"expected an operator before '{tok}'", s, e, "expr-syntax")
            ops.append((tok, s, e))
        expect_operand = not expect_operand
    if expect_operand:
        tok, s, e = ops[-1]
        raise ValueError_(f"'{tok}' needs a right operand", s, e, "expr-syntax")
    return _build(operands, ops)


def _number(tok: str, s: int, e: int) -> Number:
    if re.fullmatch(r"\d+", tok):
        if len(tok) > 19:
            raise ValueError_("number is too large", s, e, "value-too-large")
        return int(tok)
    v = float(tok)
    if not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
        raise ValueError_("number is too large", s, e, "value-too-large")
    return v


def _build(operands: list[Expr], ops: list[tuple[str, int, int]]) -> Expr:
    """Precedence climbing over a flat, left-associative sequence."""
    out: list[Expr] = [operands[0]]
    stack: list[str] = []

    def reduce() -> None:
        op = stack.pop()
        r = out.pop()
        left = out.pop()
        out.append(BinOp(op, left, r, left.start, r.end))

    for (op, _s, _e), operand in zip(ops, operands[1:]):
        while stack and _PRECEDENCE[stack[-1]] >= _PRECEDENCE[op]:
            reduce()
        stack.append(op)
        out.append(operand)
    while stack:
        reduce()
    return out[0]


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
            v = to_sympy(seg.expr, bindings)
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
